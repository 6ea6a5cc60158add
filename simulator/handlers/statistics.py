"""Read-only statistics, all computed from the state: cluster/top, storage and network service
summaries, compute statistics, chassis, hardware/detail/overall status, the topology map and
the overview dashboard."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import inspection, readings
from ..errors import missing
from ..fixture import stable_uuid
from ..metrics import Metrics
from ..model import Cluster, Host
from ..ops import CVM_MEMORY, CVM_VCPUS, STORAGE_VM_MEMORY, STORAGE_VM_VCPUS
from ..params import Params, page_params, paginate
from ..state import World
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

TOP_IO_FIELDS = (
    "net_riops", "net_wiops", "net_rmbps", "net_wmbps",
    "disk_riops", "disk_wiops", "disk_rspeed", "disk_wspeed", "disk_riowait", "disk_wiowait",
)
DEFAULT_TOP = 5
MAX_SERIES = 1000


def _cluster(sim: Simulator, p: Params) -> Cluster:
    return sim.world.cluster(p.req_str("cluster_uuid"))


def host_info(w: World, host: Host) -> dict[str, Any]:
    return {
        "uuid": host.uuid,
        "addr": host.ip,
        "ctime": host.ctime,
        "hostname": host.name,
        "uptime": max(0, int(w.now()) - host.boot_time) if host.up else 0,
        "boot_time": host.boot_time,
        "procs": host.procs if host.up else 0,
        "os": host.os["os"],
        "platform": host.os["platform"],
        "platform_family": host.os["platform_family"],
        "platform_version": host.os["platform_version"],
        "kernel_version": host.os["kernel_version"],
        "virtualization_system": "kvm",
        "virtualization_role": "host",
        "host_id": host.uuid,
    }


def _io(host: Host, key: str) -> int:
    return int(host.io.get(key, 0)) if host.up else 0


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole else 0.0


def _series(w: World, p: Params, value: float) -> list[dict[str, Any]]:
    """Points of a time series over [start_time, end_time] every `duration` seconds (at most
    `count`); the simulator keeps no history, so every point carries the current value.
    Without a usable time range, one point: now."""
    start, end = p.int("start_time", minimum=0), p.int("end_time", minimum=0)
    step, count = p.int("duration", minimum=0), p.int("count", minimum=0, maximum=MAX_SERIES)
    if not (start and end and step) or end < start:
        return [{"time": int(w.now()), "value": value}]
    points = min(MAX_SERIES, (end - start) // step + 1, count or MAX_SERIES)
    return [{"time": start + i * step, "value": value} for i in range(points)]


def _top(hosts: list[Host], value: Any, count: int) -> list[dict[str, Any]]:
    ranked = sorted(hosts, key=lambda h: (-value(h), h.name))[:count]
    return [{"host_uuid": h.uuid, "host_ip": h.ip, "hostname": h.name, "value": round(value(h), 4)} for h in ranked]


# --- cluster/top ---------------------------------------------------------------------------------
@route("GET", "/v1/cluster/top", "hosts ranked by CPU, memory, network and disk figures")
def top(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    count = p.int("count", required=True, minimum=1, maximum=10000)
    m = Metrics(w)
    hosts = w.cluster_hosts(cluster)
    usage = {}
    for host in hosts:
        entry = {"host_info": host_info(w, host), "cpu_usage": m.cpu_usage(host), "mem_usage": m.mem_usage(host)}
        entry.update({key: _io(host, key) for key in TOP_IO_FIELDS})
        usage[host.uuid] = entry

    def ranked(key: str) -> list[dict[str, Any]]:
        return sorted(usage.values(), key=lambda e: (-e[key], e["host_info"]["hostname"]))[:count]

    data: dict[str, Any] = {"total_count": len(hosts), "list": ranked("cpu_usage")}
    for key in ("cpu_usage", "mem_usage", *TOP_IO_FIELDS):
        data[f"{key}_info" if key.endswith("usage") else f"{key}_usage_info"] = ranked(key)
    return data


# --- storage and network service ---------------------------------------------------------------
def storage_inner(w: World, cluster: Cluster, m: Metrics) -> dict[str, Any]:
    hosts = w.cluster_hosts(cluster)
    storage_hosts = [h for h in hosts if "storage" in h.type_version]
    up = [h for h in hosts if h.up]
    total = sum(m.disk_total(h, "data") for h in storage_hosts)
    used = sum(m.disk_used(h, "data") for h in storage_hosts)
    vms = [*w.cluster_cvms(cluster), *w.cluster_storage_vms(cluster)]
    degraded = 2 * sum(1 for vm in vms if not w.hosts[vm.machine_uuid].up)
    svms = w.cluster_storage_vms(cluster)
    svm_healthy = sum(1 for v in svms if v.status == "running" and w.hosts[v.machine_uuid].up)
    disks = [d for h in storage_hosts for d in h.disks]
    return {
        "total_size": total,
        "used": used,
        "allocated": m.storage_allocated(cluster),
        "pool_count": len(m.storage_pools(hosts)),
        "volume_total_count": 2 * len(vms),
        "volume_health_count": 2 * len(vms) - degraded,
        "volume_degrade_count": degraded,
        "volume_failed_count": 0,
        "physic_host_total_count": len(hosts),
        "physic_host_health_count": len(up),
        "physic_host_down_count": len(hosts) - len(up),
        "cpu_usage": round(sum(m.cpu_usage(h) for h in up) / len(up) / 100, 6) if up else 0.0,
        "memory_usage": _ratio(sum(m.mem_used(h) for h in up), sum(h.memory_total for h in up)),
        "capacity_usage": _ratio(used, total),
        "ssd": sum(1 for d in disks if d["type"] == "ssd"),
        "hdd": sum(1 for d in disks if d["type"] == "hdd"),
        "data_dev": sum(1 for d in disks if d.get("role") == "data"),
        "cache_dev": sum(1 for d in disks if d.get("role") == "cache"),
        "storage_host_total_count": len(svms),
        "storage_host_health_count": svm_healthy,
        "storage_host_down_count": len(svms) - svm_healthy,
    }


@route("GET", "/v1/cluster/system/service/storage", "converged (and external) storage summary")
def service_storage(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = _cluster(sim, p)
    return {
        "inner": storage_inner(sim.world, cluster, Metrics(sim.world)),
        "external": {"total_size": 0, "used": 0, "pool_count": 0, "volume_total_count": 0},
    }


@route("GET", "/v1/cluster/system/service/network", "network service summary (cluster_uuid optional)")
def service_network(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    key = p.str("cluster_uuid", required=False)
    clusters = [w.cluster(key)] if key else sorted(w.clusters.values(), key=lambda c: c.ctime)  # stable: creation order
    hosts = [h for c in clusters for h in w.cluster_hosts(c) if "compute" in h.type_version]
    up = sum(1 for h in hosts if h.up)
    m = Metrics(w)
    controller: dict[str, Any] = {
        "ip_addr": "", "host_ip": "", "status": "", "other_config": {},
        "cpu_info": {"idle": 0.0, "used": 0.0, "io_wait": 0.0},
        "mem_info": {"usage_rate": 0.0, "total": 0, "available": 0, "used": 0},
        "network_card_info": {"usage_rate": 0.0, "read_mbps": 0.0, "write_mbps": 0.0, "status": 0.0, "mtu": 0.0,
                              "loss_packet_num": 0.0},
    }
    for cluster in clusters:  # the SDN controller runs beside the leader center node
        leader = w.cvms.get(cluster.leader) if cluster.leader else None
        if leader is None:
            continue
        host = w.hosts[leader.machine_uuid]
        cpu, mem_used = m.cpu_usage(host), m.mem_used(host)
        controller.update(
            ip_addr=leader.ip,
            host_ip=host.ip,
            status="running" if host.up else "stopped",
            other_config={"cluster_uuid": cluster.uuid},
            cpu_info={"idle": round(100 - cpu, 4), "used": round(cpu, 4), "io_wait": round(_io(host, "disk_wiowait") / 10, 2)},
            mem_info={"usage_rate": round(m.mem_usage(host), 4), "total": host.memory_total,
                      "available": host.memory_total - mem_used, "used": mem_used},
            network_card_info={
                "usage_rate": round(min(100.0, (_io(host, "net_rmbps") + _io(host, "net_wmbps")) / 200), 4),
                "read_mbps": float(_io(host, "net_rmbps")), "write_mbps": float(_io(host, "net_wmbps")),
                "status": 1.0 if host.up else 0.0, "mtu": float(host.management["mtu"]), "loss_packet_num": 0.0,
            },
        )
        break
    return {
        "router_summary": {"router_num": 0, "start_num": 0, "stop_num": 0},
        "switch_summary": {"switch_num": len(hosts), "no_connection": len(hosts) - up, "connection": up, "otherconfig": {}},
        "gateway_summary": {"gateway_num": 0, "no_connection": 0, "connection": 0, "other_config": {}},
        "service_summary": {"floating_ips_num": 0, "port_mapping_num": 0, "load_balancer_num": 0, "nats_num": 0,
                            "security_group_num": 0, "security_specification_num": 0},
        "sdn_controller": controller,
    }


# --- compute ---------------------------------------------------------------------------------------
def host_statistics(m: Metrics, host: Host) -> dict[str, Any]:
    ratio = m.usage_ratio([host])
    return {
        "HostUUID": host.uuid,
        "Cpu": ratio["Cpu"],
        "Mem": ratio["Mem"],
        "LogicalInterface": 0,
        "Status": 1 if host.up else 0,
        "Name": host.name,
        "IP": host.ip,
        "Label": dict(host.labels),
        "DiskCount": len(host.disks),
        "Mode": 1 if host.maintenance else 0,
        "VmCount": m.vm_count(host),
        "Baseline": host.cpu_baseline,
        "IOMMUEnabled": host.iommu,
        "VFIOEnabled": host.iommu,
    }


@route("GET", "/v1/cluster/compute/service/statistic", "compute hosts, VM states and allocation")
def compute_statistic(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    machine = p.str("filter_machine", required=False)
    name = (p.str("filter_name", required=False) or "").lower()
    page_num, page_size = page_params(p)
    hosts = [
        h for h in w.cluster_hosts(cluster)
        if "compute" in h.type_version and (machine is None or h.uuid == machine) and name in h.name.lower()
    ]
    m = Metrics(w)
    return {
        "total_count": len(hosts),
        "StateSummaryResult": m.state_summary(hosts),
        "UsageRatio": m.usage_ratio(hosts),
        "HostStatistics": [host_statistics(m, h) for h in paginate(hosts, page_num, page_size)],
        "HostSummary": {
            "Total": len(hosts),
            "Healthy": sum(1 for h in hosts if h.up),
            "NoInUse": sum(1 for h in hosts if h.maintenance),
        },
    }


@route("GET", "/v1/cluster/compute/service/statistic/host", "compute statistics of one host")
def compute_statistic_host(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    host = w.cluster_host(cluster, p.req_str("machine"), "machine", uuid_only=True)
    m = Metrics(w)
    return dict(
        host_statistics(m, host),
        StateSummaryResult=m.state_summary([host]),
        cpu_usage=m.cpu_usage(host),
        mem_usage=m.mem_usage(host),
    )


@route("GET", "/v1/cluster/chassis/list", "OVN chassis of the compute hosts")
def chassis_list(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    # the table: tenant_uuid and filter_ip required (default ""), no cluster_uuid; the example sends
    # cluster_uuid and an empty filter_ip. Both requests are answered; without cluster_uuid, every cluster.
    if not readings.current().has("loose"):
        for key in ("tenant_uuid", "filter_ip"):
            if key not in p.source:
                raise missing(key)
    clusters = [_cluster(sim, p)] if p.has("cluster_uuid") else list(w.clusters.values())
    p.str("tenant_uuid", required=False)
    ip_filter = p.str("filter_ip", required=False) or ""
    name_filter = (p.str("filter_host_name", required=False) or p.str("filt_host_name", required=False) or "").lower()
    page_num, page_size = page_params(p)
    hosts = [
        h for cluster in clusters for h in w.cluster_hosts(cluster)
        if "compute" in h.type_version and ip_filter in h.ip and name_filter in h.name.lower()
    ]
    items = []
    for host in paginate(hosts, page_num, page_size):
        chassis_uuid, encap_uuid = stable_uuid("chassis", host.uuid), stable_uuid("encap", host.uuid)
        items.append(
            {
                "other_config": {"hostname": host.name},
                "chassis": {
                    "chassis_uuid": chassis_uuid,
                    "encaps": [encap_uuid],
                    "extra_info": [],
                    "host_name": host.name,
                    "chassis_name": host.uuid,
                    "nb_cfg": 0,
                    "vtep_logical_switches": [],
                },
                "encap": {
                    "chassis_uuid": chassis_uuid,
                    "chassis_name": host.uuid,
                    "chassis_ip": host.ip,
                    "options": {"csum": "true"},
                    "type": "geneve",
                },
            }
        )
    return {"total_count": len(hosts), "list": items}


# --- status pages -----------------------------------------------------------------------------------
def _sections(p: Params, builders: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """One key per flag of the request: the section when the flag is true, else null."""
    return {flag: build() if p.bool(flag) else None for flag, build in builders.items()}


def _cpu(m: Metrics, hosts: list[Host]) -> dict[str, Any]:
    cores = sum(h.cpu_cores for h in hosts)
    used = sum(h.cpu_cores * m.cpu_usage(h) / 100 for h in hosts if h.up)
    return {"total": cores, "used": round(used, 2), "usage": _ratio(used, cores)}


def _memory(m: Metrics, hosts: list[Host]) -> dict[str, Any]:
    total = sum(h.memory_total for h in hosts)
    used = sum(m.mem_used(h) for h in hosts if h.up)
    return {"total": total, "used": used, "usage": _ratio(used, total)}


def _storage(m: Metrics, hosts: list[Host]) -> dict[str, Any]:
    storage_hosts = [h for h in hosts if "storage" in h.type_version]
    total = sum(m.disk_total(h, "data") for h in storage_hosts)
    used = sum(m.disk_used(h, "data") for h in storage_hosts)
    return {"total": total, "used": used, "usage": _ratio(used, total)}


def _with_series(w: World, p: Params, section: dict[str, Any]) -> dict[str, Any]:
    return dict(section, series=_series(w, p, section["usage"]))


def _io_top(hosts: list[Host], read: str, write: str, names: tuple[str, str]) -> list[dict[str, Any]]:
    ranked = sorted(hosts, key=lambda h: (-(_io(h, read) + _io(h, write)), h.name))[:10]
    return [{"host_uuid": h.uuid, "host_ip": h.ip, "hostname": h.name, names[0]: _io(h, read), names[1]: _io(h, write)}
            for h in ranked]


@route("GET", "/v1/cluster/hardware_resources/inspect", "hardware resource sections picked by flags")
def hardware_resources(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    p.str("tenant_uuid", required=False)
    m = Metrics(w)
    hosts = w.cluster_hosts(cluster)
    up = [h for h in hosts if h.up]
    count = p.int("count", minimum=0, maximum=MAX_SERIES) or DEFAULT_TOP

    def network() -> dict[str, Any]:
        read, write = sum(_io(h, "net_rmbps") for h in hosts), sum(_io(h, "net_wmbps") for h in hosts)
        return {"nic_total": 3 * len(hosts), "nic_up": 3 * len(up), "nic_down": 3 * (len(hosts) - len(up)),
                "read_mbps": read, "write_mbps": write, "series": _series(w, p, read + write)}

    def io() -> dict[str, Any]:
        riops, wiops = sum(_io(h, "disk_riops") for h in hosts), sum(_io(h, "disk_wiops") for h in hosts)
        return {"read_iops": riops, "write_iops": wiops, "read_speed": sum(_io(h, "disk_rspeed") for h in hosts),
                "write_speed": sum(_io(h, "disk_wspeed") for h in hosts), "series": _series(w, p, riops + wiops)}

    def vsm() -> dict[str, Any]:
        vms = w.cluster_storage_vms(cluster)
        running = sum(1 for v in vms if v.status == "running" and w.hosts[v.machine_uuid].up)
        deploying = sum(1 for v in vms if v.status == "deploying")
        return {"total": len(vms), "running": running, "deploying": deploying, "fault": len(vms) - running - deploying}

    return _sections(p, {
        "cpu_status": lambda: _with_series(w, p, _cpu(m, hosts)),
        "memory_status": lambda: _with_series(w, p, _memory(m, hosts)),
        "storage_status": lambda: _with_series(w, p, _storage(m, hosts)),
        "network_status": network,
        "io_status": io,
        "vsm_status": vsm,
        "cpu_top": lambda: _top(hosts, m.cpu_usage, count),
        "memory_top": lambda: _top(hosts, m.mem_usage, count),
        "storage_top": lambda: _top([h for h in hosts if "storage" in h.type_version], m.disk_usage, count),
        "network_top": lambda: _top(hosts, lambda h: _io(h, "net_rmbps") + _io(h, "net_wmbps"), count),
    })


@route("GET", "/v1/cluster/detail_status/inspect", "VM, storage, container, network and tenant details by flags")
def detail_status(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    p.str("tenant_uuid", required=False)
    m = Metrics(w)
    hosts = w.cluster_hosts(cluster)

    def vm_top() -> list[dict[str, Any]]:
        vms = [("cvm", c.uuid, c.name, c.machine_uuid, CVM_VCPUS, CVM_MEMORY) for c in w.cluster_cvms(cluster)]
        vms += [(v.vm_type, v.uuid, v.name, v.machine_uuid, STORAGE_VM_VCPUS, STORAGE_VM_MEMORY)
                for v in w.cluster_storage_vms(cluster)]
        vms.sort(key=lambda v: (-v[5], v[2]))
        return [{"uuid": u, "name": n, "type": t, "host_ip": w.hosts[h].ip, "vcpus": c, "memory": mem}
                for t, u, n, h, c, mem in vms[:10]]

    def storage() -> dict[str, Any]:
        inner = storage_inner(w, cluster, m)
        return {k: inner[k] for k in ("pool_count", "volume_total_count", "volume_health_count",
                                      "volume_degrade_count", "volume_failed_count")}

    def network_equipment() -> dict[str, Any]:
        compute = [h for h in hosts if "compute" in h.type_version]
        up = sum(1 for h in compute if h.up)
        return {"switch_num": len(compute), "switch_connection": up, "switch_no_connection": len(compute) - up,
                "router_num": 0, "gateway_num": 0}

    return _sections(p, {
        "vm_status": lambda: m.state_summary(hosts),
        "vm_top": vm_top,
        "storage_status": storage,
        "storage_iops_top": lambda: _io_top(hosts, "disk_riops", "disk_wiops", ("riops", "wiops")),
        "storage_mbps_top": lambda: _io_top(hosts, "disk_rspeed", "disk_wspeed", ("rspeed", "wspeed")),
        "storage_pool_top": lambda: sorted(m.storage_pools(hosts), key=lambda pool: (-pool["usage"], pool["name"])),
        "container_status": lambda: {"total": 0, "running": 0, "stopped": 0},  # no containers simulated
        "container_top": lambda: [],
        "network_equipment_status": network_equipment,
        "security_network_element_status": lambda: {"total": 0, "running": 0, "stopped": 0},
        "tenant_status": lambda: {"total": len(cluster.tenants), "list": list(cluster.tenants)},
    })


def _health(total: int, healthy: int, fault_if_none: bool = True) -> dict[str, Any]:
    if total == 0:
        status = "fault" if fault_if_none else "normal"
    elif healthy == 0:
        status = "fault"
    elif healthy < total:
        status = "alarm"
    else:
        status = "normal"
    return {"status": status, "total": total, "healthy": healthy, "unhealthy": total - healthy}


@route("GET", "/v1/cluster/overall_status/inspect", "health of manager, compute, storage, network, cloud management")
def overall_status(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    p.str("tenant_uuid", required=False)
    hosts = w.cluster_hosts(cluster)

    def manager() -> dict[str, Any]:
        members = w.manager["members"]
        ok = w.manager["ready"] and w.manager["leader"] is not None
        return dict(_health(len(members), len(members) if ok else 0), leader=w.manager["leader"] or "")

    def of_service(service: str, fault_if_none: bool = True) -> dict[str, Any]:
        having = [h for h in hosts if service in h.type_version]
        return _health(len(having), sum(1 for h in having if h.up), fault_if_none)

    def cloud_manage() -> dict[str, Any]:
        cvms = w.cluster_cvms(cluster, running_only=True)
        return _health(len(cvms), sum(1 for c in cvms if w.hosts[c.machine_uuid].up))

    return _sections(p, {
        "manager_cloud_status": manager,
        "compute_status": lambda: of_service("compute"),
        "storage_status": lambda: of_service("storage", fault_if_none=False),
        "network_status": lambda: _health(3 * len(hosts), 3 * sum(1 for h in hosts if h.up)),
        "cloud_manage_status": cloud_manage,
    })


@route("GET", "/v1/cluster/vmserver/service/get", "network-service VMs of a tenant (none in the simulator)")
def vmserver_service(sim: Simulator, p: Params) -> dict[str, Any]:
    _cluster(sim, p)
    p.str("tenant", required=False)
    # the simulator models no tenant networks, hence no network-service VMs
    return {"network_vm_list": []}


# --- topology map and overview -----------------------------------------------------------------------
@route("POST", "/v1/cluster/all_cluster/topology", "network topology map with coordinates", mutating=False)
def all_cluster_topology(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    height = p.int("height", default=550, minimum=100, maximum=20000)
    width = p.int("width", default=760, minimum=100, maximum=20000)
    hosts = w.cluster_hosts(cluster)
    vms_by_host: dict[str, list[tuple[str, str, str]]] = {h.uuid: [] for h in hosts}
    for cvm in w.cluster_cvms(cluster, running_only=True):
        vms_by_host[cvm.machine_uuid].append(("cvm", cvm.uuid, cvm.name))
    for vm in w.cluster_storage_vms(cluster):
        if vm.status == "running":
            vms_by_host[vm.machine_uuid].append((vm.vm_type, vm.uuid, vm.name))
    cx, cy, rx, ry = width / 2, height / 2, width * 0.35, height * 0.35
    faces: dict[str, Any] = {}
    for i, host in enumerate(hosts):
        angle = 2 * math.pi * i / max(1, len(hosts))
        x, y = round(cx + rx * math.cos(angle)), round(cy + ry * math.sin(angle))
        ifaces = {}
        for spec in (host.management, host.storage):
            cidr = f"{spec['ip']}/{spec['prefix']}"
            ifaces[cidr] = {"SysName": host.name, "IP": cidr, "Mac": spec["mac"], "IFaceName": spec["nic"],
                            "Health": host.up, "Port": ""}
        members = []
        for j, (kind, uuid, name) in enumerate(vms_by_host[host.uuid]):
            offset = 2 * math.pi * j / max(1, len(vms_by_host[host.uuid]))
            members.append({"Type": kind, "UUID": uuid, "ClusterUUID": cluster.uuid, "DomainUUID": "", "Name": name,
                            "CoordinateX": round(x + 45 * math.cos(offset)), "CoordinateY": round(y + 45 * math.sin(offset))})
        faces[f"{host.ip}/{host.management['prefix']}"] = {
            "IFacesInfo": ifaces,
            "CoordinateX": x,
            "CoordinateY": y,
            "Hosts": members,
            "SecVirtMachine": [],
            "VirtMachine": [],
        }
    return {"info": {cluster.uuid: {"ClusterName": cluster.name, "HostIFacesInfo": faces}}}


@route("GET", "/v1/cluster/overview/inspect", "the dashboard (big screen) figures")
def overview(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = _cluster(sim, p)
    m = Metrics(w)
    hosts = w.cluster_hosts(cluster)
    up = [h for h in hosts if h.up]
    ratio = m.usage_ratio(hosts)
    cvms = w.cluster_cvms(cluster)
    svms = w.cluster_storage_vms(cluster)
    leader = w.cvms.get(cluster.leader) if cluster.leader else None
    view = inspection.view(cluster, w.now(), sim.speed)
    return {
        "cluster_uuid": cluster.uuid,
        "cluster_name": cluster.name,
        "ctime": cluster.ctime,
        "host": {"total": len(hosts), "healthy": len(up), "down": len(hosts) - len(up),
                 "maintenance": sum(1 for h in hosts if h.maintenance)},
        "vm": m.state_summary(hosts),
        "cpu": dict(_with_series(w, p, _cpu(m, hosts)), allocated=ratio["Cpu"]["Logical"]),
        "memory": dict(_with_series(w, p, _memory(m, hosts)), allocated=ratio["Mem"]["Logical"]),
        "storage": dict(_storage(m, hosts), allocated=m.storage_allocated(cluster)),
        "cloud_manage": {"total": len(cvms), "running": sum(1 for c in cvms if c.status == "running"),
                         "leader": leader.ip if leader else ""},
        "storage_service_vm": {"total": len(svms), "running": sum(1 for v in svms if v.status == "running"),
                               "deploying": sum(1 for v in svms if v.status == "deploying")},
        "metadata": {"snapshots": len(cluster.snapshots), "latest": cluster.snapshots[-1] if cluster.snapshots else "",
                     "daemon_state": cluster.daemon_state},
        "inspection": {"state": view["state"], "score": view["score"], "finishedPercent": view["finishedPercent"]},
    }
