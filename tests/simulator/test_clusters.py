"""Clusters, CVMs, storage-service VMs and host tasks behave like the platform."""
from __future__ import annotations

from conftest import Api


def test_add_takes_the_seed_and_its_free_group(api: Api) -> None:
    data = api.ok_post("/v1/cluster/add", {"ip": "198.51.100.12", "name": "rack b", "desc": "second"})
    assert data["name"] == "rack b" and data["desc"] == "second" and data["ip"] == "198.51.100.12"
    got = api.ok_get("/v1/cluster/get", cluster_uuid=data["uuid"])
    names = [n["name"] for n in got["TopoHostNode"]]
    assert names == ["tos-b2", "tos-b1", "tos-b3", "tos-b4"]  # the seed first, then the group
    assert [n["ID"] for n in got["TopoHostNode"]] == [0, 1, 2, 3]
    assert got["candidates"] == [] and got["desc"] == "second"
    state = api.state()
    assert {h["name"] for h in state["hosts"].values() if h["cluster_uuid"] == data["uuid"]} == set(names)


def test_add_refuses_unknown_hosts_taken_hosts_and_duplicate_names(api: Api, cluster: str) -> None:
    assert api.post("/v1/cluster/add", {"ip": "192.0.2.200", "name": "x"})["scode"] == 2003
    taken = api.post("/v1/cluster/add", {"ip": "192.0.2.12", "name": "x"})
    assert taken["scode"] == 2004 and "'c1'" in taken["message"]
    assert api.post("/v1/cluster/add", {"ip": "198.51.100.11", "name": "c1"})["scode"] == 2002
    # exact match only: another case is another name
    assert api.post("/v1/cluster/add", {"ip": "198.51.100.11", "name": "C1"})["scode"] == 0


def test_list_filters_loosely_and_paginates(api: Api) -> None:
    for ip, name in (("192.0.2.11", "prod-a"), ("198.51.100.11", "prod-b"), ("203.0.113.11", "lab")):
        api.add_cluster(ip, name)
    everything = api.ok_get("/v1/cluster/list")
    assert everything["total_count"] == 3 and [c["cluster_name"] for c in everything["list"]] == ["prod-a", "prod-b", "lab"]
    assert api.ok_get("/v1/cluster/list", filter_name="PROD")["total_count"] == 2
    page = api.ok_get("/v1/cluster/list", page_num=2, page_size=2)
    assert page["total_count"] == 3 and [c["cluster_name"] for c in page["list"]] == ["lab"]
    assert [c["cluster_name"] for c in api.ok_get("/v1/cluster/list", page_num=0, page_size=2)["list"]] == ["prod-a", "prod-b"]
    assert api.ok_get("/v1/cluster/list", page_num=5, page_size=2)["list"] == []
    uuid = everything["list"][1]["cluster_uuid"]
    assert [c["cluster_name"] for c in api.ok_get("/v1/cluster/list", filter_uuid=uuid)["list"]] == ["prod-b"]


def test_cvm_deploy_progresses_then_appears_as_leader_center(api: Api, cluster: str) -> None:
    a1 = api.host("tos-a1")
    deployed = api.deploy_cvm(cluster, finish=False)
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=a1["uuid"])
    assert progress["status"] == "running" and 0 <= progress["progress"] < 1
    assert progress["task_type"] == "deploy_cvm" and progress["target_uuid"] == deployed["uuid"]
    assert api.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cluster)["host_info"] == []
    assert api.post("/v1/cluster/deploy/cvm", {"cluster_uuid": cluster, "MachineUUID": a1["uuid"],
                                               "Networks": [{"Addr": "192.0.2.109/24", "Gateway": "192.0.2.1"}]})["scode"] == 3001
    api.advance(30)
    done = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=a1["uuid"])
    assert done["progress"] == 1.0 and done["status"] == "finished"
    by_vm = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=deployed["uuid"])
    assert by_vm["status"] == "finished"
    info = api.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cluster)["host_info"]
    assert [(i["ip"], i["is_leader"], i["machine_uuid"]) for i in info] == [("192.0.2.101", True, a1["uuid"])]
    got = api.ok_get("/v1/cluster/get", cluster_uuid=cluster)
    assert got["candidates"] == ["192.0.2.101"]
    center = [n for n in got["TopoHostNode"] if n["services"]["center"]]
    assert len(center) == 1 and center[0]["IsSystemService"] and center[0]["MachineUUID"] == a1["uuid"]
    assert center[0]["managerNet"]["Addrs"] == ["192.0.2.101/24"]
    topo = api.ok_post("/v1/cluster/all_cluster/topology", {"cluster_uuid": cluster, "width": 760, "height": 550})
    hosts = topo["info"][cluster]["HostIFacesInfo"]["192.0.2.11/24"]["Hosts"]
    assert [(h["Type"], h["UUID"]) for h in hosts] == [("cvm", deployed["uuid"])]


def test_second_cvm_is_a_follower_and_leadership_moves_on_delete(api: Api, cvm_cluster: str) -> None:
    api.deploy_cvm(cvm_cluster, host="tos-a2", addr="192.0.2.102/24")
    info = {i["ip"]: i for i in api.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cvm_cluster)["host_info"]}
    assert info["192.0.2.101"]["is_leader"] and not info["192.0.2.102"]["is_leader"]
    assert info["192.0.2.101"]["etcd_base_info"]["etcd_node_count"] == "2"
    assert list(info["192.0.2.101"]["etcd_network_peer_sent_bytes_total"]) != []
    # delete/cvm takes the uuid of the host it runs on as well as its own
    api.ok_post("/v1/cluster/delete/cvm", {"cluster_uuid": cvm_cluster, "MachineUUID": api.host("tos-a1")["uuid"]})
    info = api.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cvm_cluster)["host_info"]
    assert [(i["ip"], i["is_leader"]) for i in info] == [("192.0.2.102", True)]
    assert api.post("/v1/cluster/delete/cvm", {"cluster_uuid": cvm_cluster, "MachineUUID": "nope"})["scode"] == 3002


def test_cvm_deploy_checks_the_host_and_the_address(api: Api, cvm_cluster: str) -> None:
    def deploy(host_uuid: str, addr: str) -> dict:
        return api.post("/v1/cluster/deploy/cvm", {"cluster_uuid": cvm_cluster, "MachineUUID": host_uuid,
                                                   "Networks": [{"Addr": addr, "Gateway": "192.0.2.1"}]})

    a2 = api.host("tos-a2")["uuid"]
    assert deploy(a2, "192.0.2.101/24")["scode"] == 3003  # the first CVM's address
    assert deploy(a2, "192.0.2.12/24")["scode"] == 3003  # a host's address
    assert deploy(api.host("tos-b1")["uuid"], "192.0.2.120/24")["scode"] == 2006  # not in this cluster
    assert deploy("192.0.2.12", "192.0.2.120/24")["scode"] == 2003  # MachineUUID is a uuid, not an IP


def test_delete_refuses_a_cluster_with_vms_unless_forced(api: Api, cvm_cluster: str) -> None:
    refused = api.post("/v1/cluster/delete", {"cluster_uuid": cvm_cluster})
    assert refused["scode"] == 2005
    assert "1 cloud-management VM" in refused["message"] and "force" in refused["message"]
    data = api.ok_post("/v1/cluster/delete", {"cluster_uuid": cvm_cluster, "force": True})
    assert data == {"uuid": cvm_cluster, "name": "c1"}
    state = api.state()
    assert state["clusters"] == {} and state["cvms"] == {}
    assert all(h["cluster_uuid"] is None for h in state["hosts"].values())
    assert api.get("/v1/cluster/get", cluster_uuid=cvm_cluster)["scode"] == 2001
    api.add_cluster("192.0.2.13", "again")  # the hosts are free again


def test_empty_cluster_deletes_without_force(api: Api, cluster: str) -> None:
    api.ok_post("/v1/cluster/delete", {"cluster_uuid": cluster})
    assert api.ok_get("/v1/cluster/list")["total_count"] == 0


def test_storage_vms_deploy_list_filter_and_delete(api: Api, cluster: str) -> None:
    def deploy(n: int) -> dict:
        return api.ok_post("/v1/cluster/deploy/storage_service/vm", {
            "cluster_uuid": cluster, "vm_type": "GST", "manage_cidr": f"192.0.2.{120 + n}/24", "manage_gateway": "192.0.2.1",
            "storage_cidr": f"192.0.2.{170 + n}/24", "storage_gateway": "192.0.2.1"})

    first, second = deploy(0), deploy(1)
    assert first["host_uuid"] != second["host_uuid"]  # spread over the hosts
    assert first["name"] != second["name"] and first["name"].startswith("GST")
    listed = api.ok_get("/v1/cluster/storage_service/vm/list", cluster_uuid=cluster)
    assert listed["total_count"] == 2 and {v["status"] for v in listed["list"]} == {"deploying"}
    refused = api.post("/v1/cluster/storage_service/vm/delete", {"cluster_uuid": cluster, "uuid": first["uuid"]})
    assert refused["scode"] == 3008 and "force" in refused["message"]
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=second["uuid"])
    assert progress["task_type"] == "deploy_storage_vm" and progress["status"] == "running"
    api.advance(30)
    listed = api.ok_get("/v1/cluster/storage_service/vm/list", cluster_uuid=cluster, filter_ip="192.0.2.121")
    assert [v["uuid"] for v in listed["list"]] == [second["uuid"]] and listed["list"][0]["status"] == "running"
    assert api.ok_get("/v1/cluster/storage_service/vm/list", cluster_uuid=cluster, page_num=2, page_size=1)["list"][0]["uuid"] \
        == second["uuid"]
    vsm = [n for n in api.ok_get("/v1/cluster/get", cluster_uuid=cluster)["TopoHostNode"] if n["services"]["vsm"]]
    assert len(vsm) == 2
    api.ok_post("/v1/cluster/storage_service/vm/delete", {"cluster_uuid": cluster, "uuid": first["uuid"]})
    assert api.ok_get("/v1/cluster/storage_service/vm/list", cluster_uuid=cluster)["total_count"] == 1
    assert api.post("/v1/cluster/storage_service/vm/delete", {"cluster_uuid": cluster, "uuid": first["uuid"]})["scode"] == 3005
    storage = api.ok_get("/v1/cluster/system/service/storage", cluster_uuid=cluster)["inner"]
    assert storage["storage_host_total_count"] == 1 and storage["storage_host_health_count"] == 1


def test_storage_vm_force_delete_cancels_the_deploy(api: Api, cluster: str) -> None:
    vm = api.ok_post("/v1/cluster/deploy/storage_service/vm", {
        "cluster_uuid": cluster, "vm_type": "GST", "manage_cidr": "192.0.2.120/24", "manage_gateway": "192.0.2.1",
        "storage_cidr": "192.0.2.170/24", "storage_gateway": "192.0.2.1"})
    api.ok_post("/v1/cluster/storage_service/vm/delete", {"cluster_uuid": cluster, "uuid": vm["uuid"], "force": True})
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=vm["host_uuid"])
    assert progress["status"] == "cancelled"


def test_task_progress_of_an_idle_host(api: Api, cluster: str) -> None:
    idle = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=api.host("tos-a3")["uuid"])
    assert idle["status"] == "idle" and idle["progress"] == 0.0
    other = api.get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=api.host("tos-b1")["uuid"])
    assert other["scode"] == 2006


def test_statistics_follow_the_state(api: Api, cluster: str) -> None:
    top = api.ok_get("/v1/cluster/top", cluster_uuid=cluster, count=2)
    assert top["total_count"] == 4 and len(top["list"]) == 2
    cpu = [e["cpu_usage"] for e in top["cpu_usage_info"]]
    assert cpu == sorted(cpu, reverse=True)
    before = api.ok_get("/v1/cluster/compute/service/statistic", cluster_uuid=cluster)
    assert before["total_count"] == 4 and before["HostSummary"] == {"Total": 4, "Healthy": 4, "NoInUse": 0}
    assert before["UsageRatio"]["Cpu"]["Physical"] == 32 * 3 + 64
    api.deploy_cvm(cluster)
    after = api.ok_get("/v1/cluster/compute/service/statistic", cluster_uuid=cluster)
    assert after["StateSummaryResult"]["running_count"] == before["StateSummaryResult"]["running_count"] + 1
    assert after["UsageRatio"]["Cpu"]["Logical"] == before["UsageRatio"]["Cpu"]["Logical"] + 8
    one = api.ok_get("/v1/cluster/compute/service/statistic", cluster_uuid=cluster, filter_name="a4")
    assert [h["Name"] for h in one["HostStatistics"]] == ["tos-a4"]
    storage = api.ok_get("/v1/cluster/system/service/storage", cluster_uuid=cluster)["inner"]
    assert storage["physic_host_total_count"] == 4 and storage["volume_total_count"] == 2
    assert storage["total_size"] == 4 * 2 * 4 * 1024**4 and storage["hdd"] == 8
    network = api.ok_get("/v1/cluster/system/service/network", cluster_uuid=cluster)
    assert network["switch_summary"]["switch_num"] == 4 and network["sdn_controller"]["ip_addr"] == "192.0.2.101"
    chassis = api.ok_get("/v1/cluster/chassis/list", cluster_uuid=cluster, filter_ip="192.0.2.1")
    assert chassis["total_count"] == 4
    assert api.ok_get("/v1/cluster/chassis/list", cluster_uuid=cluster, filter_host_name="a2")["total_count"] == 1
    overall = api.ok_get("/v1/cluster/overall_status/inspect", cluster_uuid=cluster, compute_status="true",
                         cloud_manage_status="true")
    assert overall["compute_status"]["status"] == "normal" and overall["cloud_manage_status"]["total"] == 1
    assert overall["storage_status"] is None
    overview = api.ok_get("/v1/cluster/overview/inspect", cluster_uuid=cluster)
    assert overview["host"]["total"] == 4 and overview["cloud_manage"]["leader"] == "192.0.2.101"
