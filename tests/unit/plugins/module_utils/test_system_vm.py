# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""System VMs: listing, describing and the kinds' rules (module_utils/_system_vm.py); the engine runs in
tests/unit/plugins/modules/test_cvm.py and test_storage_service_vm.py against the fake platform."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._system_vm import (
    address_mismatch,
    address_owner,
    cvm_on_host,
    describe_storage_vm,
    differences,
    is_deploying,
    list_cvms,
    storage_vm_wanted,
)

HOST = {"UUID": "h1", "name": "tos-a1", "IsSystemService": False, "managerNet": {"Addrs": ["192.0.2.11/24"]},
        "services": {"hyper": {"enabled": True}}}
CVM = {"UUID": "v1", "name": "cvm-1", "IsSystemService": True, "MachineUUID": "h1",
       "managerNet": {"Addrs": ["192.0.2.101/24"]}, "services": {"center": {"enabled": True, "mode": 5}}}
DETAIL = {"TopoHostNode": [HOST, CVM]}


def test_list_cvms_joins_cloud_manage_and_the_topology():
    manage = [{"uuid": "v1", "ip": "192.0.2.101", "is_leader": True, "status": 1}]
    cvms = list_cvms(DETAIL, manage)
    assert cvms == [{"uuid": "v1", "name": "cvm-1", "ip": "192.0.2.101", "address": "192.0.2.101/24",
                     "host_uuid": "h1", "is_leader": True, "status": 1}]
    assert cvm_on_host(cvms, "h1") is cvms[0] and cvm_on_host(cvms, "h2") is None


def test_a_center_node_cloud_manage_does_not_list_yet_is_listed_from_the_topology():
    assert [(c["uuid"], c["ip"], c["is_leader"]) for c in list_cvms(DETAIL, [])] == [("v1", "192.0.2.101", False)]


def test_address_owner_names_the_vm_kind_first_then_the_topology():
    claims = [({"192.0.2.60", "10.0.0.60"}, "storage-service VM svm-1")]
    assert address_owner(DETAIL, "10.0.0.60", claims) == "storage-service VM svm-1"
    assert address_owner(DETAIL, "192.0.2.11", claims) == "host tos-a1"
    assert address_owner(DETAIL, "192.0.2.101") == "system VM cvm-1"
    assert address_owner(DETAIL, "192.0.2.200", claims) is None


def test_describe_storage_vm_tolerates_the_spellings():
    vm = describe_storage_vm({"UUID": "s1", "Name": "svm", "ManageCidr": "192.0.2.60/24", "storage_ip": "10.0.0.60",
                              "machine_uuid": "h1", "state": "running"})
    assert (vm["uuid"], vm["name"], vm["manage_ip"], vm["manage_address"]) == ("s1", "svm", "192.0.2.60", "192.0.2.60/24")
    assert (vm["storage_ip"], vm["storage_address"], vm["host_uuid"], vm["status"]) == ("10.0.0.60", None, "h1", "running")


@pytest.mark.parametrize("vm, deploying", [
    ({"status": "deploying"}, True), ({"status": "Running"}, False), ({"progress": 0.4}, True),
    ({"progress": 1}, False), ({}, False),
])
def test_a_storage_vm_deploys_by_status_else_progress(vm, deploying):
    assert is_deploying(vm) is deploying


def test_differences_leave_unset_options_alone():
    params = {"vm_type": "GST", "manage_address": "192.0.2.60/24", "manage_gateway": None,
              "storage_address": "10.0.0.61/24", "storage_gateway": None}
    current = {"vm_type": "GST", "manage_address": "192.0.2.60/24", "manage_gateway": "192.0.2.1",
               "storage_address": "10.0.0.60/24"}
    assert differences(current, params) == ["storage_address is 10.0.0.60/24 (not 10.0.0.61/24)"]
    assert storage_vm_wanted(dict(params, storage_address=None))["storage_address"] is None


def test_a_cvm_address_compares_the_cidr_when_known_else_the_ip():
    assert not address_mismatch({"address": None, "ip": "192.0.2.101"}, "192.0.2.101/25")
    assert address_mismatch({"address": "192.0.2.101/24", "ip": "192.0.2.101"}, "192.0.2.101/25")
    assert not address_mismatch({"address": None, "ip": None}, "192.0.2.9/24")
