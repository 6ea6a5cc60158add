# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The data of an inspection report, prepared in one place.

The role ``tos.cloud.inspection_report`` gathers, per cluster, what the modules return
(``cluster_info`` with its statistics sections, ``inspection``, ``upgrade_info``) and this filter
turns it into the one model that the HTML, JSON and Markdown templates render. Templates only
lay out; every number, join, unit and ordering is decided here.
"""

from __future__ import annotations

import datetime

SEVERITY_ORDER = {"fault": 0, "alarm": 1, "normal": 2}
CATEGORIES = ("system", "network", "hardware")
STATE_NAMES = {0: "idle", 1: "running", 2: "finished", 3: "stopped"}
# Usage (percent) at which a host's figure is shown as an alarm / fault, as the inspection does.
USAGE_ALARM = 80.0
USAGE_FAULT = 95.0
# The topology's service names as people (and the tos.cloud.hosts inventory's groups) call them.
ROLE_NAMES = {"hyper": "compute", "usm": "storage", "vsm": "storage service", "center": "center", "manager": "manager",
              "network": "network"}
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
# Keys of the VM state summary (StateSummaryResult) worth a chart segment, in display order.
VM_STATES = (
    ("running", "running_count"),
    ("paused", "paused_count"),
    ("shutoff", "shutoff_count"),
    ("crashed", "crashed_count"),
    ("migrating", "migrating_count"),
    ("other", None),
)


def _dig(data, *paths, default=None):
    """The first value found along any of the dotted ``paths`` (tolerates the API's spellings)."""
    for path in paths:
        value = data
        for key in path.split("."):
            if isinstance(value, dict) and value.get(key) is not None:
                value = value[key]
            else:
                value = None
                break
        if value is not None:
            return value
    return default


def _number(value, default=None):
    if value is None or isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _percent(value, fraction=False):
    """A usage as a percentage rounded to one decimal; ``fraction`` values (0-1) are scaled."""
    value = _number(value)
    if value is None:
        return None
    if fraction:
        value *= 100.0
    return round(value, 1)


def human_bytes(value):
    """``1288490188800`` -> ``"1.2 TiB"`` (binary units, as the platform shows them)."""
    value = _number(value)
    if value is None:
        return "-"
    unit = 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value /= 1024.0
        unit += 1
    if unit == 0:
        return "%d B" % value
    return "%.1f %s" % (value, UNITS[unit])


def _time(value):
    """A Unix time as ``YYYY-MM-DD HH:MM:SS UTC``; empty for 0/None."""
    value = _number(value)
    if not value:
        return ""
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def level(value, alarm=USAGE_ALARM, fault=USAGE_FAULT):
    """``normal``/``alarm``/``fault`` for a usage percentage (``unknown`` without a value)."""
    if value is None:
        return "unknown"
    if value >= fault:
        return "fault"
    if value >= alarm:
        return "alarm"
    return "normal"


def cluster_status(score, alarm, fault):
    """One word for a cluster: ``critical``, ``warning``, ``healthy`` or ``unknown`` (not inspected)."""
    if score is None:
        return "unknown"
    if fault or score < 60:
        return "critical"
    if alarm or score < 90:
        return "warning"
    return "healthy"


# -- findings --------------------------------------------------------------------------------------

def _findings(inspection):
    """Every inspection item, each with its category; ordered faults, alarms, normal."""
    items = []
    for category in CATEGORIES:
        for index, item in enumerate((inspection or {}).get(category) or []):
            status = str(item.get("status") or "normal").lower()
            items.append({
                "severity": status if status in SEVERITY_ORDER else "alarm",
                "category": category,
                "item": item.get("item") or "",
                "name": item.get("name") or item.get("item") or category,
                "name_cn": item.get("name_cn") or "",
                "target": item.get("target") or "",
                "value": "" if item.get("value") is None else str(item.get("value")),
                "threshold": "" if item.get("threshold") is None else str(item.get("threshold")),
                "message": item.get("message") or "",
                "message_cn": item.get("message_cn") or "",
                "_order": (SEVERITY_ORDER.get(status, 1), CATEGORIES.index(category), index),
            })
    items.sort(key=lambda i: i["_order"])
    for item in items:
        del item["_order"]
    return items


def _category_counts(findings, inspection):
    counts = []
    for category in CATEGORIES:
        checked = (inspection or {}).get(category) is not None
        row = {"name": category, "checked": checked, "normal": 0, "alarm": 0, "fault": 0}
        for item in findings:
            if item["category"] == category:
                row[item["severity"]] += 1
        row["total"] = row["normal"] + row["alarm"] + row["fault"]
        counts.append(row)
    return counts


def _inspection_summary(inspection):
    if not inspection:
        return None
    state = inspection.get("state")
    state_name = inspection.get("state_name") or STATE_NAMES.get(state, str(state) if state is not None else "idle")
    return {
        "state": state_name,
        "finished_percent": int(_number(inspection.get("finishedPercent"), 0)),
        "started": _time(inspection.get("start_time")),
        "ended": _time(inspection.get("end_time")),
        "checks": [c for c in CATEGORIES if inspection.get(c) is not None],
        "normal": int(_number(inspection.get("normal"), 0)),
        "alarm": int(_number(inspection.get("alarm"), 0)),
        "fault": int(_number(inspection.get("fault"), 0)),
    }


# -- hosts -----------------------------------------------------------------------------------------

def _by(items, *keys):
    """Index dicts by the first present of ``keys`` (dotted paths)."""
    index = {}
    for item in items or []:
        if isinstance(item, dict):
            key = _dig(item, *keys)
            if key is not None:
                index.setdefault(key, item)
    return index


def _top_entries(top):
    """Per-host usage entries of ``cluster/top`` (all lists merged; CPU first)."""
    entries = []
    for key in ("list", "cpu_usage_info", "mem_usage_info"):
        entries.extend((top or {}).get(key) or [])
    return entries


def _host_findings(findings, host):
    """The alarms and faults whose target names this host (by name or management IP)."""
    marks = set(x for x in (host.get("name"), host.get("ip")) if x)
    out = []
    for item in findings:
        if item["severity"] == "normal":
            continue
        words = set(item["target"].replace("(", " ").replace(")", " ").split())
        if marks & words:
            out.append(item)
    return out


def _hosts(cluster, findings, upgrade):
    top_by_uuid = _by(_top_entries(cluster.get("top")), "host_info.uuid", "host_uuid")
    top_by_name = _by(_top_entries(cluster.get("top")), "host_info.hostname", "hostname")
    compute = cluster.get("compute") or {}
    stats_by_uuid = _by(compute.get("HostStatistics") or compute.get("hosts"), "HostUUID", "uuid")
    versions = _by((upgrade or {}).get("hosts"), "uuid")
    versions_by_ip = _by((upgrade or {}).get("hosts"), "ip")
    cvms = cluster.get("cvms") or []
    leader_hosts = set(c.get("host_uuid") for c in cvms if c.get("is_leader"))
    cvm_hosts = set(c.get("host_uuid") for c in cvms)
    target = _dig(upgrade or {}, "current_package.version")

    rows = []
    for host in cluster.get("hosts") or []:
        uuid, name, ip = host.get("uuid"), host.get("name"), host.get("ip")
        usage = top_by_uuid.get(uuid) or top_by_name.get(name) or {}
        stats = stats_by_uuid.get(uuid) or {}
        version = versions.get(uuid) or versions_by_ip.get(ip) or {}
        cpu = _percent(usage.get("cpu_usage"))
        mem = _percent(usage.get("mem_usage"))
        own = _host_findings(findings, host)
        status_code = stats.get("Status")
        if any(f["item"] == "host_status" for f in own) or status_code == 0:
            state = "down"
        elif host.get("maintenance"):
            state = "maintenance"
        else:
            state = "up"
        worst = min([SEVERITY_ORDER[f["severity"]] for f in own] or [SEVERITY_ORDER["normal"]])
        type_version = version.get("type_version") or {}
        roles = [ROLE_NAMES.get(role, role) for role in host.get("roles") or []]
        if uuid in cvm_hosts and "cvm" not in roles:
            roles.append("cvm")
        rows.append({
            "name": name or ip or uuid,
            "ip": ip or "",
            "uuid": uuid or "",
            "state": state,
            "health": [k for k, v in SEVERITY_ORDER.items() if v == worst][0],
            "roles": roles,
            "leader_cvm": uuid in leader_hosts,
            "cpu_usage": cpu,
            "cpu_level": level(cpu),
            "mem_usage": mem,
            "mem_level": level(mem),
            "vms": int(_number(stats.get("VmCount"), 0)) if stats else None,
            "cpu_cores": int(_number(_dig(stats, "Cpu.Physical"), 0)) or None,
            "memory": human_bytes(_dig(stats, "Mem.Physical")) if _dig(stats, "Mem.Physical") else "-",
            "versions": dict((k, str(v)) for k, v in sorted(type_version.items())),
            "outdated": list(version.get("outdated") or []),
            "up_to_date": version.get("up_to_date") if version else None,
            "target_version": target,
            "alarms": sum(1 for f in own if f["severity"] == "alarm"),
            "faults": sum(1 for f in own if f["severity"] == "fault"),
        })
    return rows


# -- resources -------------------------------------------------------------------------------------

def _storage(cluster):
    inner = _dig(cluster, "storage.inner", "storage") or {}
    overview = _dig(cluster, "overview.storage") or {}
    total = _number(inner.get("total_size"), _number(overview.get("total")))
    used = _number(inner.get("used"), _number(overview.get("used")))
    allocated = _number(inner.get("allocated"), _number(overview.get("allocated")))
    if total is None and used is None:
        return None
    usage = round(100.0 * used / total, 1) if total and used is not None else 0.0
    return {
        "total": total or 0,
        "used": used or 0,
        "allocated": allocated or 0,
        "total_h": human_bytes(total),
        "used_h": human_bytes(used),
        "allocated_h": human_bytes(allocated),
        "usage": usage,
        "usage_level": level(usage, 80.0, 90.0),
        "allocated_pct": round(100.0 * allocated / total, 1) if total and allocated else 0.0,
        "pools": int(_number(inner.get("pool_count"), 0)),
        "volumes": int(_number(inner.get("volume_total_count"), 0)),
        "volumes_healthy": int(_number(inner.get("volume_health_count"), 0)),
        "volumes_degraded": int(_number(inner.get("volume_degrade_count"), 0)),
        "volumes_failed": int(_number(inner.get("volume_failed_count"), 0)),
        "ssd": int(_number(inner.get("ssd"), 0)),
        "hdd": int(_number(inner.get("hdd"), 0)),
    }


def _compute(cluster):
    compute = cluster.get("compute") or {}
    overview = cluster.get("overview") or {}
    states = compute.get("StateSummaryResult") or overview.get("vm") or {}
    if not compute and not overview:
        return None
    total = int(_number(states.get("total"), 0))
    segments = []
    accounted = 0
    for label, key in VM_STATES:
        if key is None:
            count = max(0, total - accounted)
        else:
            count = int(_number(states.get(key), 0))
            accounted += count
        if count:
            segments.append({"label": label, "value": count})
    cpu = _dig(compute, "UsageRatio.Cpu") or {}
    mem = _dig(compute, "UsageRatio.Mem") or {}
    hosts = compute.get("HostSummary") or {}
    return {
        "vms": total,
        "vm_states": segments,
        "cpu_allocation": _percent(cpu.get("Ratio"), fraction=True),
        "cpu_physical": int(_number(cpu.get("Physical"), 0)),
        "cpu_logical": int(_number(cpu.get("Logical"), 0)),
        "mem_allocation": _percent(mem.get("Ratio"), fraction=True),
        "mem_physical_h": human_bytes(mem.get("Physical")),
        "mem_logical_h": human_bytes(mem.get("Logical")),
        "cpu_usage": _percent(_dig(overview, "cpu.usage"), fraction=True),
        "mem_usage": _percent(_dig(overview, "memory.usage"), fraction=True),
        "hosts_total": int(_number(hosts.get("Total"), 0)),
        "hosts_healthy": int(_number(hosts.get("Healthy"), 0)),
    }


def _cloud_manage(cluster):
    nodes = []
    for info in cluster.get("cloud_manage") or []:
        etcd = info.get("etcd_base_info") or {}
        nodes.append({
            "ip": info.get("ip") or "",
            "leader": bool(info.get("is_leader")),
            "status": "running" if info.get("status") == 1 else "status %s" % info.get("status"),
            "etcd": etcd.get("etcd_cluter_health") or etcd.get("etcd_cluster_health") or "",
            "license_expires": _time(info.get("license_expire_date")),
        })
    healthy = bool(nodes) and all(n["etcd"] in ("health", "healthy") and n["status"] == "running" for n in nodes)
    return {"nodes": nodes, "healthy": healthy}


def _cluster_model(entry):
    cluster = entry.get("cluster") or {}
    inspection = entry.get("inspection") or None
    upgrade = entry.get("upgrade") or None
    findings = _findings(inspection)
    summary = _inspection_summary(inspection)
    ran = bool(summary) and summary["state"] != "idle"
    score = int(_number(inspection.get("score"), 0)) if ran else None
    alarm = sum(1 for f in findings if f["severity"] == "alarm")
    fault = sum(1 for f in findings if f["severity"] == "fault")
    hosts = _hosts(cluster, findings, upgrade)
    package = (upgrade or {}).get("current_package") or {}
    return {
        "name": cluster.get("name") or "",
        "uuid": cluster.get("uuid") or "",
        "desc": cluster.get("desc") or "",
        "score": score,
        "status": cluster_status(score, alarm, fault),
        "alarm": alarm,
        "fault": fault,
        "normal": sum(1 for f in findings if f["severity"] == "normal"),
        "inspection": summary,
        "problems": [f for f in findings if f["severity"] != "normal"],
        "findings": findings,
        "categories": _category_counts(findings, inspection),
        "hosts": hosts,
        "hosts_down": sum(1 for h in hosts if h["state"] == "down"),
        "storage": _storage(cluster),
        "compute": _compute(cluster),
        "cloud_manage": _cloud_manage(cluster),
        "upgrade": {
            "package": package.get("name") or "",
            "version": package.get("version") or "",
            "outdated_hosts": [h["name"] for h in hosts if h["outdated"]],
        } if upgrade else None,
    }


def inspection_report_model(gathered, title="tos cloud inspection report", generated=None, manager=None):
    """Build the report model from the gathered per-cluster data.

    ``gathered`` is a list of ``{cluster, inspection, upgrade}`` dicts: ``cluster`` is one cluster
    as ``tos.cloud.cluster_info`` returns it (with the sections top, storage, compute, cloud_manage,
    overview), ``inspection`` the ``inspection`` key of ``tos.cloud.inspection``, and ``upgrade``
    what ``tos.cloud.upgrade_info`` returns.
    """
    clusters = [_cluster_model(entry) for entry in (gathered or [])]
    scores = [c["score"] for c in clusters if c["score"] is not None]
    statuses = [c["status"] for c in clusters]
    worst = "unknown"
    for status in ("critical", "warning", "healthy"):
        if status in statuses:
            worst = status
            break
    problems = [dict(f, cluster=c["name"]) for c in clusters for f in c["problems"]]
    problems.sort(key=lambda f: SEVERITY_ORDER[f["severity"]])
    manager = manager or {}
    return {
        "title": title,
        "generated": generated or "",
        "manager": {
            "url": manager.get("url") or "",
            "version": _dig(manager, "version.version", "version") or "",
            "leader": _dig(manager, "members.leader", "leader") or "",
            "ready": _dig(manager, "members.ready", "ready"),
        },
        "summary": {
            "clusters": len(clusters),
            "hosts": sum(len(c["hosts"]) for c in clusters),
            "hosts_down": sum(c["hosts_down"] for c in clusters),
            "score": min(scores) if scores else None,
            "status": worst,
            "alarm": sum(c["alarm"] for c in clusters),
            "fault": sum(c["fault"] for c in clusters),
        },
        "problems": problems,
        "clusters": clusters,
    }


class FilterModule:
    def filters(self):
        return {
            "inspection_report_model": inspection_report_model,
        }
