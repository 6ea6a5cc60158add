# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cluster's system VMs: cloud-management VMs (CVMs, the center nodes) and storage-service VMs.

How they are listed and described, and ONE engine for both kinds (``SystemVm``): read the current VM,
deploy it, wait for its deploy (joining one another run started), remove it, tell who already owns an
address, and predict all of it in check mode.  ``tos.cloud.cvm`` and ``tos.cloud.storage_service_vm``
are thin modules over it: each gives a ``Kind`` (its endpoints, bodies and views).
"""

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.module_utils._api import by_field
from ansible_collections.tos.cloud.plugins.module_utils._checks import ip_of
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    enabled_roles,
    physical_nodes,
    system_nodes,
    topology,
)

CVM_DEPLOY = "/v1/cluster/deploy/cvm"
CVM_DELETE = "/v1/cluster/delete/cvm"
STORAGE_VM_DEPLOY = "/v1/cluster/deploy/storage_service/vm"
STORAGE_VM_LIST = "/v1/cluster/storage_service/vm/list"
STORAGE_VM_DELETE = "/v1/cluster/storage_service/vm/delete"


# ---- cloud-management VMs --------------------------------------------------------------------------

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


# ---- storage-service VMs ---------------------------------------------------------------------------

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
