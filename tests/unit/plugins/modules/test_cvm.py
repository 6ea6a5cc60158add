# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.cvm: identity by host, deploy and wait, never move a CVM silently, keep the last center node."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._checks import check_vm_cidr, check_vm_gateway
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import address_mismatch, cvm_on_host, list_cvms
from ansible_collections.tos.cloud.plugins.modules import cvm
from ansible_collections.tos.cloud.tests.unit.plugins.modules.cluster_harness import FakePlatform
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module

pytestmark = pytest.mark.usefixtures("virtual_clock")  # conftest.py: the fake platform moves per request

DEPLOY = ("POST", "/v1/cluster/deploy/cvm")
REMOVE = ("POST", "/v1/cluster/delete/cvm")


def run(platform, capsys, **args):
    flags = {k: args.pop(k) for k in ("check_mode", "diff") if k in args}
    args.setdefault("cluster", "prod")
    return run_module(cvm.main, args, platform, capsys, **flags)


def platform_with_cluster(center=True):
    platform = FakePlatform()
    uuid = platform.add_cluster("prod", "192.0.2.11")
    if center:
        platform.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    return platform, uuid


@pytest.mark.parametrize("value, error", [
    ("192.0.2.101", "not an address in CIDR notation"),
    ("192.0.2.101/31", "prefix length"),
    ("192.0.2.0/24", "network or broadcast address"),
    ("2001:db8::1/64", "not a valid IPv4 address"),
    ("192.0.2.101/24", None),
])
def test_address_check_follows_the_platform(value, error):
    message = check_vm_cidr("address", value)
    assert (message is None) if error is None else (message.startswith("address: ") and error in message)


@pytest.mark.parametrize("gateway, error", [
    ("198.51.100.1", "not a host address inside the network 192.0.2.0/24 of address"),
    ("192.0.2.255", "not a host address inside"),
    ("192.0.2.101", "same address as address"),
    ("gw", "not an IPv4 address"),
    ("192.0.2.1", None),
])
def test_gateway_must_be_inside_the_address_network(gateway, error):
    message = check_vm_gateway("gateway", gateway, "address", "192.0.2.101/24")
    assert (message is None) if error is None else (message.startswith("gateway: ") and error in message)


def test_bad_input_fails_before_any_request(capsys):
    platform, dummy = platform_with_cluster()
    calls = len(platform.calls)
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="198.51.100.1")
    assert result["failed"] and result["msg"].startswith("Invalid input: gateway:")
    assert len(platform.calls) == calls


def test_deploy_waits_for_the_task_and_returns_the_running_cvm(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="192.0.2.12", address="192.0.2.102/24", gateway="192.0.2.1", diff=True)
    assert result["changed"] and platform.mutations() == [DEPLOY]
    view = result["cvm"]
    assert view["state"] == "running" and view["ip"] == "192.0.2.102" and view["address"] == "192.0.2.102/24"
    assert view["host_name"] == "tos-a2" and view["host_uuid"] == "h-a2"
    assert result["diff"] == {"before": {}, "after": {"host": "tos-a2", "address": "192.0.2.102/24"}}
    assert ("GET", "/v1/cluster/host/task/progress") in platform.calls


def test_second_run_changes_nothing_and_sends_no_mutation(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a1", address="192.0.2.101/24", gateway="192.0.2.1")
    assert not result["changed"] and platform.mutations() == []
    assert result["cvm"]["is_leader"]


def test_present_without_address_accepts_the_existing_cvm(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="h-a1")
    assert not result["changed"] and result["cvm"]["ip"] == "192.0.2.101"


def test_check_mode_predicts_the_deploy_without_sending_it(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1", check_mode=True,
                 diff=True)
    assert result["changed"] and platform.mutations() == []
    assert result["diff"]["after"] == {"host": "tos-a2", "address": "192.0.2.102/24"}
    assert len(platform.cvms) == 1


def test_another_address_fails_and_never_redeploys(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a1", address="192.0.2.109/24", gateway="192.0.2.1")
    assert result["failed"] and platform.mutations() == []
    assert "already runs the cloud-management VM 192.0.2.101/24, not 192.0.2.109/24" in result["msg"]
    assert "remove it first (state: absent)" in result["msg"]


def test_address_of_another_cvm_fails_before_any_mutation(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a2", address="192.0.2.101/24", gateway="192.0.2.1")
    assert result["failed"] and platform.mutations() == []
    assert result["msg"].startswith("address: 192.0.2.101 is already used by the cloud-management VM")


def test_deploy_without_address_says_what_is_missing(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a2")
    assert result["failed"] and "address and gateway are required" in result["msg"] and platform.mutations() == []


def test_unknown_host_lists_the_hosts(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-z9", address="192.0.2.102/24", gateway="192.0.2.1")
    assert result["failed"] and result["msg"].startswith("host: no physical host 'tos-z9' in cluster 'prod'")
    assert "tos-a2 (192.0.2.12)" in result["msg"]


def test_a_center_ip_is_not_a_host(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="192.0.2.101", state="absent")
    assert result["failed"] and "no physical host '192.0.2.101'" in result["msg"]


def test_unknown_cluster_names_it_and_the_known_ones(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, cluster="prd", host="tos-a2")
    assert result["failed"] and "cluster: no cluster is named 'prd'" in result["msg"] and "known clusters: prod" in result["msg"]


def test_the_last_center_node_is_never_removed(capsys):
    platform, dummy = platform_with_cluster()
    for check_mode in (True, False):
        result = run(platform, capsys, host="tos-a1", state="absent", check_mode=check_mode)
        assert result["failed"] and "last center node of cluster 'prod'" in result["msg"]
    assert platform.mutations() == [] and len(platform.cvms) == 1


def test_remove_one_of_two_center_nodes(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_cvm(uuid, "h-a2", "192.0.2.102/24")
    result = run(platform, capsys, host="tos-a2", state="absent", diff=True)
    assert result["changed"] and platform.mutations() == [REMOVE]
    assert result["diff"] == {"before": {"host": "tos-a2", "address": "192.0.2.102/24"}, "after": {}}
    again = run(platform, capsys, host="tos-a2", state="absent")
    assert not again["changed"] and platform.mutations() == [REMOVE]


def test_a_deploy_still_running_is_waited_for_not_sent_again(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_cvm(uuid, "h-a2", "192.0.2.102/24", deploying=True)
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1")
    assert not result["changed"] and platform.mutations() == []
    assert result["cvm"]["state"] == "running"


def test_no_wait_returns_while_deploying(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1", wait=False)
    assert result["changed"] and result["cvm"]["state"] == "deploying"
    after_deploy = platform.calls[platform.calls.index(DEPLOY) + 1:]
    assert ("GET", "/v1/cluster/host/task/progress") not in after_deploy


def test_lost_deploy_answer_is_checked_not_repeated(capsys):
    platform, dummy = platform_with_cluster()
    platform.lose_answer_of.add("/v1/cluster/deploy/cvm")
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1")
    assert result["changed"] and not result.get("failed") and platform.mutations() == [DEPLOY]
    assert len(platform.cvms) == 2


def topology_detail(*nodes):
    return {"TopoHostNode": list(nodes)}


def host_node(uuid, ip, system=False, machine=None, center=False):
    node = {"UUID": uuid, "name": uuid, "managerNet": {"Addrs": [ip + "/24"]}, "IsSystemService": system,
            "services": {"center": {"enabled": True} if center else None}}
    if machine:
        node["MachineUUID"] = machine
    return node


def test_cvm_host_from_the_simulator_reading():
    detail = topology_detail(host_node("h1", "192.0.2.11"), host_node("v1", "192.0.2.101", True, "h1", True))
    manage = [{"uuid": "v1", "ip": "192.0.2.101", "machine_uuid": "h1", "is_leader": True, "status": 1}]
    assert list_cvms(detail, manage) == [{"uuid": "v1", "name": "v1", "ip": "192.0.2.101", "address": "192.0.2.101/24",
                                          "host_uuid": "h1", "is_leader": True, "status": 1}]


def test_cvm_host_from_the_documents_reading():
    # the example: the center runs on the node itself, cloud/manage "uuid" is that node, machine_uuid ""
    detail = topology_detail(host_node("h1", "192.0.2.11", center=True))
    manage = [{"uuid": "h1", "ip": "192.0.2.11", "machine_uuid": "", "is_leader": True, "status": 1}]
    found = list_cvms(detail, manage)
    assert [(c["host_uuid"], c["ip"]) for c in found] == [("h1", "192.0.2.11")]
    assert cvm_on_host(found, "h1")["is_leader"]


def test_a_topology_center_node_missing_from_cloud_manage_still_counts():
    detail = topology_detail(host_node("h1", "192.0.2.11"), host_node("v2", "192.0.2.102", True, "h1", True))
    found = list_cvms(detail, [])
    assert [(c["uuid"], c["host_uuid"], c["address"]) for c in found] == [("v2", "h1", "192.0.2.102/24")]


def test_address_mismatch_compares_cidr_when_known_else_ip():
    assert not address_mismatch({"address": "192.0.2.101/24", "ip": "192.0.2.101"}, None)
    assert not address_mismatch({"address": "192.0.2.101/24", "ip": "192.0.2.101"}, " 192.0.2.101/24")
    assert address_mismatch({"address": "192.0.2.101/24", "ip": "192.0.2.101"}, "192.0.2.101/25")
    assert not address_mismatch({"address": None, "ip": "192.0.2.101"}, "192.0.2.101/25")
    assert address_mismatch({"address": None, "ip": "192.0.2.101"}, "192.0.2.109/24")


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize("wait", [True, False])
def test_a_running_deploy_at_another_address_fails_as_it_would_afterwards(capsys, check_mode, wait):
    platform, uuid = platform_with_cluster()
    platform.add_cvm(uuid, "h-a2", "192.0.2.105/24", deploying=True)
    result = run(platform, capsys, host="tos-a2", address="192.0.2.109/24", gateway="192.0.2.1",
                 check_mode=check_mode, wait=wait)
    assert result["failed"] and platform.mutations() == []
    assert "already runs the cloud-management VM 192.0.2.105/24, not 192.0.2.109/24" in result["msg"]
    assert result["started_by"] == "another_run"


def test_a_running_deploy_joined_says_another_run_started_it(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_cvm(uuid, "h-a2", "192.0.2.102/24", deploying=True)
    result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1")
    assert result["started_by"] == "another_run" and not result["changed"]
    mine = run(platform, capsys, host="tos-a3", address="192.0.2.103/24", gateway="192.0.2.1")
    assert mine["started_by"] == "this_run" and mine["changed"]


def test_check_mode_predicts_leadership_of_the_first_cvm(capsys):
    platform, dummy = platform_with_cluster(center=False)
    for check_mode in (True, False):
        result = run(platform, capsys, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1",
                     check_mode=check_mode)
        assert result["changed"] and result["cvm"]["is_leader"] is True, check_mode
