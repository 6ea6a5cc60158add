# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options and argument shapes, checked before any request (_api.connection_problems,
_module.shape_problems) and the fail-over warning of the client."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient, connection_problems
from ansible_collections.tos.cloud.plugins.module_utils._module import shape_problems


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


# -- argument shapes ----------------------------------------------------------------------------

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


# -- fail-over ------------------------------------------------------------------------------------


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
