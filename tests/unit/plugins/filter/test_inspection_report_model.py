# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.filter.inspection_report_model import (
    FilterModule,
    cluster_status,
    human_bytes,
    inspection_report_model,
    level,
)

HOSTS = [
    {"uuid": "u1", "name": "tos-a1", "ip": "192.0.2.11", "roles": ["manager", "hyper"], "maintenance": False},
    {"uuid": "u2", "name": "tos-a2", "ip": "192.0.2.12", "roles": ["hyper"], "maintenance": False},
]


def item(status, name, target, item_id="x"):
    return {"item": item_id, "name": name, "name_cn": "", "target": target, "status": status, "value": "1",
            "threshold": "", "message": "%s is %s" % (name, status), "message_cn": ""}


def gathered(inspection=None, **cluster):
    base = {"name": "alpha", "uuid": "c1", "desc": "", "hosts": HOSTS}
    base.update(cluster)
    return {"cluster": base, "inspection": inspection, "upgrade": None}


def finished(system=(), network=(), hardware=(), score=100):
    return {"state": 2, "state_name": "finished", "finishedPercent": 100, "score": score,
            "normal": 0, "alarm": 0, "fault": 0, "start_time": 1700000000, "end_time": 1700000060,
            "system": list(system), "network": list(network), "hardware": list(hardware)}


def test_filter_is_registered():
    assert FilterModule().filters()["inspection_report_model"] is inspection_report_model


def test_faults_come_before_alarms_then_normal_items():
    inspection = finished(
        system=[item("normal", "License", "alpha"), item("alarm", "Metadata backup", "alpha")],
        hardware=[item("alarm", "CPU usage", "tos-a2 (192.0.2.12)"),
                  item("fault", "Host status", "tos-a1 (192.0.2.11)", "host_status")],
        score=70)
    model = inspection_report_model([gathered(inspection)])
    cluster = model["clusters"][0]
    assert [f["severity"] for f in cluster["findings"]] == ["fault", "alarm", "alarm", "normal"]
    assert [f["name"] for f in cluster["problems"]] == ["Host status", "Metadata backup", "CPU usage"]
    assert model["problems"][0]["cluster"] == "alpha"
    assert cluster["status"] == "critical" and cluster["score"] == 70


def test_host_rows_join_usage_compute_versions_and_findings():
    top = {"list": [{"host_info": {"uuid": "u1", "hostname": "tos-a1"}, "cpu_usage": 86.04, "mem_usage": 30.0},
                    {"host_info": {"uuid": "u2", "hostname": "tos-a2"}, "cpu_usage": 20.0, "mem_usage": 96.0}]}
    compute = {"HostStatistics": [{"HostUUID": "u1", "VmCount": 7, "Status": 1, "Cpu": {"Physical": 32},
                                   "Mem": {"Physical": 137438953472}}],
               "StateSummaryResult": {"total": 9, "running_count": 6, "shutoff_count": 2}}
    upgrade = {"current_package": {"name": "pkg.tar.gz", "version": "3.2.5"},
               "hosts": [{"uuid": "u1", "ip": "192.0.2.11", "type_version": {"compute": "3.2.4"},
                          "outdated": ["compute"], "up_to_date": False},
                         {"uuid": "u2", "ip": "192.0.2.12", "type_version": {"compute": "3.2.5"},
                          "outdated": [], "up_to_date": True}]}
    cvms = [{"host_uuid": "u1", "is_leader": True, "ip": "192.0.2.101"}]
    inspection = finished(hardware=[item("alarm", "CPU usage", "tos-a1 (192.0.2.11)")], score=95)
    entry = gathered(inspection, top=top, compute=compute, cvms=cvms)
    entry["upgrade"] = upgrade
    a1, a2 = inspection_report_model([entry])["clusters"][0]["hosts"]
    assert (a1["cpu_usage"], a1["cpu_level"], a1["mem_level"]) == (86.0, "alarm", "normal")
    assert (a2["mem_usage"], a2["mem_level"]) == (96.0, "fault")
    assert a1["vms"] == 7 and a2["vms"] is None
    assert a1["cpu_cores"] == 32 and a1["memory"] == "128.0 GiB"
    assert a1["leader_cvm"] and a1["roles"] == ["manager", "compute", "cvm"] and not a2["leader_cvm"]
    assert a1["outdated"] == ["compute"] and a2["up_to_date"] is True
    assert (a1["alarms"], a1["health"], a2["alarms"], a2["health"]) == (1, "alarm", 0, "normal")
    compute_model = inspection_report_model([entry])["clusters"][0]["compute"]
    assert compute_model["vm_states"] == [{"label": "running", "value": 6}, {"label": "shutoff", "value": 2},
                                          {"label": "other", "value": 1}]


def test_a_host_named_in_a_host_status_fault_is_down():
    inspection = finished(hardware=[item("fault", "Host status", "tos-a2 (192.0.2.12)", "host_status")], score=80)
    hosts = inspection_report_model([gathered(inspection)])["clusters"][0]["hosts"]
    assert [h["state"] for h in hosts] == ["up", "down"]
    assert inspection_report_model([gathered(inspection)])["summary"]["hosts_down"] == 1


def test_a_cluster_never_inspected_has_no_score():
    idle = {"state": 0, "score": 0, "system": None, "network": None, "hardware": None}
    model = inspection_report_model([gathered(idle), gathered(None, name="beta")])
    assert [c["score"] for c in model["clusters"]] == [None, None]
    assert [c["status"] for c in model["clusters"]] == ["unknown", "unknown"]
    assert model["summary"]["score"] is None and model["summary"]["status"] == "unknown"


def test_summary_takes_the_lowest_score_and_the_worst_status():
    model = inspection_report_model([
        gathered(finished(score=100)),
        gathered(finished(system=[item("alarm", "License", "beta")], score=95), name="beta"),
    ], title="Weekly", generated="today", manager={"url": "http://x", "version": {"version": "3.2"},
                                                   "members": {"leader": "192.0.2.11", "ready": True}})
    assert model["summary"] == {"clusters": 2, "hosts": 4, "hosts_down": 0, "score": 95, "status": "warning",
                                "alarm": 1, "fault": 0}
    assert model["title"] == "Weekly" and model["generated"] == "today"
    assert model["manager"] == {"url": "http://x", "version": "3.2", "leader": "192.0.2.11", "ready": True}


def test_storage_is_shown_in_binary_units_and_percent():
    storage = {"inner": {"total_size": 4 * 1024 ** 4, "used": 1024 ** 4, "allocated": 2 * 1024 ** 4, "pool_count": 1}}
    model = inspection_report_model([gathered(None, storage=storage)])["clusters"][0]["storage"]
    assert (model["total_h"], model["used_h"], model["usage"], model["allocated_pct"]) == ("4.0 TiB", "1.0 TiB", 25.0, 50.0)


def test_cloud_manage_health_needs_every_center_node_running_with_healthy_etcd():
    healthy = {"ip": "192.0.2.101", "is_leader": True, "status": 1, "etcd_base_info": {"etcd_cluter_health": "health"}}
    sick = dict(healthy, ip="192.0.2.102", is_leader=False, etcd_base_info={"etcd_cluter_health": "unhealth"})
    assert inspection_report_model([gathered(None, cloud_manage=[healthy])])["clusters"][0]["cloud_manage"]["healthy"]
    assert not inspection_report_model([gathered(None, cloud_manage=[healthy, sick])])["clusters"][0]["cloud_manage"]["healthy"]
    assert not inspection_report_model([gathered(None)])["clusters"][0]["cloud_manage"]["healthy"]


def test_helpers():
    assert human_bytes(None) == "-" and human_bytes(512) == "512 B" and human_bytes(1536) == "1.5 KiB"
    assert [level(v) for v in (None, 10, 80, 95)] == ["unknown", "normal", "alarm", "fault"]
    assert cluster_status(100, 0, 0) == "healthy"
    assert cluster_status(95, 1, 0) == "warning"
    assert cluster_status(85, 0, 0) == "warning"
    assert cluster_status(99, 0, 1) == "critical"
    assert cluster_status(None, 0, 0) == "unknown"
