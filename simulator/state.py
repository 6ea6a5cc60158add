"""The whole simulated platform (`World`), its clock, look-ups and persistence.

State mutations are synchronous (aiohttp runs one event loop); the state file is written
atomically (temp file + ``os.replace``) and always before a mutating request is answered.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ApiError, Code, not_found
from .model import Cluster, Cvm, Host, StorageVm, Task, from_dict, to_dict

log = logging.getLogger("simulator")

STATE_FORMAT = 1


@dataclass
class World:
    """Everything the platform knows. Serialises to the state file and to GET /_sim/state."""

    hosts: dict[str, Host]
    manager: dict[str, Any]  # {"members": [...], "leader": ip|None, "ready": bool}
    platform_version: str
    upgrade_package: dict[str, Any] | None
    mail: dict[str, Any]
    settings: dict[str, Any]
    clusters: dict[str, Cluster] = field(default_factory=dict)
    cvms: dict[str, Cvm] = field(default_factory=dict)
    storage_vms: dict[str, StorageVm] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)  # latest task of each host, by host uuid
    upgrade_failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # host uuid ->
    clock_offset: float = 0.0
    name_counter: int = 0  # for storage-VM names that must stay unique

    def __post_init__(self) -> None:
        self.reindex()

    # --- indices (derived, never persisted) -------------------------------------------
    def reindex(self) -> None:
        self.host_by_ip: dict[str, Host] = {}
        self.host_by_name: dict[str, Host] = {}
        self.host_addresses: set[str] = set()
        for host in self.hosts.values():
            self.host_by_ip[host.ip] = host
            self.host_by_name[host.name] = host
            for net in (host.management, host.storage, host.backup):
                self.host_addresses.add(str(net["ip"]))

    # --- clock -------------------------------------------------------------------------
    def now(self) -> float:
        """Simulated wall-clock seconds (real time plus what /_sim/time advanced)."""
        return time.time() + self.clock_offset

    # --- look-ups ----------------------------------------------------------------------
    def cluster(self, uuid: str) -> Cluster:
        found = self.clusters.get(uuid)
        if found is None:
            raise not_found(Code.CLUSTER_NOT_FOUND, "cluster", "集群", uuid)
        return found

    def cluster_hosts(self, cluster: Cluster) -> list[Host]:
        return [self.hosts[u] for u in cluster.hosts]

    def cluster_cvms(self, cluster: Cluster, running_only: bool = False) -> list[Cvm]:
        cvms = [c for c in self.cvms.values() if c.cluster_uuid == cluster.uuid]
        if running_only:
            cvms = [c for c in cvms if c.status == "running"]
        return sorted(cvms, key=lambda c: (c.ctime, c.uuid))

    def cluster_storage_vms(self, cluster: Cluster) -> list[StorageVm]:
        vms = [v for v in self.storage_vms.values() if v.cluster_uuid == cluster.uuid]
        return sorted(vms, key=lambda v: (v.ctime, v.name))

    def find_host(self, key: str) -> Host | None:
        """A physical host by uuid, management IP or name."""
        return self.hosts.get(key) or self.host_by_ip.get(key) or self.host_by_name.get(key)

    def cluster_host(self, cluster: Cluster, key: str, param: str, uuid_only: bool = False) -> Host:
        """A host of the cluster by uuid (or, unless uuid_only, management IP or name)."""
        host = self.hosts.get(key) if uuid_only else self.find_host(key)
        if host is None:
            raise not_found(Code.HOST_NOT_FOUND, "host", "主机", key)
        if host.cluster_uuid != cluster.uuid:
            raise ApiError(
                Code.HOST_NOT_IN_CLUSTER,
                f"host '{key}' (parameter '{param}') is not a member of cluster '{cluster.name}'",
                f"主机 '{key}'（参数 '{param}'）不属于集群 '{cluster.name}'",
            )
        return host

    def addresses_in_use(self) -> set[str]:
        used = set(self.host_addresses)
        used.update(self.manager.get("members", []))
        for cvm in self.cvms.values():
            used.add(cvm.ip)
        for vm in self.storage_vms.values():
            used.add(vm.manage_ip)
            used.add(vm.storage_ip)
        return used

    def running_task(self, host_uuid: str) -> Task | None:
        task = self.tasks.get(host_uuid)
        return task if task is not None and task.status == "running" else None

    # --- (de)serialisation ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "hosts": {k: to_dict(v) for k, v in self.hosts.items()},
            "manager": self.manager,
            "platform_version": self.platform_version,
            "upgrade_package": self.upgrade_package,
            "mail": self.mail,
            "settings": self.settings,
            "clusters": {k: to_dict(v) for k, v in self.clusters.items()},
            "cvms": {k: to_dict(v) for k, v in self.cvms.items()},
            "storage_vms": {k: to_dict(v) for k, v in self.storage_vms.items()},
            "tasks": {k: to_dict(v) for k, v in self.tasks.items()},
            "upgrade_failures": self.upgrade_failures,
            "clock_offset": self.clock_offset,
            "name_counter": self.name_counter,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> World:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported state file format {data.get('format')!r}")
        return cls(
            hosts={k: from_dict(Host, v) for k, v in data["hosts"].items()},
            manager=data["manager"],
            platform_version=data["platform_version"],
            upgrade_package=data["upgrade_package"],
            mail=data["mail"],
            settings=data["settings"],
            clusters={k: from_dict(Cluster, v) for k, v in data["clusters"].items()},
            cvms={k: from_dict(Cvm, v) for k, v in data["cvms"].items()},
            storage_vms={k: from_dict(StorageVm, v) for k, v in data["storage_vms"].items()},
            tasks={k: from_dict(Task, v) for k, v in data["tasks"].items()},
            upgrade_failures=data.get("upgrade_failures", {}),
            clock_offset=float(data.get("clock_offset", 0.0)),
            name_counter=int(data.get("name_counter", 0)),
        )


class StateFile:
    """Atomic persistence of a World to one JSON file."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path else None

    def load(self) -> World | None:
        if self.path is None or not self.path.exists():
            return None
        with self.path.open("rb") as fh:
            return World.from_json(json.load(fh))

    def save(self, world: World) -> None:
        if self.path is None:
            return
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(world.to_json(), fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
