# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.storage_service_vm: identity by exact management address, deploy and wait, no silent redeploy."""

from __future__ import annotations

import re

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._system_vm import describe_storage_vm, differences, is_deploying
from ansible_collections.tos.cloud.plugins.modules import storage_service_vm as ssvm
from ansible_collections.tos.cloud.tests.unit.plugins.modules.cluster_harness import FakePlatform
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module

pytestmark = pytest.mark.usefixtures("virtual_clock")  # conftest.py: the fake platform moves per request

DEPLOY = ("POST", "/v1/cluster/deploy/storage_service/vm")
DELETE = ("POST", "/v1/cluster/storage_service/vm/delete")
FULL = dict(manage_address="192.0.2.20/24", manage_gateway="192.0.2.1", storage_address="192.0.2.162/24",
            storage_gateway="192.0.2.1")


def run(platform, capsys, **args):
    flags = {k: args.pop(k) for k in ("check_mode", "diff") if k in args}
    args.setdefault("cluster", "prod")
    return run_module(ssvm.main, args, platform, capsys, **flags)


def platform_with_cluster():
    platform = FakePlatform()
    return platform, platform.add_cluster("prod", "192.0.2.11")


def test_validate_names_each_bad_option():
    msg = ssvm.validate(dict(manage_address="192.0.2.121/24", manage_gateway="198.51.100.1",
                             storage_address="192.0.2.121/25", storage_gateway=None, wait_timeout=0))
    assert "manage_gateway: 198.51.100.1 is not a host address inside the network 192.0.2.0/24" in msg
    assert "storage_address: 192.0.2.121 is the same address as manage_address" in msg
    assert "wait_timeout: 0 is outside the allowed range" in msg


def test_differences_leave_unset_options_alone():
    current = {"vm_type": "GST", "manage_address": "192.0.2.121/24", "manage_gateway": "192.0.2.1",
               "storage_address": "192.0.2.161/24", "storage_gateway": "192.0.2.1"}
    params = {"vm_type": "GST", "manage_address": "192.0.2.121/24", "manage_gateway": None,
              "storage_address": None, "storage_gateway": "192.0.2.254"}
    assert differences(current, params) == ["storage_gateway is 192.0.2.1 (not 192.0.2.254)"]
    params["storage_gateway"] = None
    assert differences(current, params) == []


def test_a_vm_whose_address_only_starts_the_same_is_another_vm(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_storage_vm(uuid, "192.0.2.201/24", "192.0.2.161/24")  # filter_ip "192.0.2.20" also finds it
    result = run(platform, capsys, **FULL)
    assert result["changed"] and platform.mutations() == [DEPLOY]
    assert result["storage_vm"]["manage_ip"] == "192.0.2.20" and result["storage_vm"]["status"] == "running"


def test_deploy_then_second_run_changes_nothing(capsys):
    platform, dummy = platform_with_cluster()
    first = run(platform, capsys, diff=True, **FULL)
    assert first["changed"] and platform.mutations() == [DEPLOY]
    assert first["diff"]["before"] == {} and first["diff"]["after"]["storage_address"] == "192.0.2.162/24"
    second = run(platform, capsys, **FULL)
    assert not second["changed"] and platform.mutations() == [DEPLOY]
    assert second["storage_vm"]["host_name"] == first["storage_vm"]["host_name"]


def test_check_mode_predicts_without_sending(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, check_mode=True, diff=True, **FULL)
    assert result["changed"] and platform.mutations() == [] and platform.storage_vms == {}
    assert result["storage_vm"]["uuid"] is None


def test_a_different_vm_fails_and_names_the_differences(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_storage_vm(uuid, "192.0.2.20/24", "192.0.2.170/24")
    result = run(platform, capsys, **FULL)
    assert result["failed"] and platform.mutations() == []
    assert "storage_address is 192.0.2.170/24 (not 192.0.2.162/24)" in result["msg"]
    assert "delete it first (state: absent)" in result["msg"]


def test_deploy_needs_every_address(capsys):
    platform, dummy = platform_with_cluster()
    result = run(platform, capsys, manage_address="192.0.2.20/24")
    assert result["failed"] and platform.mutations() == []
    assert "manage_gateway and storage_address and storage_gateway are required" in result["msg"]


def test_an_address_already_used_fails_before_any_mutation(capsys):
    platform, dummy = platform_with_cluster()
    args = dict(FULL)
    args["storage_address"] = "192.0.2.52/24"
    result = run(platform, capsys, **args)
    assert result["failed"] and platform.mutations() == []
    assert result["msg"].startswith("storage_address: 192.0.2.52 is already used by host tos-a2")


def test_deleting_a_vm_being_deployed_needs_force(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_storage_vm(uuid, "192.0.2.20/24", "192.0.2.162/24", deploying=True)
    refused = run(platform, capsys, manage_address="192.0.2.20/24", state="absent")
    assert refused["failed"] and "set force: true" in refused["msg"] and platform.mutations() == []
    forced = run(platform, capsys, manage_address="192.0.2.20/24", state="absent", force=True, diff=True)
    assert forced["changed"] and platform.mutations() == [DELETE] and platform.storage_vms == {}
    assert forced["diff"]["after"] == {}
    again = run(platform, capsys, manage_address="192.0.2.20/24", state="absent")
    assert not again["changed"] and platform.mutations() == [DELETE]


def test_present_waits_for_a_deploy_still_running(capsys):
    platform, uuid = platform_with_cluster()
    platform.add_storage_vm(uuid, "192.0.2.20/24", "192.0.2.162/24", deploying=True)
    result = run(platform, capsys, manage_address="192.0.2.20/24")
    assert not result["changed"] and platform.mutations() == []
    assert result["storage_vm"]["status"] == "running"
    # the wait names the host, then the VM: it read "the task on host 192.0.2.20 on host <host>"
    whats = [wait["what"] for wait in result.get("wait_progress") or []]
    assert whats and all(re.fullmatch(r"the task on host \S+ \(storage-service VM 192\.0\.2\.20\)", w) for w in whats), whats


def test_list_items_are_read_whatever_the_spelling():
    simulator = describe_storage_vm({"uuid": "u", "name": "GST1", "vm_type": "GST", "manage_ip": "192.0.2.150",
                                     "manage_cidr": "192.0.2.150/24", "storage_cidr": "192.0.2.160/24",
                                     "host_uuid": "h1", "status": "running", "progress": 1.0})
    other = describe_storage_vm({"UUID": "u", "Name": "GST1", "VmType": "GST", "ManageCidr": "192.0.2.150/24",
                                 "StorageCidr": "192.0.2.160/24", "MachineUUID": "h1", "state": "running",
                                 "progress": 1.0})
    for view in (simulator, other):
        assert (view["uuid"], view["manage_ip"], view["storage_ip"], view["host_uuid"]) == \
            ("u", "192.0.2.150", "192.0.2.160", "h1")
        assert not is_deploying(view)


def test_deploying_is_read_from_status_or_else_progress():
    assert is_deploying({"status": "deploying", "progress": 1.0})
    assert not is_deploying({"status": "running", "progress": 0.2})
    assert is_deploying({"status": None, "progress": 0.5})
    assert not is_deploying({"status": None, "progress": None})
