"""Scenario 9: playbooks/drift.yml (the drift_report role) over the three demo clusters and over the 50 clusters of
the large fixture: wall time and requests, every run checked (the report in sync, nothing mutating). And the
lookups: requests of a play that asks four questions from 20 hosts, against the same play without the cache."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..common import BENCH, ROOT, Ansible, BenchError, Phase, Sim, check_playbook, is_mutating, summary

DRIFT = ROOT / "playbooks" / "drift.yml"
BRINGUP = ROOT / "playbooks" / "bringup.yml"
LOOKUPS = BENCH / "playbooks" / "lookups.yml"
LARGE = 50
HOSTS_PER_CLUSTER = 20
LOOKUP_HOSTS = 20
GOAL_LARGE = 30.0  # seconds (issue 22): the report over 50 clusters


def large_fixture(workdir: Path) -> Path:
    path = workdir / ("drift-%d.json" % LARGE)
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", str(LARGE), "--hosts-per-cluster",
                    str(HOSTS_PER_CLUSTER), "--precreate", "-o", str(path)], cwd=ROOT, check=True)
    return path


def description(state: dict[str, Any]) -> dict[str, Any]:
    """The cluster_bringup description of the precreated clusters, as they are (so the report is in sync)."""
    hosts = state["hosts"]
    clusters = []
    for cluster in sorted(state["clusters"].values(), key=lambda c: c["name"]):
        cvms = [c for c in state["cvms"].values() if c["cluster_uuid"] == cluster["uuid"]]
        gc = cluster["global_config"]
        clusters.append({
            "name": cluster["name"],
            "seed_ip": hosts[cluster["hosts"][0]]["management"]["ip"],
            "cvms": [{"host": hosts[c["machine_uuid"]]["name"], "address": c["address"], "gateway": c["gateway"]}
                     for c in cvms],
            "drs": {"enabled": cluster["drs"]["Enabled"], "threshold_level": cluster["drs"]["ThresholdLevel"]},
            "global_config": {"cpu": gc["CPUOverAllocationThreshold"], "memory": gc["MemOverAllocationThreshold"]},
            "snapshot_policy": {"interval": cluster["snapshot_config"]["duration"],
                                "daemon": "started" if cluster["daemon_state"] == "running" else "stopped"},
        })
    return {"cluster_bringup_clusters": clusters, "cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}}


def inventory(workdir: Path, hosts: int) -> Path:
    path = workdir / ("drift-inventory-%d.ini" % hosts)
    names = ["localhost"] if hosts == 1 else ["h%02d" % i for i in range(hosts)]
    # as playbooks/inventory/demo.ini, the documented way to run the playbooks: local connection, pipelining
    path.write_text("[tos_api]\n" + "\n".join(
        "%s ansible_connection=local ansible_pipelining=true ansible_python_interpreter=%s" % (n, sys.executable)
        for n in names) + "\n")
    return path


def report(ansible: Ansible, sim: Sim, workdir: Path, what: str, checks: int, *args: str) -> tuple[float, int]:
    """One drift report, checked: in sync, every check made, no mutating request. Wall seconds and requests."""
    out = workdir / "report"
    since = sim.last_seq()
    run = ansible.playbook(DRIFT, "-e", "drift_report_dir=%s" % out, *args, api_url=sim.url,
                           inventory=inventory(workdir, 1), timeout=600)
    check_playbook(run, what)
    sent = sim.requests(since)
    mutating = [r["path"] for r in sent if is_mutating(r)]
    if mutating:
        raise BenchError("%s sent mutating requests: %s" % (what, mutating[:5]))
    model = json.loads((out / "report.json").read_text())
    if model["status"] != "in_sync" or model["summary"]["checks"] != checks:
        raise BenchError("%s: status %s, %d checks (expected in sync, %d): %s" % (
            what, model["status"], model["summary"]["checks"], checks, model["drifted"][:5]))
    return run.wall, len(sent)


def lookup_requests(ansible: Ansible, sim: Sim, workdir: Path, cache: bool) -> tuple[float, int]:
    since = sim.last_seq()
    run = ansible.playbook(LOOKUPS, "-f", "5", "-e", "bench_cluster=demo-a", "-e", "bench_host=tos-b2",
                           "-e", "lookup_cache=%s" % cache, api_url=sim.url, inventory=inventory(workdir, LOOKUP_HOSTS),
                           env={"TOS_LOOKUP_CACHE_DIR": str(workdir / "lookup-cache")})
    check_playbook(run, "the lookups play (cache %s)" % cache)
    return run.wall, len(sim.requests(since))


def run(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "drift"
    work.mkdir(parents=True, exist_ok=True)
    small: dict[str, list[float]] = {"wall": [], "requests": []}
    large: dict[str, list[float]] = {"wall": [], "requests": []}
    lookups: dict[str, list[float]] = {"cached": [], "uncached": [], "wall_cached": [], "wall_uncached": []}
    with Sim(speed=200) as sim:
        log("  bringing up the demo cloud (not timed)")
        built = ansible.playbook(BRINGUP, api_url=sim.url, inventory=inventory(work, 1), timeout=600)
        check_playbook(built, "the demo bring-up", min_changed=1)
        i = 0
        while phase.more(i, iterations, minimum=1):
            i += 1
            log("  drift report over the 3 demo clusters %d/%d" % (i, iterations))
            wall, sent = report(ansible, sim, work, "the drift report over 3 clusters", 21)
            small["wall"].append(wall)
            small["requests"].append(sent)
            for cache in (True, False):
                wall, sent = lookup_requests(ansible, sim, work, cache)
                lookups["cached" if cache else "uncached"].append(sent)
                lookups["wall_cached" if cache else "wall_uncached"].append(wall)
    with Sim(speed=200, fixture=large_fixture(work)) as sim:
        desc = work / "drift-50.json"
        desc.write_text(json.dumps(description(sim.state())))
        checks = LARGE * 5  # cluster, its CVM, DRS, global config, snapshot policy
        i = 0
        while phase.more(i, iterations, minimum=1):
            i += 1
            log("  drift report over %d clusters %d/%d" % (LARGE, i, iterations))
            wall, sent = report(ansible, sim, work, "the drift report over %d clusters" % LARGE, checks, "-e", "@%s" % desc)
            large["wall"].append(wall)
            large["requests"].append(sent)
    data = {"3": {k: summary(v) for k, v in small.items()}, str(LARGE): {k: summary(v) for k, v in large.items()},
            "lookups": {k: summary(v) for k, v in lookups.items()}}
    big = data[str(LARGE)]["wall"]
    rows = [
        {"scenario": 9, "title": "Drift report, 3 demo clusters (21 checks)", "measure": "wall s",
         "ours": data["3"]["wall"], "goal": "(measure)", "met": None,
         "note": "requests per report: %s (reads only; no mutating request, checked on the simulator's log)" % (
             data["3"]["requests"].get("median"))},
        {"scenario": 9, "title": "Drift report, %d clusters of %d hosts (%d checks)" % (LARGE, HOSTS_PER_CLUSTER, LARGE * 5),
         "measure": "wall s", "ours": big, "goal": "< %.0f s" % GOAL_LARGE,
         "met": None if not big.get("n") else big["median"] < GOAL_LARGE,
         "note": "requests per report: %s; the report in sync and nothing mutating, checked on every run" % (
             data[str(LARGE)]["requests"].get("median"))},
        {"scenario": 9, "title": "Lookup requests per play, %d hosts x 4 lookups" % LOOKUP_HOSTS, "measure": "requests",
         "ours": data["lookups"]["cached"], "reference": data["lookups"]["uncached"], "reference_label": "cache=false",
         "ratio": (data["lookups"]["cached"]["median"] / data["lookups"]["uncached"]["median"]
                   if data["lookups"]["uncached"].get("n") else None),
         "ratio_label": "cached / uncached", "goal": "one per distinct question", "met": None,
         "note": "wall s cached %s, uncached %s" % (data["lookups"]["wall_cached"].get("median"),
                                                    data["lookups"]["wall_uncached"].get("median"))},
    ]
    return data, rows
