"""cluster/add, delete, get, list — and the topology nodes shared with all_cluster/topology."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ops, readings
from ..errors import invalid
from ..fixture import stable_uuid
from ..model import Cluster, Cvm, Host, StorageVm
from ..params import Params, page_params, paginate
from ..state import World
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

NAME_MAX = 64


def net(nic: str, cidr: str, mtu: int) -> dict[str, Any]:
    return {"Name": nic, "Addrs": [cidr], "MTU": mtu, "BridgeUUID": "", "BridgeName": ""}


def host_net(spec: dict[str, Any]) -> dict[str, Any]:
    return net(spec["nic"], f"{spec['ip']}/{spec['prefix']}", int(spec["mtu"]))


def service(up: bool, mode: int = 0) -> dict[str, Any]:
    return {"enabled": True, "mode": mode, "status": 1 if up else 0}


def _services(uuid: str, **roles: dict[str, Any] | None) -> dict[str, Any]:
    services: dict[str, Any] = {"UUID": uuid}
    for role in ("manager", "center", "usm", "vsm", "network", "hyper"):
        services[role] = roles.get(role)
    services["agentStatus"] = 1
    services["hostMode"] = 0
    return services


def host_node(w: World, host: Host, index: int) -> dict[str, Any]:
    compute = "compute" in host.type_version
    services = _services(
        host.uuid,
        manager=service(host.up) if host.ip in w.manager["members"] else None,
        usm=service(host.up) if "storage" in host.type_version else None,
        network=service(host.up) if compute else None,
        hyper=service(host.up) if compute else None,
    )
    services["agentStatus"] = 1 if host.up else 0
    services["hostMode"] = 1 if host.maintenance else 0
    return {
        "UUID": host.uuid,
        "ID": index,
        "managerNet": host_net(host.management),
        "computeNet": None,
        "storageNet": host_net(host.storage),
        "backupNet": host_net(host.backup),
        "domain": stable_uuid("domain", host.uuid),
        "name": host.name,
        "IsSystemService": False,
        "services": services,
        "MachineUUID": "",
    }


def _vm_node(uuid: str, name: str, index: int, manage: dict[str, Any], storage: dict[str, Any],
             machine: Host, **roles: dict[str, Any]) -> dict[str, Any]:
    return {
        "UUID": uuid,
        "ID": index,
        "managerNet": manage,
        "computeNet": None,
        "storageNet": storage,
        "backupNet": manage,
        "domain": stable_uuid("domain", uuid),
        "name": name,
        "IsSystemService": True,
        "services": _services(uuid, **roles),
        "MachineUUID": machine.uuid,
    }


def cvm_node(w: World, cvm: Cvm, index: int) -> dict[str, Any]:
    machine = w.hosts[cvm.machine_uuid]
    nic = net("eth0", cvm.address, 1500)
    node = _vm_node(cvm.uuid, cvm.name, index, nic, nic, machine, center=service(machine.up, mode=5))
    if readings.current().cvm_host == "topology":  # only all_cluster/topology names the host
        node["MachineUUID"] = ""
    return node


def storage_vm_node(w: World, vm: StorageVm, index: int) -> dict[str, Any]:
    machine = w.hosts[vm.machine_uuid]
    return _vm_node(
        vm.uuid, vm.name, index, net("eth0", vm.manage_cidr, 1500), net("eth1", vm.storage_cidr, 9000),
        machine, vsm=service(machine.up),
    )


def topology(w: World, cluster: Cluster) -> list[dict[str, Any]]:
    """Physical hosts in join order, then the running CVMs, then the running storage VMs."""
    nodes = [host_node(w, h, i) for i, h in enumerate(w.cluster_hosts(cluster))]
    for cvm in w.cluster_cvms(cluster, running_only=True):
        nodes.append(cvm_node(w, cvm, len(nodes)))
    for vm in w.cluster_storage_vms(cluster):
        if vm.status == "running":
            nodes.append(storage_vm_node(w, vm, len(nodes)))
    return nodes


def candidates(w: World, cluster: Cluster) -> list[str]:
    return [c.ip for c in w.cluster_cvms(cluster, running_only=True)]


def cluster_name(p: Params, key: str = "name") -> str:
    name = p.req_str(key, max_len=NAME_MAX)
    if name != name.strip() or any(ord(ch) < 32 for ch in name):
        raise invalid(key, "must not start or end with spaces nor contain control characters", "首尾不能有空格，也不能包含控制字符")
    return name


@route("POST", "/v1/cluster/add", "create a cluster from the seed host's group")
def add(sim: Simulator, p: Params) -> dict[str, Any]:
    ip = p.req_ip("ip")
    name = cluster_name(p)
    desc = p.str("desc", required=False, default="", max_len=256) or ""
    cluster = ops.add_cluster(sim.world, ip, name, desc)
    return {"uuid": cluster.uuid, "name": cluster.name, "desc": cluster.desc, "ip": ip}


@route("POST", "/v1/cluster/delete", "delete a cluster (refused while it has VMs unless force)")
def delete(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    ops.delete_cluster(sim.world, cluster, p.bool("force"))
    return {"uuid": cluster.uuid, "name": cluster.name}


@route("GET", "/v1/cluster/get", "cluster details and topology")
def get(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    return {
        "cluster_uuid": cluster.uuid,
        "name": cluster.name,
        "desc": cluster.desc,
        "ctime": cluster.ctime,
        "tenants": list(cluster.tenants),
        "tenants_uuid": list(cluster.tenants),
        "candidates": candidates(w, cluster),
        "TopoHostNode": topology(w, cluster),
    }


@route("GET", "/v1/cluster/list", "list clusters (loose name filter, pagination)")
def list_(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    name_filter = (p.str("filter_name", required=False) or "").lower()
    uuid_filter = p.str("filter_uuid", required=False)
    page_num, page_size = page_params(p)
    clusters = sorted(w.clusters.values(), key=lambda c: c.ctime)  # stable: creation order
    matching = [
        c for c in clusters if name_filter in c.name.lower() and (uuid_filter is None or c.uuid == uuid_filter)
    ]
    return {
        "list": [
            {
                "cluster_uuid": c.uuid,
                "cluster_name": c.name,
                "ctime": c.ctime,
                "candidates": candidates(w, c) or None,
            }
            for c in paginate(matching, page_num, page_size)
        ],
        "total_count": len(matching),
    }
