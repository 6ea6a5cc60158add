# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Clusters, their hosts, the hosts' roles and the center nodes, read the one way every plugin uses.

Clusters and hosts are found the way users name them (name, UUID, management IP); "not found"
comes back as ``None`` from the finders, ``require_*`` fail the module.  The views are plain dicts
with stable, documented keys so that ``cluster``, ``cluster_info``, the lookups and the inventory
return the same shapes.  Everything here reads; the modules decide and write.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.tos.cloud.plugins.module_utils._api import TosClient
    from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CLUSTER_LIST = "/v1/cluster/list"
CLUSTER_GET = "/v1/cluster/get"
CLUSTER_ADD = "/v1/cluster/add"
CLUSTER_DELETE = "/v1/cluster/delete"
CLOUD_MANAGE = "/v1/cluster/cloud/manage"
ALL_TOPOLOGY = "/v1/cluster/all_cluster/topology"
# POSTs that only read (the documents give this one POST and a body of the map's size): no change, nothing to
# invalidate, safe to send again
READ_ONLY_POSTS = frozenset((ALL_TOPOLOGY,))

# How many known cluster names an "unknown cluster" message lists.
MAX_NAMES_IN_MESSAGE = 10

# The cluster option of the cluster-scoped modules (doc fragment tos.cloud.cluster).
CLUSTER_ARGSPEC = dict(cluster=dict(type="str", required=True))
# The center node option of the metadata snapshot modules (doc fragment tos.cloud.cluster.CENTER_IP).
CENTER_IP_ARGSPEC = dict(center_ip=dict(type="str"))


# ---- clusters ------------------------------------------------------------------------------------

def list_clusters(client: TosClient, filter_name: str | None = None) -> list[Any]:
    """Every cluster (all pages), as ``{"uuid", "name", "ctime"}`` dicts."""
    params = {"filter_name": filter_name} if filter_name else None
    return [
        {"uuid": item.get("cluster_uuid"), "name": item.get("cluster_name"), "ctime": item.get("ctime")}
        for item in client.paginate(CLUSTER_LIST, params, key=lambda item: item.get("cluster_uuid"))
    ]


def match_cluster(clusters: list[Any], key: str) -> dict[str, Any] | None:
    """The entry of ``clusters`` whose name is exactly ``key``, else (``key`` being a UUID) whose UUID it is."""
    for field in ("name", "uuid") if UUID_RE.match(key or "") else ("name",):
        for cluster in clusters:
            if cluster[field] == key:
                return cluster
    return None


def find_cluster(client: TosClient, name_or_uuid: str) -> dict[str, Any] | None:
    """The cluster whose name is exactly ``name_or_uuid``, or whose UUID it is; else None.

    The list endpoint filters names loosely (substring), so the exact match happens here.
    A name wins over a UUID when both could match.
    """
    if not name_or_uuid:
        return None
    # a UUID is not a name filter: one unfiltered listing answers both questions
    filter_name = None if UUID_RE.match(name_or_uuid) else name_or_uuid
    return match_cluster(list_clusters(client, filter_name=filter_name), name_or_uuid)


def cluster_by_name(client: TosClient, name: str) -> dict[str, Any] | None:
    """The cluster named exactly ``name`` (never a UUID match, never a substring), or None."""
    for cluster in list_clusters(client, filter_name=name):
        if cluster["name"] == name:
            return cluster
    return None


def get_cluster(client: TosClient, cluster_uuid: str) -> dict[str, Any]:
    """``cluster/get`` for one cluster: name, desc, candidates and the topology (TopoHostNode)."""
    return client.get(CLUSTER_GET, {"cluster_uuid": cluster_uuid}) or {}


def unknown_cluster_message(
        names: Iterable[str],
        key: str,
        option: str = "cluster",
        hint: str = "; list them with tos.cloud.cluster_info",
) -> str:
    """"No cluster named ..." with the known ``names`` when there are few of them."""
    if not names:
        known = "there are no clusters yet"
    elif len(names) <= MAX_NAMES_IN_MESSAGE:
        known = "known clusters: %s" % ", ".join(sorted(names))
    else:
        known = "%d clusters exist%s" % (len(names), hint)
    return "%s: no cluster is named %r or has that UUID (%s)." % (option, key, known)


def require_cluster(tm: TosModule, key: str, option: str = "cluster") -> dict[str, Any]:
    """The cluster list entry for ``key`` (exact name or UUID); fails the module when unknown."""
    with tm.scope("find cluster %r" % key):
        cluster = find_cluster(tm.client, key)
        if cluster is None:
            tm.fail(unknown_cluster_message([c["name"] for c in list_clusters(tm.client)], key, option))
    return cluster


# ---- hosts ---------------------------------------------------------------------------------------

def topology(cluster_detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The list of host nodes of a ``cluster/get`` answer (tolerates the key's spellings)."""
    for key in ("TopoHostNode", "topo_host_node", "hosts"):
        nodes = cluster_detail.get(key)
        if isinstance(nodes, list):
            return nodes
    return []


def host_addresses(node: dict[str, Any]) -> dict[str, str | None]:
    """Management, storage and backup addresses (without prefix length) of a topology node."""
    out = {}
    for key, net in (("management", "managerNet"), ("storage", "storageNet"), ("backup", "backupNet"),
                     ("compute", "computeNet")):
        addrs = ((node.get(net) or {}).get("Addrs")) or []
        out[key] = addrs[0].split("/")[0] if addrs else None
    return out


def physical_nodes(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in topology(detail) if not n.get("IsSystemService")]


def system_nodes(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in topology(detail) if n.get("IsSystemService")]


def find_physical_host(detail: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The physical host (not a system VM) whose UUID, name or management/storage IP is ``key``."""
    if not key:
        return None
    nodes = physical_nodes(detail)
    for node in nodes:
        if key in (node.get("UUID"), node.get("name")):
            return node
    for node in nodes:
        addrs = host_addresses(node)
        if key in (addrs["management"], addrs["storage"]):
            return node
    return None


def describe_physical_hosts(detail: dict[str, Any]) -> str:
    """"name (ip), ..." of the physical hosts, for "not found" messages."""
    labels = []
    for node in physical_nodes(detail):
        addr = host_addresses(node)["management"]
        labels.append("%s (%s)" % (node.get("name"), addr) if addr and addr != node.get("name") else str(node.get("name")))
    return ", ".join(labels) or "none"


# ---- roles ---------------------------------------------------------------------------------------

# The service keys of a topology node, as the API names them (``tos.cloud.cluster`` returns these).
ROLES = ("manager", "center", "usm", "vsm", "network", "hyper")
# The same roles as the inventory names them (``tos_roles``); an unknown key keeps its name.
ROLE_NAMES = {
    "manager": "manager",
    "center": "center",
    "hyper": "compute",
    "usm": "storage",
    "vsm": "storage_service",
    "network": "network",
}
# Keys of ``services`` that are not services.
SERVICE_META = ("UUID", "uuid", "agentStatus", "hostMode")


def node_services(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services of a topology node as ``{key: {enabled, mode, status}}``: the one reading of a node's
    roles.  The documents show a service either as ``null`` (not on this node) or as an object
    ``{"enabled": true, "mode", "status"}``; an object without ``enabled`` is read as enabled (the service
    is there), only ``enabled: false`` turns it off (docs/api-notes.md, "Host roles")."""
    services = node.get("services") or {}
    return {key: {"enabled": bool(value.get("enabled", True)), "mode": value.get("mode"), "status": value.get("status")}
            for key, value in services.items() if key not in SERVICE_META and isinstance(value, dict)}


def service_enabled(node: dict[str, Any], service: str) -> bool:
    """Whether ``service`` (an API key: ``center``, ``vsm``...) is enabled on the node."""
    return bool(node_services(node).get(service, {}).get("enabled"))


def enabled_roles(node: dict[str, Any]) -> list[str]:
    """The node's enabled roles in the API's vocabulary (``ROLES`` order; unknown keys left out)."""
    services = node_services(node)
    return [role for role in ROLES if services.get(role, {}).get("enabled")]


def role_names(services: dict[str, dict[str, Any]]) -> list[str]:
    """The enabled roles of ``node_services(node)`` in the inventory's vocabulary (``ROLE_NAMES``), in the
    node's order, without duplicates."""
    roles = []
    for key, value in services.items():
        role = ROLE_NAMES.get(key, key)
        if value["enabled"] and role not in roles:
            roles.append(role)
    return roles


def describe_node(node: dict[str, Any]) -> dict[str, Any]:
    """One topology node (a physical host or a system VM) with stable keys."""
    addrs = host_addresses(node)
    services = node.get("services") or {}
    view = {
        "uuid": node.get("UUID"),
        "name": node.get("name"),
        "ip": addrs["management"],
        "storage_ip": addrs["storage"],
        "backup_ip": addrs["backup"],
        "roles": enabled_roles(node),
        "agent_status": services.get("agentStatus"),
        "maintenance": services.get("hostMode") == 1,
    }
    if node.get("IsSystemService"):
        view["host_uuid"] = node.get("MachineUUID") or None
    return view


def describe_cluster(entry: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """A cluster as the modules return it, from its list entry and its ``cluster/get`` answer."""
    detail = detail or {}
    return {
        "uuid": detail.get("cluster_uuid") or entry.get("uuid"),
        "name": detail.get("name") or entry.get("name"),
        "desc": detail.get("desc") or "",
        "ctime": entry.get("ctime") if entry.get("ctime") is not None else detail.get("ctime"),
        "candidates": list(detail.get("candidates") or []),
        "tenants": list(detail.get("tenants_uuid") or detail.get("tenants") or []),
        "hosts": [describe_node(n) for n in physical_nodes(detail)],
        "system_vms": [describe_node(n) for n in system_nodes(detail)],
    }


# ---- the network topology map: which VM runs on which host ------------------------------------------

def read_topology_map(client: TosClient, cluster_uuid: str) -> Any:
    """The cluster's entry of the network topology map (``all_cluster/topology``: ``ClusterName``,
    ``HostIFacesInfo``), the only entry when the answer is keyed otherwise, else the answer's whole ``info``."""
    data = client.post(ALL_TOPOLOGY, {"cluster_uuid": cluster_uuid, "width": 760, "height": 550}) or {}
    info = (data.get("info") if isinstance(data, dict) else None) or {}
    if not isinstance(info, dict):
        return info
    return info.get(cluster_uuid) or (next(iter(info.values())) if len(info) == 1 else info)


def read_vm_hosts(client: TosClient, cluster_uuid: str, detail: dict[str, Any]) -> dict[str, str]:
    """``{vm uuid: physical host uuid}`` from ``all_cluster/topology``: the one documented link between a
    cloud-management VM and its host (cluster-api.md, all_cluster/topology: ``HostIFacesInfo`` is keyed by a
    host's address, and its ``Hosts`` are the VMs on that host, ``{"Type": "cvm", "UUID", "Name"}``;
    ``cloud/manage`` shows ``"machine_uuid": ""`` and no topology node names its host). A key or interface address
    that is no physical host's of ``detail`` places nothing."""
    entry = read_topology_map(client, cluster_uuid)
    faces = entry.get("HostIFacesInfo") if isinstance(entry, dict) else None
    by_ip = {}
    for node in physical_nodes(detail):
        for ip in host_addresses(node).values():
            if ip:
                by_ip.setdefault(ip, node.get("UUID"))
    found: dict[str, str] = {}
    for key, face in (faces.items() if isinstance(faces, dict) else ()):
        if not isinstance(face, dict):
            continue
        addresses = [key] + list(face.get("IFacesInfo") or {}) if isinstance(face.get("IFacesInfo"), dict) else [key]
        host = next((by_ip[ip] for ip in (str(a).split("/", maxsplit=1)[0] for a in addresses) if ip in by_ip), None)
        for vm in face.get("Hosts") or []:
            if host and isinstance(vm, dict) and vm.get("UUID"):
                found[str(vm["UUID"])] = host
    return found


# ---- center nodes (the cloud-management VMs that serve the cluster) --------------------------------

def read_cloud_manage(client: TosClient, cluster_uuid: str) -> list[Any]:
    """The ``host_info`` list of ``cluster/cloud/manage`` (the running center nodes)."""
    data = client.get(CLOUD_MANAGE, {"cluster_uuid": cluster_uuid}) or {}
    return (data.get("host_info") if isinstance(data, dict) else None) or []


def center_nodes(host_info: list[Any] | None, cluster_detail: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The center nodes of a cluster as ``[{"ip", "leader"}]``, leader first: the one reading of the leader.

    From the ``host_info`` list of ``cluster/cloud/manage`` (``ip``/``is_leader``); when that lists none,
    from the topology of ``cluster/get`` (nodes whose ``services.center`` is enabled).
    """
    nodes = []
    for info in host_info or []:
        if isinstance(info, dict) and info.get("ip"):
            nodes.append({"ip": str(info["ip"]).split("/", maxsplit=1)[0], "leader": bool(info.get("is_leader"))})
    if not nodes and cluster_detail:
        for node in topology(cluster_detail):
            address = host_addresses(node)["management"]
            if service_enabled(node, "center") and address:
                nodes.append({"ip": address, "leader": False})
    nodes.sort(key=lambda n: not n["leader"])
    return nodes


def leader_ip(host_info: list[Any] | None, cluster_detail: dict[str, Any] | None = None) -> str | None:
    """The leader center node's address (else the first center node's), or None without one."""
    nodes = center_nodes(host_info, cluster_detail)
    return nodes[0]["ip"] if nodes else None


def read_center_nodes(client: Any, cluster_uuid: str,
                      get_detail: Callable[[], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The cluster's center nodes (see ``center_nodes``), leader first.  ``get_detail()`` returns
    ``cluster/get`` for the topology fallback; it is only called when ``cloud/manage`` lists no node."""
    host_info = read_cloud_manage(client, cluster_uuid)
    nodes = center_nodes(host_info)
    if not nodes and get_detail is not None:
        nodes = center_nodes(host_info, get_detail())
    return nodes


def center_index(host_info: list[Any] | None) -> dict[str, dict[str, Any]]:
    """Index ``cloud/manage`` entries by every identity they may carry (uuid, machine uuid, ip), to find
    whether a host or its CVM is the leader (``is_leader`` of the entry)."""
    index = {}
    for item in host_info or []:
        if not isinstance(item, dict):
            continue
        for key in ("uuid", "machine_uuid", "ip"):
            if item.get(key):
                index.setdefault(item[key], item)
    return index


def require_center_ip(tm: TosModule, cluster: dict[str, Any], option: str = "center_ip") -> str:
    """``tm.params[option]`` when set and one of the cluster's center nodes, else the cluster's leader
    center node; fails the module, naming ``option``, when the given IP is not a center node of the
    cluster or when the cluster has none."""
    with tm.scope("find the center nodes of cluster %r" % cluster["name"]):
        nodes = read_center_nodes(tm.client, cluster["uuid"],
                                  get_detail=lambda: get_cluster(tm.client, cluster["uuid"]))
    given = tm.params.get(option)
    if not nodes and given:
        tm.fail("%s: cluster %r has no center node (cloud-management VM) to send the request to; deploy one with "
                "tos.cloud.cvm." % (option, cluster["name"]))
    if not nodes:
        tm.fail("%s: cluster %r has no center node (cloud-management VM) to find it from; deploy one with "
                "tos.cloud.cvm or set %s." % (option, cluster["name"], option))
    if not given:
        return nodes[0]["ip"]
    if given not in [n["ip"] for n in nodes]:
        tm.fail("%s: %s is not a center node of cluster %r (its center nodes: %s); set %s to one of them, or "
                "leave it unset to use the leader." % (option, given, cluster["name"],
                                                       ", ".join(n["ip"] for n in nodes), option))
    return given
