"""Metadata snapshots (save, list, delete), the snapshot daemon and the snapshot policy.

`ip` must be a center (running CVM) node of the cluster; snapshots, daemon state and policy are
kept per cluster (the etcd metadata is the cluster's), whichever center node is asked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ops, readings
from ..errors import invalid
from ..model import Cluster
from ..params import Params
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

DISPLAY_OPTIONS = ("hour", "day", "week")
HOUR = 3600


def meta(snapshots: list[str] | None = None, daemon: str = "", config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "meta_data": {
            "status": {"code": 0, "message": "", "messageCn": "", "stack": None, "desc": "", "UUID": ""},
            "Snapshot": snapshots,
            "DaemonState": daemon,
            "SnapshotConfig": config,
        }
    }


def _center(sim: Simulator, p: Params) -> Cluster:
    cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    ops.center_cvm(sim.world, cluster, p.req_ip("ip"))
    return cluster


@route("POST", "/v1/cluster/data/snapshot/save", "take a metadata snapshot now")
def save(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = _center(sim, p)
    name = ops.save_snapshot(sim.world, cluster)
    return dict(meta(), file_name=name)


@route("POST", "/v1/cluster/data/snapshot/delete", "delete a metadata snapshot")
def delete(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = _center(sim, p)
    name = p.req_str("file_name")
    ops.delete_snapshot(cluster, name)
    return dict(meta(), file_name=name)


@route("GET", "/v1/cluster/data/snapshot/list", "list metadata snapshots (oldest first)")
def list_(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = _center(sim, p)
    name_filter = p.str("file_name", required=False) or ""
    return meta(snapshots=[s for s in cluster.snapshots if name_filter in s])


@route("GET", "/v1/cluster/data/daemon/state", "the snapshot daemon state: running or stopped")
def daemon_state(sim: Simulator, p: Params) -> dict[str, Any]:
    return meta(daemon=_center(sim, p).daemon_state)


@route("POST", "/v1/cluster/data/daemon/start", "start the snapshot daemon")
def daemon_start(sim: Simulator, p: Params) -> dict[str, Any]:
    _center(sim, p).daemon_state = "running"
    return meta()


@route("POST", "/v1/cluster/data/daemon/stop", "stop the snapshot daemon")
def daemon_stop(sim: Simulator, p: Params) -> dict[str, Any]:
    _center(sim, p).daemon_state = "stopped"
    return meta()


@route("GET", "/v1/cluster/data/snapshot/config/inspect", "the snapshot policy")
def config_inspect(sim: Simulator, p: Params) -> dict[str, Any]:
    return meta(config=dict(_center(sim, p).snapshot_config))


@route("POST", "/v1/cluster/data/snapshot/config/update", "set the snapshot policy")
def config_update(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = _center(sim, p)
    display = p.req_str("display_option", choices=DISPLAY_OPTIONS)
    # the documents: "多久备份一次，单位为秒" (seconds, no other rule); whole hours only with 'codes'
    strict_hours = readings.current().has("codes")
    duration = p.int("duration", required=True, minimum=HOUR if strict_hours else 1)
    if strict_hours and duration % HOUR:
        raise invalid("duration", "must be a whole number of hours (a multiple of 3600 seconds)", "必须是整小时数（3600 秒的整数倍）")
    cluster.snapshot_config = {"duration": duration, "MTime": int(sim.world.now()), "DisplayOption": display}
    return meta()
