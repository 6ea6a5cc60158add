"""Upgrade packages and rolling upgrades: compute/version/upgrade (host tasks),
upgrade_package/list, upgrade_package/current/inspect, compute/version/list (backups)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ops
from ..errors import ApiError, Code
from ..model import SERVICE_TYPES, Host
from ..params import Params
from . import route

if TYPE_CHECKING:
    from ..core import Simulator


@route("POST", "/v1/system/compute/version/upgrade", "upgrade service types on hosts (one task per host)")
def upgrade(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    items: list[tuple[Host, str]] = []
    for i, raw in enumerate(p.list("list")):
        item = p.item("list", i, raw)
        host_ip = item.req_ip("host_ip")
        service_type = item.req_str("service_type", choices=SERVICE_TYPES)
        host = w.host_by_ip.get(host_ip)
        if host is None:
            raise ApiError(Code.HOST_NOT_FOUND, f"no known host has the management IP {host_ip} ({item.name('host_ip')})",
                           f"没有管理 IP 为 {host_ip} 的已知主机（{item.name('host_ip')}）")
        items.append((w.cluster_host(cluster, host.uuid, item.name("host_ip"), uuid_only=True), service_type))
    return {"list": ops.start_upgrade(w, cluster, items)}


def _package_list(sim: Simulator) -> list[dict[str, Any]]:
    return [dict(sim.world.upgrade_package)] if sim.world.upgrade_package else []


@route("GET", "/v1/system/upgrade_package/list", "packages and the installed versions of every host")
def package_list(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    package = w.upgrade_package
    hosts = w.cluster_hosts(cluster)
    entries = []
    for host in hosts:
        behind = package is not None and any(v != package["version"] for v in host.type_version.values())
        entries.append(
            {
                "host_ip": host.ip,
                "type_version": dict(host.type_version),
                "upgrade_package_list": [dict(package)] if behind and package else [],
            }
        )
    return {"package_list": _package_list(sim) or None, "host_list": [h.ip for h in hosts], "list": entries}


@route("GET", "/v1/system/upgrade_package/current/inspect", "the current (uploaded) upgrade package")
def current_package(sim: Simulator, p: Params) -> dict[str, Any]:
    sim.world.cluster(p.req_str("cluster_uuid"))
    package = sim.world.upgrade_package
    if not package:
        raise ApiError(Code.NO_UPGRADE_PACKAGE, "no upgrade package has been uploaded", "尚未上传升级包")
    return dict(package)


@route("GET", "/v1/system/compute/version/list", "backup packages of a host (one per upgrade)")
def backup_list(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    host_ip = p.req_ip("host_ip")
    host = w.host_by_ip.get(host_ip)
    if host is None:
        raise ApiError(Code.HOST_NOT_FOUND, f"no known host has the management IP {host_ip}", f"没有管理 IP 为 {host_ip} 的已知主机")
    host = w.cluster_host(cluster, host.uuid, "host_ip", uuid_only=True)
    return {"list": sorted((dict(b) for b in host.backups), key=lambda b: (b["update_time"], b["version"]))}
