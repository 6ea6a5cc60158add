# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._module import merge
from ansible_collections.tos.cloud.plugins.modules import system_setting
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module_output
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import CLUSTER, FakeManager

INSPECT = "/v1/system/setting/inspect"
UPDATE = "/v1/system/setting/update"
SETTINGS = {
    "login_policy": {"login_fail_retry_times": 5, "login_fail_punish_seconds": 300, "token_expire_second": 2592000},
    "password_complexity_policy": {
        "password_expire_force_modify": False, "password_max_expired_age": 0, "password_expired_warn_age": 0,
        "password_expired_warn_windows_popup": False, "password_expired_warn_email_notify": False,
        "password_must_include_special_char": False, "password_minimum_length": 8,
        "notify_user_password_when_create": False,
    },
    "mail_setting": {"smtp_password": "mail-Secret-99", "smtp_server_ip": "smtp.example.com"},
    "access_control_policy": {
        "ip_access_control_policy": {"ip_ranges": {"ranges": []}, "whitelist": False, "enabled": False},
        "time_access_control_policy": None,
    },
    "storage_setting": {"hop_hc": 1},
}


@pytest.fixture
def manager():
    state = {"settings": copy.deepcopy(SETTINGS)}

    def update(body):
        body.pop("cluster_uuid")
        state["settings"] = merge(state["settings"], body)
        return state["settings"]

    fake = FakeManager({("GET", INSPECT): lambda params: copy.deepcopy(state["settings"]), ("POST", UPDATE): update})
    fake.state = state
    return fake


def run(manager, capsys, check_mode=False, **kwargs):
    return run_module_output(system_setting.main, kwargs, manager, capsys, check_mode=check_mode, diff=True)


def test_partial_input_sends_the_two_example_policies_whole(manager, capsys):
    result, out = run(manager, capsys, login_policy={"login_fail_retry_times": 3})
    assert result["changed"]
    ((path, body),) = manager.posts
    assert path == UPDATE and body["cluster_uuid"] == CLUSTER["uuid"]
    assert body["login_policy"] == dict(SETTINGS["login_policy"], login_fail_retry_times=3)
    assert body["password_complexity_policy"] == SETTINGS["password_complexity_policy"]
    assert "access_control_policy" not in body  # not in the request example: only when access_control is set
    assert "mail_setting" not in body
    assert result["diff"]["before"]["login_policy"]["login_fail_retry_times"] == 5
    assert "mail-Secret-99" not in out


def test_second_run_changes_nothing(manager, capsys):
    args = dict(password_policy={"minimum_length": 12, "must_include_special_char": True},
                access_control={"enabled": True, "mode": "whitelist", "ip_ranges": ["192.0.2.0/24", "198.51.100.7"]})
    assert run(manager, capsys, **args)[0]["changed"]
    assert manager.state["settings"]["access_control_policy"]["ip_access_control_policy"] == {
        "enabled": True, "whitelist": True,
        "ip_ranges": {"ranges": [{"start": "192.0.2.0", "end": "192.0.2.255"},
                                 {"start": "198.51.100.7", "end": "198.51.100.7"}]}}
    manager.calls.clear()
    args["access_control"]["ip_ranges"].reverse()
    result, _out = run(manager, capsys, **args)
    assert not result["changed"] and manager.posts == []


def test_check_mode_sends_nothing(manager, capsys):
    access = {"mode": "whitelist", "ip_ranges": ["192.0.2.1"]}
    result, _out = run(manager, capsys, check_mode=True, access_control=access)
    assert result["changed"] and manager.posts == []
    assert result["settings"]["access_control"]["mode"] == "whitelist"


def test_an_empty_enabled_whitelist_is_refused(manager, capsys):
    result, _out = run(manager, capsys, access_control={"enabled": True, "mode": "whitelist"})
    assert result["failed"] and "access_control: an enabled whitelist" in result["msg"]
    assert manager.posts == []


def test_warn_age_is_checked_against_the_current_max_age(manager, capsys):
    manager.state["settings"]["password_complexity_policy"]["password_max_expired_age"] = 30
    result, _out = run(manager, capsys, password_policy={"expired_warn_age": 45})
    assert result["failed"]
    assert "password_policy.expired_warn_age: 45 must not exceed password_policy.max_expired_age 30 (current value)" \
        in result["msg"]


@pytest.mark.parametrize("args, option", [
    ({"login_policy": {"token_expire_seconds": 10}}, "login_policy.token_expire_seconds"),
    ({"login_policy": {"login_fail_retry_times": -1}}, "login_policy.login_fail_retry_times"),
    ({"password_policy": {"minimum_length": 0}}, "password_policy.minimum_length"),
    ({"access_control": {"ip_ranges": ["192.0.2.9-192.0.2.1"]}}, "access_control.ip_ranges[0]"),
    ({"access_control": {"ip_ranges": ["192.0.2.1", "nowhere"]}}, "access_control.ip_ranges[1]"),
])
def test_bad_input_fails_before_any_request(manager, capsys, args, option):
    result, _out = run(manager, capsys, **args)
    assert result["failed"] and option in result["msg"]
    assert manager.calls == []


def test_no_cluster_at_all(capsys):
    fake = FakeManager(clusters=())
    result, _out = run(fake, capsys, login_policy={"login_fail_retry_times": 3})
    assert result["failed"] and result["msg"].startswith("cluster: ")
