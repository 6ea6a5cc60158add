"""Scenario 9: playbooks/drift.yml (the drift_report role) over the three demo clusters and over the 50 clusters of
the large fixture: wall time, CPU time of the process tree, requests, tasks and task executions (a loop item is one),
every run checked (the report in sync, nothing mutating). Beside each report its floor: ansible-playbook running
the same tasks with the same loop items as empty ``debug`` tasks, interleaved with the reports (so load hits both);
and the cost of one more cluster, (50-cluster - 3-cluster) / 47, for the report and for the floor. And the
lookups: requests of a play that asks four questions from 20 hosts, against the same play without the cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..common import BENCH, ROOT, Ansible, BenchError, Phase, Sim, check_playbook, is_mutating, ratio, summary

DRIFT = ROOT / "playbooks" / "drift.yml"
BRINGUP = ROOT / "playbooks" / "bringup.yml"
LOOKUPS = BENCH / "playbooks" / "lookups.yml"
LARGE = 50
HOSTS_PER_CLUSTER = 20
LOOKUP_HOSTS = 20
SMALL = 3
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


def executions(run) -> int:
    """Task executions of a run: each loop item counts, a skipped task does not."""
    return sum(t.get("items") or int(any(h.get("status") != "skipped" for h in t["hosts"].values()))
               for t in run.tasks)


def report(ansible: Ansible, sim: Sim, workdir: Path, what: str, checks: int, *args: str) -> tuple[Any, int]:
    """One drift report, checked: in sync, every check made, no mutating request. The run and its requests."""
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
    return run, len(sent)


def floor_playbook(workdir: Path, run, name: str) -> Path:
    """The report's tasks as empty tasks: one ``debug`` per task that ran, looped over as many items."""
    tasks = []
    for i, task in enumerate(run.tasks):
        if not task.get("items") and all(h.get("status") == "skipped" for h in task["hosts"].values()):
            continue
        entry: dict[str, Any] = {"name": "floor %d" % i, "ansible.builtin.debug": {"msg": "{{ floor_item | default(0) }}"}}
        if task.get("items"):
            entry.update(loop="{{ range(%d) | list }}" % task["items"], loop_control={"loop_var": "floor_item"})
        tasks.append(entry)
    path = workdir / ("drift-floor-%s.yml" % name)
    # JSON is YAML: no YAML library needed
    path.write_text(json.dumps([{"name": "The floor of the drift report", "hosts": "tos_api", "gather_facts": False,
                                 "tasks": tasks}], indent=1))
    return path


def floor(ansible: Ansible, workdir: Path, playbook: Path) -> Any:
    run = ansible.playbook(playbook, inventory=inventory(workdir, 1), timeout=600)
    check_playbook(run, "the floor playbook %s" % playbook.name)
    return run


def measure(ansible: Ansible, sim: Sim, workdir: Path, name: str, checks: int, series: dict[str, list[float]],
            *args: str) -> None:
    """A report, then its floor (the same tasks, empty): wall, CPU, requests, tasks, executions, load average."""
    load = os.getloadavg()[0]
    run, sent = report(ansible, sim, workdir, "the drift report over %s clusters" % name, checks, *args)
    base = floor(ansible, workdir, floor_playbook(workdir, run, name))
    for key, value in (("wall", run.wall), ("cpu", run.cpu), ("requests", sent), ("tasks", len(run.tasks)),
                       ("executions", executions(run)), ("floor_wall", base.wall), ("floor_cpu", base.cpu),
                       ("floor_executions", executions(base)), ("load", max(load, os.getloadavg()[0]))):
        series.setdefault(key, []).append(value)


def _slope(big: dict[str, Any], small: dict[str, Any]) -> float | None:
    if not big.get("n") or not small.get("n"):
        return None
    return (big["median"] - small["median"]) / (LARGE - SMALL)


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
    small: dict[str, list[float]] = {}
    large: dict[str, list[float]] = {}
    lookups: dict[str, list[float]] = {"cached": [], "uncached": [], "wall_cached": [], "wall_uncached": []}
    with Sim(speed=200) as sim:
        log("  bringing up the demo cloud (not timed)")
        built = ansible.playbook(BRINGUP, api_url=sim.url, inventory=inventory(work, 1), timeout=600)
        check_playbook(built, "the demo bring-up", min_changed=1)
        i = 0
        while phase.more(i, iterations, minimum=1):
            i += 1
            log("  drift report over the %d demo clusters and its floor %d/%d" % (SMALL, i, iterations))
            measure(ansible, sim, work, str(SMALL), 21, small)
            for cache in (True, False):
                wall, sent = lookup_requests(ansible, sim, work, cache)
                lookups["cached" if cache else "uncached"].append(sent)
                lookups["wall_cached" if cache else "wall_uncached"].append(wall)
    fixture = large_fixture(work)
    with Sim(speed=200, fixture=fixture) as sim:
        desc = work / ("drift-%d-description.json" % LARGE)
        desc.write_text(json.dumps(description(sim.state())))
        checks = LARGE * 5  # cluster, its CVM, DRS, global config, snapshot policy
        i = 0
        while phase.more(i, iterations, minimum=1):
            i += 1
            log("  drift report over %d clusters and its floor %d/%d" % (LARGE, i, iterations))
            measure(ansible, sim, work, str(LARGE), checks, large, "-e", "@%s" % desc)
    data = {str(SMALL): {k: summary(v) for k, v in small.items()}, str(LARGE): {k: summary(v) for k, v in large.items()},
            "lookups": {k: summary(v) for k, v in lookups.items()}}
    data["slope"] = {k: _slope(data[str(LARGE)].get(k, {}), data[str(SMALL)].get(k, {}))
                     for k in ("wall", "cpu", "floor_wall", "floor_cpu", "requests", "executions")}
    rows = [report_row(data[str(SMALL)], "Drift report, %d demo clusters (21 checks)" % SMALL, "(measure)", None)]
    big = data[str(LARGE)]
    rows.append(report_row(big, "Drift report, %d clusters of %d hosts (%d checks)" % (LARGE, HOSTS_PER_CLUSTER, checks),
                           "< %.0f s" % GOAL_LARGE, None if not big["wall"].get("n") else big["wall"]["median"] < GOAL_LARGE))
    rows.append({"scenario": 9, "title": "Drift report, %d clusters: CPU of the process tree" % LARGE, "measure": "CPU s",
                 "ours": big["cpu"], "reference": big["floor_cpu"], "reference_label": "floor",
                 "ratio": ratio(big["cpu"], big["floor_cpu"]), "ratio_label": "report / floor",
                 "goal": "< %.0f s on 2 cores" % GOAL_LARGE,
                 "met": None if not big["cpu"].get("n") else big["cpu"]["median"] < GOAL_LARGE,
                 "note": "load average (1 min) during the runs: %s" % _fmt(big["load"].get("median"))})
    slope = data["slope"]
    rows.append({"scenario": 9, "title": "Drift report, cost of one more cluster (%d to %d clusters)" % (SMALL, LARGE),
                 "measure": "wall s", "ours": _point(slope["wall"]), "reference": _point(slope["floor_wall"]),
                 "reference_label": "floor", "ratio": _div(slope["wall"], slope["floor_wall"]),
                 "ratio_label": "report / floor", "goal": "(measure)", "met": None,
                 "note": "per cluster: CPU s %s (floor %s), requests %s, task executions %s" % (
                     _fmt(slope["cpu"]), _fmt(slope["floor_cpu"]), _fmt(slope["requests"]), _fmt(slope["executions"]))})
    rows.append(
        {"scenario": 9, "title": "Lookup requests per play, %d hosts x 4 lookups" % LOOKUP_HOSTS, "measure": "requests",
         "ours": data["lookups"]["cached"], "reference": data["lookups"]["uncached"], "reference_label": "cache=false",
         "ratio": ratio(data["lookups"]["cached"], data["lookups"]["uncached"]),
         "ratio_label": "cached / uncached", "goal": "one per distinct question", "met": None,
         "note": "wall s cached %s, uncached %s" % (_fmt(data["lookups"]["wall_cached"].get("median")),
                                                    _fmt(data["lookups"]["wall_uncached"].get("median")))})
    return data, rows


def report_row(d: dict[str, Any], title: str, goal: str, met: bool | None) -> dict[str, Any]:
    """Wall time against the floor's, with CPU, requests, tasks, executions and the load in the note."""
    med = {k: v.get("median") for k, v in d.items()}
    return {"scenario": 9, "title": title, "measure": "wall s", "ours": d.get("wall", {"n": 0}),
            "reference": d.get("floor_wall", {"n": 0}), "reference_label": "floor",
            "ratio": ratio(d.get("wall", {}), d.get("floor_wall", {})), "ratio_label": "report / floor",
            "goal": goal, "met": met,
            "note": "CPU s %s (floor %s); requests %s (reads only: no mutating request, checked on the simulator's "
                    "log); %s tasks, %s task executions (floor: the same, as empty debug tasks); load average "
                    "(1 min) %s" % (_fmt(med.get("cpu")), _fmt(med.get("floor_cpu")), _fmt(med.get("requests")),
                                    _fmt(med.get("tasks")), _fmt(med.get("executions")), _fmt(med.get("load")))}


def _point(value: float | None) -> dict[str, Any]:
    return summary([] if value is None else [value])


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return "%.3g" % value if abs(value) < 100 else "%.0f" % value
    return "%d" % value
