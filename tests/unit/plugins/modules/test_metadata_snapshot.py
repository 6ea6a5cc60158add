# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.modules import metadata_snapshot
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import lost_answer, run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import CLUSTER, FakeManager

LIST = "/v1/cluster/data/snapshot/list"
SAVE = "/v1/cluster/data/snapshot/save"
DELETE = "/v1/cluster/data/snapshot/delete"
CENTER = "192.0.2.101"
QUERY = {"cluster_uuid": CLUSTER["uuid"], "ip": CENTER}


def meta(snapshots=None):
    return {"meta_data": {"Snapshot": snapshots, "DaemonState": "", "SnapshotConfig": None}}


@pytest.fixture
def manager():
    state = {"names": ["snapshot1000.db", "snapshot3000.db", "snapshot2000.db"], "clock": 4000}

    def save(body):
        state["names"].append("snapshot%d.db" % state["clock"])
        state["clock"] += 1000
        return meta()

    def delete(body):
        state["names"].remove(body["file_name"])
        return meta()

    fake = FakeManager({
        ("GET", "/v1/cluster/cloud/manage"): lambda params: {"host_info": [{"ip": CENTER, "is_leader": True}]},
        ("GET", LIST): lambda params: meta(list(state["names"])),
        ("POST", SAVE): save,
        ("POST", DELETE): delete,
    })
    fake.state = state
    return fake


def run(manager, capsys, check_mode=False, **kwargs):
    return run_module(metadata_snapshot.main, dict(kwargs, cluster="prod"), manager, capsys, check_mode=check_mode, diff=True)


def test_present_takes_a_snapshot_every_time(manager, capsys):
    for expected in ("snapshot4000.db", "snapshot5000.db"):
        result = run(manager, capsys)
        assert result["changed"] and result["created"] == expected
        assert result["snapshots"][-1] == expected
    assert [p for p, _b in manager.posts] == [SAVE, SAVE]


def test_present_with_retain_prunes_the_oldest_after_the_snapshot(manager, capsys):
    result = run(manager, capsys, retain=2)
    assert result["created"] == "snapshot4000.db"
    assert result["deleted"] == ["snapshot1000.db", "snapshot2000.db"]
    assert result["snapshots"] == ["snapshot3000.db", "snapshot4000.db"]
    assert manager.posts == [(SAVE, QUERY), (DELETE, dict(QUERY, file_name="snapshot1000.db")),
                             (DELETE, dict(QUERY, file_name="snapshot2000.db"))]


def test_retain_alone_is_idempotent(manager, capsys):
    first = run(manager, capsys, state="absent", retain=2)
    assert first["changed"] and first["deleted"] == ["snapshot1000.db"]
    manager.calls.clear()
    second = run(manager, capsys, state="absent", retain=2)
    assert not second["changed"] and second["deleted"] == [] and manager.posts == []
    assert second["snapshots"] == ["snapshot2000.db", "snapshot3000.db"]


def test_absent_name_round_trip(manager, capsys):
    result = run(manager, capsys, state="absent", name="snapshot2000.db")
    assert result["changed"] and "snapshot2000.db" not in manager.state["names"]
    assert result["diff"]["before"]["snapshots"] == ["snapshot1000.db", "snapshot2000.db", "snapshot3000.db"]
    manager.calls.clear()
    again = run(manager, capsys, state="absent", name="snapshot2000.db")
    assert not again["changed"] and manager.posts == []


def test_check_mode_predicts_without_sending(manager, capsys):
    result = run(manager, capsys, check_mode=True, retain=2)
    assert result["changed"] and result["created"] is None
    assert result["deleted"] == ["snapshot1000.db", "snapshot2000.db"]
    assert result["diff"]["after"]["snapshots"] == ["snapshot3000.db", "(new snapshot)"]
    assert manager.posts == [] and len(manager.state["names"]) == 3
    pruned = run(manager, capsys, check_mode=True, state="absent", retain=5)
    assert not pruned["changed"]


@pytest.mark.parametrize("args, message", [
    ({"state": "absent"}, "state=absent needs name or retain"),
    ({"name": "snapshot1000.db"}, "name: only used with state=absent"),
    ({"retain": 0}, "retain: 0 must be at least 1"),
    ({"state": "absent", "retain": -1}, "retain: -1 must be at least 0"),
    ({"state": "absent", "name": "../etc/passwd"}, "name: "),
])
def test_bad_input_fails_before_any_request(manager, capsys, args, message):
    result = run(manager, capsys, **args)
    assert result["failed"] and message in result["msg"]
    assert manager.calls == []


def test_to_prune_orders_by_the_time_in_the_name():
    names = ["snapshot30.db", "snapshot100.db", "snapshot4.db"]
    assert metadata_snapshot.to_prune(names, 1) == ["snapshot4.db", "snapshot30.db"]
    assert metadata_snapshot.to_prune(names, 3) == []
    assert metadata_snapshot.to_prune(names, None) == []


def test_a_snapshot_whose_answer_is_lost_is_not_taken_twice(manager, capsys):
    applied = manager.routes[("POST", SAVE)]

    def save_then_drop(body):
        applied(body)
        raise lost_answer(SAVE)

    manager.routes[("POST", SAVE)] = save_then_drop
    result = run(manager, capsys)
    assert result["changed"] and result["created"] == "snapshot4000.db"
    assert [p for p, _b in manager.posts] == [SAVE]
    assert len(manager.state["names"]) == 4


def test_a_snapshot_that_did_not_land_is_sent_again(manager, capsys):
    applied = manager.routes[("POST", SAVE)]
    attempts = []

    def drop_first(body):
        attempts.append(body)
        if len(attempts) == 1:
            raise lost_answer(SAVE)
        return applied(body)

    manager.routes[("POST", SAVE)] = drop_first
    result = run(manager, capsys)
    assert result["created"] == "snapshot4000.db"
    assert [p for p, _b in manager.posts] == [SAVE, SAVE]
    assert len(manager.state["names"]) == 4


def test_the_snapshot_named_by_the_save_answer_is_created_and_never_pruned(manager, capsys):
    # the manager's clock is behind: the new snapshot ranks oldest by the number in its name
    def save(body):
        manager.state["names"].append("snapshot500.db")
        return dict(meta(), file_name="snapshot500.db")

    manager.routes[("POST", SAVE)] = save
    result = run(manager, capsys, retain=1)
    assert result["created"] == "snapshot500.db" and "snapshot500.db" not in result["deleted"]
    assert "snapshot500.db" in manager.state["names"]
    assert [b["file_name"] for p, b in manager.posts if p == DELETE] == result["deleted"]


def test_a_snapshot_another_run_takes_at_the_same_time_is_neither_claimed_nor_pruned(manager, capsys):
    def save(body):  # another run's save lands just before this one
        manager.state["names"] += ["snapshot4000.db", "snapshot4001.db"]
        return dict(meta(), file_name="snapshot4001.db")

    manager.routes[("POST", SAVE)] = save
    result = run(manager, capsys, retain=1)
    assert result["created"] == "snapshot4001.db"
    assert not {"snapshot4000.db", "snapshot4001.db"} & set(result["deleted"])
    assert {"snapshot4000.db", "snapshot4001.db"} <= set(manager.state["names"])


def test_without_a_name_in_the_answer_several_new_snapshots_leave_created_unknown(manager, capsys, monkeypatch):
    def save(body):
        manager.state["names"] += ["snapshot4000.db", "snapshot4001.db"]
        return meta()

    # recorded at TosModule: once the in-process action's tests have run in this process, ansible-core
    # shows module warnings on the controller's display instead of returning them in the result
    warned = []
    monkeypatch.setattr(TosModule, "warn", lambda self, message: warned.append(message))
    manager.routes[("POST", SAVE)] = save
    result = run(manager, capsys, retain=1)
    assert result["created"] is None and any("created is not known" in w for w in warned)
    assert not {"snapshot4000.db", "snapshot4001.db"} & set(result["deleted"])


def test_a_snapshot_another_run_pruned_first_is_not_an_error(manager, capsys):
    """Two runs pruning at once both want the oldest snapshots gone: the second delete of the same one is refused
    (not found), the snapshot is gone as wanted, and the run goes on; any other refusal still fails."""
    real_delete = manager.routes[("POST", DELETE)]

    def delete(body):
        if body["file_name"] == "snapshot1000.db":
            manager.state["names"].remove("snapshot1000.db")  # the other run deleted it just before
            raise TosApiError("metadata snapshot snapshot1000.db not found", kind="api", code=404)
        return real_delete(body)

    manager.routes[("POST", DELETE)] = delete
    result = run(manager, capsys, retain=2)
    assert "failed" not in result, result
    assert result["deleted"] == ["snapshot1000.db", "snapshot2000.db"]
    assert result["snapshots"] == ["snapshot3000.db", "snapshot4000.db"] == manager.state["names"]


def test_a_refused_delete_of_a_snapshot_still_there_fails(manager, capsys):
    def delete(body):
        raise TosApiError("the manager is busy", kind="api", code=500)

    manager.routes[("POST", DELETE)] = delete
    result = run(manager, capsys, state="absent", retain=2)
    assert result["failed"] is True and "the manager is busy" in result["msg"], result
    assert "snapshot1000.db" in manager.state["names"]
