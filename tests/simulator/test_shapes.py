"""Every endpoint's happy path answers the documents' example shapes (field names and types);
the endpoints without an example answer the shapes written down in docs/api-notes.md."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, Api

EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parents[2] / "simulator" / "doc_examples.json").read_text())["examples"]
DEFAULT_ENVELOPE = {"scode", "desc", "message", "message_cn", "messageCn", "stack", "data"}
# maps whose keys are ids (etcd member ids, labels, cluster uuids, CIDRs): compare the values
ID_KEYED = {
    "etcd_network_peer_sent_bytes_total", "etcd_network_peer_sent_failures_total",
    "etcd_network_peer_received_bytes_total", "etcd_network_peer_round_trip_time_seconds_sum",
    "Label", "info", "HostIFacesInfo", "IFacesInfo", "type_version",
}
# float64 fields whose example happens to show 0 (Go marshals a zero float64 as 0)
FLOAT_FIELDS = {"Ratio"}


def assert_shape(actual: Any, example: Any, where: str = "data") -> None:
    """Every field of the example is present with a compatible type (null in the example: any)."""
    if example is None:
        return
    if isinstance(example, bool):
        assert isinstance(actual, bool), f"{where}: expected bool, got {actual!r}"
    elif isinstance(example, int) and where.rsplit(".", 1)[-1] in FLOAT_FIELDS:
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{where}: expected number, got {actual!r}"
    elif isinstance(example, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), f"{where}: expected int, got {actual!r}"
    elif isinstance(example, float):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{where}: expected number, got {actual!r}"
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{where}: expected string, got {actual!r}"
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{where}: expected list, got {actual!r}"
        if example and actual:
            for i, item in enumerate(actual):
                assert_shape(item, example[0], f"{where}[{i}]")
    elif isinstance(example, dict):
        assert isinstance(actual, dict), f"{where}: expected object, got {actual!r}"
        if where.rsplit(".", 1)[-1] in ID_KEYED:
            if example and actual:
                sample = next(iter(example.values()))
                for key, value in actual.items():
                    assert_shape(value, sample, f"{where}[{key}]")
            return
        for key, value in example.items():
            assert key in actual, f"{where}: missing field '{key}' (has {sorted(actual)})"
            assert_shape(actual[key], value, f"{where}.{key}")


@pytest.fixture()
def rich(api: Api) -> dict[str, Any]:
    api.reset(FIXTURES / "rich.yml")
    state = api.state()
    cluster = next(iter(state["clusters"].values()))
    hosts = {h["name"]: h for h in state["hosts"].values()}
    leader = state["cvms"][cluster["leader"]]
    return {"cluster": cluster["uuid"], "name": cluster["name"], "hosts": hosts,
            "center": leader["address"].split("/")[0], "state": state}


def call(api: Api, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    envelope = api.get(path, **params) if method == "GET" else api.post(path, params)
    assert set(envelope) == DEFAULT_ENVELOPE, envelope
    assert envelope["scode"] == 0, envelope
    return envelope["data"]


def flags(*names: str) -> dict[str, str]:
    return {name: "true" for name in names}


def requests_for(r: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """One valid request per endpoint, in an order that keeps the state valid."""
    c, ip, x1 = r["cluster"], r["center"], r["hosts"]["x1"]
    return [
        ("GET", "/v1/system/version", {}),
        ("GET", "/v1/system/member/list", {}),
        ("GET", "/v1/cluster/list", {}),
        ("GET", "/v1/cluster/get", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/top", {"cluster_uuid": c, "count": 3}),
        ("GET", "/v1/cluster/system/service/storage", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/system/service/network", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/cloud/manage", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/compute/service/statistic", {"cluster_uuid": c, "page_num": 1, "page_size": 5}),
        ("GET", "/v1/cluster/compute/service/statistic/host", {"cluster_uuid": c, "machine": x1["uuid"]}),
        ("GET", "/v1/cluster/chassis/list", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/compute/service/drsconfig/get", {"cluster_uuid": c}),
        ("POST", "/v1/cluster/compute/service/drsconfig/update",
         {"cluster_uuid": c, "cluster_name": r["name"], "config": {"DRS": {"Enabled": False, "ThresholdLevel": 1}}}),
        ("GET", "/v1/cluster/storage_service/vm/list", {"cluster_uuid": c}),
        ("GET", "/v1/cluster/data/snapshot/list", {"cluster_uuid": c, "ip": ip}),
        ("POST", "/v1/cluster/data/snapshot/save", {"cluster_uuid": c, "ip": ip}),
        ("GET", "/v1/cluster/data/daemon/state", {"cluster_uuid": c, "ip": ip}),
        ("POST", "/v1/cluster/data/daemon/stop", {"cluster_uuid": c, "ip": ip}),
        ("POST", "/v1/cluster/data/daemon/start", {"cluster_uuid": c, "ip": ip}),
        ("GET", "/v1/cluster/data/snapshot/config/inspect", {"cluster_uuid": c, "ip": ip}),
        ("POST", "/v1/cluster/data/snapshot/config/update",
         {"cluster_uuid": c, "ip": ip, "duration": 86400, "display_option": "day"}),
        ("GET", "/v1/cluster/get/global/config", {"cluster_uuid": c}),
        ("POST", "/v1/cluster/set/global/config", {"cluster_uuid": c, "CPUOverAllocationThreshold": 0.7}),
        ("GET", "/v1/cluster/host/task/progress", {"cluster_uuid": c, "host_uuid": x1["uuid"]}),
        ("GET", "/v1/cluster/hardware_resources/inspect",
         {"cluster_uuid": c, **flags("storage_status", "storage_top", "cpu_status", "cpu_top", "memory_status",
                                     "memory_top", "network_status", "network_top", "vsm_status", "io_status"),
          "duration": 60, "start_time": 1572936541, "end_time": 1572940141, "count": 60}),
        ("GET", "/v1/cluster/detail_status/inspect",
         {"cluster_uuid": c, **flags("vm_status", "vm_top", "storage_status", "storage_iops_top", "storage_mbps_top",
                                     "storage_pool_top", "container_status", "container_top",
                                     "network_equipment_status", "security_network_element_status", "tenant_status")}),
        ("GET", "/v1/cluster/overall_status/inspect",
         {"cluster_uuid": c, **flags("manager_cloud_status", "compute_status", "storage_status", "network_status",
                                     "cloud_manage_status")}),
        ("GET", "/v1/cluster/vmserver/service/get", {"cluster_uuid": c}),
        ("POST", "/v1/cluster/all_cluster/topology", {"cluster_uuid": c, "width": 760, "height": 550}),
        ("GET", "/v1/cluster/overview/inspect", {"cluster_uuid": c, "start_time": 1629953706, "end_time": 1629957306,
                                                 "duration": 60}),
        ("POST", "/v1/cluster/inspection",
         {"cluster_uuid": c, "cluster_name": r["name"], "check_system": True, "check_network": True,
          "check_hardware": True}),
        ("GET", "/v1/cluster/inspection/progress", {"cluster_uuid": c}),
        ("POST", "/v1/cluster/inspection/stop", {"cluster_uuid": c, "cluster_name": r["name"]}),
        ("GET", "/v1/system/mail_setting/inspect", {}),
        ("POST", "/v1/system/mail_setting/update",
         {"enabled": False, "sender_mail": "ops@example.com", "smtp_server_ip": "127.0.0.1", "smtp_server_port": 25}),
        ("GET", "/v1/system/setting/inspect", {"cluster_uuid": c}),
        ("POST", "/v1/system/setting/update",
         {"cluster_uuid": c, "login_policy": {"login_fail_retry_times": 3}}),
        ("GET", "/v1/system/upgrade_package/list", {"cluster_uuid": c}),
        ("GET", "/v1/system/upgrade_package/current/inspect", {"cluster_uuid": c}),
        ("GET", "/v1/system/compute/version/list", {"cluster_uuid": c, "host_ip": x1["management"]["ip"]}),
        ("POST", "/v1/system/compute/version/upgrade",
         {"cluster_uuid": c, "list": [{"host_ip": x1["management"]["ip"], "service_type": "storage"}]}),
        ("POST", "/v1/cluster/deploy/storage_service/vm",
         {"cluster_uuid": c, "vm_type": "GST", "manage_cidr": "192.0.2.112/24", "manage_gateway": "192.0.2.1",
          "storage_cidr": "192.0.2.162/24", "storage_gateway": "192.0.2.1"}),
        ("POST", "/v1/cluster/add", {"ip": "198.51.100.21", "name": "second", "desc": "rack y"}),
    ]


def test_every_endpoint_answers_the_documented_shapes(api: Api, rich: dict[str, Any]) -> None:
    for method, path, params in requests_for(rich):
        data = call(api, method, path, params)
        if path in EXAMPLES:
            assert_shape(data, EXAMPLES[path], path)
    second = next(c for c in api.state()["clusters"].values() if c["name"] == "second")
    data = call(api, "POST", "/v1/cluster/delete", {"cluster_uuid": second["uuid"], "force": False})
    assert_shape(data, EXAMPLES["/v1/cluster/delete"])


def test_cvm_deploy_and_delete_shapes(api: Api, rich: dict[str, Any]) -> None:
    c = rich["cluster"]
    cvm = rich["state"]["cvms"][next(iter(rich["state"]["cvms"]))]
    body = {"cluster_uuid": c, "MachineUUID": cvm["uuid"], "center_candidate_ip": cvm["address"].split("/")[0]}
    data = call(api, "POST", "/v1/cluster/delete/cvm", body)
    assert data == {"uuid": cvm["uuid"], "name": cvm["name"], "MachineUUID": cvm["machine_uuid"],
                    "ip": cvm["address"].split("/")[0]}
    body = {"cluster_uuid": c, "MachineUUID": cvm["machine_uuid"],
            "Networks": [{"Addr": "192.0.2.104/24", "Gateway": "192.0.2.1"}]}
    data = call(api, "POST", "/v1/cluster/deploy/cvm", body)
    assert_shape(data, {"uuid": "", "name": "", "MachineUUID": "", "host_ip": "", "ip": "",
                        "Networks": [{"Addr": "", "Gateway": ""}], "task_id": "", "progress": 0.0})


def test_storage_vm_shapes(api: Api, rich: dict[str, Any]) -> None:
    c = rich["cluster"]
    listed = call(api, "GET", "/v1/cluster/storage_service/vm/list", {"cluster_uuid": c})
    item_shape = {"uuid": "", "name": "", "vm_type": "", "manage_ip": "", "manage_cidr": "", "manage_gateway": "",
                  "storage_ip": "", "storage_cidr": "", "storage_gateway": "", "host_uuid": "", "host_ip": "",
                  "host_name": "", "status": "", "progress": 0.0, "ctime": 0}
    assert_shape(listed, {"total_count": 0, "list": [item_shape]})
    assert listed["total_count"] == 1 and listed["list"][0]["status"] == "running"
    vm = listed["list"][0]
    data = call(api, "POST", "/v1/cluster/storage_service/vm/delete",
                {"cluster_uuid": c, "uuid": vm["uuid"], "force": False, "name": vm["name"]})
    assert data == {"uuid": vm["uuid"], "name": vm["name"]}


def test_invented_shapes(api: Api, rich: dict[str, Any]) -> None:
    c, ip = rich["cluster"], rich["center"]
    progress = call(api, "GET", "/v1/cluster/host/task/progress", {"cluster_uuid": c, "host_uuid": rich["hosts"]["x1"]["uuid"]})
    assert_shape(progress, {"progress": 0.0, "status": "", "task_id": "", "task_type": "", "host_uuid": "", "host_ip": "",
                            "target_uuid": "", "service_types": [], "to_version": "", "start_time": 0, "end_time": 0,
                            "message": "", "message_cn": ""})
    glob = call(api, "GET", "/v1/cluster/get/global/config", {"cluster_uuid": c})
    assert set(glob) == {"cluster_uuid", "StorOverAllocationThreshold", "CPUOverAllocationThreshold",
                         "MemOverAllocationThreshold", "USDOverAllocationThreshold"}
    saved = call(api, "POST", "/v1/cluster/data/snapshot/save", {"cluster_uuid": c, "ip": ip})
    assert saved["file_name"].startswith("snapshot") and saved["file_name"].endswith(".db")
    assert_shape(saved, EXAMPLES["/v1/cluster/data/snapshot/save"])
    upgrade = call(api, "POST", "/v1/system/compute/version/upgrade",
                   {"cluster_uuid": c, "list": [{"host_ip": "192.0.2.22", "service_type": "compute"}]})
    assert_shape(upgrade, {"list": [{"host_ip": "", "host_uuid": "", "service_type": "", "from_version": "",
                                     "to_version": "", "task_id": ""}]})
    assert call(api, "POST", "/v1/system/mail_setting/update", {}) == call(api, "GET", "/v1/system/mail_setting/inspect", {})


DOCUMENTED_ENDPOINTS = {
    "/v1/cluster/add", "/v1/cluster/delete", "/v1/cluster/get", "/v1/cluster/list", "/v1/cluster/top",
    "/v1/cluster/system/service/storage", "/v1/cluster/system/service/network", "/v1/cluster/cloud/manage",
    "/v1/cluster/compute/service/statistic", "/v1/cluster/compute/service/statistic/host",
    "/v1/cluster/chassis/list", "/v1/cluster/inspection", "/v1/cluster/inspection/progress",
    "/v1/cluster/inspection/stop", "/v1/cluster/compute/service/drsconfig/get",
    "/v1/cluster/compute/service/drsconfig/update", "/v1/cluster/deploy/storage_service/vm",
    "/v1/cluster/storage_service/vm/list", "/v1/cluster/storage_service/vm/delete", "/v1/cluster/deploy/cvm",
    "/v1/cluster/delete/cvm", "/v1/cluster/data/snapshot/save", "/v1/cluster/data/snapshot/delete",
    "/v1/cluster/data/snapshot/list", "/v1/cluster/data/daemon/state", "/v1/cluster/data/daemon/start",
    "/v1/cluster/data/daemon/stop", "/v1/cluster/data/snapshot/config/inspect",
    "/v1/cluster/data/snapshot/config/update", "/v1/cluster/get/global/config", "/v1/cluster/set/global/config",
    "/v1/cluster/host/task/progress", "/v1/cluster/hardware_resources/inspect", "/v1/cluster/detail_status/inspect",
    "/v1/cluster/overall_status/inspect", "/v1/cluster/vmserver/service/get", "/v1/cluster/all_cluster/topology",
    "/v1/cluster/overview/inspect",
    "/v1/system/version", "/v1/system/member/list", "/v1/system/mail_setting/inspect",
    "/v1/system/mail_setting/update", "/v1/system/mail_setting/test", "/v1/system/setting/inspect",
    "/v1/system/setting/update", "/v1/system/compute/version/upgrade", "/v1/system/upgrade_package/list",
    "/v1/system/upgrade_package/current/inspect", "/v1/system/compute/version/list",
}


def test_the_49_documented_endpoints_and_no_other_are_served() -> None:
    from simulator.handlers import load_all

    routes = load_all()
    assert len(DOCUMENTED_ENDPOINTS) == 49
    assert set(routes) == DOCUMENTED_ENDPOINTS
