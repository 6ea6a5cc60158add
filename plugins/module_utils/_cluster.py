# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Clusters, their hosts and their system VMs (cloud-management VMs, storage-service VMs) as the
cluster modules return them.

Everything here reads; the modules decide and write.  The views are plain dicts with stable,
documented keys so that ``cluster``, ``cluster_info``, ``cvm`` and ``storage_service_vm`` return the
same shapes.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.tos.cloud.plugins.module_utils._api import by_field
from ansible_collections.tos.cloud.plugins.module_utils._resolve import (
    find_cluster,
    host_addresses,
    list_clusters,
    topology,
)
from ansible_collections.tos.cloud.plugins.module_utils._tasks import read_host_task

CLUSTER_ADD = "/v1/cluster/add"
CLUSTER_DELETE = "/v1/cluster/delete"
CLOUD_MANAGE = "/v1/cluster/cloud/manage"
CVM_DEPLOY = "/v1/cluster/deploy/cvm"
CVM_DELETE = "/v1/cluster/delete/cvm"
STORAGE_VM_DEPLOY = "/v1/cluster/deploy/storage_service/vm"
STORAGE_VM_LIST = "/v1/cluster/storage_service/vm/list"
STORAGE_VM_DELETE = "/v1/cluster/storage_service/vm/delete"

# How many known cluster names an "unknown cluster" message lists.
MAX_NAMES_IN_MESSAGE = 10

# The cluster option of the cluster-scoped modules (doc fragment tos.cloud.cluster).
CLUSTER_ARGSPEC = dict(cluster=dict(type="str", required=True))

ROLES = ("manager", "center", "usm", "vsm", "network", "hyper")


# -- clusters ---------------------------------------------------------------------------------

def unknown_cluster_message(client, key, option="cluster"):
    """"No cluster named ..." with the known names when there are few of them."""
    names = [c["name"] for c in list_clusters(client)]
    if not names:
        known = "there are no clusters yet"
    elif len(names) <= MAX_NAMES_IN_MESSAGE:
        known = "known clusters: %s" % ", ".join(sorted(names))
    else:
        known = "%d clusters exist; list them with tos.cloud.cluster_info" % len(names)
    return "%s: no cluster is named %r or has that UUID (%s)." % (option, key, known)


def cluster_by_name(client, name):
    """The cluster named exactly ``name`` (never a UUID match, never a substring), or None."""
    for cluster in list_clusters(client, filter_name=name):
        if cluster["name"] == name:
            return cluster
    return None


def require_cluster(tm, key, option="cluster"):
    """The cluster list entry for ``key`` (exact name or UUID); fails the module when unknown."""
    tm.doing("find cluster %r" % key)
    cluster = find_cluster(tm.client, key)
    if cluster is None:
        tm.fail(unknown_cluster_message(tm.client, key, option))
    return cluster


def enabled_roles(node):
    services = node.get("services") or {}
    return [role for role in ROLES if isinstance(services.get(role), dict) and services[role].get("enabled")]


def describe_node(node):
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


def physical_nodes(detail):
    return [n for n in topology(detail) if not n.get("IsSystemService")]


def system_nodes(detail):
    return [n for n in topology(detail) if n.get("IsSystemService")]


def describe_cluster(entry, detail):
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


def find_physical_host(detail, key):
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


def describe_physical_hosts(detail):
    """"name (ip), ..." of the physical hosts, for "not found" messages."""
    labels = []
    for node in physical_nodes(detail):
        addr = host_addresses(node)["management"]
        labels.append("%s (%s)" % (node.get("name"), addr) if addr and addr != node.get("name") else str(node.get("name")))
    return ", ".join(labels) or "none"


# -- cloud-management VMs -----------------------------------------------------------------------

def read_cloud_manage(client, cluster_uuid):
    """The ``host_info`` list of ``cluster/cloud/manage`` (the running center nodes)."""
    data = client.get(CLOUD_MANAGE, {"cluster_uuid": cluster_uuid}) or {}
    return data.get("host_info") or []


def list_cvms(detail, manage):
    """The cluster's cloud-management VMs, from ``cloud/manage`` and the topology.

    Each: ``uuid``, ``name``, ``ip``, ``address`` (CIDR when the topology tells it), ``host_uuid``
    (the physical host it runs on), ``is_leader``, ``status``.  A platform that reports the center
    on the physical host itself (``uuid`` is a host's) is read the same way.
    """
    nodes = topology(detail)
    by_uuid = dict((n.get("UUID"), n) for n in nodes)
    physical = set(n.get("UUID") for n in physical_nodes(detail))
    cvms = []
    seen = set()
    for info in manage or []:
        uuid = info.get("uuid")
        node = by_uuid.get(uuid) or {}
        host_uuid = info.get("machine_uuid") or node.get("MachineUUID") or (uuid if uuid in physical else None)
        addrs = ((node.get("managerNet") or {}).get("Addrs") or []) if node.get("IsSystemService") else []
        ip = info.get("ip")
        cvms.append({
            "uuid": uuid,
            "name": info.get("name") or node.get("name"),
            "ip": ip,
            "address": next((a for a in addrs if ip_of(a) == ip), None),
            "host_uuid": host_uuid,
            "is_leader": bool(info.get("is_leader")),
            "status": info.get("status"),
        })
        seen.add(uuid)
    # a topology center node that cloud/manage did not list (tolerate either source lagging)
    for node in system_nodes(detail):
        if node.get("UUID") in seen or "center" not in enabled_roles(node):
            continue
        addrs = (node.get("managerNet") or {}).get("Addrs") or []
        cvms.append({
            "uuid": node.get("UUID"),
            "name": node.get("name"),
            "ip": ip_of(addrs[0]) if addrs else None,
            "address": addrs[0] if addrs else None,
            "host_uuid": node.get("MachineUUID") or None,
            "is_leader": False,
            "status": None,
        })
    return cvms


def cvm_on_host(cvms, host_uuid):
    for cvm in cvms:
        if cvm["host_uuid"] == host_uuid:
            return cvm
    return None


def busy_hosts(client, cluster_uuid, detail):
    """Labels of the physical hosts whose latest task is still running (a deploy or an upgrade)."""
    busy = []
    for node in physical_nodes(detail):
        state = read_host_task(client, cluster_uuid, node.get("UUID"))
        if state["running"]:
            busy.append("%s (%s at %.0f%%)" % (node.get("name"), state["kind"] or "task", state["progress"] * 100))
    return busy


# -- storage-service VMs ------------------------------------------------------------------------

def _first(item, *keys):
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return value
    return None


def _split(cidr, ip):
    """(cidr, ip) from whichever of the two is known."""
    if cidr and not ip:
        ip = str(cidr).split("/", maxsplit=1)[0]
    return cidr, ip


def describe_storage_vm(item):
    """A ``storage_service/vm/list`` item with stable keys (tolerating the fields' spellings)."""
    manage_cidr, manage_ip = _split(_first(item, "manage_cidr", "ManageCidr", "manage_addr"),
                                    _first(item, "manage_ip", "ManageIP", "ip"))
    storage_cidr, storage_ip = _split(_first(item, "storage_cidr", "StorageCidr", "storage_addr"),
                                      _first(item, "storage_ip", "StorageIP"))
    return {
        "uuid": _first(item, "uuid", "UUID", "vm_uuid"),
        "name": _first(item, "name", "Name", "vm_name"),
        "vm_type": _first(item, "vm_type", "VmType", "type"),
        "manage_address": manage_cidr,
        "manage_ip": manage_ip,
        "manage_gateway": _first(item, "manage_gateway", "ManageGateway"),
        "storage_address": storage_cidr,
        "storage_ip": storage_ip,
        "storage_gateway": _first(item, "storage_gateway", "StorageGateway"),
        "host_uuid": _first(item, "host_uuid", "machine_uuid", "MachineUUID"),
        "host_ip": _first(item, "host_ip"),
        "host_name": _first(item, "host_name"),
        "status": _first(item, "status", "state"),
        "progress": item.get("progress"),
    }


def list_storage_vms(client, cluster_uuid, filter_ip=None):
    """Every storage-service VM of the cluster (all pages), described."""
    params = {"cluster_uuid": cluster_uuid}
    if filter_ip:
        params["filter_ip"] = filter_ip
    return [describe_storage_vm(item) for item in client.paginate(STORAGE_VM_LIST, params, key=by_field("uuid"))]


def storage_vm_by_manage_ip(client, cluster_uuid, ip):
    """The storage-service VM whose management address is exactly ``ip`` (the filter is loose)."""
    for vm in list_storage_vms(client, cluster_uuid, filter_ip=ip):
        if vm["manage_ip"] == ip:
            return vm
    return None


# -- addresses -----------------------------------------------------------------------------------

def check_vm_cidr(option, value):
    """A system VM address: IPv4 ``address/prefix`` with a prefix of 8..30, not the network's
    network or broadcast address (what the platform accepts)."""
    if value is None:
        return None
    text = str(value).strip()
    if "/" not in text:
        return "%s: %r is not an address in CIDR notation (expected e.g. 192.0.2.101/24)" % (option, value)
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        return "%s: %r is not a valid IPv4 address in CIDR notation (expected e.g. 192.0.2.101/24)" % (option, value)
    net = iface.network
    if not 8 <= net.prefixlen <= 30:
        return "%s: the prefix length of %s must be between 8 and 30" % (option, value)
    if iface.ip in (net.network_address, net.broadcast_address):
        return "%s: %s is the network or broadcast address of %s" % (option, iface.ip, net)
    return None


def check_vm_gateway(option, gateway, cidr_option, cidr):
    """The gateway: an IPv4 host address inside ``cidr``'s network, other than the address itself."""
    if gateway is None:
        return None
    try:
        gw = ipaddress.IPv4Address(str(gateway).strip())
    except ValueError:
        return "%s: %r is not an IPv4 address" % (option, gateway)
    if cidr is None or check_vm_cidr(cidr_option, cidr):
        return None
    iface = ipaddress.IPv4Interface(str(cidr).strip())
    net = iface.network
    if gw not in net or gw in (net.network_address, net.broadcast_address):
        return "%s: %s is not a host address inside the network %s of %s" % (option, gateway, net, cidr_option)
    if gw == iface.ip:
        return "%s: %s is the same address as %s" % (option, gateway, cidr_option)
    return None


def normalize_cidr(value):
    """``192.0.2.101/24`` in canonical form (strips spaces), or the input when it is not a CIDR."""
    try:
        return str(ipaddress.IPv4Interface(str(value).strip()))
    except ValueError:
        return value


def ip_of(cidr):
    return str(cidr).strip().split("/", maxsplit=1)[0] if cidr else None
