"""The one-click inspection: start, progress, stop (all three answer the same shape)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import inspection, readings
from ..errors import ApiError, Code
from ..params import Params
from . import route

if TYPE_CHECKING:
    from ..core import Simulator


@route("POST", "/v1/cluster/inspection", "start an inspection (error if one is running)")
def start(sim: Simulator, p: Params) -> dict[str, Any]:
    w = sim.world
    cluster = w.cluster(p.req_str("cluster_uuid"))
    name = p.req_str("cluster_name")
    checks = {c: p.bool(f"check_{c}") for c in inspection.CATEGORIES}
    if not any(checks.values()) and readings.current().has("codes"):
        raise ApiError(
            Code.INVALID_PARAMETER,
            "nothing to inspect: at least one of 'check_system', 'check_network', 'check_hardware' must be true",
            "没有检测项：'check_system'、'check_network'、'check_hardware' 至少有一个必须为 true",
        )
    inspection.start(w, cluster, name, checks)
    return inspection.view(cluster, w.now(), sim.speed)


@route("GET", "/v1/cluster/inspection/progress", "progress and (partial) result of the latest inspection")
def progress(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    return inspection.view(cluster, sim.world.now(), sim.speed)


@route("POST", "/v1/cluster/inspection/stop", "stop the running inspection (no-op if none runs)")
def stop(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    p.req_str("cluster_name")
    inspection.stop(sim.world, cluster, sim.speed)
    return inspection.view(cluster, sim.world.now(), sim.speed)
