# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which host runs a cloud-management VM, with answers as the vendor's documents show them.

cluster-api.md gives ``cloud/manage`` an example with ``"machine_uuid": ""``, and no table or example of
``cluster/get`` names a CVM node's host (``MachineUUID`` is the simulator's ``fields`` extension). The one
documented link is ``all_cluster/topology``: ``HostIFacesInfo`` keyed by a host's address, the CVM among its
``Hosts`` (``{"Type": "cvm", "UUID", "Name"}``). With the other reading only, ``cvm state=absent`` reported
"ok" with the CVM still running, a re-run of the deploy task was refused as "address already used", and the
upgrade plan lost "the leader's host last" (docs/api-notes.md, register entry 9).

Every case runs under both readings (``machine_uuid`` named, or only the topology map), and asserts on the
fake platform's state and request log.
"""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tos.cloud.plugins.lookup import cluster as cluster_lookup
from ansible_collections.tos.cloud.plugins.module_utils._topology import ALL_TOPOLOGY
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import UPGRADE
from ansible_collections.tos.cloud.plugins.modules import cluster_info, cvm, upgrade
from ansible_collections.tos.cloud.tests.unit.plugins.modules.cluster_harness import FakePlatform
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.operations_harness import CLUSTER
from ansible_collections.tos.cloud.tests.unit.plugins.modules.operations_harness import FakePlatform as UpgradePlatform

pytestmark = pytest.mark.usefixtures("virtual_clock")  # conftest.py: the fake platform moves per request

READINGS = ("machine_uuid", "topology")


class DocumentedPlacement(FakePlatform):
    """``cloud/manage`` answers ``"machine_uuid": ""`` (the example) and the CVM's topology node has no
    ``MachineUUID``; ``unmapped`` CVMs are left out of the topology map too (a CVM no answer places)."""

    def __init__(self, unmapped=(), **kwargs):
        super().__init__(**kwargs)
        self.unmapped = set(unmapped)

    def _cloud_manage(self, p):
        data = super()._cloud_manage(p)
        for item in data["host_info"]:
            item["machine_uuid"] = ""
        return data

    def _get(self, p):
        data = super()._get(p)
        for node in data["TopoHostNode"]:
            node.pop("MachineUUID", None)
        return data

    def _all_cluster_topology(self, body):
        data = super()._all_cluster_topology(body)
        for face in next(iter(data["info"].values()))["HostIFacesInfo"].values():
            face["Hosts"] = [vm for vm in face["Hosts"] if vm["UUID"] not in self.unmapped]
        return data


def platform(reading, **kwargs):
    fake = FakePlatform() if reading == "machine_uuid" else DocumentedPlacement(**kwargs)
    uuid = fake.add_cluster("prod", "192.0.2.11")
    fake.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    fake.add_cvm(uuid, "h-a2", "192.0.2.102/24")
    return fake


def run(fake, capsys, **args):
    flags = {k: args.pop(k) for k in ("check_mode", "diff") if k in args}
    args.setdefault("cluster", "prod")
    return run_module(cvm.main, args, fake, capsys, **flags)


def topology_reads(fake):
    return [call for call in fake.calls if call[1] == ALL_TOPOLOGY]


@pytest.mark.parametrize("reading", READINGS)
def test_absent_removes_the_cvm_of_the_host_in_check_mode_and_for_real(reading, capsys):
    fake = platform(reading)
    check = run(fake, capsys, host="tos-a1", state="absent", check_mode=True)
    assert check["changed"] is True and fake.mutations() == []
    real = run(fake, capsys, host="tos-a1", state="absent")
    assert real["changed"] is True and fake.mutations() == [("POST", "/v1/cluster/delete/cvm")]
    assert [v["host"] for v in fake.cvms.values()] == ["h-a2"]
    again = run(fake, capsys, host="tos-a1", state="absent")
    assert again["changed"] is False and len(fake.mutations()) == 1
    # the topology map is read only when cloud/manage and the topology leave a CVM's host unnamed
    assert bool(topology_reads(fake)) is (reading == "topology")


@pytest.mark.parametrize("reading", READINGS)
def test_present_rerun_with_the_same_address_is_ok_and_sends_nothing(reading, capsys):
    fake = platform(reading)
    result = run(fake, capsys, host="tos-a1", address="192.0.2.101/24", gateway="192.0.2.1")
    assert not result.get("failed"), result["msg"]
    assert result["changed"] is False and fake.mutations() == []
    assert result["cvm"]["host_uuid"] == "h-a1" and result["cvm"]["ip"] == "192.0.2.101"


@pytest.mark.parametrize("reading", READINGS)
def test_a_host_without_a_cvm_is_deployed_and_another_hosts_address_is_refused(reading, capsys):
    fake = platform(reading)
    taken = run(fake, capsys, host="tos-a3", address="192.0.2.101/24", gateway="192.0.2.1")
    assert taken.get("failed") and "already used by the cloud-management VM" in taken["msg"], taken
    assert fake.mutations() == []
    deployed = run(fake, capsys, host="tos-a3", address="192.0.2.103/24", gateway="192.0.2.1")
    assert deployed["changed"] is True and fake.mutations() == [("POST", "/v1/cluster/deploy/cvm")]
    assert sorted(v["host"] for v in fake.cvms.values()) == ["h-a1", "h-a2", "h-a3"]


@pytest.mark.parametrize("state", ["absent", "present"])
def test_a_cvm_no_answer_places_stops_the_module_before_any_change(state, capsys):
    fake = DocumentedPlacement()
    uuid = fake.add_cluster("prod", "192.0.2.11")
    lost = fake.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    fake.unmapped.add(lost)
    args = {"host": "tos-a1", "state": state}
    if state == "present":
        args.update(address="192.0.2.101/24", gateway="192.0.2.1")
    result = run(fake, capsys, **args)
    assert result.get("failed") and "Cannot tell whether host tos-a1" in result["msg"], result
    assert "192.0.2.101" in result["msg"] and fake.mutations() == []


def test_a_host_that_runs_a_placed_cvm_is_decided_although_another_cvm_is_unplaced(capsys):
    fake = DocumentedPlacement()
    uuid = fake.add_cluster("prod", "192.0.2.11")
    fake.add_cvm(uuid, "h-a1", "192.0.2.101/24")
    fake.unmapped.add(fake.add_cvm(uuid, "h-a2", "192.0.2.102/24"))
    result = run(fake, capsys, host="tos-a1", address="192.0.2.101/24", gateway="192.0.2.1")
    assert result["changed"] is False and not result.get("failed") and fake.mutations() == []


@pytest.mark.parametrize("reading", READINGS)
def test_cluster_info_and_the_cluster_lookup_name_each_cvms_host(reading, capsys):
    fake = platform(reading)
    info = run_module(cluster_info.main, {"cluster": "prod", "gather": ["cvms"]}, fake, capsys)
    assert sorted((c["ip"], c["host_uuid"]) for c in info["clusters"][0]["cvms"]) == [("192.0.2.101", "h-a1"), ("192.0.2.102", "h-a2")]
    entry = {"uuid": next(iter(fake.clusters)), "name": "prod"}
    described = cluster_lookup.describe(fake, entry)
    assert sorted((c["ip"], c["host_uuid"], c["host_name"]) for c in described["center_nodes"]) == [
        ("192.0.2.101", "h-a1", "tos-a1"), ("192.0.2.102", "h-a2", "tos-a2")]
    assert fake.mutations() == []


class DocumentedUpgradePlatform(UpgradePlatform):
    """The upgrade's platform with the leader CVM as a node of its own (``cvm-1``, on ``on_host``), placed only by
    the topology map (or by nothing, when ``on_host`` is None)."""

    def __init__(self, *args, on_host=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_host = on_host

    def topology(self):
        return super().topology() + [{"UUID": "cvm-1", "name": "LCMcvm-1", "IsSystemService": True,
                                      "managerNet": {"Addrs": ["192.0.2.201/24"]},
                                      "services": {"center": {"enabled": True}}}]

    def get(self, path, params=None):
        if path == "/v1/cluster/cloud/manage":
            self.calls.append(("GET", path, params))
            return {"host_info": [{"uuid": "cvm-1", "machine_uuid": "", "ip": "192.0.2.201", "is_leader": True,
                                   "status": 1, "etcd_base_info": {"etcd_cluter_health": self.etcd}}]}
        return super().get(path, params)

    def post(self, path, body=None):
        if path != ALL_TOPOLOGY:
            return super().post(path, body)
        self.calls.append(("POST", path, body))
        faces = {"%s/24" % ip: {"Hosts": [{"Type": "cvm", "UUID": "cvm-1"}] if uuid == self.on_host else []}
                 for uuid, ip in self.uuid_ip.items()}
        return {"info": {CLUSTER["cluster_uuid"]: {"HostIFacesInfo": faces}}}

    @property
    def posts(self):
        return [body["list"][0]["host_ip"] for method, path, body in self.calls if method == "POST" and path == UPGRADE]


OLD = {"compute": "3.2.4"}


def test_the_upgrade_plan_puts_the_leader_cvms_host_last_when_only_the_topology_map_places_it(capsys):
    fake = DocumentedUpgradePlatform({"192.0.2.11": dict(OLD), "192.0.2.12": dict(OLD), "192.0.2.13": dict(OLD)},
                                     on_host="u1")
    # warnings are captured at the source: where they end up depends on global state of ansible-core
    with mock.patch.object(AnsibleModule, "warn") as warn:
        check = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys, check_mode=True)
    assert [e["host"] for e in check["plan"]] == ["h12", "h13", "h11"]
    assert [e["leader_cvm"] for e in check["plan"]] == [False, False, True]
    assert fake.posts == [] and not warn.called


def test_the_upgrade_warns_when_no_answer_places_the_leader_cvm(capsys):
    fake = DocumentedUpgradePlatform({"192.0.2.11": dict(OLD), "192.0.2.12": dict(OLD)}, on_host=None)
    with mock.patch.object(AnsibleModule, "warn") as warn:
        check = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys, check_mode=True)
    assert not check.get("failed") and fake.posts == []
    assert "leader cloud-management VM LCMcvm-1 (192.0.2.201)" in warn.call_args[0][0]
