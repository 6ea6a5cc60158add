# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.cluster: exact-name identity, create once, never recreate, refuse to delete a busy cluster."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tos.cloud.plugins.modules import cluster
from ansible_collections.tos.cloud.tests.unit.plugins.modules.cluster_harness import FakePlatform
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module

ADD = ("POST", "/v1/cluster/add")
DELETE = ("POST", "/v1/cluster/delete")


def run(platform, capsys, **args):
    flags = {k: args.pop(k) for k in ("check_mode", "diff") if k in args}
    return run_module(cluster.main, args, platform, capsys, **flags)


def test_validate_names_each_bad_option():
    msg = cluster.validate({"name": " x", "ip": "192.0.2.300", "desc": "d" * 300})
    assert "name: must not start or end with spaces" in msg
    assert "ip: '192.0.2.300' is not an IP address" in msg
    assert "desc: 300 characters is longer than the 256 allowed" in msg
    assert cluster.validate({"name": "生产集群", "ip": "192.0.2.11", "desc": None}) is None


def test_bad_input_fails_before_any_request(capsys):
    platform = FakePlatform()
    result = run(platform, capsys, name="", ip="nope")
    assert result["failed"] and "name: must not be empty" in result["msg"] and "ip:" in result["msg"]
    assert platform.calls == []


def test_create_sends_one_add_and_returns_the_hosts(capsys):
    platform = FakePlatform()
    result = run(platform, capsys, name="生产集群", ip="192.0.2.11", desc="rack A", diff=True)
    assert result["changed"]
    assert platform.mutations() == [ADD]
    assert result["cluster"]["name"] == "生产集群" and result["cluster"]["desc"] == "rack A"
    assert [h["name"] for h in result["cluster"]["hosts"]] == ["tos-a1", "tos-a2", "tos-a3"]
    assert result["diff"] == {"before": {}, "after": {"name": "生产集群", "desc": "rack A"}}


def test_second_run_changes_nothing_and_sends_no_mutation(capsys):
    platform = FakePlatform()
    platform.add_cluster("prod", "192.0.2.11", "rack A")
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result = run(platform, capsys, name="prod", ip="192.0.2.11", desc="rack A")
    assert not warn.called
    assert not result["changed"]
    assert platform.mutations() == []


def test_check_mode_predicts_the_create_without_sending_it(capsys):
    platform = FakePlatform()
    result = run(platform, capsys, name="prod", ip="192.0.2.11", check_mode=True, diff=True)
    assert result["changed"]
    assert platform.mutations() == [] and platform.clusters == {}
    assert result["cluster"]["uuid"] is None
    real = run(FakePlatform(), capsys, name="prod", ip="192.0.2.11", diff=True)
    assert real["diff"] == result["diff"]


def test_a_cluster_whose_name_only_contains_the_name_is_another_cluster(capsys):
    platform = FakePlatform()
    platform.add_cluster("prod-2", "198.51.100.11")
    result = run(platform, capsys, name="prod", ip="192.0.2.11")
    assert result["changed"] and platform.mutations() == [ADD]
    assert sorted(c["name"] for c in platform.clusters.values()) == ["prod", "prod-2"]


def test_other_desc_warns_and_never_recreates(capsys):
    platform = FakePlatform()
    platform.add_cluster("prod", "192.0.2.11", "old")
    # warnings are captured at the source: where they end up depends on global state of ansible-core
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result = run(platform, capsys, name="prod", desc="new")
    assert not result["changed"] and platform.mutations() == []
    assert "cannot change a cluster's description" in warn.call_args[0][0]
    assert result["cluster"]["desc"] == "old"


def test_create_without_ip_fails_before_any_mutation(capsys):
    platform = FakePlatform()
    result = run(platform, capsys, name="prod")
    assert result["failed"] and "ip is required to create cluster 'prod'" in result["msg"]
    assert platform.mutations() == []


def test_lost_add_answer_is_checked_not_repeated(capsys):
    platform = FakePlatform(lose_answer_of=["/v1/cluster/add"])
    result = run(platform, capsys, name="prod", ip="192.0.2.11")
    assert result["changed"] and not result.get("failed")
    assert platform.mutations() == [ADD]
    assert len(platform.clusters) == 1


def test_delete_of_a_cluster_with_vms_fails_before_any_mutation_and_says_what_to_do(capsys):
    platform = FakePlatform()
    uuid = platform.add_cluster("prod", "192.0.2.11")
    platform.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    platform.add_storage_vm(uuid, "192.0.2.121/24", "192.0.2.161/24")
    for check_mode in (True, False):
        result = run(platform, capsys, name="prod", state="absent", check_mode=check_mode)
        assert result["failed"]
        assert "1 cloud-management VM(s) (192.0.2.101)" in result["msg"]
        assert "1 storage-service VM(s) (192.0.2.121)" in result["msg"]
        assert "force: true" in result["msg"] and "remove them first" in result["msg"]
    assert platform.mutations() == [] and uuid in platform.clusters


@pytest.mark.parametrize("kind", ["upgrade", "deploy_cvm", None])
def test_delete_of_a_cluster_with_only_a_running_task_says_to_wait_for_it(capsys, kind):
    # an upgrade (or a CVM deploy: no VM is listed yet) started from the console: nothing to remove, a task to wait for
    platform = FakePlatform(step=0.0)
    uuid = platform.add_cluster("prod", "192.0.2.11")
    platform.tasks["h-a2"] = {"status": "running", "progress": 0.3, "task_type": kind, "target": "h-a2"}
    for check_mode in (True, False):
        result = run(platform, capsys, name="prod", state="absent", check_mode=check_mode)
        assert result["failed"] and "running tasks on tos-a2" in result["msg"], result
        assert "force: true" in result["msg"] and "wait for them to finish" in result["msg"], result["msg"]
        assert "remove them first" not in result["msg"], result["msg"]
    assert platform.mutations() == [] and uuid in platform.clusters


def test_delete_with_force_removes_cluster_and_vms(capsys):
    platform = FakePlatform()
    uuid = platform.add_cluster("prod", "192.0.2.11")
    platform.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    result = run(platform, capsys, name="prod", state="absent", force=True, diff=True)
    assert result["changed"] and platform.mutations() == [DELETE]
    assert platform.clusters == {} and platform.cvms == {}
    assert result["diff"]["after"] == {} and result["diff"]["before"]["name"] == "prod"
    again = run(platform, capsys, name="prod", state="absent", force=True)
    assert not again["changed"] and platform.mutations() == [DELETE]


def test_absent_accepts_the_uuid(capsys):
    platform = FakePlatform()
    uuid = platform.add_cluster("prod", "192.0.2.11")
    result = run(platform, capsys, name=uuid, state="absent")
    assert result["changed"] and platform.clusters == {}


def test_check_mode_delete_changes_nothing(capsys):
    platform = FakePlatform()
    uuid = platform.add_cluster("prod", "192.0.2.11")
    result = run(platform, capsys, name="prod", state="absent", check_mode=True)
    assert result["changed"] and platform.mutations() == [] and uuid in platform.clusters
