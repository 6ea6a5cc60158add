"""The one-click cluster inspection.

Starting it evaluates every check item against the state at that moment (the result is
deterministic and survives a restart); time then reveals the items one by one: after a fraction
f of the (scaled) duration, the first floor(f * n) items are done and ``checking`` names the next.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any

from .errors import ApiError, Code
from .metrics import Metrics
from .model import Cluster
from .ops import DURATIONS, new_uuid
from .state import World

IDLE, RUNNING, FINISHED, STOPPED = 0, 1, 2, 3
CATEGORIES = ("system", "network", "hardware")
USAGE_ALARM, USAGE_FAULT = 80.0, 95.0
DISK_ALARM, DISK_FAULT = 80.0, 90.0
ALARM_PENALTY, FAULT_PENALTY = 5, 20
LICENSE_WARN_DAYS = 30


def _item(
    category: str,
    item: str,
    name: str,
    name_cn: str,
    target: str,
    status: str,
    value: str,
    threshold: str = "",
    message: str = "",
    message_cn: str = "",
) -> dict[str, Any]:
    return {
        "category": category,
        "item": item,
        "name": name,
        "name_cn": name_cn,
        "target": target,
        "status": status,
        "value": value,
        "threshold": threshold,
        "message": message or f"{name}: {status}",
        "message_cn": message_cn or f"{name_cn}：{'正常' if status == 'normal' else '告警' if status == 'alarm' else '故障'}",
    }


def _level(value: float, alarm: float, fault: float) -> str:
    return "fault" if value >= fault else "alarm" if value >= alarm else "normal"


def _system_items(w: World, cluster: Cluster, m: Metrics) -> list[dict[str, Any]]:
    items = []
    manager = w.manager
    ok = bool(manager.get("ready")) and bool(manager.get("leader"))
    items.append(
        _item(
            "system", "manager_service", "Manager service", "管理服务", "manager",
            "normal" if ok else "fault",
            f"leader={manager.get('leader') or '-'} ready={bool(manager.get('ready'))}",
            message="" if ok else "the manager service has no leader or is not ready",
            message_cn="" if ok else "管理服务没有主节点或未就绪",
        )
    )
    centers = w.cluster_cvms(cluster, running_only=True)
    if not centers:
        items.append(
            _item("system", "center_service", "Cloud-management service", "云管服务", cluster.name, "fault", "0 nodes",
                  message="no cloud-management VM (center node) is running", message_cn="没有运行中的云管虚拟机（center 节点）")
        )
    else:
        down = [c.ip for c in centers if not w.hosts[c.machine_uuid].up]
        items.append(
            _item("system", "center_service", "Cloud-management service", "云管服务", cluster.name,
                  "fault" if down else "normal", f"{len(centers) - len(down)}/{len(centers)} nodes healthy",
                  message=f"center node(s) on a down host: {', '.join(down)}" if down else "",
                  message_cn=f"center 节点所在主机宕机：{', '.join(down)}" if down else "")
        )
        even = len(centers) % 2 == 0
        items.append(
            _item("system", "etcd_health", "etcd cluster", "etcd 集群", cluster.name, "alarm" if even else "normal",
                  f"{len(centers)} members",
                  message="an even number of etcd members tolerates no more failures than one less" if even else "",
                  message_cn="etcd 成员数为偶数，容错能力不高于少一个成员时" if even else "")
        )
    if cluster.daemon_state != "running":
        status, msg, msg_cn = "alarm", "the metadata snapshot daemon is stopped", "元数据快照守护进程已停止"
    elif not cluster.snapshots:
        status, msg, msg_cn = "alarm", "no metadata snapshot has been taken", "尚无元数据快照"
    else:
        status, msg, msg_cn = "normal", "", ""
    items.append(_item("system", "metadata_backup", "Metadata backup", "元数据备份", cluster.name, status,
                       f"{len(cluster.snapshots)} snapshots, daemon {cluster.daemon_state}", message=msg, message_cn=msg_cn))
    days = (cluster.license_expire_date - w.now()) / 86400
    lic = "fault" if days <= 0 else "alarm" if days < LICENSE_WARN_DAYS else "normal"
    items.append(_item("system", "license", "License", "许可证", cluster.name, lic, f"{max(0, int(days))} days left",
                       f"{LICENSE_WARN_DAYS} days"))
    hosts = w.cluster_hosts(cluster)
    ratio = m.usage_ratio(hosts)
    config = cluster.global_config
    for key, cfg, name, name_cn in (
        ("Cpu", "CPUOverAllocationThreshold", "CPU allocation", "CPU 分配率"),
        ("Mem", "MemOverAllocationThreshold", "Memory allocation", "内存分配率"),
    ):
        value, limit = ratio[key]["Ratio"], config[cfg]
        items.append(_item("system", f"{key.lower()}_allocation", name, name_cn, cluster.name,
                           "alarm" if value > limit else "normal", f"{value:.2f}", f"{limit:.2f}"))
    total = sum(m.disk_total(h, "data") for h in hosts if "storage" in h.type_version)
    alloc = m.storage_allocated(cluster) / total if total else 0.0
    limit = config["StorOverAllocationThreshold"]
    items.append(_item("system", "storage_allocation", "Storage allocation", "存储分配率", cluster.name,
                       "alarm" if alloc > limit else "normal", f"{alloc:.2f}", f"{limit:.2f}"))
    return items


def _network_items(w: World, cluster: Cluster) -> list[dict[str, Any]]:
    hosts = w.cluster_hosts(cluster)
    mtus = Counter(int(h.storage["mtu"]) for h in hosts)
    common_mtu = mtus.most_common(1)[0][0] if mtus else 0
    items = []
    for host in hosts:
        target = f"{host.name} ({host.ip})"
        for net, name, name_cn in (("management", "Management network", "管理网络"), ("storage", "Storage network", "存储网络")):
            nic = getattr(host, net)
            if not host.up:
                items.append(_item("network", f"{net}_network", name, name_cn, target, "fault", "unreachable",
                                   message=f"{host.name}: {nic['nic']} ({nic['ip']}) is unreachable",
                                   message_cn=f"{host.name}：{nic['nic']}（{nic['ip']}）不可达"))
            elif net == "storage" and int(nic["mtu"]) != common_mtu:
                items.append(_item("network", "storage_network", name, name_cn, target, "alarm", f"MTU {nic['mtu']}",
                                   f"MTU {common_mtu}",
                                   message=f"{host.name}: storage MTU {nic['mtu']} differs from the cluster's {common_mtu}",
                                   message_cn=f"{host.name}：存储网络 MTU {nic['mtu']} 与集群的 {common_mtu} 不一致"))
            else:
                items.append(_item("network", f"{net}_network", name, name_cn, target, "normal", f"MTU {nic['mtu']}"))
    return items


def _hardware_items(w: World, cluster: Cluster, m: Metrics) -> list[dict[str, Any]]:
    items = []
    for host in w.cluster_hosts(cluster):
        target = f"{host.name} ({host.ip})"
        if not host.up:
            items.append(_item("hardware", "host_status", "Host status", "主机状态", target, "fault", "down",
                               message=f"host {host.name} is down", message_cn=f"主机 {host.name} 已宕机"))
            continue
        for item, name, name_cn, value, alarm, fault in (
            ("cpu_usage", "CPU usage", "CPU 使用率", m.cpu_usage(host), USAGE_ALARM, USAGE_FAULT),
            ("memory_usage", "Memory usage", "内存使用率", m.mem_usage(host), USAGE_ALARM, USAGE_FAULT),
            ("disk_usage", "Disk usage", "磁盘使用率", m.disk_usage(host), DISK_ALARM, DISK_FAULT),
        ):
            status = _level(value, alarm, fault)
            items.append(_item("hardware", item, name, name_cn, target, status, f"{value:.1f}%", f"{alarm:.0f}%",
                               message=f"{name} of {host.name} is {value:.1f}% (alarm at {alarm:.0f}%, fault at {fault:.0f}%)",
                               message_cn=f"{host.name} 的{name_cn}为 {value:.1f}%（告警 {alarm:.0f}%，故障 {fault:.0f}%）"))
    return items


def start(w: World, cluster: Cluster, cluster_name: str, checks: dict[str, bool]) -> dict[str, Any]:
    current = cluster.inspection
    if current is not None and current["state"] == RUNNING:
        raise ApiError(
            Code.INSPECTION_RUNNING,
            f"an inspection is already running on cluster '{cluster.name}' (started at {int(current['start'])}); "
            "poll inspection/progress or stop it first",
            f"集群 '{cluster.name}' 已有巡检正在运行；请查询 inspection/progress 或先停止",
        )
    m = Metrics(w)
    items: list[dict[str, Any]] = []
    if checks["system"]:
        items += _system_items(w, cluster, m)
    if checks["network"]:
        items += _network_items(w, cluster)
    if checks["hardware"]:
        items += _hardware_items(w, cluster, m)
    for item in items:
        item["checking"] = f"{item['category']}: {item['name']} @ {item['target']}"
    cluster.inspection = {
        "id": new_uuid(),
        "cluster_name": cluster_name,
        "checks": checks,
        "start": w.now(),
        "duration": DURATIONS["inspection"],
        "state": RUNNING,
        "end": None,
        "final_fraction": None,
        "items": items,
    }
    return cluster.inspection


def fraction(inspection: dict[str, Any], now: float, speed: float) -> float:
    if inspection["final_fraction"] is not None:
        return float(inspection["final_fraction"])
    return min(1.0, max(0.0, (now - inspection["start"]) * speed / inspection["duration"]))


def finish_if_done(cluster: Cluster, now: float, speed: float) -> bool:
    inspection = cluster.inspection
    if inspection is None or inspection["state"] != RUNNING:
        return False
    if fraction(inspection, now, speed) < 1.0:
        return False
    inspection["state"] = FINISHED
    inspection["final_fraction"] = 1.0
    inspection["end"] = inspection["start"] + inspection["duration"] / speed
    return True


def stop(w: World, cluster: Cluster, speed: float) -> None:
    """Stop a running inspection; stopping when none runs changes nothing (idempotent)."""
    inspection = cluster.inspection
    if inspection is None or inspection["state"] != RUNNING:
        return
    inspection["final_fraction"] = fraction(inspection, w.now(), speed)
    inspection["state"] = STOPPED
    inspection["end"] = w.now()


def view(cluster: Cluster, now: float, speed: float) -> dict[str, Any]:
    """The response shape shared by inspection, inspection/progress and inspection/stop."""
    inspection = cluster.inspection
    status = {"code": 0, "message": "", "messageCn": "", "stack": None, "desc": "", "UUID": ""}
    if inspection is None:
        return {
            "status": status, "normal": 0, "alarm": 0, "fault": 0, "score": 0,
            "system": None, "network": None, "hardware": None,
            "state": IDLE, "finishedPercent": 0, "checking": "",
            "cluster_uuid": cluster.uuid, "cluster_name": cluster.name, "start_time": 0, "end_time": 0,
        }
    items = inspection["items"]
    done_fraction = fraction(inspection, now, speed)
    done = len(items) if inspection["state"] == FINISHED else math.floor(done_fraction * len(items))
    revealed = items[:done]
    counts = Counter(i["status"] for i in revealed)
    score = max(0, 100 - ALARM_PENALTY * counts["alarm"] - FAULT_PENALTY * counts["fault"]) if revealed else 0
    checking = items[done]["checking"] if inspection["state"] == RUNNING and done < len(items) else ""
    per_category: dict[str, list[dict[str, Any]] | None] = {}
    for category in CATEGORIES:
        if inspection["checks"][category]:
            per_category[category] = [
                {k: v for k, v in i.items() if k not in ("category", "checking")}
                for i in revealed
                if i["category"] == category
            ]
        else:
            per_category[category] = None
    return {
        "status": dict(status, UUID=inspection["id"]),
        "normal": counts["normal"],
        "alarm": counts["alarm"],
        "fault": counts["fault"],
        "score": score,
        "system": per_category["system"],
        "network": per_category["network"],
        "hardware": per_category["hardware"],
        "state": inspection["state"],
        "finishedPercent": 100 if inspection["state"] == FINISHED else math.floor(done_fraction * 100),
        "checking": checking,
        "cluster_uuid": cluster.uuid,
        "cluster_name": inspection["cluster_name"],
        "start_time": int(inspection["start"]),
        "end_time": int(inspection["end"]) if inspection["end"] else 0,
    }
