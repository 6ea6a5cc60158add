"""Figures derived from the state: host usage including the system VMs it carries, VM counts,
allocation. Every statistics endpoint and the inspection read them from here."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .model import Cluster, Host
from .ops import (
    CVM_MEMORY,
    CVM_VCPUS,
    GUEST_MEMORY,
    GUEST_VCPUS,
    STORAGE_VM_MEMORY,
    STORAGE_VM_VCPUS,
)
from .state import World

VM_STATES = (
    "no_state",
    "running",
    "blocked",
    "paused",
    "shutdown",
    "shutoff",
    "crashed",
    "pmsuspend",
    "cloning",
    "save",
    "migrating",
    "pending",
    "importing",
    "unknown",
    "restoring",
)
SYSTEM_VM_CPU_PERCENT = 1.5  # CPU load one system VM adds to its host


class Metrics:
    """Per-request view of the usage figures (indexes the system VMs by host once)."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.cvms: dict[str, int] = Counter(c.machine_uuid for c in w.cvms.values())
        self.storage_vms: dict[str, int] = Counter(v.machine_uuid for v in w.storage_vms.values())

    def system_vms(self, host: Host) -> int:
        return self.cvms.get(host.uuid, 0) + self.storage_vms.get(host.uuid, 0)

    def cpu_usage(self, host: Host) -> float:
        """Percent (0-100)."""
        if not host.up:
            return 0.0
        return min(100.0, host.cpu_usage + SYSTEM_VM_CPU_PERCENT * self.system_vms(host))

    def mem_used(self, host: Host) -> int:
        if not host.up:
            return 0
        used = (
            host.memory_used
            + CVM_MEMORY * self.cvms.get(host.uuid, 0)
            + STORAGE_VM_MEMORY * self.storage_vms.get(host.uuid, 0)
        )
        return min(host.memory_total, used)

    def mem_usage(self, host: Host) -> float:
        """Percent (0-100)."""
        return 100.0 * self.mem_used(host) / host.memory_total if host.memory_total else 0.0

    @staticmethod
    def disk_total(host: Host, role: str | None = None) -> int:
        return sum(int(d["size"]) for d in host.disks if role is None or d.get("role") == role)

    @staticmethod
    def disk_used(host: Host, role: str | None = None) -> int:
        return sum(int(d["used"]) for d in host.disks if role is None or d.get("role") == role)

    def disk_usage(self, host: Host) -> float:
        """Percent (0-100) of the data disks."""
        total = self.disk_total(host, "data")
        return 100.0 * self.disk_used(host, "data") / total if total else 0.0

    def vm_states(self, host: Host) -> dict[str, int]:
        states = {s: int(host.vms.get(s, 0)) for s in VM_STATES}
        states["running"] += self.system_vms(host)
        return states

    def vm_count(self, host: Host) -> int:
        return sum(self.vm_states(host).values())

    def vcpus(self, host: Host) -> int:
        guests = sum(int(n) for n in host.vms.values())
        return (
            GUEST_VCPUS * guests
            + CVM_VCPUS * self.cvms.get(host.uuid, 0)
            + STORAGE_VM_VCPUS * self.storage_vms.get(host.uuid, 0)
        )

    def vmem(self, host: Host) -> int:
        guests = sum(int(n) for n in host.vms.values())
        return (
            GUEST_MEMORY * guests
            + CVM_MEMORY * self.cvms.get(host.uuid, 0)
            + STORAGE_VM_MEMORY * self.storage_vms.get(host.uuid, 0)
        )

    # --- aggregates ----------------------------------------------------------------------
    def state_summary(self, hosts: Iterable[Host]) -> dict[str, int]:
        totals = Counter[str]()
        for host in hosts:
            totals.update(self.vm_states(host))
        summary: dict[str, int] = {"total": sum(totals.values())}
        for state in VM_STATES:
            summary[f"{state}_count"] = totals.get(state, 0)
        return summary

    def usage_ratio(self, hosts: list[Host]) -> dict[str, Any]:
        cores = sum(h.cpu_cores for h in hosts)
        memory = sum(h.memory_total for h in hosts)
        vcpus = sum(self.vcpus(h) for h in hosts)
        vmem = sum(self.vmem(h) for h in hosts)
        return {
            "Cpu": {"Ratio": round(vcpus / cores, 4) if cores else 0, "Logical": vcpus, "Physical": cores},
            "Mem": {"Ratio": round(vmem / memory, 4) if memory else 0, "Logical": vmem, "Physical": memory},
        }

    def storage_allocated(self, cluster: Cluster) -> int:
        """Each system VM has a system and a data volume on the converged storage."""
        per_vm = 100 * 1024**3 + 200 * 1024**3  # system + data volume
        return per_vm * (len(self.w.cluster_cvms(cluster)) + len(self.w.cluster_storage_vms(cluster)))

    @staticmethod
    def storage_pools(hosts: list[Host]) -> list[dict[str, Any]]:
        """One pool per disk type found on the data disks of the storage hosts."""
        pools: dict[str, dict[str, Any]] = {}
        for host in hosts:
            if "storage" not in host.type_version:
                continue
            for disk in host.disks:
                if disk.get("role") != "data":
                    continue
                pool = pools.setdefault(
                    disk["type"], {"name": f"pool-{disk['type']}", "total_size": 0, "used": 0}
                )
                pool["total_size"] += int(disk["size"])
                pool["used"] += int(disk["used"])
        for pool in pools.values():
            pool["usage"] = round(pool["used"] / pool["total_size"], 6) if pool["total_size"] else 0.0
        return sorted(pools.values(), key=lambda p: p["name"])
