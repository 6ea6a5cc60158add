"""The simulator's state model: plain dataclasses that serialise to JSON as they are.

Nested values (networks, disks, versions, configs) stay plain dicts and lists so that
``dataclasses.asdict`` and ``Cls(**d)`` are the whole (de)serialisation.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

SERVICE_TYPES = ("compute", "storage", "cloud")

T = TypeVar("T")


@dataclass
class Host:
    """A physical KVM host of the fixture."""

    uuid: str
    name: str
    group: str
    management: dict[str, Any]  # {"ip", "prefix", "nic", "mtu", "mac"}
    storage: dict[str, Any]
    backup: dict[str, Any]
    cpu_cores: int
    cpu_usage: float  # percent, the host's own load without the system VMs deployed on it
    memory_total: int  # bytes
    memory_used: int  # bytes, without the system VMs deployed on it
    disks: list[dict[str, Any]]  # {"name", "type": ssd|hdd, "role": data|cache, "size", "used"}
    type_version: dict[str, str]  # installed service versions: compute/storage/cloud
    backups: list[dict[str, Any]]  # compute/version/list entries
    labels: dict[str, str]
    vms: dict[str, int]  # guest VMs by state (running, shutoff, paused, ...)
    io: dict[str, int]  # net_riops ... disk_wiowait (cluster/top)
    os: dict[str, str]  # os, platform, platform_family, platform_version, kernel_version
    boot_time: int
    procs: int
    ctime: int
    cpu_baseline: str = "Westmere"
    status: str = "up"  # up | down
    maintenance: bool = False
    iommu: bool = False
    cluster_uuid: str | None = None

    @property
    def ip(self) -> str:
        return str(self.management["ip"])

    @property
    def up(self) -> bool:
        return self.status == "up"


@dataclass
class Cvm:
    """A cloud-management VM ("center" node) deployed on a host."""

    uuid: str
    name: str
    cluster_uuid: str
    machine_uuid: str
    address: str  # CIDR, e.g. 192.0.2.101/24
    gateway: str
    ctime: int
    etcd_id: str
    status: str = "deploying"  # deploying | running

    @property
    def ip(self) -> str:
        return self.address.split("/")[0]


@dataclass
class StorageVm:
    """A storage-service VM (vm_type GST, the access service) deployed on a host."""

    uuid: str
    name: str
    cluster_uuid: str
    machine_uuid: str
    vm_type: str
    manage_cidr: str
    manage_gateway: str
    storage_cidr: str
    storage_gateway: str
    ctime: int
    status: str = "deploying"  # deploying | running

    @property
    def manage_ip(self) -> str:
        return self.manage_cidr.split("/")[0]

    @property
    def storage_ip(self) -> str:
        return self.storage_cidr.split("/")[0]


@dataclass
class Task:
    """A host task: a deploy or an upgrade. Progress is computed from wall-clock time."""

    id: str
    kind: str  # deploy_cvm | deploy_storage_vm | upgrade
    cluster_uuid: str
    host_uuid: str
    target_uuid: str  # the VM being deployed, or the host for an upgrade
    start: float  # simulated wall-clock seconds
    duration: float  # seconds at speed 1.0
    status: str = "running"  # running | finished | failed | cancelled
    end: float | None = None
    final_progress: float | None = None
    fail_at: float | None = None
    message_en: str = ""
    message_cn: str = ""
    service_types: list[str] = field(default_factory=list)
    from_versions: dict[str, str] = field(default_factory=dict)
    to_version: str = ""
    # what host/task/progress answered for the host before this task (readings.progress_lag): None, no task
    previous_progress: float | None = None


@dataclass
class Cluster:
    uuid: str
    name: str
    desc: str
    ctime: int
    seed_ip: str
    hosts: list[str]  # host uuids, in join order (TopoHostNode "ID")
    drs: dict[str, Any]
    dpm: dict[str, Any]
    global_config: dict[str, float]
    snapshot_config: dict[str, Any]
    license_expire_date: int
    leader: str | None = None  # uuid of the leader CVM
    snapshots: list[str] = field(default_factory=list)
    daemon_state: str = "running"
    inspection: dict[str, Any] | None = None
    tenants: list[str] = field(default_factory=list)


def to_dict(obj: Any) -> dict[str, Any]:
    """A shallow view of the fields (nested values are JSON-ready already); serialise it
    right away, do not keep it."""
    return dict(vars(obj))


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
