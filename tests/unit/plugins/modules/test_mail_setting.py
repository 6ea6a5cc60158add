# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tos.cloud.plugins.modules import mail_setting
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import api_error, run_module_output
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import FakeManager

INSPECT = "/v1/system/mail_setting/inspect"
UPDATE = "/v1/system/mail_setting/update"
TEST = "/v1/system/mail_setting/test"
OLD = "old-Secret-4711"
NEW = "new-Secret-0815"
CURRENT = {
    "enabled": True, "asynchronous_send_enabled": False, "sender_mail": "cloud@example.com", "sender_name": "Cloud",
    "smtp_server_ip": "smtp.example.com", "smtp_server_port": 25, "smtp_tls_enabled": False,
    "smtp_account": "cloud@example.com", "smtp_password": OLD,
}


@pytest.fixture
def manager():
    state = dict(CURRENT)

    def update(body):
        state.update(body)
        return dict(state)

    fake = FakeManager({("GET", INSPECT): lambda params: dict(state), ("POST", UPDATE): update,
                        ("POST", TEST): lambda body: {}})
    fake.state = state
    return fake


def run(manager, capsys, check_mode=False, **kwargs):
    return run_module_output(mail_setting.main, kwargs, manager, capsys, check_mode=check_mode, diff=True)


def test_a_new_password_is_sent_and_shown_only_as_changed(manager, capsys):
    result, out = run(manager, capsys, smtp_password=NEW)
    assert result["changed"]
    assert manager.posts == [(UPDATE, dict(CURRENT, smtp_password=NEW))]
    assert result["diff"]["before"]["smtp_password"] == "********"
    assert result["diff"]["after"]["smtp_password"] == "******** (changed)"
    assert OLD not in out and NEW not in out


def test_the_same_password_changes_nothing(manager, capsys):
    result, out = run(manager, capsys, smtp_password=OLD, smtp_port=25, enabled=True)
    assert not result["changed"] and manager.posts == []
    assert OLD not in out


def test_partial_input_keeps_the_current_password(manager, capsys):
    result, out = run(manager, capsys, smtp_server="relay.example.com", smtp_port=2525)
    assert result["changed"]
    assert manager.posts == [(UPDATE, dict(CURRENT, smtp_server_ip="relay.example.com", smtp_server_port=2525))]
    assert result["mail_setting"]["smtp_server"] == "relay.example.com"
    assert result["mail_setting"]["smtp_password"] == "********"
    assert OLD not in out


def test_check_mode_sends_neither_update_nor_test(manager, capsys):
    result, out = run(manager, capsys, check_mode=True, smtp_password=NEW, test_recipient="ops@example.com")
    assert result["changed"] and manager.posts == []
    assert result["test"] == {"recipient": "ops@example.com", "sent": False,
                              "msg": "Check mode: no test mail was sent to ops@example.com."}
    assert NEW not in out and OLD not in out


def test_test_mail_uses_the_applied_settings_and_is_not_a_change(manager, capsys):
    result, _out = run(manager, capsys, test_recipient="ops@example.com")
    assert not result["changed"]
    assert manager.posts == [(TEST, dict(CURRENT, receiver_email="ops@example.com"))]
    assert result["test"]["sent"]


def test_a_failed_test_fails_with_the_reason_and_without_the_password(manager, capsys):
    def refuse(body):
        raise api_error("mail test failed: authentication failed for cloud@example.com with password %s" % OLD,
                        path=TEST)

    manager.routes[("POST", TEST)] = refuse
    result, out = run(manager, capsys, smtp_port=2525, test_recipient="ops@example.com")
    # tested before saving: the settings that cannot send are not stored, and nothing changed
    assert result["failed"] and not result["changed"]
    assert [path for path, _body in manager.posts] == [TEST]
    assert manager.posts[0][1]["smtp_server_port"] == 2525
    assert "Could not send a test mail to ops@example.com" in result["msg"]
    assert "authentication failed" in result["msg"]
    assert OLD not in out


def test_a_hidden_password_is_never_sent_back(manager, capsys):
    manager.state["smtp_password"] = "******"
    result, _out = run(manager, capsys, smtp_port=587)
    assert result["changed"]
    assert "smtp_password" not in manager.posts[0][1]


def test_a_hidden_password_cannot_be_compared_and_is_sent_with_other_changes(manager, capsys):
    manager.state["smtp_password"] = "******"
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result, _out = run(manager, capsys, smtp_password=NEW)
    assert not result["changed"] and manager.posts == []
    assert "cannot be compared" in warn.call_args[0][0]
    result, _out = run(manager, capsys, smtp_password=NEW, smtp_port=587)
    assert manager.posts[-1][1]["smtp_password"] == NEW


@pytest.mark.parametrize("args, option", [
    ({"sender_mail": "nobody"}, "sender_mail: "),
    ({"test_recipient": "ops@localhost"}, "test_recipient: "),
    ({"smtp_port": 70000}, "smtp_port: "),
    ({"smtp_server": "bad host"}, "smtp_server: "),
])
def test_bad_input_fails_before_any_request(manager, capsys, args, option):
    result, _out = run(manager, capsys, **args)
    assert result["failed"] and option in result["msg"]
    assert manager.calls == []
