"""Cloud-management VMs (deploy/cvm, delete/cvm, cloud/manage), storage-service VMs
(deploy, list, delete) and host/task/progress."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ops, readings
from ..errors import ApiError, Code, not_found
from ..model import Cluster, StorageVm, Task
from ..params import Params, check_gateway, page_params, paginate
from ..state import World
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

STORAGE_VM_TYPES = ("GST",)


def task_view(w: World, task: Task | None, speed: float) -> dict[str, Any]:
    """host/task/progress data; status is running, finished, failed, cancelled or idle."""
    if task is None:
        return {
            "progress": 0.0, "status": "idle", "task_id": "", "task_type": "", "host_uuid": "", "host_ip": "",
            "target_uuid": "", "service_types": [], "to_version": "", "start_time": 0, "end_time": 0,
            "message": "", "message_cn": "",
        }
    host = w.hosts[task.host_uuid]
    reading = readings.current()
    if reading.progress_lag and not reading.has("fields") and (w.now() - task.start) * speed < reading.progress_lag:
        # the new task is not registered yet: the answer is the one from before it (documented shape)
        return {"progress": task.previous_progress or 0.0}
    if task.status == "failed" and not reading.has("fields"):
        # documented-only: progress is all there is; how a failure shows is a reading
        if reading.task_failure == "error":
            raise ApiError(Code.TASK_FAILED, task.message_en or "task failed", task.message_cn or "任务失败")
        if reading.task_failure == "reset":
            return {"progress": 0.0}
    return {
        "progress": round(ops.task_progress(task, w.now(), speed), 4),
        "status": task.status,
        "task_id": task.id,
        "task_type": task.kind,
        "host_uuid": host.uuid,
        "host_ip": host.ip,
        "target_uuid": task.target_uuid,
        "service_types": list(task.service_types),
        "to_version": task.to_version,
        "start_time": int(task.start),
        "end_time": int(task.end) if task.end else 0,
        "message": task.message_en,
        "message_cn": task.message_cn,
    }


def _deploy_progress(w: World, machine_uuid: str, vm_uuid: str, speed: float) -> float:
    task = w.tasks.get(machine_uuid)
    if task is not None and task.target_uuid == vm_uuid:
        return round(ops.task_progress(task, w.now(), speed), 4)
    return 1.0


# --- cloud-management VMs ----------------------------------------------------------------------
@route("POST", "/v1/cluster/deploy/cvm", "start deploying a cloud-management VM (host task)")
def deploy_cvm(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    machine = p.req_str("MachineUUID")
    networks = p.list("Networks")
    first = p.item("Networks", 0, networks[0])
    iface = first.cidr("Addr")
    gateway = first.req_ip("Gateway")
    check_gateway(first.name("Gateway"), gateway, iface, first.name("Addr"))
    host = w.cluster_host(cluster, machine, "MachineUUID", uuid_only=True)
    cvm, task = ops.deploy_cvm(w, cluster, host, iface, gateway)
    return {
        "uuid": cvm.uuid,
        "name": cvm.name,
        "MachineUUID": host.uuid,
        "host_ip": host.ip,
        "ip": cvm.ip,
        "Networks": [{"Addr": cvm.address, "Gateway": cvm.gateway}],
        "task_id": task.id,
        "progress": 0.0,
    }


@route("POST", "/v1/cluster/delete/cvm", "delete a cloud-management VM (by its uuid or its host's)")
def delete_cvm(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    key = p.req_str("MachineUUID")
    p.ip("center_candidate_ip", required=False)
    cvm = ops.find_cvm(w, cluster, key)
    ops.delete_cvm(w, cluster, cvm, sim.speed)
    return {"uuid": cvm.uuid, "name": cvm.name, "MachineUUID": cvm.machine_uuid, "ip": cvm.ip}


@route("GET", "/v1/cluster/cloud/manage", "the running cloud-management VMs with etcd figures")
def cloud_manage(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    cvms = w.cluster_cvms(cluster, running_only=True)
    healthy = [c for c in cvms if w.hosts[c.machine_uuid].up]
    now = w.now()
    db_size = 2.0e7 + 4096 * len(cluster.hosts) + 1.0e6 * len(cluster.snapshots)
    info = []
    for cvm in cvms:
        age = max(0.0, now - cvm.ctime)
        peers = [c for c in cvms if c is not cvm]
        base = {
            "center_node_health": str(len(healthy)),
            "center_node_unhealth": str(len(cvms) - len(healthy)),
            "etcd_cluter_health": "health" if len(healthy) * 2 > len(cvms) else "unhealth",
            "etcd_data_dir_disk_capacity": "51699699712",
            "etcd_data_dir_disk_free": str(int(51699699712 - db_size * 40)),
            "etcd_debugging_mvcc_db_total_size_in_bytes": f"{db_size:.7e}",
            "etcd_disk_backend_commit_duration_seconds_count": str(int(age / 10)),
            "etcd_disk_backend_commit_duration_seconds_sum": f"{age / 480:.6f}",
            "etcd_disk_wal_fsync_duration_seconds_count": str(int(age / 3)),
            "etcd_disk_wal_fsync_duration_seconds_sum": f"{age / 160:.6f}",
            "etcd_network_client_grpc_received_bytes_total": f"{age * 2100:.8e}",
            "etcd_network_client_grpc_sent_bytes_total": f"{age * 8000:.8e}",
            "etcd_node_count": str(len(cvms)),
            "etcd_server_leader_changes_seen_total": "1",
            "etcd_server_proposals_applied_total": str(int(age * 7)),
            "etcd_server_proposals_committed_total": str(int(age * 7)),
            "etcd_server_proposals_failed_total": "0",
            "etcd_server_proposals_pending": "0",
            "process_resident_memory_bytes": f"{1.0e8 + 1.0e5 * len(cluster.hosts):.8e}",
        }
        info.append(
            {
                "etcd_network_peer_sent_bytes_total": {c.etcd_id: str(int(age * 900)) for c in peers},
                "etcd_network_peer_sent_failures_total": {c.etcd_id: "0" for c in peers},
                "etcd_network_peer_received_bytes_total": {c.etcd_id: str(int(age * 850)) for c in peers},
                "etcd_network_peer_round_trip_time_seconds_sum": {c.etcd_id: f"{age / 5000:.6f}" for c in peers},
                "etcd_base_info": base,
                "host_spec_spice": None,
                "license_expire_date": cluster.license_expire_date,
                "license_existed": True,
                "ip": cvm.ip,
                "is_leader": cvm.uuid == cluster.leader,
                "status": 1 if w.hosts[cvm.machine_uuid].up else 0,
                "uuid": cvm.uuid,
                "machine_uuid": cvm.machine_uuid if readings.current().cvm_host == "machine_uuid" else "",
                "name": cvm.name,
            }
        )
    return {"host_info": info}


# --- storage-service VMs ---------------------------------------------------------------------
def storage_vm_view(w: World, vm: StorageVm, speed: float) -> dict[str, Any]:
    host = w.hosts[vm.machine_uuid]
    return {
        "uuid": vm.uuid,
        "name": vm.name,
        "vm_type": vm.vm_type,
        "manage_ip": vm.manage_ip,
        "manage_cidr": vm.manage_cidr,
        "manage_gateway": vm.manage_gateway,
        "storage_ip": vm.storage_ip,
        "storage_cidr": vm.storage_cidr,
        "storage_gateway": vm.storage_gateway,
        "host_uuid": host.uuid,
        "host_ip": host.ip,
        "host_name": host.name,
        "status": vm.status,
        "progress": _deploy_progress(w, vm.machine_uuid, vm.uuid, speed),
        "ctime": vm.ctime,
    }


@route("POST", "/v1/cluster/deploy/storage_service/vm", "start deploying a storage-service VM (host task)")
def deploy_storage_vm(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    vm_type = p.req_str("vm_type", choices=STORAGE_VM_TYPES)
    manage = p.cidr("manage_cidr")
    manage_gateway = p.req_ip("manage_gateway")
    storage = p.cidr("storage_cidr")
    storage_gateway = p.req_ip("storage_gateway")
    check_gateway("manage_gateway", manage_gateway, manage, "manage_cidr")
    check_gateway("storage_gateway", storage_gateway, storage, "storage_cidr")
    vm, task = ops.deploy_storage_vm(w, cluster, vm_type, manage, manage_gateway, storage, storage_gateway)
    return dict(storage_vm_view(w, vm, sim.speed), task_id=task.id)


def _storage_vm(w: World, cluster: Cluster, key: str) -> StorageVm:
    vm = w.storage_vms.get(key)
    if vm is None or vm.cluster_uuid != cluster.uuid:
        raise not_found(Code.STORAGE_VM_NOT_FOUND, "storage-service VM", "存储服务虚拟机", key)
    return vm


@route("GET", "/v1/cluster/storage_service/vm/list", "list storage-service VMs (filter_ip, pagination)")
def list_storage_vms(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    ip_filter = p.str("filter_ip", required=False) or ""
    page_num, page_size = page_params(p)
    vms = [v for v in w.cluster_storage_vms(cluster) if ip_filter in v.manage_ip or ip_filter in v.storage_ip]
    return {
        "total_count": len(vms),
        "list": [storage_vm_view(w, v, sim.speed) for v in paginate(vms, page_num, page_size)],
    }


@route("POST", "/v1/cluster/storage_service/vm/delete", "delete a storage-service VM")
def delete_storage_vm(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    vm = _storage_vm(w, cluster, p.req_str("uuid"))
    p.str("name", required=False)
    ops.delete_storage_vm(w, vm, p.bool("force"), sim.speed)
    return {"uuid": vm.uuid, "name": vm.name}


# --- host tasks ------------------------------------------------------------------------------
@route("GET", "/v1/cluster/host/task/progress", "progress of the latest task of a host (or of a VM being deployed)")
def task_progress(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    key = p.req_str("host_uuid")
    if key in w.hosts:
        host = w.cluster_host(cluster, key, "host_uuid", uuid_only=True)
        return task_view(w, w.tasks.get(host.uuid), sim.speed)
    vm = w.cvms.get(key) or w.storage_vms.get(key)
    if vm is None or vm.cluster_uuid != cluster.uuid:
        raise not_found(Code.HOST_NOT_FOUND, "host or VM", "主机或虚拟机", key)
    task = w.tasks.get(vm.machine_uuid)
    if task is not None and task.target_uuid == vm.uuid:
        return task_view(w, task, sim.speed)
    # the deploy task was replaced by a later task on the same host: the VM is deployed
    view = task_view(w, None, sim.speed)
    view.update(progress=1.0, status="finished", host_uuid=vm.machine_uuid, host_ip=w.hosts[vm.machine_uuid].ip,
                target_uuid=vm.uuid, task_type="deploy_cvm" if vm.uuid in w.cvms else "deploy_storage_vm")
    return view
