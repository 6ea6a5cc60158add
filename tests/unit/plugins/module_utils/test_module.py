# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired-vs-current helpers every module relies on."""

from __future__ import annotations

import contextlib
import json
import socket
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.tos.cloud.plugins.module_utils import _module
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient, connection_problems
from ansible_collections.tos.cloud.plugins.module_utils._module import (
    MASK,
    from_api,
    masked,
    merge,
    pick,
    shape_problems,
    to_api,
    wait_for,
    without,
)


def test_merge_leaves_unset_options_alone():
    current = {"DRS": {"Enabled": True, "MaxStep": 4}, "DPM": {"Enabled": False, "HighThreshold": 0.8}}
    desired = {"DRS": {"MaxStep": 6, "Enabled": None}, "DPM": None}
    after = merge(current, desired)
    assert after == {"DRS": {"Enabled": True, "MaxStep": 6}, "DPM": {"Enabled": False, "HighThreshold": 0.8}}
    assert current["DRS"]["MaxStep"] == 4  # the input is not modified


def test_merge_of_identical_values_changes_nothing():
    current = {"a": 1, "b": {"c": [1, 2]}}
    assert merge(current, {"a": 1, "b": {"c": [1, 2]}}) == current


def test_masked_hides_secrets_at_any_depth():
    value = {"smtp_password": "hunter2", "nested": {"smtp_password": "x", "user": "u"}, "list": [{"token": "t"}]}
    out = masked(value, ("smtp_password", "token"))
    assert out == {"smtp_password": MASK, "nested": {"smtp_password": MASK, "user": "u"}, "list": [{"token": MASK}]}
    assert "hunter2" not in repr(out)


def test_masked_diff_tells_a_secret_changed_without_its_value():
    before = {"smtp_password": "old"}
    after = {"smtp_password": "new"}
    shown = masked(after, ("smtp_password",), reference=before)
    assert shown == {"smtp_password": MASK + " (changed)"}
    assert masked(before, ("smtp_password",), reference=before) == {"smtp_password": MASK}


def test_masked_keeps_empty_secrets_visible_as_empty():
    assert masked({"smtp_password": ""}, ("smtp_password",)) == {"smtp_password": ""}


def test_pick_to_api_from_api_round_trip():
    mapping = {"storage": "StorOverAllocationThreshold", "cpu": "CPUOverAllocationThreshold"}
    params = {"storage": 0.7, "cpu": None, "other": 1}
    assert pick(params, ["storage", "cpu"]) == {"storage": 0.7}
    assert to_api({"storage": 0.7}, mapping) == {"StorOverAllocationThreshold": 0.7}
    assert from_api({"StorOverAllocationThreshold": 0.7, "X": 1}, mapping) == {"storage": 0.7}


def test_wait_for_returns_first_truthy_probe():
    answers = iter([None, False, {"done": True}])
    clock = iter(range(100))
    assert wait_for(lambda: next(answers), 10, clock=lambda: next(clock), sleep=lambda s: None) == {"done": True}


def test_wait_for_times_out_with_advice():
    clock = iter(range(0, 1000, 5))
    messages = []
    assert wait_for(lambda: None, 12, what="the deploy", on_timeout=messages.append,
                    clock=lambda: next(clock), sleep=lambda s: None) is None
    assert "the deploy" in messages[0] and "wait_timeout" in messages[0]


def test_wait_for_raises_without_handler():
    clock = iter(range(0, 1000, 5))
    with pytest.raises(TimeoutError):
        wait_for(lambda: None, 1, clock=lambda: next(clock), sleep=lambda s: None)


def test_without():
    assert without({"a": 1, "smtp_password": "x"}, ("smtp_password",)) == {"a": 1}
    assert without(None, ("a",)) == {}


# ---- TosModule.execute, the one place failures become fail_json: API errors are messages, anything else a ----

TOKEN = "tok-M0DULE-4b3c2d1e"


def run(body, capsys, api_url="http://127.0.0.1:9", token=TOKEN):
    args = {"api_url": api_url, "api_token": token}
    patches = [mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))]
    if hasattr(basic, "_ANSIBLE_PROFILE"):
        patches.append(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        with pytest.raises(SystemExit):
            _module.TosModule(argument_spec={}).execute(body)
    out = capsys.readouterr().out
    return json.loads(out), out


def test_an_api_error_is_a_message_without_a_traceback(capsys):
    def body(tm):
        tm.doing("create cluster 'c1'")
        raise TosApiError("POST /v1/cluster/add was refused by the manager (code 7): token %r is wrong."
                          % (TOKEN + "\n"), method="POST", path="/v1/cluster/add", kind="api", code=7,
                          message_en="token %s\\n is wrong" % TOKEN)

    result, out = run(body, capsys)
    assert result["failed"] and result["msg"].startswith("Could not create cluster 'c1': POST /v1/cluster/add")
    assert result["api_error"]["kind"] == "api"
    assert result.get("exception") in (None, "(traceback unavailable)")
    assert TOKEN not in out


def test_a_programming_error_is_reported_with_a_masked_traceback_not_a_crash(capsys):
    def body(tm):
        tm.doing("read the clusters")
        {}["x" + TOKEN + "\n"]  # noqa: B018 - the bug under test

    result, out = run(body, capsys)
    assert result["failed"] and "failed unexpectedly while trying to read the clusters (KeyError" in result["msg"]
    assert "bug of the collection" in result["msg"]
    # ansible-core 2.19+ keeps the traceback only when tracebacks are enabled (ANSIBLE_DISPLAY_TRACEBACK)
    if result.get("exception") not in (None, "(traceback unavailable)"):
        assert "Traceback (most recent call last)" in result["exception"]
    assert TOKEN not in out and "********" in result["msg"]


def test_the_escaped_forms_of_a_secret_are_masked_in_results(capsys):
    def body(tm):
        tm.exit(said="Bearer %r / %s" % (TOKEN + "\n", json.dumps(json.dumps(TOKEN + "\n"))))

    result, out = run(body, capsys)
    assert TOKEN not in out, out


@pytest.mark.parametrize("url, warned", [
    ("http://192.0.2.10:9990", True),
    ("http://manager.example:9990", True),
    ("https://192.0.2.10:9990", False),
    ("http://127.0.0.1:9990", False),
    ("http://[::1]:9990", False),
    ("http://localhost:9990", False),
])
def test_a_token_over_plain_http_to_another_host_warns(url, warned):
    warnings = []
    _module.client_from_options({"api_url": [url], "api_token": TOKEN, "timeout": 5}, warn=warnings.append)
    assert bool([w for w in warnings if "plain http://" in w]) is warned
    assert not any(TOKEN in w for w in warnings)


def test_no_token_no_http_warning():
    warnings = []
    _module.client_from_options({"api_url": ["http://192.0.2.10:9990"], "timeout": 5}, warn=warnings.append)
    assert warnings == []


def test_a_scope_names_a_failure_inside_it_and_gives_the_outer_name_back_after_it(capsys):
    def body(tm):
        with tm.scope("deploy the VM"):
            with tm.scope("look up the VM"):
                pass  # a landed() re-read ends normally
            assert tm.operation == "deploy the VM"
        assert tm.operation is None
        with tm.scope("remove the VM"):
            raise TosApiError("refused", kind="api")

    result, dummy = run(body, capsys)
    assert result["msg"] == "Could not remove the VM: refused"


def test_run_or_fail_fails_with_the_message_of_the_expected_error_and_no_traceback(capsys):
    class Stalled(Exception):
        pass

    def stall():
        raise Stalled("stuck at 40%")

    def body(tm):
        assert tm.run_or_fail(lambda: 7, Stalled, pytest.fail) == 7
        tm.run_or_fail(stall, Stalled, lambda exc: ("The deploy did not finish: %s" % exc, {"progress": 0.4}))

    result, dummy = run(body, capsys)
    assert result["msg"] == "The deploy did not finish: stuck at 40%" and result["progress"] == 0.4
    assert result.get("exception") in (None, "(traceback unavailable)")


def test_capture_returns_an_expected_error_and_lets_others_through():
    assert _module.capture(int, ValueError, "3") == (3, None)
    result, error = _module.capture(int, ValueError, "x")
    assert result is None and isinstance(error, ValueError)
    with pytest.raises(TypeError):
        _module.capture(int, ValueError, None)


@pytest.mark.parametrize("state, expected", [("present", {"made": "c1"}), ("absent", {"gone": "c1"})])
def test_run_state_validates_resolves_then_dispatches_on_state(state, expected):
    seen = []

    class Tm:
        params = {"state": state}

        def fail(self, msg):
            raise AssertionError(msg)

        def exit(self, **result):
            seen.append(result)

    _module.TosModule.run_state(Tm(), lambda params: None, lambda tm: "c1",
                                lambda tm, target: {"made": target}, lambda tm, target: {"gone": target})
    assert seen == [expected]


def test_run_state_fails_before_resolving_when_validation_fails():
    class Tm:
        params = {"state": "present"}

        def fail(self, msg):
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="Invalid input"):
        _module.TosModule.run_state(Tm(), lambda params: "Invalid input: x.", pytest.fail, pytest.fail, pytest.fail)


# ---- Connection options and argument shapes, checked before any request (_api.connection_problems, ----

@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:99999", "port that is not a number from 1 to 65535"),
    ("http://127.0.0.1:0", "port that is not a number from 1 to 65535"),
    ("http://[::1", "not a valid URL"),
    ("https://exa mple.com", "contains spaces"),
    ("http://", "has no host name or address"),
    ("https://", "has no host name or address"),
    ("ftp://192.0.2.10", "must start with http:// or https://"),
    ("192.0.2.10:9990", "must start with http:// or https://"),
    ("http://a..b:9990", "empty or too long part"),
    ("http://192.0.2.10:9990?x=1", "query string"),
])
def test_bad_api_url_is_refused_naming_the_option_and_variable(url, says):
    _urls, _token, problems = connection_problems(url)
    assert len(problems) == 1 and says in problems[0], problems
    assert "api_url (TOS_API_URL)" in problems[0]


def test_credentials_in_the_url_are_refused_without_showing_them():
    _urls, _token, problems = connection_problems("https://admin:pa55word@192.0.2.10:9990")
    assert problems and "pa55word" not in problems[0] and "api_token" in problems[0]


@pytest.mark.parametrize("url", [None, "", " ", ",", []])
def test_no_api_url_names_the_option_and_the_variable(url):
    _urls, _token, problems = connection_problems(url)
    assert problems == [problems[0]] and "api_url" in problems[0] and "TOS_API_URL" in problems[0]


@pytest.mark.parametrize("url", ["http://192.0.2.10:9990/v1", "http://192.0.2.10:9990/v1/", "http://192.0.2.10:9990/V1//",
                                 " http://192.0.2.10:9990/ "])
def test_a_pasted_v1_suffix_is_dropped(url):
    assert connection_problems(url) == (["http://192.0.2.10:9990"], None, [])


def test_valid_urls_pass_ipv6_and_lists_too():
    urls, _token, problems = connection_problems(["https://[2001:db8::1]:9990", "http://北区.example:9990"])
    assert problems == [] and urls == ["https://[2001:db8::1]:9990", "http://北区.example:9990"]


@pytest.mark.parametrize("timeout", [0, -3, 10 ** 12, 3601, float("nan"), "30", True])
def test_timeout_outside_one_to_3600_is_refused(timeout):
    _urls, _token, problems = connection_problems("http://192.0.2.10", timeout=timeout)
    assert len(problems) == 1 and problems[0].startswith("timeout (TOS_TIMEOUT)")


@pytest.mark.parametrize("timeout", [None, 1, 30, 3600])
def test_timeout_in_range_passes(timeout):
    assert connection_problems("http://192.0.2.10", timeout=timeout)[2] == []


def test_token_surrounding_whitespace_is_stripped():
    assert connection_problems("http://192.0.2.10", " s3cret-token\n")[1] == "s3cret-token"
    assert connection_problems("http://192.0.2.10", " \n")[1] is None


@pytest.mark.parametrize("token", ["s3cret token", "s3cret\ntoken", "s3cret\u5317token", "s3cret\x00"])
def test_token_that_a_header_cannot_carry_is_refused_without_showing_it(token):
    _urls, _token, problems = connection_problems("http://192.0.2.10", token)
    assert len(problems) == 1 and "api_token (TOS_API_TOKEN)" in problems[0] and "s3cret" not in problems[0]


def test_client_refuses_bad_options_before_any_request():
    with pytest.raises(TosApiError) as caught:
        TosClient("http://[::1", timeout=0)
    assert caught.value.kind == "config"
    assert "api_url" in caught.value.message and "timeout" in caught.value.message


SPEC = {
    "name": {"type": "str", "required": True},
    "secret": {"type": "str", "no_log": True},
    "server": {"type": "str", "aliases": ["server_ip"]},
    "drs": {"type": "dict", "options": {"max_step": {"type": "int"}, "label": {"type": "str"}}},
    "hosts": {"type": "list", "elements": "str"},
    "free": {"type": "raw"},
}


@pytest.mark.parametrize("raw, says", [
    ({"name": ["a"]}, "name: must be a string, not a list"),
    ({"name": {"a": 1}}, "name: must be a string, not a dictionary"),
    ({"server_ip": ["a"]}, "server_ip: must be a string, not a list"),
    ({"drs": [1]}, "drs: must be a dictionary (key: value), not a list"),
    ({"drs": 5}, "drs: must be a dictionary (key: value), not a number"),
    ({"drs": True}, "drs: must be a dictionary (key: value), not a boolean"),
    ({"drs": {"label": ["x"]}}, "drs.label: must be a string, not a list"),
    ({"hosts": ["a", ["b"]]}, "hosts[1]: must be a string, not a list"),
])
def test_a_wrong_shape_is_refused_naming_the_option(raw, says):
    problems, shielded = shape_problems(SPEC, raw)
    assert problems == [says]
    top = says.split(":")[0].split(".")[0].split("[")[0]
    top = {"server_ip": "server"}.get(top, top)
    assert shielded[top]["type"] in ("raw", "dict")


@pytest.mark.parametrize("raw", [
    {"name": "a", "drs": {"max_step": 3}, "hosts": ["a"], "free": [1, {"x": 2}]},
    {"name": 5, "drs": "max_step=3"},
    {"name": "a", "drs": None, "hosts": None},
])
def test_shapes_ansible_converts_or_raw_options_pass(raw):
    problems, shielded = shape_problems(SPEC, raw)
    assert problems == [] and shielded == SPEC


def test_a_wrong_shape_of_a_secret_never_shows_the_value():
    problems, shielded = shape_problems(SPEC, {"secret": ["hunter2-pass"]})
    assert problems == ["secret: must be a string, not a list"] and shielded["secret"]["no_log"] is True


def test_failover_warns_once_which_url_answered_and_why_the_first_did_not(httpserver):
    httpserver.expect_request("/v1/system/version").respond_with_json({"status_code": 0, "data": {"version": "1"}})
    dead = "http://127.0.0.1:%d" % free_port()  # nothing listens there
    warnings = []
    client = TosClient([dead, httpserver.url_for("/")], sleep=lambda s: None)
    client.warn = warnings.append
    assert client.get("/v1/system/version") == {"version": "1"}
    assert client.get("/v1/system/version") == {"version": "1"}
    assert len(warnings) == 1, warnings
    assert dead in warnings[0] and httpserver.url_for("/").rstrip("/") in warnings[0]
    assert "connection refused" in warnings[0]


def test_no_failover_no_warning(httpserver):
    httpserver.expect_request("/v1/system/version").respond_with_json({"status_code": 0, "data": {"version": "1"}})
    warnings = []
    client = TosClient(httpserver.url_for("/"))
    client.warn = warnings.append
    client.get("/v1/system/version")
    assert warnings == []


def free_port():
    """A port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
