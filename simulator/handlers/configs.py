"""DRS/DPM configuration and the global over-allocation thresholds."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import readings
from ..errors import ApiError, Code, invalid, missing_one_of
from ..model import Cluster
from ..ops import GLOBAL_CONFIG_FIELDS
from ..params import Params
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

DRS_INT_FIELDS = {
    "MaxStep": (1, 100),
    "MaxConcurrentMigration": (1, 100),
    "MaxHostConcurrentMigration": (1, 100),
    "ThresholdLevel": (1, 5),
    "MinBenefitLevel": (1, 5),
}


def drs_view(cluster: Cluster) -> dict[str, Any]:
    return {"config": {"DRS": dict(cluster.drs), "DPM": dict(cluster.dpm)}}


@route("GET", "/v1/cluster/compute/service/drsconfig/get", "DRS and DPM configuration")
def drs_get(sim: Simulator, p: Params) -> dict[str, Any]:
    return drs_view(sim.world.cluster(p.req_str("cluster_uuid")))


@route("POST", "/v1/cluster/compute/service/drsconfig/update", "update DRS and/or DPM (fields not sent are kept)")
def drs_update(sim: Simulator, p: Params) -> dict[str, Any]:
    cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    p.str("cluster_name", required=False)
    config = p.obj("config")
    assert config is not None
    drs_in, dpm_in = config.obj("DRS", required=False), config.obj("DPM", required=False)
    if drs_in is None and dpm_in is None:
        raise missing_one_of("config.DRS", "config.DPM")
    drs, dpm = dict(cluster.drs), dict(cluster.dpm)
    if drs_in is not None:
        if drs_in.has("Enabled"):
            drs["Enabled"] = drs_in.bool("Enabled")
        for key, (low, high) in DRS_INT_FIELDS.items():
            if drs_in.has(key):
                drs[key] = drs_in.int(key, minimum=low, maximum=high)
        if drs["MaxHostConcurrentMigration"] > drs["MaxConcurrentMigration"]:
            raise invalid(
                "config.DRS.MaxHostConcurrentMigration",
                "must not exceed MaxConcurrentMigration",
                "不能大于 MaxConcurrentMigration",
            )
    if dpm_in is not None:
        if dpm_in.has("Enabled"):
            dpm["Enabled"] = dpm_in.bool("Enabled")
        for key in ("HighThreshold", "LowThreshold"):
            if dpm_in.has(key):
                # the table: "0~100%"; the example sends 0.8/0.45. Fractions only with 'codes'
                high = 1.0 if readings.current().has("codes") else 100.0
                dpm[key] = dpm_in.float(key, minimum=0.0, maximum=high)
        if dpm["LowThreshold"] >= dpm["HighThreshold"]:
            raise invalid(
                "config.DPM.LowThreshold",
                f"must be lower than HighThreshold ({dpm['HighThreshold']})",
                f"必须小于 HighThreshold（{dpm['HighThreshold']}）",
            )
    cluster.drs, cluster.dpm = drs, dpm
    return drs_view(cluster)


def global_view(cluster: Cluster) -> dict[str, Any]:
    return {"cluster_uuid": cluster.uuid, **cluster.global_config}


def _cluster_by_ip(sim: Simulator, ip: str) -> Cluster:
    w = sim.world
    host = w.host_by_ip.get(ip)
    if host is not None and host.cluster_uuid:
        return w.clusters[host.cluster_uuid]
    for cvm in w.cvms.values():
        if cvm.ip == ip:
            return w.clusters[cvm.cluster_uuid]
    raise ApiError(
        Code.CLUSTER_NOT_FOUND,
        f"no cluster has a host or center node with IP {ip}",
        f"没有集群包含 IP 为 {ip} 的主机或 center 节点",
    )


@route("GET", "/v1/cluster/get/global/config", "the over-allocation thresholds")
def global_get(sim: Simulator, p: Params) -> dict[str, Any]:
    return global_view(sim.world.cluster(p.req_str("cluster_uuid")))


@route("POST", "/v1/cluster/set/global/config", "set some or all over-allocation thresholds")
def global_set(sim: Simulator, p: Params) -> dict[str, Any]:
    if p.has("cluster_uuid") or not p.has("ip"):
        cluster = sim.world.cluster(p.req_str("cluster_uuid"))
    else:
        cluster = _cluster_by_ip(sim, p.req_ip("ip"))
    given = {key: p.float(key, minimum=0.0, maximum=100.0) for key in GLOBAL_CONFIG_FIELDS if p.has(key)}
    if not given:
        raise missing_one_of(*GLOBAL_CONFIG_FIELDS)
    for key, value in given.items():
        if value <= 0:
            raise invalid(key, "must be greater than 0", "必须大于 0")
    cluster.global_config.update(given)
    return global_view(cluster)
