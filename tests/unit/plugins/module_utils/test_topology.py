# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Clusters, hosts, roles and center nodes read from the API's answers (module_utils/_topology.py)."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    center_index,
    center_nodes,
    describe_node,
    describe_physical_hosts,
    enabled_roles,
    find_cluster,
    find_physical_host,
    host_addresses,
    leader_ip,
    node_services,
    physical_nodes,
    read_center_nodes,
    role_names,
    service_enabled,
    system_nodes,
    topology,
    unknown_cluster_message,
)

UUID = "3afdbbfc-e45a-430e-abba-842074a8b035"


def node(uuid, name, ip, system=False, **services):
    return {"UUID": uuid, "name": name, "IsSystemService": system,
            "managerNet": {"Addrs": ["%s/24" % ip]}, "storageNet": {"Addrs": ["10.0.0.%s/24" % ip.rsplit(".", 1)[1]]},
            "services": dict({"UUID": uuid, "agentStatus": 1, "hostMode": 0}, **services)}


HOST = node("h1", "tos-a1", "192.0.2.11", hyper={"enabled": True, "mode": 0, "status": 1}, usm={"mode": 0},
            vsm=None, center={"enabled": False})
CVM = node("v1", "cvm-1", "192.0.2.101", system=True, center={"enabled": True, "mode": 5, "status": 1})
DETAIL = {"TopoHostNode": [HOST, CVM]}


class Lister:
    """cluster/list, one page."""

    def __init__(self, clusters):
        self.clusters = clusters
        self.calls = []

    def paginate(self, path, params=None, key=None):
        self.calls.append((path, params))
        wanted = (params or {}).get("filter_name")
        return [c for c in self.clusters if not wanted or wanted in c["cluster_name"]]


def test_a_service_object_without_enabled_is_enabled():
    # cluster-api.md shows a service as null or {"enabled": true, ...}; an object says the service is there
    assert node_services(HOST)["usm"] == {"enabled": True, "mode": 0, "status": None}
    assert service_enabled(HOST, "usm") and not service_enabled(HOST, "center") and not service_enabled(HOST, "vsm")


def test_both_role_vocabularies_come_from_one_reading():
    assert enabled_roles(HOST) == ["usm", "hyper"]
    assert role_names(node_services(HOST)) == ["compute", "storage"]
    assert role_names({"mystery": {"enabled": True}, "usm": {"enabled": False}}) == ["mystery"]


def test_services_meta_keys_are_not_roles():
    assert set(node_services(HOST)) == {"hyper", "usm", "center"}


def test_topology_tolerates_the_keys_spellings():
    assert topology({"topo_host_node": [HOST]}) == [HOST]
    assert topology({"hosts": [HOST]}) == [HOST] and topology({}) == []
    assert physical_nodes(DETAIL) == [HOST] and system_nodes(DETAIL) == [CVM]


def test_host_addresses_drop_the_prefix():
    assert host_addresses(HOST) == {"management": "192.0.2.11", "storage": "10.0.0.11", "backup": None, "compute": None}


def test_physical_hosts_are_found_by_name_uuid_or_address_never_a_system_vm():
    assert find_physical_host(DETAIL, "tos-a1") is HOST
    assert find_physical_host(DETAIL, "h1") is HOST
    assert find_physical_host(DETAIL, "10.0.0.11") is HOST
    assert find_physical_host(DETAIL, "cvm-1") is None and find_physical_host(DETAIL, "") is None
    assert describe_physical_hosts(DETAIL) == "tos-a1 (192.0.2.11)"


def test_describe_node_of_a_system_vm_names_its_host():
    view = describe_node(dict(CVM, MachineUUID="h1"))
    assert view["roles"] == ["center"] and view["host_uuid"] == "h1" and view["ip"] == "192.0.2.101"


def test_find_cluster_matches_names_exactly():
    client = Lister([{"cluster_uuid": UUID, "cluster_name": "prod-a"}, {"cluster_uuid": "u2", "cluster_name": "prod"}])
    assert find_cluster(client, "prod")["uuid"] == "u2"
    assert find_cluster(client, UUID)["name"] == "prod-a"
    assert find_cluster(client, "pro") is None and find_cluster(client, "") is None


def test_unknown_cluster_message_lists_few_names_and_counts_many():
    assert "known clusters: a, b" in unknown_cluster_message(["b", "a"], "c")
    many = ["c%d" % i for i in range(11)]
    assert "11 clusters exist; list them with tos.cloud.cluster_info" in unknown_cluster_message(many, "x")
    assert unknown_cluster_message(many, "x", "tos.cloud.cluster", hint="").endswith("(11 clusters exist).")
    assert "there are no clusters yet" in unknown_cluster_message([], "x")


def test_the_leader_is_read_once_for_every_caller():
    host_info = [{"ip": "192.0.2.101", "is_leader": False, "uuid": "v1"},
                 {"ip": "192.0.2.102/24", "is_leader": True, "machine_uuid": "h2"}]
    assert leader_ip(host_info) == "192.0.2.102"
    assert leader_ip([], DETAIL) == "192.0.2.101"
    assert leader_ip(None) is None
    index = center_index(host_info + ["junk"])
    assert index["h2"]["is_leader"] and not index["v1"]["is_leader"]


def test_center_nodes_fall_back_to_services_center():
    assert center_nodes([], DETAIL) == [{"ip": "192.0.2.101", "leader": False}]


MANAGE = {"host_info": [
    {"ip": "192.0.2.101", "is_leader": False},
    {"ip": "192.0.2.102", "is_leader": True},
]}


CENTER_DETAIL = {"TopoHostNode": [
    {"UUID": "h1", "name": "n1", "managerNet": {"Addrs": ["192.0.2.11/24"]}, "services": {"center": None}},
    {"UUID": "h2", "name": "n2", "managerNet": {"Addrs": ["192.0.2.12/24"]},
     "services": {"center": {"enabled": True, "mode": 5, "status": 1}}},
]}


def test_center_nodes_put_the_leader_first():
    assert center_nodes(MANAGE["host_info"]) == [{"ip": "192.0.2.102", "leader": True}, {"ip": "192.0.2.101", "leader": False}]


def test_center_nodes_fall_back_to_the_topology():
    assert center_nodes([], CENTER_DETAIL) == [{"ip": "192.0.2.12", "leader": False}]
    assert center_nodes(None, None) == []


class FakeClient:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def get(self, path, params=None):
        self.calls.append((path, params))
        return self.answers[path]


def test_read_center_nodes_asks_cloud_manage():
    client = FakeClient({"/v1/cluster/cloud/manage": MANAGE})
    assert read_center_nodes(client, "u1", get_detail=lambda: pytest.fail("topology not needed"))[0]["ip"] == "192.0.2.102"
    assert client.calls == [("/v1/cluster/cloud/manage", {"cluster_uuid": "u1"})]


def test_read_center_nodes_uses_the_topology_when_cloud_manage_is_empty():
    client = FakeClient({"/v1/cluster/cloud/manage": {"host_info": None}})
    assert read_center_nodes(client, "u1", get_detail=lambda: CENTER_DETAIL)[0]["ip"] == "192.0.2.12"
    assert read_center_nodes(FakeClient({"/v1/cluster/cloud/manage": {}}), "u1") == []


class FakeClusterClient:
    """paginate() over cluster/list, counting the listings."""

    def __init__(self, clusters):
        self.clusters = clusters
        self.listings = []

    def paginate(self, path, params=None, **_ignored):
        self.listings.append(params)
        wanted = (params or {}).get("filter_name")
        return [c for c in self.clusters if not wanted or wanted in c["cluster_name"]]


UUID_A = "3afdbbfc-e45a-430e-abba-842074a8b035"


UUID_B = "0e1c2f44-7d6a-4b0e-9d51-1a2b3c4d5e6f"


def test_find_cluster_by_uuid_lists_once_without_a_filter():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "prod"},
                                {"cluster_uuid": UUID_B, "cluster_name": "prod-2"}])
    assert find_cluster(client, UUID_B)["name"] == "prod-2"
    assert client.listings == [None]


def test_find_cluster_by_name_uses_the_filter_and_matches_exactly():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "prod"},
                                {"cluster_uuid": UUID_B, "cluster_name": "prod-2"}])
    assert find_cluster(client, "prod")["uuid"] == UUID_A
    assert client.listings == [{"filter_name": "prod"}]
    assert find_cluster(client, "pro") is None


def test_find_cluster_a_name_wins_over_a_uuid():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "x"},
                                {"cluster_uuid": UUID_B, "cluster_name": UUID_A}])
    assert find_cluster(client, UUID_A)["uuid"] == UUID_B
    assert find_cluster(client, "0e1c2f44-0000-4b0e-9d51-1a2b3c4d5e6f") is None
