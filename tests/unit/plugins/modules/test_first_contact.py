# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors a new user meets first (issue 16), and option checks before any request (issue 18): each
module runs for real (its own client, no fake) with every HTTP request forbidden, so a message that came
after a request fails the test."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.modules import (
    cluster,
    cvm,
    drs_config,
    global_config,
    mail_setting,
    snapshot_policy,
    storage_service_vm,
    system_info,
    system_setting,
    upgrade_info,
)
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import lost_answer, run_module, run_module_output
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import FakeManager

URL = "http://192.0.2.10:9990"
SEND = requests.Session.request
TOKEN = "s3cret-first-contact-token"


@pytest.fixture(autouse=True)
def no_request(monkeypatch):
    """Any HTTP request fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a request was sent: %r %r" % (args, kwargs))
    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.delenv("TOS_API_URL", raising=False)
    monkeypatch.delenv("TOS_TIMEOUT", raising=False)


def run_real(main, args, capsys, env=None):
    """Run ``main()`` with ``args`` exactly as given (no api_url added, the module's own client)."""
    from unittest import mock

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    with mock.patch.object(basic, "_ANSIBLE_ARGS", payload), mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    return json.loads(out), out


def test_no_api_url_anywhere_names_the_option_and_the_variable(capsys):
    result, _out = run_real(system_info.main, {}, capsys)
    assert result["failed"] and "api_url" in result["msg"] and "TOS_API_URL" in result["msg"]
    assert "missing required arguments" not in result["msg"]


def test_api_url_from_the_environment_counts(capsys, monkeypatch):
    monkeypatch.setenv("TOS_API_URL", "http://")
    result, _out = run_real(system_info.main, {}, capsys)
    assert result["failed"] and "'http://' has no host name" in result["msg"]


@pytest.mark.parametrize("url, says", [
    ("http://", "'http://' has no host name or address"),
    ("http://127.0.0.1:99999", "port that is not a number from 1 to 65535"),
    ("http://[::1", "not a valid URL"),
    ("https://exa mple.com", "contains spaces"),
])
def test_bad_api_url_fails_before_any_request(capsys, url, says):
    result, _out = run_real(system_info.main, {"api_url": url}, capsys)
    assert result["failed"] and says in result["msg"] and "api_url (TOS_API_URL)" in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_api_url_ending_in_v1_is_accepted(capsys, monkeypatch, httpserver):
    monkeypatch.setattr(requests.Session, "request", SEND)  # a real request, to a local server
    httpserver.expect_request("/v1/system/version").respond_with_json({"status_code": 0, "data": {"version": "3.2.5 @go"}})
    httpserver.expect_request("/v1/system/member/list").respond_with_json({"status_code": 0, "data": {"members": []}})
    base = httpserver.url_for("/").rstrip("/")
    result, _out = run_real(system_info.main, {"api_url": base + "/v1/"}, capsys)
    assert not result.get("failed"), result
    paths = [request.path for request, _response in httpserver.log]
    assert paths and all(path.startswith("/v1/system/") and "/v1/v1/" not in path for path in paths)


@pytest.mark.parametrize("timeout", [0, -3, 10 ** 12])
def test_timeout_out_of_range_fails_before_any_request(capsys, timeout):
    result, _out = run_real(system_info.main, {"api_url": URL, "timeout": timeout}, capsys)
    assert result["failed"] and "timeout (TOS_TIMEOUT)" in result["msg"] and str(timeout) in result["msg"]


def test_timeout_from_the_environment_is_checked_too(capsys, monkeypatch):
    monkeypatch.setenv("TOS_TIMEOUT", "-3")
    result, _out = run_real(system_info.main, {"api_url": URL}, capsys)
    assert result["failed"] and "timeout (TOS_TIMEOUT): -3" in result["msg"]


def test_token_with_a_space_inside_is_refused_without_showing_it(capsys):
    result, out = run_real(system_info.main, {"api_url": URL, "api_token": TOKEN + " x"}, capsys)
    assert result["failed"] and "api_token (TOS_API_TOKEN)" in result["msg"]
    assert TOKEN not in out


def test_token_newline_is_stripped_before_it_is_sent(capsys, monkeypatch, httpserver):
    monkeypatch.setattr(requests.Session, "request", SEND)  # a real request, to a local server
    httpserver.expect_request("/v1/system/version").respond_with_json({"status_code": 0, "data": {"version": "3.2.5"}})
    httpserver.expect_request("/v1/system/member/list").respond_with_json({"status_code": 0, "data": {"members": []}})
    base = httpserver.url_for("/").rstrip("/")
    result, out = run_real(system_info.main, {"api_url": base, "api_token": TOKEN + "\n"}, capsys)
    assert not result.get("failed"), result
    sent = {request.headers.get("Authorization") for request, _response in httpserver.log}
    assert sent == {"Bearer " + TOKEN} and TOKEN not in out


def test_a_list_for_a_string_option_is_refused_not_sent_as_text(capsys):
    result, _out = run_real(cluster.main, {"api_url": URL, "name": ["a"], "ip": "192.0.2.11"}, capsys)
    assert result["failed"] and "name: must be a string, not a list" in result["msg"]


@pytest.mark.parametrize("drs", [[1], 1, True])
def test_a_dict_option_given_a_list_or_number_is_refused_not_a_crash(capsys, drs):
    result, _out = run_real(drs_config.main, {"api_url": URL, "cluster": "prod", "drs": drs}, capsys)
    assert result["failed"] and result["msg"].startswith("Invalid input: drs: must be a dictionary"), result


@pytest.mark.parametrize("module, args", [
    (drs_config, {"drs": {"max_step": 2 ** 31}}),
    (global_config, {"cpu": float("inf")}),
    (snapshot_policy, {"interval": 0}),
])
def test_empty_cluster_is_refused_before_any_request(capsys, module, args):
    result, _out = run_real(module.main, dict(args, api_url=URL, cluster=""), capsys)
    assert result["failed"] and "cluster: must not be empty" in result["msg"]


def test_system_setting_empty_cluster_does_not_mean_the_first_cluster(capsys):
    result, _out = run_real(system_setting.main, {"api_url": URL, "cluster": " "}, capsys)
    assert result["failed"] and "cluster: must not be empty" in result["msg"]


@pytest.mark.parametrize("module, args, says", [
    (global_config, {"cpu": float("inf")}, "cpu: inf is not a finite number"),
    (global_config, {"memory": float("nan")}, "memory: nan is not a finite number"),
    (snapshot_policy, {"interval": 0}, "interval: 0 is not a length of time"),
    (snapshot_policy, {"interval": "0h"}, "interval: '0h' is not a length of time"),
    (drs_config, {"drs": {"max_step": 2 ** 31}}, "drs.max_step: 2147483648 is greater than the largest allowed value"),
    (drs_config, {"drs": {"max_concurrent_migration": 10 ** 20}}, "drs.max_concurrent_migration: 1000000000"),
    (drs_config, {"dpm": {"high_threshold": float("nan")}}, "dpm.high_threshold: nan is not a usage threshold"),
    (system_setting, {"access_control": {"ip_ranges": ["2001:db8::1-2001:db8::9"]}}, "IPv4 addresses only"),
    (system_setting, {"access_control": {"ip_ranges": ["2001:db8::/64"]}}, "IPv4 addresses only"),
    (mail_setting, {"smtp_server": "s" * 3000}, "smtp_server: 3000 characters is longer than a host name"),
    (mail_setting, {"sender_mail": "a" * 5000 + "@example.com"}, "sender_mail: 5012 characters"),
])
def test_documented_bounds_and_misleading_values_fail_before_any_request(capsys, module, args, says):
    spec_args = dict(args, api_url=URL)
    if module is not mail_setting:
        spec_args["cluster"] = "prod"
    result, _out = run_real(module.main, spec_args, capsys)
    assert result["failed"] and says in result["msg"], result["msg"]
    assert "must be greater than 0" not in result["msg"] and "shorter than the minimum" not in result["msg"]


def test_storage_vm_absent_takes_the_bare_ip():
    assert storage_service_vm.validate({"state": "absent", "manage_address": "192.0.2.121"}) is None
    assert "manage_address" in storage_service_vm.validate({"state": "absent", "manage_address": "192.0.2.300"})
    assert "CIDR" in storage_service_vm.validate({"state": "present", "manage_address": "192.0.2.121"})


# -- a refused write changed nothing -------------------------------------------------------------

DRS_GET = "/v1/cluster/compute/service/drsconfig/get"
DRS_UPDATE = "/v1/cluster/compute/service/drsconfig/update"
CONFIG = {"DRS": {"Enabled": True, "MaxStep": 4, "MaxConcurrentMigration": 4, "MaxHostConcurrentMigration": 2,
                  "ThresholdLevel": 3, "MinBenefitLevel": 3},
          "DPM": {"Enabled": False, "HighThreshold": 0.8, "LowThreshold": 0.45}}


def drs_manager(update):
    return FakeManager({("GET", DRS_GET): lambda params: {"config": copy.deepcopy(CONFIG)}, ("POST", DRS_UPDATE): update})


def test_a_refused_write_reports_changed_false(capsys):
    def refuse(body):
        raise TosApiError("POST %s was refused by the manager (code 1003): MaxStep too large." % DRS_UPDATE,
                          method="POST", path=DRS_UPDATE, kind="api", code=1003)
    manager = drs_manager(refuse)
    result = run_module(drs_config.main, {"cluster": "prod", "drs": {"max_step": 101}}, manager, capsys)
    assert result["failed"] and result["changed"] is False and len(manager.posts) == 1


def test_a_write_that_may_have_landed_reports_changed_true(capsys):
    def lose(body):
        raise lost_answer(DRS_UPDATE)
    manager = drs_manager(lose)
    result = run_module(drs_config.main, {"cluster": "prod", "drs": {"max_step": 7}}, manager, capsys)
    assert result["failed"] and result["changed"] is True


def test_a_check_that_fails_after_reading_changed_nothing(capsys):
    manager = drs_manager(lambda body: {})
    result, _out = run_module_output(drs_config.main, {"cluster": "prod", "drs": {"max_host_concurrent_migration": 9}},
                                     manager, capsys)
    assert result["failed"] and result["changed"] is False and manager.posts == []


@pytest.mark.parametrize("module, args, says", [
    (cvm, {"cluster": "prod", "host": " ", "address": "192.0.2.201/24", "gateway": "192.0.2.1"}, "host: must not be empty"),
    (upgrade_info, {"cluster": "prod", "hosts": ["tos-a1", ""]}, "hosts: must not hold an empty entry"),
])
def test_an_empty_host_name_is_refused_before_any_request(capsys, module, args, says):
    result, _out = run_real(module.main, dict(args, api_url=URL), capsys)
    assert result["failed"] and says in result["msg"], result["msg"]
