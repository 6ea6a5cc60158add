"""Upgrades, the inspection, metadata snapshots and the stored configurations."""
from __future__ import annotations

from typing import Any

from conftest import Api


def upgrade(api: Api, cluster: str, *items: tuple[str, str]) -> dict[str, Any]:
    return api.post("/v1/system/compute/version/upgrade",
                    {"cluster_uuid": cluster, "list": [{"host_ip": ip, "service_type": t} for ip, t in items]})


def versions(api: Api, cluster: str) -> dict[str, dict[str, str]]:
    listed = api.ok_get("/v1/system/upgrade_package/list", cluster_uuid=cluster)
    return {e["host_ip"]: e["type_version"] for e in listed["list"]}


def test_upgrade_changes_the_version_and_adds_a_backup(api: Api, cluster: str) -> None:
    package = api.ok_get("/v1/system/upgrade_package/current/inspect", cluster_uuid=cluster)
    assert package["version"] == "3.2.5.rc2"
    listed = api.ok_get("/v1/system/upgrade_package/list", cluster_uuid=cluster)
    assert listed["host_list"] == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
    assert listed["list"][0]["upgrade_package_list"][0]["version"] == "3.2.5.rc2"
    backups_before = api.ok_get("/v1/system/compute/version/list", cluster_uuid=cluster, host_ip="192.0.2.12")["list"]
    started = upgrade(api, cluster, ("192.0.2.12", "compute"), ("192.0.2.12", "storage"))
    assert started["scode"] == 0
    entries = started["data"]["list"]
    assert [(e["service_type"], e["from_version"], e["to_version"]) for e in entries] == [
        ("compute", "3.2.4", "3.2.5.rc2"), ("storage", "3.2.4", "3.2.5.rc2")]
    assert entries[0]["task_id"] == entries[1]["task_id"]  # one task per host
    host = api.host("tos-a2")["uuid"]
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=host)
    assert progress["task_type"] == "upgrade" and progress["status"] == "running"
    assert progress["service_types"] == ["compute", "storage"]
    assert upgrade(api, cluster, ("192.0.2.12", "cloud"))["scode"] == 3004  # busy
    assert versions(api, cluster)["192.0.2.12"]["compute"] == "3.2.4"
    api.advance(60)
    assert api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=host)["status"] == "finished"
    assert versions(api, cluster)["192.0.2.12"] == {"compute": "3.2.5.rc2", "storage": "3.2.5.rc2", "cloud": "3.2.4"}
    backups = api.ok_get("/v1/system/compute/version/list", cluster_uuid=cluster, host_ip="192.0.2.12")["list"]
    assert len(backups) == len(backups_before) + 1
    assert backups[-1]["version"] == "3.2.4" and backups[-1]["package_name"].startswith("backup_3.2.4_")


def test_upgrade_refuses_services_the_host_does_not_have(api: Api) -> None:
    cluster = api.add_cluster("203.0.113.11", "c")
    refused = upgrade(api, cluster, ("203.0.113.11", "compute"), ("203.0.113.13", "storage"))
    assert refused["scode"] == 3007 and "storage" in refused["message"]
    # nothing started: the request is all or nothing
    idle = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=api.host("tos-c1")["uuid"])
    assert idle["status"] == "idle"
    assert upgrade(api, cluster, ("192.0.2.11", "compute"))["scode"] == 2006


def test_injected_upgrade_failure_reports_and_keeps_the_version(api: Api, cluster: str) -> None:
    response = api.control("POST", "/_sim/upgrade_failure", {"host": "tos-a3", "at": 0.4, "message_en": "disk full",
                                                             "message_cn": "磁盘已满"})
    assert response.json()["ok"]
    upgrade(api, cluster, ("192.0.2.13", "compute"))
    api.advance(60)
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=api.host("tos-a3")["uuid"])
    assert progress["status"] == "failed" and progress["progress"] == 0.4
    assert progress["message"] == "disk full" and progress["message_cn"] == "磁盘已满"
    assert versions(api, cluster)["192.0.2.13"]["compute"] == "3.2.4"
    # only the next upgrade fails
    assert upgrade(api, cluster, ("192.0.2.13", "compute"))["scode"] == 0
    api.advance(60)
    assert versions(api, cluster)["192.0.2.13"]["compute"] == "3.2.5.rc2"


def test_upgrade_failure_control_validates_and_clears(api: Api) -> None:
    assert api.control("POST", "/_sim/upgrade_failure", {"host": "nope"}).status_code == 400
    assert api.control("POST", "/_sim/upgrade_failure", {"host": "192.0.2.11", "at": 2}).status_code == 400
    assert api.control("POST", "/_sim/upgrade_failure", {"host": "192.0.2.11"}).json()["at"] == 0.5
    assert api.control("DELETE", "/_sim/upgrade_failure").json() == {"ok": True}
    assert api.state()["upgrade_failures"] == {}


def test_inspection_runs_over_time_and_attaches_nowhere_twice(api: Api, cluster: str) -> None:
    body = {"cluster_uuid": cluster, "cluster_name": "c1", "check_system": True, "check_network": True,
            "check_hardware": True}
    started = api.ok_post("/v1/cluster/inspection", body)
    assert started["state"] == 1 and started["finishedPercent"] == 0 and started["checking"]
    again = api.post("/v1/cluster/inspection", body)
    assert again["scode"] == 6001 and "already running" in again["message"]
    api.advance(0.1)  # 0.1 s at speed 50 = a third of the 15 s
    middle = api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster)
    assert 0 < middle["finishedPercent"] < 100 and middle["state"] == 1 and middle["checking"]
    api.advance(30)
    done = api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster)
    assert done["state"] == 2 and done["finishedPercent"] == 100 and done["checking"] == ""
    items = done["system"] + done["network"] + done["hardware"]
    assert done["normal"] + done["alarm"] + done["fault"] == len(items)
    faults = {i["item"] for i in items if i["status"] == "fault"}
    assert "center_service" in faults  # no CVM yet
    assert 0 <= done["score"] < 100
    assert api.ok_post("/v1/cluster/inspection", body)["state"] == 1  # a finished one can be run again


def test_inspection_alarms_come_from_the_state(api: Api) -> None:
    cluster = api.add_cluster("198.51.100.11", "b")
    body = {"cluster_uuid": cluster, "cluster_name": "b", "check_hardware": True}
    api.ok_post("/v1/cluster/inspection", body)
    api.advance(30)
    done = api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster)
    assert done["system"] is None and done["network"] is None
    alarms = [(i["item"], i["target"]) for i in done["hardware"] if i["status"] != "normal"]
    assert alarms == [("cpu_usage", "tos-b3 (198.51.100.13)")]
    assert done["score"] == 95


def test_inspection_stop(api: Api, cluster: str) -> None:
    assert api.ok_post("/v1/cluster/inspection/stop", {"cluster_uuid": cluster, "cluster_name": "c1"})["state"] == 0
    api.ok_post("/v1/cluster/inspection", {"cluster_uuid": cluster, "cluster_name": "c1", "check_network": True})
    api.advance(0.1)
    stopped = api.ok_post("/v1/cluster/inspection/stop", {"cluster_uuid": cluster, "cluster_name": "c1"})
    assert stopped["state"] == 3 and 0 < stopped["finishedPercent"] < 100
    api.advance(30)
    assert api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster) == stopped
    assert api.post("/v1/cluster/inspection", {"cluster_uuid": cluster, "cluster_name": "c1"})["scode"] == 1003


def test_snapshots_need_a_center_node_and_get_unique_names(api: Api, cluster: str) -> None:
    refused = api.post("/v1/cluster/data/snapshot/save", {"cluster_uuid": cluster, "ip": "192.0.2.11"})
    assert refused["scode"] == 4001 and "deploy a cloud-management VM" in refused["message"]
    api.deploy_cvm(cluster)
    assert api.post("/v1/cluster/data/snapshot/save", {"cluster_uuid": cluster, "ip": "192.0.2.11"})["scode"] == 4001
    center = {"cluster_uuid": cluster, "ip": "192.0.2.101"}
    names = [api.ok_post("/v1/cluster/data/snapshot/save", center)["file_name"] for attempt in range(3)]
    assert len(set(names)) == 3
    stamps = [int(n[len("snapshot"):-3]) for n in names]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] < 10
    listed = api.ok_get("/v1/cluster/data/snapshot/list", **center)["meta_data"]["Snapshot"]
    assert listed == names
    assert api.ok_get("/v1/cluster/data/snapshot/list", **center, file_name=names[1])["meta_data"]["Snapshot"] == [names[1]]
    api.ok_post("/v1/cluster/data/snapshot/delete", dict(center, file_name=names[0]))
    assert api.ok_get("/v1/cluster/data/snapshot/list", **center)["meta_data"]["Snapshot"] == names[1:]
    assert api.post("/v1/cluster/data/snapshot/delete", dict(center, file_name=names[0]))["scode"] == 4002


def test_daemon_and_snapshot_policy_are_stored(api: Api, cvm_cluster: str) -> None:
    center = {"cluster_uuid": cvm_cluster, "ip": "192.0.2.101"}
    assert api.ok_get("/v1/cluster/data/daemon/state", **center)["meta_data"]["DaemonState"] == "running"
    api.ok_post("/v1/cluster/data/daemon/stop", center)
    assert api.ok_get("/v1/cluster/data/daemon/state", **center)["meta_data"]["DaemonState"] == "stopped"
    api.ok_post("/v1/cluster/data/daemon/start", center)
    assert api.ok_get("/v1/cluster/data/daemon/state", **center)["meta_data"]["DaemonState"] == "running"
    config = api.ok_get("/v1/cluster/data/snapshot/config/inspect", **center)["meta_data"]["SnapshotConfig"]
    assert config["duration"] == 3600 and config["DisplayOption"] == "hour"
    api.ok_post("/v1/cluster/data/snapshot/config/update", dict(center, duration=2 * 604800, display_option="week"))
    config = api.ok_get("/v1/cluster/data/snapshot/config/inspect", **center)["meta_data"]["SnapshotConfig"]
    assert config["duration"] == 1209600 and config["DisplayOption"] == "week" and config["MTime"] > 0


def test_drs_update_merges_what_is_sent(api: Api, cluster: str) -> None:
    before = api.ok_get("/v1/cluster/compute/service/drsconfig/get", cluster_uuid=cluster)["config"]
    assert before["DRS"]["ThresholdLevel"] == 3 and before["DPM"] == {"Enabled": False, "HighThreshold": 0.8, "LowThreshold": 0.45}
    updated = api.ok_post("/v1/cluster/compute/service/drsconfig/update", {
        "cluster_uuid": cluster, "cluster_name": "c1", "config": {"DRS": {"Enabled": False, "ThresholdLevel": 1}}})["config"]
    assert updated["DRS"] == dict(before["DRS"], Enabled=False, ThresholdLevel=1) and updated["DPM"] == before["DPM"]
    api.ok_post("/v1/cluster/compute/service/drsconfig/update", {
        "cluster_uuid": cluster, "config": {"DPM": {"Enabled": True, "LowThreshold": 0.2, "HighThreshold": 0.9}}})
    final = api.ok_get("/v1/cluster/compute/service/drsconfig/get", cluster_uuid=cluster)["config"]
    assert final == {"DRS": updated["DRS"], "DPM": {"Enabled": True, "HighThreshold": 0.9, "LowThreshold": 0.2}}


def test_global_config_accepts_partial_updates_and_the_ip_of_the_doc_example(api: Api, cluster: str) -> None:
    before = api.ok_get("/v1/cluster/get/global/config", cluster_uuid=cluster)
    # the document's example: "ip" instead of cluster_uuid, 2 of the 4 thresholds
    data = api.ok_post("/v1/cluster/set/global/config",
                       {"ip": "192.0.2.12", "StorOverAllocationThreshold": 0.7, "CPUOverAllocationThreshold": 0.8})
    assert data == dict(before, StorOverAllocationThreshold=0.7, CPUOverAllocationThreshold=0.8)
    assert api.ok_get("/v1/cluster/get/global/config", cluster_uuid=cluster) == data
    assert api.post("/v1/cluster/set/global/config", {"cluster_uuid": cluster})["scode"] == 1002
    assert api.post("/v1/cluster/set/global/config", {"ip": "203.0.113.11", "CPUOverAllocationThreshold": 1})["scode"] == 2001


def test_durations_control_keeps_an_operation_running_until_reset(api: Api, cluster: str) -> None:
    assert api.control("POST", "/_sim/durations", {"nope": 1}).status_code == 400
    assert api.control("POST", "/_sim/durations", {"inspection": 0}).status_code == 400
    assert api.control("POST", "/_sim/durations", {"inspection": 100000}).json()["durations"]["inspection"] == 100000
    body = {"cluster_uuid": cluster, "cluster_name": "c1", "check_system": True}
    api.ok_post("/v1/cluster/inspection", body)
    api.advance(30)  # would finish a default (15 s) inspection many times over
    running = api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster)
    assert running["state"] == 1 and running["finishedPercent"] < 100
    api.reset()
    cluster = api.add_cluster()
    api.ok_post("/v1/cluster/inspection", dict(body, cluster_uuid=cluster))
    api.advance(30)
    assert api.ok_get("/v1/cluster/inspection/progress", cluster_uuid=cluster)["state"] == 2
