# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.modules import snapshot_policy
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import CLUSTER, FakeManager

MANAGE = "/v1/cluster/cloud/manage"
INSPECT = "/v1/cluster/data/snapshot/config/inspect"
UPDATE = "/v1/cluster/data/snapshot/config/update"
STATE = "/v1/cluster/data/daemon/state"
START = "/v1/cluster/data/daemon/start"
STOP = "/v1/cluster/data/daemon/stop"
CENTER = "192.0.2.101"


def meta(**fields):
    base = {"Snapshot": None, "DaemonState": "", "SnapshotConfig": None}
    base.update(fields)
    return {"meta_data": base}


@pytest.fixture
def manager():
    state = {"config": {"duration": 3600, "MTime": 1, "DisplayOption": "hour"}, "daemon": "running"}

    def update(body):
        state["config"] = {"duration": body["duration"], "MTime": 2, "DisplayOption": body["display_option"]}
        return meta()

    def daemon(value):
        def handler(body):
            state["daemon"] = value
            return meta()
        return handler

    fake = FakeManager({
        ("GET", MANAGE): lambda params: {"host_info": [{"ip": "192.0.2.102", "is_leader": False},
                                                       {"ip": CENTER, "is_leader": True}]},
        ("GET", INSPECT): lambda params: meta(SnapshotConfig=dict(state["config"])),
        ("GET", STATE): lambda params: meta(DaemonState=state["daemon"]),
        ("POST", UPDATE): update,
        ("POST", START): daemon("running"),
        ("POST", STOP): daemon("stopped"),
    })
    fake.state = state
    return fake


def run(manager, capsys, check_mode=False, **kwargs):
    return run_module(snapshot_policy.main, dict(kwargs, cluster="prod"), manager, capsys, check_mode=check_mode, diff=True)


def test_interval_and_daemon_go_to_the_leader_center_node(manager, capsys):
    result = run(manager, capsys, interval="1d", daemon="stopped")
    assert result["changed"]
    query = {"cluster_uuid": CLUSTER["uuid"], "ip": CENTER}
    assert manager.posts == [(UPDATE, dict(query, duration=86400, display_option="day")), (STOP, query)]
    assert result["policy"] == {"interval": 86400, "interval_text": "1d", "display_option": "day",
                                "daemon": "stopped"}
    assert result["center_ip"] == CENTER
    assert result["diff"]["before"] == {"interval": 3600, "display_option": "hour", "daemon": "started"}


def test_second_run_changes_nothing(manager, capsys):
    run(manager, capsys, interval="1w", daemon="started")
    manager.calls.clear()
    result = run(manager, capsys, interval=604800, daemon="started")
    assert not result["changed"] and manager.posts == []


def test_only_the_daemon_is_touched_when_only_the_daemon_is_asked(manager, capsys):
    result = run(manager, capsys, daemon="stopped")
    assert result["changed"]
    assert [path for path, _body in manager.posts] == [STOP]


def test_display_option_alone_differing_is_a_change(manager, capsys):
    manager.state["config"] = {"duration": 86400, "MTime": 1, "DisplayOption": "hour"}
    result = run(manager, capsys, interval="24h")
    assert result["changed"]
    assert manager.posts[0][1]["display_option"] == "day"


def test_check_mode_sends_nothing(manager, capsys):
    result = run(manager, capsys, check_mode=True, interval="6h", daemon="stopped")
    assert result["changed"] and manager.posts == []
    assert manager.state["daemon"] == "running"


def test_a_given_center_ip_is_used_when_it_is_a_center_node(manager, capsys):
    run(manager, capsys, interval="2h", center_ip="192.0.2.102")
    assert manager.posts[0][1]["ip"] == "192.0.2.102"


def test_a_center_ip_that_is_not_a_center_node_fails_naming_the_option(manager, capsys):
    result = run(manager, capsys, interval="2h", center_ip="192.0.2.250")
    assert result["failed"]
    assert result["msg"].startswith("center_ip: 192.0.2.250 is not a center node of cluster 'prod'")
    assert "192.0.2.101, 192.0.2.102" in result["msg"]
    assert manager.posts == []


@pytest.mark.parametrize("args, option", [
    ({"interval": "soon"}, "interval: 'soon' is not an interval"),
    ({"interval": 0}, "interval: "),
    ({"center_ip": "not-an-ip"}, "center_ip: "),
])
def test_bad_input_fails_before_any_request(manager, capsys, args, option):
    result = run(manager, capsys, **args)
    assert result["failed"] and option in result["msg"]
    assert manager.calls == []


def test_no_center_node_says_what_to_do(capsys):
    fake = FakeManager({("GET", MANAGE): lambda params: {"host_info": []},
                        ("GET", "/v1/cluster/get"): lambda params: {"TopoHostNode": []}})
    result = run(fake, capsys, interval="1h")
    assert result["failed"] and "center_ip" in result["msg"] and "tos.cloud.cvm" in result["msg"]
    assert fake.posts == []


def test_daemon_state_words():
    assert snapshot_policy.daemon_of(meta(DaemonState="running")) == "started"
    assert snapshot_policy.daemon_of(meta(DaemonState="stopped")) == "stopped"
    assert snapshot_policy.daemon_of(meta(DaemonState="")) == "stopped"
