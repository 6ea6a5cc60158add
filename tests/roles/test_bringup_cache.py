"""cluster_bringup and the run's cache (issue 23, item 5), judged by the simulator's request log: a no-op run
resolves each cluster name once and its verification reads nothing the converge did not; the cache can be turned
off; the verification still names what is missing."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from conftest import Sim

CLUSTERS = [{"name": "cache-a", "seed_ip": "192.0.2.11", "drs": {"enabled": True, "threshold_level": "normal"}},
            {"name": "cache-b", "seed_ip": "198.51.100.11",
             "cvms": [{"host": "tos-b1", "address": "198.51.100.101/24", "gateway": "198.51.100.1"}],
             "snapshot_policy": {"interval": "6h", "daemon": "started"}}]
NO_SETTINGS = {"cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}}


@pytest.fixture(scope="module")
def converged(sim: Sim) -> Sim:
    sim.reset()
    run = sim.playbook("bringup.yml", extra_vars=dict(NO_SETTINGS, cluster_bringup_clusters=CLUSTERS))
    assert run.rc == 0, run
    return sim


def noop(sim: Sim, **extra: Any) -> tuple[Any, list[dict[str, Any]]]:
    sim.control("DELETE", "requests")
    run = sim.playbook("bringup.yml", extra_vars=dict(NO_SETTINGS, cluster_bringup_clusters=CLUSTERS, **extra))
    assert run.rc == 0, run
    return run, sim.control("GET", "requests")["requests"]


def count(log: list[dict[str, Any]], path: str) -> int:
    return sum(1 for entry in log if entry["path"] == path)


def test_a_noop_resolves_each_name_once_and_verify_reads_nothing_new(converged: Sim) -> None:
    run, log = noop(converged)
    assert [e for e in log if e["method"] != "GET"] == []
    assert count(log, "/v1/cluster/list") == 1  # one listing for both names and every task
    assert count(log, "/v1/cluster/get") == 2  # each cluster's topology once (cluster, cvm)
    assert count(log, "/v1/cluster/cloud/manage") == 1  # cache-b's center node (cvm, snapshot_policy)
    # nothing changed: every cluster was found as asked by the converge tasks' reads, none is read back
    assert "Verify what this run changed" in run.out and "is converged" not in run.out


def test_a_cluster_the_run_gave_a_vm_is_read_back_from_the_cache(converged: Sim) -> None:
    more = [CLUSTERS[0], dict(CLUSTERS[1], cvms=CLUSTERS[1]["cvms"] + [
        {"host": "tos-b2", "address": "198.51.100.102/24", "gateway": "198.51.100.1"}])]
    converged.control("DELETE", "requests")
    run = converged.playbook("bringup.yml", extra_vars=dict(NO_SETTINGS, cluster_bringup_clusters=more))
    assert run.rc == 0, run
    log = converged.control("GET", "requests")["requests"]
    deploy = next(e["seq"] for e in log if e["path"] == "/v1/cluster/deploy/cvm")
    # after the deploy (which cleared the run's cache) the CVM's wait and the verification read the cluster again
    assert any(e["path"] == "/v1/cluster/cloud/manage" and e["seq"] > deploy for e in log)
    # what was read ahead before the deploy is never answered after it: the settings are asked again
    for path in ("/v1/cluster/compute/service/drsconfig/get", "/v1/cluster/data/snapshot/config/inspect",
                 "/v1/cluster/data/daemon/state"):
        assert [e["seq"] > deploy for e in log if e["path"] == path] == [False, True], path
    assert "Cluster cache-b (" in run.out and "198.51.100.102" in run.out and "is converged" in run.out
    assert "Cluster cache-a (" not in run.out  # unchanged: not read back


def requests_made(log: list[dict[str, Any]]) -> Counter:
    return Counter((e["method"], e["path"], json.dumps(e.get("query") or {}, sort_keys=True)) for e in log)


def test_the_read_ahead_sends_the_same_requests_and_the_later_tasks_none(converged: Sim) -> None:
    run, log = noop(converged)
    _run, without = noop(converged, tos_cloud_read_ahead=[])
    assert requests_made(log) == requests_made(without)  # not one request more, none twice
    assert max(requests_made(log).values()) == 1
    assert "tos_cloud_read_ahead" not in run.out


def test_a_distant_manager_is_asked_the_later_tasks_reads_at_once(converged: Sim) -> None:
    """Every answer 0.1 s late: one after the other, 23 requests arrive at least 0.1 s apart; read ahead, the reads of
    the converge tasks arrive together while the first API task runs."""
    converged.control("POST", "faults", {"kind": "latency", "seconds": 0.1, "path": "/v1/*"})
    try:
        _run, log = noop(converged)
        _run, without = noop(converged, tos_cloud_read_ahead=[])
    finally:
        converged.control("DELETE", "faults")
    assert requests_made(log) == requests_made(without)

    def together(entries: list[dict[str, Any]]) -> int:
        times = sorted(e["time"] for e in entries)
        return sum(1 for a, b in zip(times, times[1:], strict=False) if b - a < 0.05)

    assert together(without) == 0
    assert together(log) >= 3  # cache-a's and cache-b's topology and DRS at once, then the snapshot policy's two


def test_without_the_cache_every_task_asks(converged: Sim) -> None:
    _run, log = noop(converged, cluster_bringup_run_cache=False)
    # cluster x2, cvm, drs_config, snapshot_policy: each resolves its cluster itself
    assert count(log, "/v1/cluster/list") == 5
    assert [e for e in log if e["method"] != "GET"] == []


def test_verify_names_what_is_missing(converged: Sim) -> None:
    """The verification alone (nothing converged) against a description with a CVM the cluster does not have."""
    want = [dict(CLUSTERS[1], cvms=CLUSTERS[1]["cvms"] + [
        {"host": "tos-b3", "address": "198.51.100.103/24", "gateway": "198.51.100.1"}])]
    path = converged.tmp / "verify-only.yml"
    path.write_text(json.dumps([{
        "name": "verify only", "hosts": "tos_api", "gather_facts": False,
        "module_defaults": {"group/tos.cloud.api": {"api_url": converged.url}},
        "tasks": [{"ansible.builtin.include_role": {"name": "tos.cloud.cluster_bringup", "tasks_from": "verify"},
                   "vars": {"cluster_bringup_clusters": want, "tos_cloud_run_cache": True,
                            # as if this run had deployed a CVM of cache-b
                            "cluster_bringup_cvm_results": {"results": [
                                {"changed": True, "cluster_bringup_vm": [want[0], want[0]["cvms"][1]]}]}}}]}]))
    run = converged.playbook(str(path))
    assert run.rc != 0, run
    assert "Cluster cache-b does not hold what was asked for: cloud-management VM(s) 198.51.100.103 missing " \
           "(the cluster has 198.51.100.101, 198.51.100.102)" in run.out, run
