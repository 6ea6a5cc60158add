"""The documented-only mode (the default) and its readings of the open points (simulator/readings.py),
plus the client's paging against the real simulator under every page reading."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPO_ROOT, SPEED, Api

from simulator.testing import SimulatorProcess

READINGS = {
    "base0-all-stop": {"page_base": 0, "page_size_zero": "all", "task_failure": "stop", "cvm_host": "machine_uuid"},
    "base1-default-reset": {"page_base": 1, "page_size_zero": "default", "task_failure": "reset",
                            "cvm_host": "machine_uuid"},
    "base0-default-error-topology": {"page_base": 0, "page_size_zero": "default", "task_failure": "error",
                                     "cvm_host": "topology"},
}


@pytest.fixture(scope="module", params=list(READINGS))
def doc(request: pytest.FixtureRequest) -> Iterator[tuple[Api, dict[str, Any]]]:
    reading = READINGS[request.param]
    process = SimulatorProcess(speed=SPEED, **reading)  # no extensions: documented-only
    process.start()
    try:
        yield Api(process.base_url), reading
    finally:
        process.stop()


@pytest.fixture()
def dapi(doc: tuple[Api, dict[str, Any]]) -> Api:
    api = doc[0]
    api.reset()
    return api


def test_success_envelope_as_the_examples(dapi: Api) -> None:
    envelope = dapi.get("/v1/system/version")
    assert envelope["scode"] == 0 and envelope["messageCn"] == "" and envelope["message_cn"] == "成功"


def test_host_task_progress_is_only_progress(dapi: Api) -> None:
    cluster = dapi.add_cluster()
    data = dapi.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=dapi.host("tos-a1")["uuid"])
    assert data == {"progress": 0.0}


def test_topology_has_no_machine_uuid_and_cloud_manage_names_the_host(
        doc: tuple[Api, dict[str, Any]], dapi: Api) -> None:
    cluster = dapi.add_cluster()
    dapi.deploy_cvm(cluster)
    nodes = dapi.ok_get("/v1/cluster/get", cluster_uuid=cluster)["TopoHostNode"]
    assert all("MachineUUID" not in n for n in nodes)
    manage = dapi.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cluster)["host_info"]
    host = dapi.host("tos-a1")
    # --cvm-host topology: the example's empty machine_uuid; the network topology map still places the CVM
    assert [m["machine_uuid"] for m in manage] == ["" if doc[1]["cvm_host"] == "topology" else host["uuid"]]
    assert "name" not in manage[0]
    faces = dapi.ok_post("/v1/cluster/all_cluster/topology", {"cluster_uuid": cluster, "width": 760, "height": 550})
    faces = faces["info"][cluster]["HostIFacesInfo"]
    placed = {vm["UUID"]: cidr for cidr, face in faces.items() for vm in face["Hosts"] if vm["Type"] == "cvm"}
    assert placed == {manage[0]["uuid"]: "192.0.2.11/24"}  # tos-a1's management address


@pytest.mark.parametrize("value", ["yes", "on", " true"])
def test_query_booleans_as_go(dapi: Api, value: str) -> None:
    cluster = dapi.add_cluster()
    envelope = dapi.get("/v1/cluster/hardware_resources/inspect", cluster_uuid=cluster, cpu_status=value)
    assert envelope["scode"] == 1003


def test_json_int_refuses_a_float(dapi: Api) -> None:
    cluster = dapi.add_cluster()
    body = {"cluster_uuid": cluster, "config": {"DRS": {"MaxStep": 4.0}}}
    assert dapi.post("/v1/cluster/compute/service/drsconfig/update", body)["scode"] == 1003
    body["config"]["DRS"]["MaxStep"] = 4
    assert dapi.post("/v1/cluster/compute/service/drsconfig/update", body)["scode"] == 0


def test_documented_values_are_accepted(dapi: Api) -> None:
    cluster = dapi.add_cluster()
    dapi.deploy_cvm(cluster)
    center = "192.0.2.101"
    assert dapi.post("/v1/cluster/data/snapshot/config/update", {
        "cluster_uuid": cluster, "ip": center, "display_option": "hour", "duration": 5400})["scode"] == 0
    assert dapi.post("/v1/cluster/compute/service/drsconfig/update", {
        "cluster_uuid": cluster, "config": {"DPM": {"HighThreshold": 80, "LowThreshold": 45}}})["scode"] == 0
    assert dapi.post("/v1/cluster/inspection", {"cluster_uuid": cluster, "cluster_name": "c1"})["scode"] == 0
    chassis = dapi.get("/v1/cluster/chassis/list", tenant_uuid="", filter_ip="")
    assert chassis["scode"] == 0 and chassis["data"]["total_count"] == 4
    assert dapi.get("/v1/cluster/chassis/list", cluster_uuid=cluster)["scode"] == 1002  # tenant_uuid, filter_ip


def test_a_non_empty_cluster_is_deleted_without_a_code_of_ours(dapi: Api) -> None:
    cluster = dapi.add_cluster()
    dapi.deploy_cvm(cluster)
    assert dapi.post("/v1/cluster/delete", {"cluster_uuid": cluster})["scode"] == 0


def test_pages_under_the_reading(doc: tuple[Api, dict[str, Any]], dapi: Api) -> None:
    reading = doc[1]
    for index in range(3):
        dapi.add_cluster(ip=("192.0.2.11", "198.51.100.11", "203.0.113.11")[index], name=f"c{index}")
    first = dapi.ok_get("/v1/cluster/list", page_num=reading["page_base"], page_size=2)
    assert [c["cluster_name"] for c in first["list"]] == ["c0", "c1"] and first["total_count"] == 3
    second = dapi.ok_get("/v1/cluster/list", page_num=reading["page_base"] + 1, page_size=2)
    assert [c["cluster_name"] for c in second["list"]] == ["c2"]
    everything = dapi.ok_get("/v1/cluster/list")
    assert len(everything["list"]) == 3  # 3 fits a default page (10) as well as "all"


def test_the_client_collects_every_page(doc: tuple[Api, dict[str, Any]], dapi: Api) -> None:
    sys.path.insert(0, str(REPO_ROOT / "build" / "collections"))
    api_mod = pytest.importorskip("ansible_collections.tos.cloud.plugins.module_utils._api")
    for index in range(3):
        dapi.add_cluster(ip=("192.0.2.11", "198.51.100.11", "203.0.113.11")[index], name=f"c{index}")
    client = api_mod.TosClient(dapi.base_url)
    names = [c["cluster_name"] for c in client.paginate("/v1/cluster/list", page_size=1,
                                                        key=lambda c: c["cluster_uuid"])]
    assert names == ["c0", "c1", "c2"]


def test_a_failed_upgrade_under_the_reading(doc: tuple[Api, dict[str, Any]], dapi: Api) -> None:
    reading = doc[1]
    cluster = dapi.add_cluster()
    dapi.control("POST", "/_sim/upgrade_failure", {"host": "tos-a3", "at": 0.4})
    assert dapi.post("/v1/system/compute/version/upgrade", {
        "cluster_uuid": cluster, "list": [{"host_ip": "192.0.2.13", "service_type": "compute"}]})["scode"] == 0
    dapi.advance(60)
    envelope = dapi.get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=dapi.host("tos-a3")["uuid"])
    if reading["task_failure"] == "error":
        assert envelope["scode"] == 3010
    elif reading["task_failure"] == "reset":
        assert envelope["data"] == {"progress": 0.0}
    else:
        assert envelope["data"] == {"progress": 0.4}


def test_progress_lag_answers_the_previous_task_for_a_while() -> None:
    """--progress-lag: the documents' progress answer names no task; for a while after a start the host's
    previous task is what it answers (1.0 when that one finished), then the new task's progress."""
    process = SimulatorProcess(speed=1, progress_lag=20)
    process.start()
    try:
        api = Api(process.base_url)
        cluster = api.add_cluster()
        host = api.host("tos-a1")["uuid"]

        def progress() -> float:
            return api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=host)["progress"]

        api.deploy_cvm(cluster, finish=False)
        assert progress() == 0.0  # the host had no task before
        api.advance(200)
        assert progress() == 1.0
        assert api.ok_post("/v1/system/compute/version/upgrade", {
            "cluster_uuid": cluster, "list": [{"host_ip": "192.0.2.11", "service_type": "compute"}]}) is not None
        assert progress() == 1.0  # the deploy's, not the upgrade's
        api.advance(25)  # past the lag: the upgrade's own progress (30 s at speed 1)
        assert 0.8 <= progress() < 0.9
        assert api.control("GET", "/_sim/health").json()["readings"]["progress_lag"] == 20
    finally:
        process.stop()
