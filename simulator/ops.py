"""State-changing operations of the platform, shared by the handlers and the fixture loader.

Every function validates what only the state can tell (unknown host, name taken, host busy...)
and raises :class:`ApiError`; request-format validation happens in the handlers.
"""
from __future__ import annotations

import hashlib
import ipaddress
import time
import uuid as uuidlib
from typing import Any

from . import readings
from .errors import ApiError, Code, not_found
from .model import Cluster, Cvm, Host, StorageVm, Task
from .state import World

#: seconds each long operation takes at --speed 1.0
DURATIONS: dict[str, float] = {
    "deploy_cvm": 20.0,
    "deploy_storage_vm": 20.0,
    "upgrade": 30.0,  # per host, whatever the number of service types
    "inspection": 15.0,
}
#: the start-up values, restored by a reset
DEFAULT_DURATIONS: dict[str, float] = dict(DURATIONS)

DEFAULT_DRS: dict[str, Any] = {
    "Enabled": True,
    "MaxStep": 4,
    "MaxConcurrentMigration": 4,
    "MaxHostConcurrentMigration": 2,
    "ThresholdLevel": 3,
    "MinBenefitLevel": 3,
}
DEFAULT_DPM: dict[str, Any] = {"Enabled": False, "HighThreshold": 0.8, "LowThreshold": 0.45}
GLOBAL_CONFIG_FIELDS = (
    "StorOverAllocationThreshold",
    "CPUOverAllocationThreshold",
    "MemOverAllocationThreshold",
    "USDOverAllocationThreshold",
)
DEFAULT_GLOBAL_CONFIG: dict[str, float] = {
    "StorOverAllocationThreshold": 0.9,
    "CPUOverAllocationThreshold": 0.8,
    "MemOverAllocationThreshold": 0.8,
    "USDOverAllocationThreshold": 0.9,
}
LICENSE_DAYS = 365

# resources a system VM takes on its host (used by the statistics)
CVM_VCPUS, CVM_MEMORY = 8, 16 * 1024**3
STORAGE_VM_VCPUS, STORAGE_VM_MEMORY = 4, 8 * 1024**3
GUEST_VCPUS, GUEST_MEMORY = 2, 4 * 1024**3


def new_uuid() -> str:
    return str(uuidlib.uuid4())


# --- clusters ------------------------------------------------------------------------------
def add_cluster(w: World, ip: str, name: str, desc: str, cluster_uuid: str | None = None) -> Cluster:
    seed = w.host_by_ip.get(ip)
    if seed is None:
        raise ApiError(
            Code.HOST_NOT_FOUND,
            f"no known host has the management IP {ip}",
            f"没有管理 IP 为 {ip} 的已知主机",
        )
    if seed.cluster_uuid is not None:
        owner = w.clusters[seed.cluster_uuid].name
        raise ApiError(
            Code.HOST_IN_CLUSTER,
            f"host {ip} ({seed.name}) already belongs to cluster '{owner}'",
            f"主机 {ip}（{seed.name}）已属于集群 '{owner}'",
        )
    if not seed.up:
        raise ApiError(Code.HOST_DOWN, f"host {ip} ({seed.name}) is down", f"主机 {ip}（{seed.name}）已宕机")
    for cluster in w.clusters.values():
        if cluster.name == name:
            raise ApiError(
                Code.CLUSTER_NAME_EXISTS,
                f"a cluster named '{name}' already exists ({cluster.uuid})",
                f"名为 '{name}' 的集群已存在（{cluster.uuid}）",
            )
    ctime = int(w.now())
    cluster = Cluster(
        uuid=cluster_uuid or new_uuid(),
        name=name,
        desc=desc,
        ctime=ctime,
        seed_ip=ip,
        hosts=[],
        drs=dict(DEFAULT_DRS),
        dpm=dict(DEFAULT_DPM),
        global_config=dict(DEFAULT_GLOBAL_CONFIG),
        snapshot_config={"duration": 3600, "MTime": ctime, "DisplayOption": "hour"},
        license_expire_date=ctime + LICENSE_DAYS * 86400,
    )
    # the seed and every free host of its group (the hosts reachable from it) join
    members = [seed] + [
        h for h in w.hosts.values() if h.group == seed.group and h.cluster_uuid is None and h is not seed
    ]
    for host in members:
        host.cluster_uuid = cluster.uuid
        cluster.hosts.append(host.uuid)
    w.clusters[cluster.uuid] = cluster
    return cluster


def delete_cluster(w: World, cluster: Cluster, force: bool) -> None:
    cvms = w.cluster_cvms(cluster)
    vms = w.cluster_storage_vms(cluster)
    busy = [t for t in w.tasks.values() if t.cluster_uuid == cluster.uuid and t.status == "running"]
    # the documents give 'force' but no refusal: the refusal (2005) is the 'codes' extension
    if (cvms or vms or busy) and not force and readings.current().has("codes"):
        raise ApiError(
            Code.CLUSTER_NOT_EMPTY,
            f"cluster '{cluster.name}' still has {len(cvms)} cloud-management VM(s), {len(vms)} "
            f"storage-service VM(s) and {len(busy)} running task(s): delete them first or set force=true",
            f"集群 '{cluster.name}' 仍有 {len(cvms)} 个云管虚拟机、{len(vms)} 个存储服务虚拟机和 "
            f"{len(busy)} 个运行中的任务：请先删除，或设置 force=true 强制删除",
        )
    for cvm in cvms:
        del w.cvms[cvm.uuid]
    for vm in vms:
        del w.storage_vms[vm.uuid]
    for task in busy:
        _cancel(w, task, 1.0)
    for host_uuid in cluster.hosts:
        w.hosts[host_uuid].cluster_uuid = None
        w.tasks.pop(host_uuid, None)
    del w.clusters[cluster.uuid]


# --- tasks ---------------------------------------------------------------------------------
def _ensure_free(w: World, host: Host) -> None:
    if not host.up:
        raise ApiError(Code.HOST_DOWN, f"host {host.ip} ({host.name}) is down", f"主机 {host.ip}（{host.name}）已宕机")
    task = w.running_task(host.uuid)
    if task is not None:
        raise ApiError(
            Code.HOST_BUSY,
            f"host {host.ip} ({host.name}) is busy with a running {task.kind} task ({task.id})",
            f"主机 {host.ip}（{host.name}）正在执行任务 {task.kind}（{task.id}）",
        )


def _start_task(w: World, kind: str, cluster: Cluster, host: Host, target: str, **extra: Any) -> Task:
    task = Task(
        id=new_uuid(),
        kind=kind,
        cluster_uuid=cluster.uuid,
        host_uuid=host.uuid,
        target_uuid=target,
        start=w.now(),
        duration=DURATIONS[kind],
        **extra,
    )
    previous = w.tasks.get(host.uuid)
    if previous is not None:
        task.previous_progress = previous.final_progress if previous.final_progress is not None else 1.0
    w.tasks[host.uuid] = task  # replaces the host's previous (finished) task
    return task


def task_progress(task: Task, now: float, speed: float) -> float:
    if task.final_progress is not None:
        return task.final_progress
    return min(1.0, max(0.0, (now - task.start) * speed / task.duration))


def _cancel(w: World, task: Task | None, speed: float) -> None:
    if task is not None and task.status == "running":
        task.final_progress = task_progress(task, w.now(), speed)
        task.status = "cancelled"
        task.end = w.now()
        task.message_en = "cancelled: the VM was deleted"
        task.message_cn = "已取消：虚拟机已被删除"


def _check_address_free(w: World, iface: ipaddress.IPv4Interface, param: str) -> None:
    if str(iface.ip) in w.addresses_in_use():
        raise ApiError(
            Code.ADDRESS_IN_USE,
            f"address {iface.ip} ('{param}') is already used by a host or VM",
            f"地址 {iface.ip}（'{param}'）已被主机或虚拟机占用",
        )


# --- cloud-management VMs --------------------------------------------------------------------
def deploy_cvm(
    w: World, cluster: Cluster, host: Host, iface: ipaddress.IPv4Interface, gateway: str
) -> tuple[Cvm, Task]:
    if "compute" not in host.type_version:
        raise ApiError(
            Code.SERVICE_NOT_INSTALLED,
            f"host {host.ip} ({host.name}) has no compute service to run a cloud-management VM",
            f"主机 {host.ip}（{host.name}）未安装计算服务，无法运行云管虚拟机",
        )
    for cvm in w.cvms.values():
        if cvm.machine_uuid == host.uuid:
            raise ApiError(
                Code.CVM_EXISTS,
                f"host {host.ip} ({host.name}) already carries cloud-management VM {cvm.ip} ({cvm.status})",
                f"主机 {host.ip}（{host.name}）上已有云管虚拟机 {cvm.ip}（{cvm.status}）",
            )
    _ensure_free(w, host)
    _check_address_free(w, iface, "Networks[0].Addr")
    vm_uuid = new_uuid()
    cvm = Cvm(
        uuid=vm_uuid,
        name=f"LCM{vm_uuid}",
        cluster_uuid=cluster.uuid,
        machine_uuid=host.uuid,
        address=str(iface),
        gateway=gateway,
        ctime=int(w.now()),
        etcd_id=hashlib.sha1(vm_uuid.encode()).hexdigest()[:16],
    )
    w.cvms[cvm.uuid] = cvm
    return cvm, _start_task(w, "deploy_cvm", cluster, host, cvm.uuid)


def find_cvm(w: World, cluster: Cluster, key: str) -> Cvm:
    """A CVM of the cluster by its own uuid or by the uuid of the host it runs on."""
    for cvm in w.cluster_cvms(cluster):
        if key in (cvm.uuid, cvm.machine_uuid):
            return cvm
    raise not_found(Code.CVM_NOT_FOUND, "cloud-management VM", "云管虚拟机", key)


def delete_cvm(w: World, cluster: Cluster, cvm: Cvm, speed: float) -> None:
    task = w.tasks.get(cvm.machine_uuid)
    if task is not None and task.target_uuid == cvm.uuid:
        _cancel(w, task, speed)
    del w.cvms[cvm.uuid]
    if cluster.leader == cvm.uuid:
        elect_leader(w, cluster)


def elect_leader(w: World, cluster: Cluster) -> None:
    running = w.cluster_cvms(cluster, running_only=True)
    cluster.leader = running[0].uuid if running else None


# --- storage-service VMs ------------------------------------------------------------------
def deploy_storage_vm(
    w: World,
    cluster: Cluster,
    vm_type: str,
    manage: ipaddress.IPv4Interface,
    manage_gateway: str,
    storage: ipaddress.IPv4Interface,
    storage_gateway: str,
) -> tuple[StorageVm, Task]:
    if manage.ip == storage.ip:
        raise ApiError(
            Code.ADDRESS_IN_USE,
            f"manage_cidr and storage_cidr use the same address {manage.ip}",
            f"manage_cidr 与 storage_cidr 使用了相同的地址 {manage.ip}",
        )
    _check_address_free(w, manage, "manage_cidr")
    _check_address_free(w, storage, "storage_cidr")
    hosts = [h for h in w.cluster_hosts(cluster) if "storage" in h.type_version]
    if not hosts:
        raise ApiError(
            Code.NO_AVAILABLE_HOST,
            f"no host of cluster '{cluster.name}' has the storage service",
            f"集群 '{cluster.name}' 中没有安装存储服务的主机",
        )
    free = [h for h in hosts if h.up and w.running_task(h.uuid) is None]
    if not free:
        raise ApiError(
            Code.NO_AVAILABLE_HOST,
            f"every storage host of cluster '{cluster.name}' is down or busy with a task",
            f"集群 '{cluster.name}' 的存储主机均已宕机或正在执行任务",
        )
    load = {h.uuid: 0 for h in free}
    for vm in w.storage_vms.values():
        if vm.machine_uuid in load:
            load[vm.machine_uuid] += 1
    order = {u: i for i, u in enumerate(cluster.hosts)}
    host = min(free, key=lambda h: (load[h.uuid], order[h.uuid]))
    names = {vm.name for vm in w.storage_vms.values()}
    stamp = int(w.now())
    while f"{vm_type}{stamp}" in names:
        stamp += 1
    vm = StorageVm(
        uuid=new_uuid(),
        name=f"{vm_type}{stamp}",
        cluster_uuid=cluster.uuid,
        machine_uuid=host.uuid,
        vm_type=vm_type,
        manage_cidr=str(manage),
        manage_gateway=manage_gateway,
        storage_cidr=str(storage),
        storage_gateway=storage_gateway,
        ctime=int(w.now()),
    )
    w.storage_vms[vm.uuid] = vm
    return vm, _start_task(w, "deploy_storage_vm", cluster, host, vm.uuid)


def delete_storage_vm(w: World, vm: StorageVm, force: bool, speed: float) -> None:
    task = w.tasks.get(vm.machine_uuid)
    deploying = task is not None and task.target_uuid == vm.uuid and task.status == "running"
    if deploying and not force:
        raise ApiError(
            Code.TASK_RUNNING,
            f"storage-service VM {vm.name} is still being deployed: set force=true to cancel and delete it",
            f"存储服务虚拟机 {vm.name} 正在部署中：设置 force=true 以取消部署并删除",
        )
    if deploying:
        _cancel(w, task, speed)
    del w.storage_vms[vm.uuid]


# --- upgrades ------------------------------------------------------------------------------
def start_upgrade(w: World, cluster: Cluster, items: list[tuple[Host, str]]) -> list[dict[str, Any]]:
    package = w.upgrade_package
    if not package:
        raise ApiError(Code.NO_UPGRADE_PACKAGE, "no upgrade package has been uploaded", "尚未上传升级包")
    per_host: dict[str, list[str]] = {}
    for host, service_type in items:
        if service_type not in host.type_version:
            raise ApiError(
                Code.SERVICE_NOT_INSTALLED,
                f"service type '{service_type}' is not installed on host {host.ip} ({host.name})",
                f"主机 {host.ip}（{host.name}）未安装服务类型 '{service_type}'",
            )
        types = per_host.setdefault(host.uuid, [])
        if service_type not in types:
            types.append(service_type)
    for host_uuid in per_host:
        _ensure_free(w, w.hosts[host_uuid])
    result = []
    for host_uuid, types in per_host.items():
        host = w.hosts[host_uuid]
        failure = w.upgrade_failures.pop(host_uuid, None)
        task = _start_task(
            w,
            "upgrade",
            cluster,
            host,
            host.uuid,
            service_types=types,
            from_versions={t: host.type_version[t] for t in types},
            to_version=str(package["version"]),
            fail_at=failure["at"] if failure else None,
            message_en=failure["message_en"] if failure else "",
            message_cn=failure["message_cn"] if failure else "",
        )
        for service_type in types:
            result.append(
                {
                    "host_ip": host.ip,
                    "host_uuid": host.uuid,
                    "service_type": service_type,
                    "from_version": host.type_version[service_type],
                    "to_version": task.to_version,
                    "task_id": task.id,
                }
            )
    return result


def _backup_entry(host: Host, version: str, when: float) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d_%H%M", time.gmtime(when))
    digest = hashlib.md5(f"{host.uuid}/{version}/{int(when)}".encode()).hexdigest()
    return {
        "package_name": f"backup_{version}_{stamp}.tar.gz",
        "md5": digest,
        "version": version,
        "update_time": int(when),
        "size": 134_000_000 + int(digest[:5], 16),
    }


def finish_task(w: World, task: Task, end: float) -> None:
    task.status = "finished"
    task.final_progress = 1.0
    task.end = end
    if task.kind == "deploy_cvm":
        cvm = w.cvms.get(task.target_uuid)
        if cvm is not None:
            cvm.status = "running"
            cluster = w.clusters[cvm.cluster_uuid]
            if cluster.leader is None:
                cluster.leader = cvm.uuid
    elif task.kind == "deploy_storage_vm":
        vm = w.storage_vms.get(task.target_uuid)
        if vm is not None:
            vm.status = "running"
    elif task.kind == "upgrade":
        host = w.hosts[task.host_uuid]
        for old in dict.fromkeys(task.from_versions.values()):
            host.backups.append(_backup_entry(host, old, end))
        for service_type in task.service_types:
            host.type_version[service_type] = task.to_version


def _fail(w: World, task: Task, at: float, end: float) -> None:
    task.status = "failed"
    task.final_progress = at
    task.end = end
    host = w.hosts[task.host_uuid]
    if not task.message_en:
        task.message_en = f"upgrade failed on host {host.ip} ({host.name})"
    if not task.message_cn:
        task.message_cn = f"主机 {host.ip}（{host.name}）升级失败"


def tick_tasks(w: World, speed: float) -> bool:
    """Finish or fail the tasks whose time has come. Returns whether state changed."""
    now = w.now()
    changed = False
    for task in w.tasks.values():
        if task.status != "running":
            continue
        progress = task_progress(task, now, speed)
        if task.fail_at is not None and progress >= task.fail_at:
            _fail(w, task, task.fail_at, task.start + task.duration * task.fail_at / speed)
            changed = True
        elif progress >= 1.0:
            finish_task(w, task, task.start + task.duration / speed)
            changed = True
    return changed


# --- metadata snapshots --------------------------------------------------------------------------
def center_cvm(w: World, cluster: Cluster, ip: str) -> Cvm:
    centers = w.cluster_cvms(cluster, running_only=True)
    for cvm in centers:
        if cvm.ip == ip:
            return cvm
    if not centers:
        raise ApiError(
            Code.NOT_CENTER_NODE,
            f"cluster '{cluster.name}' has no center node yet: deploy a cloud-management VM first",
            f"集群 '{cluster.name}' 尚无 center 节点：请先部署云管虚拟机",
        )
    known = ", ".join(c.ip for c in centers)
    raise ApiError(
        Code.NOT_CENTER_NODE,
        f"ip {ip} is not a center node of cluster '{cluster.name}' (center nodes: {known})",
        f"ip {ip} 不是集群 '{cluster.name}' 的 center 节点（center 节点：{known}）",
    )


def snapshot_time(name: str) -> int:
    return int(name[len("snapshot") : -len(".db")])


def save_snapshot(w: World, cluster: Cluster) -> str:
    existing = set(cluster.snapshots)
    stamp = int(w.now())
    while f"snapshot{stamp}.db" in existing:
        stamp += 1
    name = f"snapshot{stamp}.db"
    cluster.snapshots.append(name)
    cluster.snapshots.sort(key=snapshot_time)
    return name


def delete_snapshot(cluster: Cluster, name: str) -> None:
    if name not in cluster.snapshots:
        raise not_found(Code.SNAPSHOT_NOT_FOUND, "metadata snapshot", "元数据快照", name)
    cluster.snapshots.remove(name)
