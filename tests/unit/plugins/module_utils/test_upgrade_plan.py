# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Version comparison, upgrade planning and the host-by-host run against a scripted platform."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import read_host_task as read_task
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import (
    FAILED,
    NOT_STARTED,
    PENDING,
    SKIPPED,
    STARTED,
    UPGRADED,
    cluster_hosts,
    compare_versions,
    leader_host_uuids,
    plan_batches,
    plan_diff,
    plan_host,
    plan_upgrade,
    read_current_package,
    read_package_list,
    run_plan,
    same_version,
    select_hosts,
    summarize,
    types_not_at,
)
from ansible_collections.tos.cloud.tests.unit.plugins.modules.operations_harness import TARGET, FakePlatform

CLUSTER = "c-uuid"


# -- versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("older, newer", [
    ("3.2.4", "3.2.5.rc2"),
    ("3.2.5.rc1", "3.2.5.rc2"),
    ("3.2.5.rc2", "3.2.5"),
    ("3.2.5", "3.2.5.1"),
    ("1.4.rc2", "1.4"),
    ("1.3", "1.4.rc2"),
    ("3.2.5.beta1", "3.2.5.rc1"),
    ("3.2.9", "3.2.10"),
    ("3.2.5", "3.2.5.hotfix1"),
])
def test_compare_versions_orders_releases_and_prereleases(older, newer):
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1


@pytest.mark.parametrize("left, right", [("3.2.5", "3.2.5.0"), ("v3.2.5", "3.2.5"), ("1.4.RC2", "1.4rc2"),
                                         (" 3.2.5 ", "3.2.5")])
def test_same_version_ignores_spelling(left, right):
    assert same_version(left, right)


def test_missing_versions_are_oldest():
    assert compare_versions(None, "0.1") == -1
    assert same_version("", None)


# -- planning ---------------------------------------------------------------------------------------

HOST = {"host": "tos-a1", "ip": "192.0.2.11", "uuid": "u1"}


def test_plan_host_upgrades_every_older_type():
    entry = plan_host(HOST, {"compute": "3.2.4", "storage": "3.2.4"}, TARGET)
    assert entry["status"] == PENDING
    assert entry["service_types"] == ["compute", "storage"]
    assert entry["from_versions"] == {"compute": "3.2.4", "storage": "3.2.4"}
    assert entry["to_version"] == TARGET
    assert entry["host"] == "tos-a1" and entry["ip"] == "192.0.2.11" and entry["uuid"] == "u1"


def test_plan_host_skips_types_already_at_target():
    entry = plan_host(HOST, {"compute": TARGET, "storage": "3.2.4"}, TARGET)
    assert entry["status"] == PENDING and entry["service_types"] == ["storage"]
    done = plan_host(HOST, {"compute": TARGET, "storage": TARGET}, TARGET)
    assert done["status"] == SKIPPED and done["service_types"] == []
    assert "already at %s" % TARGET in done["reason"]


def test_plan_host_limits_to_requested_types_in_their_order():
    entry = plan_host(HOST, {"compute": "3.2.4", "storage": "3.2.4", "cloud": "3.2.4"}, TARGET,
                      ["cloud", "compute"])
    assert entry["service_types"] == ["cloud", "compute"]


def test_plan_host_skips_a_host_without_the_requested_types():
    entry = plan_host(HOST, {"compute": "3.2.4"}, TARGET, ["cloud"])
    assert entry["status"] == SKIPPED
    assert "cloud" in entry["reason"] and "compute" in entry["reason"]


def test_plan_host_never_downgrades():
    entry = plan_host(HOST, {"compute": "3.3.0"}, TARGET)
    assert entry["status"] == SKIPPED and "not downgraded" in entry["reason"]
    mixed = plan_host(HOST, {"compute": "3.3.0", "storage": "3.2.4"}, TARGET)
    assert mixed["status"] == PENDING and mixed["service_types"] == ["storage"]
    assert "compute 3.3.0" in mixed["reason"]


def test_plan_keeps_the_host_order_and_diff_shows_only_changes():
    hosts = [dict(HOST), {"host": "tos-a2", "ip": "192.0.2.12", "uuid": "u2"}]
    plan = plan_upgrade(hosts, {"192.0.2.11": {"compute": TARGET}, "192.0.2.12": {"compute": "3.2.4"}}, TARGET)
    assert [(e["host"], e["status"]) for e in plan] == [("tos-a1", SKIPPED), ("tos-a2", PENDING)]
    before, after = plan_diff(plan)
    assert before == {"tos-a2": {"compute": "3.2.4"}}
    assert after == {"tos-a2": {"compute": TARGET}}


def test_host_unknown_to_the_upgrade_service_is_skipped():
    plan = plan_upgrade([dict(HOST)], {}, TARGET)
    assert plan[0]["status"] == SKIPPED and "none reported" in plan[0]["reason"]


# -- hosts -------------------------------------------------------------------------------------------

TOPOLOGY = {"TopoHostNode": [
    {"UUID": "u1", "name": "tos-a1", "managerNet": {"Addrs": ["192.0.2.11/24"]}, "IsSystemService": False},
    {"UUID": "u2", "name": "tos-a2", "managerNet": {"Addrs": ["192.0.2.12/24"]}, "IsSystemService": False},
    {"UUID": "vm1", "name": "LCMvm1", "managerNet": {"Addrs": ["192.0.2.101/24"]}, "IsSystemService": True},
]}


def test_cluster_hosts_leaves_out_system_vms_the_upgrade_service_does_not_list():
    assert [h["host"] for h in cluster_hosts(TOPOLOGY)] == ["tos-a1", "tos-a2"]
    assert [h["host"] for h in cluster_hosts(TOPOLOGY, known_ips={"192.0.2.101": {}})] == [
        "tos-a1", "tos-a2", "LCMvm1"]


def test_select_hosts_by_name_ip_or_uuid_in_the_order_given():
    hosts = cluster_hosts(TOPOLOGY)
    selected, unknown = select_hosts(hosts, ["192.0.2.12", "u1", "tos-a2", "nope"])
    assert [h["host"] for h in selected] == ["tos-a2", "tos-a1"]
    assert unknown == ["nope"]
    assert select_hosts(hosts, None) == (hosts, [])


# -- reading ---------------------------------------------------------------------------------------------


class Reader:
    def __init__(self, answers):
        self.answers = answers

    def get(self, path, params=None):
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_package_list_reads_null_lists_as_empty():
    listing = read_package_list(Reader({"/v1/system/upgrade_package/list": {
        "package_list": None, "host_list": None,
        "list": [{"host_ip": "10.30.12.161", "type_version": {"cloud": "1.4"}, "upgrade_package_list": None}]}}),
        CLUSTER)
    assert listing["packages"] == [] and listing["host_list"] == []
    assert listing["hosts"]["10.30.12.161"]["type_version"] == {"cloud": "1.4"}
    assert listing["hosts"]["10.30.12.161"]["upgrade_package_list"] == []


def test_current_package_missing_is_none_only_when_allowed():
    refused = TosApiError("no upgrade package", kind="api", code=4301)
    client = Reader({"/v1/system/upgrade_package/current/inspect": refused})
    assert read_current_package(client, CLUSTER, missing_ok=True) is None
    with pytest.raises(TosApiError):
        read_current_package(client, CLUSTER)
    empty = Reader({"/v1/system/upgrade_package/current/inspect": {}})
    assert read_current_package(empty, CLUSTER) is None


def test_the_plan_puts_the_leader_cvm_host_last_and_keeps_the_others_order():
    hosts = [{"host": "h%d" % i, "ip": "192.0.2.1%d" % i, "uuid": "u%d" % i} for i in range(1, 5)]
    versions = {h["ip"]: {"compute": "3.2.4"} for h in hosts}
    plan = plan_upgrade(hosts, versions, TARGET, leader_hosts=["u2"])
    assert [e["host"] for e in plan] == ["h1", "h3", "h4", "h2"]
    assert [e["leader_cvm"] for e in plan] == [False, False, False, True]
    assert [e["host"] for e in plan_upgrade(hosts, versions, TARGET)] == ["h1", "h2", "h3", "h4"]


def test_the_leader_cvms_own_node_goes_last_when_the_package_list_names_it():
    # system-api.md upgrade_package/list: the example lists 10.30.12.161 with only a "cloud" version, a
    # cloud-management VM; cluster_hosts then plans the CVM's own topology node.  Upgrading the leader CVM's
    # cloud service first moves the leadership before every other host, the same as upgrading its host first.
    physical = [{"UUID": "u%d" % i, "name": "h%d" % i, "IsSystemService": False,
                 "managerNet": {"Addrs": ["192.0.2.1%d/24" % i]}} for i in range(1, 4)]
    cvm_nodes = [{"UUID": "cvm-%d" % i, "name": "LCMcvm-%d" % i, "IsSystemService": True,
                  "managerNet": {"Addrs": ["192.0.2.5%d/24" % i]}} for i in (1, 2)]
    detail = {"TopoHostNode": physical + cvm_nodes}
    versions = {"192.0.2.1%d" % i: {"compute": "3.2.4"} for i in range(1, 4)}
    versions.update({"192.0.2.51": {"cloud": "3.2.4"}, "192.0.2.52": {"cloud": "3.2.4"}})
    cvms = [{"uuid": "cvm-1", "ip": "192.0.2.51", "host_uuid": "u1", "is_leader": True},
            {"uuid": "cvm-2", "ip": "192.0.2.52", "host_uuid": "u3", "is_leader": False}]
    hosts = cluster_hosts(detail, known_ips=versions)
    plan = plan_upgrade(hosts, versions, TARGET, leader_hosts=leader_host_uuids(cvms))
    assert [e["host"] for e in plan][-2:] == ["h1", "LCMcvm-1"]
    assert [e["host"] for e in plan if e["leader_cvm"]] == ["h1", "LCMcvm-1"]
    # a cloud/manage entry whose uuid is the host's (the table's "节点主机uuid") still names the CVM by its ip
    cvms = [{"uuid": "u1", "ip": "192.0.2.51", "host_uuid": "u1", "is_leader": True}]
    plan = plan_upgrade(hosts, versions, TARGET, leader_hosts=leader_host_uuids(cvms))
    assert [e["host"] for e in plan][-2:] == ["h1", "LCMcvm-1"]


def test_batches_cut_the_hosts_to_upgrade_in_plan_order_leader_in_the_last():
    hosts = [{"host": "h%d" % i, "ip": "192.0.2.1%d" % i, "uuid": "u%d" % i} for i in range(1, 6)]
    versions = {h["ip"]: {"compute": "3.2.4"} for h in hosts}
    versions["192.0.2.13"] = {"compute": TARGET}  # h3 skipped: in no batch
    plan = plan_upgrade(hosts, versions, TARGET, leader_hosts=["u1"])
    assert [[e["host"] for e in b] for b in plan_batches(plan, 2)] == [["h2", "h4"], ["h5", "h1"]]
    assert [[e["host"] for e in b] for b in plan_batches(plan, 1)] == [["h2"], ["h4"], ["h5"], ["h1"]]
    assert plan_batches(plan_upgrade(hosts[2:3], versions, TARGET), 4) == []


def test_types_not_at_names_the_types_behind_the_target():
    assert types_not_at({"compute": TARGET, "storage": "3.2.4"}, ["compute", "storage"], TARGET) == ["storage"]
    assert types_not_at({"compute": TARGET}, ["compute", "cloud"], TARGET) == ["cloud"]
    assert types_not_at({"compute": TARGET}, ["compute"], TARGET) == []


def test_read_task_without_status_judges_by_progress():
    path = "/v1/cluster/host/task/progress"
    assert read_task(Reader({path: {"progress": 0.7}}), CLUSTER, "u1")["running"]
    assert not read_task(Reader({path: {"progress": 1}}), CLUSTER, "u1")["running"]
    failed = read_task(Reader({path: {"progress": 0.5, "status": "failed", "message": "disk full",
                                      "message_cn": "磁盘已满"}}), CLUSTER, "u1")
    assert failed["failed"] and not failed["running"] and failed["reason"] == "disk full / 磁盘已满"
    assert not read_task(Reader({path: {"progress": 0.3, "status": "cancelled"}}), CLUSTER, "u1")["running"]


# -- running -------------------------------------------------------------------------------------------------


def hosts_of(platform):
    return [{"host": platform.names[uuid], "ip": ip, "uuid": uuid} for uuid, ip in sorted(platform.uuid_ip.items())]


def run(platform, **kwargs):
    plan = plan_upgrade(hosts_of(platform), platform.versions, TARGET)
    return plan, run_plan(platform, CLUSTER, plan, 60, stall_timeout=30, sleep=lambda s: None, **kwargs)


def test_run_upgrades_hosts_one_after_the_other():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}, "192.0.2.12": {"compute": "3.2.4", "storage": "3.2.4"}})
    _plan, outcomes = run(platform)
    assert [o["status"] for o in outcomes] == [UPGRADED, UPGRADED]
    assert platform.posts == ["192.0.2.11", "192.0.2.12"]
    assert platform.versions["192.0.2.12"] == {"compute": TARGET, "storage": TARGET}
    # the second host's upgrade started only once the first host ran the new version
    assert platform.versions_at_post[1]["192.0.2.11"] == {"compute": TARGET}
    assert platform.versions_at_post[1]["192.0.2.12"] == {"compute": "3.2.4", "storage": "3.2.4"}


def test_second_run_sends_nothing():
    platform = FakePlatform({"192.0.2.11": {"compute": TARGET}})
    plan, outcomes = run(platform)
    assert [o["status"] for o in outcomes] == [SKIPPED]
    assert platform.posts == []
    assert summarize(outcomes)[SKIPPED] == ["h11"]


def test_failure_stops_the_run_and_names_the_host():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}, "192.0.2.12": {"compute": "3.2.4"},
                             "192.0.2.13": {"compute": "3.2.4"}},
                            fail={"192.0.2.12": (0.5, "disk full on h12")})
    _plan, outcomes = run(platform)
    assert [o["status"] for o in outcomes] == [UPGRADED, FAILED, NOT_STARTED]
    assert outcomes[1]["reason"] == "disk full on h12"
    assert "h12" in outcomes[2]["reason"]
    assert platform.posts == ["192.0.2.11", "192.0.2.12"]
    assert platform.versions["192.0.2.13"] == {"compute": "3.2.4"}


def test_a_refused_post_fails_that_host_with_the_servers_reason():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}})

    def refuse(path, body=None):
        raise TosApiError("POST %s was refused by the manager (code 4301): no upgrade package." % path, kind="api")
    platform.post = refuse
    _plan, outcomes = run(platform)
    assert outcomes[0]["status"] == FAILED and "no upgrade package" in outcomes[0]["reason"]


def test_a_stalled_task_fails_after_the_stall_timeout():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}}, step=0.0)
    ticks = iter(range(0, 10000, 10))
    plan = plan_upgrade(hosts_of(platform), platform.versions, TARGET)
    outcomes = run_plan(platform, CLUSTER, plan, 600, stall_timeout=30, sleep=lambda s: None,
                        clock=lambda: next(ticks))
    assert outcomes[0]["status"] == FAILED and "no progress for 30s" in outcomes[0]["reason"]


def test_lost_answer_is_not_repeated_when_the_upgrade_started():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}}, lose_answer_of={"192.0.2.11"})
    _plan, outcomes = run(platform)
    assert outcomes[0]["status"] == UPGRADED
    assert platform.posts == ["192.0.2.11"]


def test_a_task_already_running_is_waited_for_instead_of_starting_another():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}}, running={"u1": ["compute"]})
    _plan, outcomes = run(platform)
    assert outcomes[0]["status"] == UPGRADED and "already running" in outcomes[0]["reason"]
    assert platform.posts == []


def test_wait_false_starts_only_the_first_host():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}, "192.0.2.12": {"compute": "3.2.4"}})
    _plan, outcomes = run(platform, wait=False)
    assert [o["status"] for o in outcomes] == [STARTED, NOT_STARTED]
    assert platform.posts == ["192.0.2.11"]


def test_a_host_not_reporting_the_new_version_fails():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}})
    original = platform.get

    def stale(path, params=None):
        answer = original(path, params)
        if path == "/v1/system/upgrade_package/list":
            platform.versions["192.0.2.11"]["compute"] = "3.2.4"
            answer = {"list": [{"host_ip": "192.0.2.11", "type_version": {"compute": "3.2.4"}}]}
        return answer
    platform.get = stale
    _plan, outcomes = run(platform)
    assert outcomes[0]["status"] == FAILED and "compute 3.2.4" in outcomes[0]["reason"]


# -- batches ----------------------------------------------------------------------------------------------------

FOUR = {"192.0.2.11": {"compute": "3.2.4"}, "192.0.2.12": {"compute": "3.2.4"}, "192.0.2.13": {"compute": "3.2.4"},
        "192.0.2.14": {"compute": "3.2.4"}}


def test_a_batch_starts_all_its_hosts_before_waiting_for_them():
    platform = FakePlatform(FOUR)
    _plan, outcomes = run(platform, batch_size=2)
    assert [o["status"] for o in outcomes] == [UPGRADED] * 4
    assert platform.posts == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
    # the second host started while the first still ran the old version; the third only once both ran the new one
    assert platform.versions_at_post[1]["192.0.2.11"] == {"compute": "3.2.4"}
    assert platform.versions_at_post[2]["192.0.2.11"] == {"compute": TARGET}
    assert platform.versions_at_post[2]["192.0.2.12"] == {"compute": TARGET}
    assert platform.versions_at_post[3]["192.0.2.13"] == {"compute": "3.2.4"}


def test_a_batch_skips_hosts_already_at_target_without_taking_their_place():
    versions = dict(FOUR, **{"192.0.2.12": {"compute": TARGET}})
    platform = FakePlatform(versions)
    _plan, outcomes = run(platform, batch_size=2)
    assert [o["status"] for o in outcomes] == [UPGRADED, SKIPPED, UPGRADED, UPGRADED]
    # the batches are made of the hosts to upgrade: h11 + h13, then h14
    assert platform.versions_at_post[1]["192.0.2.11"] == {"compute": "3.2.4"}
    assert platform.versions_at_post[2]["192.0.2.13"] == {"compute": TARGET}


def test_a_failure_in_a_batch_waits_for_the_rest_of_the_batch_and_stops():
    platform = FakePlatform(FOUR, fail={"192.0.2.11": (0.5, "disk full on h11")})
    _plan, outcomes = run(platform, batch_size=2)
    assert [o["status"] for o in outcomes] == [FAILED, UPGRADED, NOT_STARTED, NOT_STARTED]
    assert outcomes[0]["reason"] == "disk full on h11"
    assert all("h11" in o["reason"] for o in outcomes[2:])
    assert platform.posts == ["192.0.2.11", "192.0.2.12"]
    assert platform.versions["192.0.2.13"] == {"compute": "3.2.4"}


def test_a_refused_start_ends_the_starts_of_its_batch():
    platform = FakePlatform(FOUR)
    original = platform.post

    def refuse_h12(path, body=None):
        if body["list"][0]["host_ip"] == "192.0.2.12":
            raise TosApiError("POST %s was refused by the manager (code 4409): host busy." % path, kind="api")
        return original(path, body)
    platform.post = refuse_h12
    _plan, outcomes = run(platform, batch_size=3)
    assert [o["status"] for o in outcomes] == [UPGRADED, FAILED, NOT_STARTED, NOT_STARTED]
    assert "host busy" in outcomes[1]["reason"] and "h12" in outcomes[2]["reason"]
    assert platform.posts == ["192.0.2.11"]


def test_wait_false_starts_the_first_batch():
    platform = FakePlatform(FOUR)
    _plan, outcomes = run(platform, wait=False, batch_size=3)
    assert [o["status"] for o in outcomes] == [STARTED, STARTED, STARTED, NOT_STARTED]
    assert "batch of 3" in outcomes[3]["reason"]
    assert platform.posts == ["192.0.2.11", "192.0.2.12", "192.0.2.13"]


def test_the_timeout_of_a_host_in_a_batch_counts_from_its_start():
    platform = FakePlatform({"192.0.2.11": {"compute": "3.2.4"}, "192.0.2.12": {"compute": "3.2.4"}}, step=0.25)
    ticks = iter(range(0, 10000, 10))
    plan = plan_upgrade(hosts_of(platform), platform.versions, TARGET)
    # every clock reading is 10 s after the previous one; each task needs four progress reads. h12 starts
    # at 10 s and is waited for from 40 s on (after h11): its 60 s run out before its fourth read.
    outcomes = run_plan(platform, CLUSTER, plan, 60, sleep=lambda s: None, clock=lambda: next(ticks), batch_size=2)
    assert outcomes[0]["status"] == UPGRADED
    assert outcomes[1]["status"] == FAILED and "not finished after 60s (progress 75%)" in outcomes[1]["reason"]
