"""Scenarios 1-3: the no-op converge against the uri reference, requests per no-op, the first converge."""
from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from ..common import (
    BENCH,
    ROOT,
    Ansible,
    BenchError,
    Phase,
    Run,
    Sim,
    ansible_env,
    check_playbook,
    is_mutating,
    summary,
    timed,
)
from . import anatomy

PLAYBOOKS = BENCH / "playbooks"
ROLE = PLAYBOOKS / "bringup.yml"
BASELINE = BENCH / "baseline" / "noop_uri.yml"
FIRST = PLAYBOOKS / "first_converge.yml"
EXTRAS = PLAYBOOKS / "noop_extras.yml"
_TABLE = yaml.safe_load((BENCH / "minimum_requests.yml").read_text())
MINIMUM = _TABLE["modules"]
KNOWN_EXCESS = {(e["module"], e["task"]): e for e in _TABLE.get("known_excess") or []}
# per run kind (the role's no-op, with the run's cache): the requests each module's tasks send in the whole run
CACHED_RUNS = _TABLE.get("cached_runs") or {}
CLUSTERS = ("bench-a", "bench-b", "bench-c")
# deploys take 20 s at speed 1: 0.1 s here, so the first converge measures the modules, not the waiting
SPEED = 200.0
# bring-ups from empty (each followed by no-op runs); the later no-op repetitions reuse the converged state
FIRST_CONVERGES = 2
# seconds the latency fault adds to every /v1 answer in the WAN rows
LATENCY = 0.02


def converged_fixture(path: Path) -> Path:
    """The simulator's default fixture plus the three clusters already in the desired state (for bench-quick,
    which has no time for a bring-up): built from baseline/vars.yml, which holds that state in API terms."""
    fixture = yaml.safe_load((ROOT / "simulator" / "fixtures" / "default.yml").read_text())
    want = yaml.safe_load((BENCH / "baseline" / "vars.yml").read_text())
    clusters = []
    for c in want["tos_clusters"]:
        spec: dict[str, Any] = {"name": c["name"], "seed": c["seed_ip"], "desc": c["desc"],
                                "cvms": c.get("cvms", []), "storage_vms": c.get("storage_vms", [])}
        drs = c.get("drs_config") or {}
        if "DRS" in drs:
            spec["drs"] = drs["DRS"]
        if "DPM" in drs:
            spec["dpm"] = drs["DPM"]
        if c.get("global_config"):
            spec["global_config"] = c["global_config"]
        snap = c.get("snapshot")
        if snap:
            spec["snapshot_config"] = {"duration": snap["duration"], "DisplayOption": snap["display_option"]}
            spec["daemon_state"] = snap["daemon"]
        clusters.append(spec)
    fixture["clusters"] = clusters
    # what the first run of noop_extras.yml does: tos-c1 upgraded to the uploaded package
    target = fixture["upgrade_package"]["version"]
    for group in fixture["groups"]:
        for host in group["hosts"]:
            if host["name"] == "tos-c1":
                kinds = host.get("type_version") or fixture["host_defaults"]["type_version"]
                host["type_version"] = {kind: target for kind in kinds}
    fixture["mail"] = dict(fixture.get("mail") or {}, **want["tos_mail_setting"])
    fixture["settings"] = want["tos_system_settings"]
    path.write_text(json.dumps(fixture))
    return path


def check_converged(sim: Sim) -> None:
    names = {c["cluster_name"]: c for c in sim.clusters()}
    missing = [n for n in CLUSTERS if n not in names]
    if missing:
        raise BenchError("the bring-up left no cluster %s" % ", ".join(missing))
    cvms = {n: len(names[n].get("candidates") or []) for n in CLUSTERS}
    if cvms != {"bench-a": 3, "bench-b": 1, "bench-c": 1}:
        raise BenchError("the bring-up left these CVM counts: %s" % cvms)


def noop_run(ansible: Ansible, sim: Sim, playbook: Path, what: str, *args: str) -> tuple[Run, list[dict[str, Any]]]:
    """A run that must change nothing: changed=0 in the recap and no mutating request in the log."""
    seq = sim.last_seq()
    run = ansible.playbook(playbook, *args, api_url=sim.url, attribute=True, env={"BENCH_RECORD_ARGS": "1"})
    check_playbook(run, what, changed=0)
    requests = [r for r in sim.requests(since=seq) if r["seq"] > seq]
    mutations = [r for r in requests if is_mutating(r)]
    if mutations:
        raise BenchError("%s sent %d mutating request(s): %s" % (
            what, len(mutations), ", ".join("%s %s" % (r["method"], r["path"]) for r in mutations[:5])))
    return run, requests


def tasks_run(run: Run) -> int:
    """Tasks the run executed (not skipped on every host): the floor counts an empty task for each."""
    return sum(1 for t in run.tasks if t["hosts"] and not all(h["status"] == "skipped" for h in t["hosts"].values()))


def round_trip(sim: Sim, count: int = 30) -> float:
    """The physical floor of one request: the median seconds of a GET /v1/system/version on a kept-alive
    connection (the simulator's answer, the loopback, no client library)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    seconds = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", "/v1/system/version")
            conn.getresponse().read()
            seconds.append(time.perf_counter() - start)
    finally:
        conn.close()
    return statistics.median(seconds)


def floor(tasks: int, requests: int, empty_task: float | None, rtt: float | None) -> float | None:
    """An empty task per task executed plus one HTTP round trip per request."""
    if empty_task is None or rtt is None:
        return None
    return tasks * empty_task + requests * rtt


def executions(run: Run, prefixes: tuple[str, ...]) -> int:
    """How many module executions (a process, or a run in the worker) the run had for actions starting with ``prefixes``
    (a loop item is one)."""
    count = 0
    for task in run.tasks:
        if not task["action"].startswith(prefixes):
            continue
        if all(h["status"] == "skipped" for h in task["hosts"].values()):
            continue
        count += task["items"] or 1
    return count


def by_action(run: Run) -> dict[str, dict[str, float]]:
    """Where a run's time goes: per action, how many tasks ran (not skipped), were skipped, and their seconds."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"tasks": 0, "skipped": 0, "executions": 0, "seconds": 0.0})
    for task in run.tasks:
        entry = out[task["action"]]
        if task["hosts"] and all(h["status"] == "skipped" for h in task["hosts"].values()):
            entry["skipped"] += 1
        else:
            entry["tasks"] += 1
            entry["executions"] += task["items"] or 1
        entry["seconds"] += task["duration"]
    gaps = run.record.get("elapsed", 0.0) - sum(t["duration"] for t in run.tasks)
    result = dict(sorted(((k, dict(v, seconds=round(v["seconds"], 3))) for k, v in out.items()),
                         key=lambda kv: -kv[1]["seconds"]))
    result["(between tasks, and start-up)"] = {"seconds": round(gaps + run.wall - run.record.get("elapsed", 0.0), 3)}
    return result


def replay(ansible: Ansible, sim: Sim, workdir: Path, run: Run, name: str, log) -> dict[str, Any]:
    """The run's module invocations again, in one process (bench/replay.py), 3 times: the modules' own cost."""
    invocations = [i for i in run.record.get("invocations") or [] if i["action"].startswith(("tos.cloud.", "ansible.builtin.uri"))]
    path = workdir / ("invocations-%s.json" % name)
    path.write_text(json.dumps(invocations))
    log("  replaying the %d module invocations of the %s run in one process" % (len(invocations), name))
    seconds, imports = [], []
    for _ in range(3):
        seq = sim.last_seq()
        out = timed([sys.executable, str(BENCH / "replay.py"), str(path)], env=ansible_env(workdir, TOS_API_URL=sim.url))
        if out.rc != 0:
            raise BenchError("replay of the %s run failed:\n%s" % (name, out.tail()))
        data = json.loads(out.stdout.strip().splitlines()[-1])
        mutations = [r for r in sim.requests(since=seq) if r["seq"] > seq and is_mutating(r)]
        if data["changed"] or data["failed"] or mutations:
            raise BenchError("replay of the %s run: changed %d, failed %d, %d mutating requests" % (
                name, data["changed"], data["failed"], len(mutations)))
        seconds.append(data["seconds"])
        imports.append(data["imports"])
    prof = anatomy.profile([sys.executable, str(BENCH / "replay.py"), str(path)],
                           ansible_env(workdir, TOS_API_URL=sim.url), workdir / ("replay-%s.prof" % name))
    module_tasks = [t for t in run.tasks if t["action"].startswith(("tos.cloud.", "ansible.builtin.uri"))
                    and not all(h["status"] == "skipped" for h in t["hosts"].values())]
    return {"calls": len(invocations), "seconds": summary(seconds), "imports": summary(imports), "profile": prof,
            "module_task_seconds": sum(t["duration"] for t in module_tasks), "wall": run.wall}


# ---- scenario 2: requests per module ------------------------------------------------------------

def per_module(runs: list[Run], kinds: tuple[str | None, ...] = ()) -> dict[str, dict[str, Any]]:
    """Requests per module against the minimum: ``minimum`` per invocation, or, for a run whose kind is in
    ``cached_runs`` (the role with the run's cache), the module's total for that whole run."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"invocations": 0, "requests": 0, "mutations": 0, "known": 0,
                                                          "per_invocation": [], "paths": defaultdict(int), "excess": [],
                                                          "minimum_total": 0})
    for index, run in enumerate(runs):
        kind = kinds[index] if index < len(kinds) else None
        cached = CACHED_RUNS.get(kind) if kind else None
        sent: dict[str, int] = defaultdict(int)
        for task in run.tasks:
            action = task["action"]
            if not action.startswith("tos.cloud."):
                continue
            if all(h["status"] == "skipped" for h in task["hosts"].values()):
                continue
            module = action.split(".")[-1]
            n = task["items"] or 1
            reqs = task.get("requests") or []
            entry = out[module]
            entry["invocations"] += n
            entry["requests"] += len(reqs)
            entry["mutations"] += sum(1 for r in reqs if is_mutating(r))
            entry["per_invocation"].append(len(reqs) / n)
            for r in reqs:
                entry["paths"][r["path"].replace("/v1/", "", 1)] += 1
            if cached is not None and module in cached:
                sent[module] += len(reqs)
                continue  # compared over the whole run below
            minimum = (MINIMUM.get(module) or {}).get("minimum")
            entry["minimum_total"] += (minimum or 0) * n
            extra = len(reqs) - (minimum or 0) * n
            if extra:
                known = KNOWN_EXCESS.get((module, task["name"]))
                tolerated = known is not None and 0 < extra <= known["requests"] * n
                entry["excess"].append({"task": task["name"], "requests": extra, "known": tolerated})
                if tolerated:
                    entry["known"] += extra
        for module, count in sent.items():
            out[module]["minimum_total"] += cached[module]
            if count != cached[module]:
                out[module]["excess"].append({"task": "(the %s run, with the run's cache)" % kind,
                                              "requests": count - cached[module], "known": False})
    result = {}
    for module, entry in sorted(out.items()):
        minimum = (MINIMUM.get(module) or {}).get("minimum")
        total = None if minimum is None else entry["minimum_total"]
        result[module] = {
            "invocations": entry["invocations"],
            "requests": entry["requests"],
            "per_invocation_max": max(entry["per_invocation"]),
            "minimum": minimum,
            "minimum_total": total,
            "mutations": entry["mutations"],
            "at_minimum": total is not None and entry["requests"] == total,
            "only_known_excess": total is not None and entry["requests"] - entry["known"] == total,
            "excess": entry["excess"],
            "paths": dict(sorted(entry["paths"].items())),
        }
    return result


# ---- scenario 3: per-task time ------------------------------------------------------------------

def task_times(run: Run) -> dict[str, list[float]]:
    """Seconds per executed task (per loop item for loops), keyed by kind: debug, ping, and each tos.cloud module."""
    out: dict[str, list[float]] = defaultdict(list)
    for task in run.tasks:
        action = task["action"]
        if all(h["status"] == "skipped" for h in task["hosts"].values()) or not task["hosts"]:
            continue
        if action in ("ansible.builtin.debug", "debug") and task["name"].startswith("Empty task"):
            kind = "debug"
        elif action in ("ansible.builtin.ping", "ping"):
            kind = "ping"
        elif action.startswith("tos.cloud."):
            kind = action.split(".")[-1]
        else:
            continue
        out[kind].append(task["duration"] / (task["items"] or 1))
    return out


# ---- the phase -----------------------------------------------------------------------------------

def run_quick(ansible: Ansible, workdir: Path, log) -> dict[str, Any]:
    """bench-quick: no time is asserted, so the three no-op runs go in parallel, each against its own simulator
    started with the converged state (no bring-up): the role, the uri reference, and the other modules."""
    import contextlib
    from concurrent.futures import ThreadPoolExecutor

    fixture = converged_fixture(workdir / "converged.json")
    jobs = [("role", ROLE), ("uri", BASELINE), ("extras", EXTRAS)]
    with contextlib.ExitStack() as stack:
        sims = {name: stack.enter_context(Sim(speed=SPEED, fixture=fixture)) for name, _ in jobs}

        def one(name: str, playbook: Path) -> tuple[Run, list[dict[str, Any]]]:
            sim = sims[name]
            args: tuple[str, ...] = ()
            if name == "extras":
                args = ("-e", "bench_b_uuid=%s" % next(
                    c["cluster_uuid"] for c in sim.clusters() if c["cluster_name"] == "bench-b"))
            return noop_run(ansible, sim, playbook, "the no-op run (%s)" % name, *args)

        log("  no-op runs in parallel: %s" % ", ".join(name for name, _ in jobs))
        with ThreadPoolExecutor(len(jobs)) as pool:
            futures = {name: pool.submit(one, name, playbook) for name, playbook in jobs}
            results = {name: future.result() for name, future in futures.items()}
    walls = {name: summary([results[name][0].wall]) for name in ("role", "uri")}
    return {
        "quick": True,
        "walls": walls,
        "cpus": {name: summary([results[name][0].cpu]) for name in ("role", "uri")},
        "paired": {"role": summary([results["uri"][0].wall / results["role"][0].wall])},
        "paired_cpu": {"role": summary([results["uri"][0].cpu / results["role"][0].cpu])},
        "executions": {name: executions(results[name][0], ("tos.cloud.", "ansible.builtin.uri")) for name in ("role", "uri")},
        "requests": {name: len(results[name][1]) for name in ("role", "uri")},
        "modules": per_module([results["role"][0], results["extras"][0]], ("role", None)),
    }


def run(ansible: Ansible, workdir: Path, iterations: int, quick: bool, log, phase: Phase) -> dict[str, Any]:
    if quick:
        return run_quick(ansible, workdir, log)
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    execs: dict[str, int] = {}
    nreq: dict[str, int] = {}
    tasks: dict[str, int] = {}
    first_walls: list[float] = []
    per_task: dict[str, list[float]] = defaultdict(list)
    first_changed: list[int] = []
    attribution: dict[str, Any] = {}
    anatomy_data: dict[str, Any] = {}
    # role_process: the role as 0.1.0 ran it, every API module task a module process (plugins/plugin_utils/in_process.py)
    variants = [("role", ROLE, ()), ("uri", BASELINE, ()), ("role_noverify", ROLE, ("-e", "cluster_bringup_verify=false")),
                ("role_process", ROLE, ("-e", "tos_cloud_in_process=false"))]
    # the same no-op runs against a simulator answering every /v1 request 20 ms late (a manager across a WAN):
    # requests, not CPU, are then the cost (issue 23, item 5)
    slow_variants = [("role_latency", ROLE, ()), ("uri_latency", BASELINE, ())]
    rtts: dict[str, list[float]] = defaultdict(list)
    with Sim(speed=SPEED) as sim, Sim(speed=SPEED, fixture=converged_fixture(workdir / "converged.json")) as slow:
        slow._call("POST", "/_sim/faults", {"kind": "latency", "seconds": LATENCY, "path": "/v1/*"})
        i = 0
        while phase.more(i, iterations, minimum=min(2, iterations)):
            if i < FIRST_CONVERGES and (i == 0 or time.monotonic() + phase.last <= phase.deadline):
                sim.reset()
                log("  first converge %d/%d" % (i + 1, min(iterations, FIRST_CONVERGES)))
                first = ansible.playbook(FIRST, api_url=sim.url)
                check_playbook(first, "the first converge", min_changed=8)  # one changed task per converge step (a step loops over the clusters)
                check_converged(sim)
                first_walls.append(first.wall)
                first_changed.append(first.total("changed"))
                for kind, values in task_times(first).items():
                    per_task[kind].extend(values)
            order = [(sim, v) for v in variants] + [(slow, v) for v in slow_variants]
            order = order if i % 2 == 0 else list(reversed(order))
            for target, (name, playbook, args) in order:
                log("  no-op %s %d/%d" % (name, i + 1, iterations))
                result, requests = noop_run(ansible, target, playbook, "the no-op run (%s)" % name, *args)
                tasks[name] = tasks_run(result)
                walls[name].append(result.wall)
                cpus[name].append(result.cpu)
                execs[name] = executions(result, ("tos.cloud.", "ansible.builtin.uri"))
                nreq[name] = len(requests)
                if i == 0:
                    attribution[name] = result
            if i == 0:
                log("  the other modules")
                extras = ("-e", "bench_b_uuid=%s" % next(
                    c["cluster_uuid"] for c in sim.clusters() if c["cluster_name"] == "bench-b"))
                first_extras = ansible.playbook(EXTRAS, *extras, api_url=sim.url)
                check_playbook(first_extras, "the first run of noop_extras.yml")
                attribution["extras"], _ = noop_run(ansible, sim, EXTRAS, "the second run of noop_extras.yml", *extras)
                anatomy_data = anatomy.run(ansible, sim, workdir, log)
                anatomy_data["replay"] = {"role": replay(ansible, sim, workdir, attribution["role"], "role", log)}
            rtts["normal"].append(round_trip(sim))
            rtts["latency"].append(round_trip(slow))
            i += 1
    modules = per_module([attribution["role"], attribution["extras"]], ("role", None))
    return {
        "by_action": {name: by_action(attribution[name]) for name, _, _ in variants},
        "walls": {k: summary(v) for k, v in walls.items()},
        # uri / role within each repetition (the two runs are next to each other in time): the load of a shared
        # machine changes between repetitions, much less between neighbours
        "paired": {k: summary([u / w for u, w in zip(walls["uri"], walls[k], strict=False)]) for k in walls
                   if k not in ("uri", "uri_latency", "role_latency")},
        "paired_latency": summary([u / w for u, w in zip(walls["uri_latency"], walls["role_latency"], strict=False)]),
        "paired_cpu_latency": summary([u / w for u, w in zip(cpus["uri_latency"], cpus["role_latency"], strict=False)]),
        "tasks": tasks,
        "rtt": {k: summary(v) for k, v in rtts.items()},
        "paired_cpu": {k: summary([u / w for u, w in zip(cpus["uri"], cpus[k], strict=False)]) for k in cpus if k != "uri"},
        "cpus": {k: summary(v) for k, v in cpus.items()},
        "executions": execs,
        "requests": nreq,
        "anatomy": anatomy_data,
        "first": summary(first_walls),
        "first_changed": first_changed,
        "per_task": {k: summary(v) for k, v in sorted(per_task.items())},
        "modules": modules,
    }


def rows(data: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    walls, cpus = data["walls"], data["cpus"]
    out = []
    speedup = data["paired"]["role"]["median"]
    out.append({
        "scenario": 1, "title": "No-op converge, cluster_bringup vs uri", "measure": "wall s (role)",
        "ours": walls["role"], "reference": walls["uri"], "reference_label": "uri playbook",
        "ratio": speedup, "ratio_label": "uri / role (paired)", "goal": ">= 5x faster", "goal_value": 5.0,
        "met": None if quick or speedup is None else speedup >= 5.0,
        "note": "uri / role per repetition %s (the ratio is their median); module executions: role %d, uri %d; requests: "
                "role %d, uri %d; CPU s of the process tree, median: role %.1f, uri %.1f (uri / role %.2f)" % (
                    ", ".join("%.2f" % v for v in data["paired"]["role"]["values"]), data["executions"]["role"],
                    data["executions"]["uri"], data["requests"]["role"], data["requests"]["uri"], cpus["role"]["median"],
                    cpus["uri"]["median"], data["paired_cpu"]["role"]["median"]),
    })
    empty_task = ((data.get("per_task") or {}).get("debug") or {}).get("median")
    rtt = {k: v.get("median") for k, v in (data.get("rtt") or {}).items()}
    tasks = data.get("tasks") or {}

    def floors(role: str, uri: str, where: str) -> str:
        f_role = floor(tasks.get(role, 0), data["requests"].get(role, 0), empty_task, rtt.get(where))
        f_uri = floor(tasks.get(uri, 0), data["requests"].get(uri, 0), empty_task, rtt.get(where))
        if f_role is None or f_uri is None:
            return ""
        return "; floor (an empty task %.3f s per task executed + one round trip %.4f s per request): role %.2f s " \
               "(%d tasks, %d requests; measured / floor %.1f), uri %.2f s (%d tasks, %d requests; %.1f)" % (
                   empty_task, rtt[where], f_role, tasks.get(role, 0), data["requests"][role],
                   walls[role]["median"] / f_role, f_uri, tasks.get(uri, 0), data["requests"][uri],
                   walls[uri]["median"] / f_uri)
    if not quick:
        out[-1]["note"] += floors("role", "uri", "normal")
    if not quick and "role_latency" in walls:
        r = data["paired_latency"]["median"]
        out.append({
            "scenario": 1, "title": "No-op converge, %d ms per answer (latency fault), cluster_bringup vs uri" % (LATENCY * 1000),
            "measure": "wall s (role)", "ours": walls["role_latency"], "reference": walls["uri_latency"],
            "reference_label": "uri playbook", "ratio": r, "ratio_label": "uri / role (paired)", "goal": ">= 5x faster",
            "goal_value": 5.0, "met": None if r is None else r >= 5.0,
            "note": "every /v1 answer 20 ms late (simulator fault latency): requests role %d, uri %d; CPU uri / role %.2f%s" % (
                data["requests"]["role_latency"], data["requests"]["uri_latency"], data["paired_cpu_latency"]["median"],
                floors("role_latency", "uri_latency", "latency")),
        })
    if quick:
        out[0].update(ratio=None, note="bench-quick runs the role, the uri playbook and the other modules in parallel, each "
                       "against its own simulator: it checks that each no-op changes nothing (changed=0, no mutating request) "
                       "and counts requests; its times mean nothing. Module executions: role %d, uri %d; requests: role %d, "
                       "uri %d" % (data["executions"]["role"], data["executions"]["uri"], data["requests"]["role"],
                                   data["requests"]["uri"]))
    if "role_noverify" in walls:
        r = data["paired"]["role_noverify"]["median"]
        out.append({
            "scenario": 1, "title": "No-op converge, cluster_bringup_verify=false vs uri", "measure": "wall s (role)",
            "ours": walls["role_noverify"], "reference": walls["uri"], "reference_label": "uri playbook",
            "ratio": r, "ratio_label": "uri / role (paired)", "goal": "(diagnostic)", "met": None,
            "note": "module executions %d; requests %d; CPU uri / role %.2f" % (
                data["executions"]["role_noverify"], data["requests"]["role_noverify"],
                data["paired_cpu"]["role_noverify"]["median"]),
        })
    an = data.get("anatomy") or {}
    if an.get("global_config") and an.get("uri"):
        ours, ref = an["global_config"], an["uri"]
        imp_o, imp_r = ours["imports"], ref["imports"]
        out.append({
            "scenario": 1, "title": "One module process alone (AnsiballZ run directly): global_config vs uri",
            "measure": "wall s (global_config)",
            "ours": {"median": ours["wall_median"], "min": ours["wall_min"], "max": None, "n": anatomy.REPS},
            "reference": {"median": ref["wall_median"], "n": anatomy.REPS}, "reference_label": "uri",
            "ratio": ref["wall_median"] / ours["wall_median"], "ratio_label": "uri / global_config",
            "goal": "(diagnostic)", "met": None,
            "note": "CPU s median: global_config %.3f, uri %.3f, ping %.3f, bare interpreter %.3f; imports: global_config %.3f s "
                    "(ansible.module_utils.basic %.3f, requests %.3f, tos.cloud module_utils %.3f), uri %.3f s "
                    "(basic %.3f, urls %.3f)" % (
                        ours["cpu_median"], ref["cpu_median"], an["ping"]["cpu_median"], an["interpreter"]["cpu_median"],
                        imp_o.get("(all imports)", 0), imp_o.get("ansible.module_utils.basic", 0),
                        imp_o.get(anatomy.IMPORT_GROUPS["requests"], 0), imp_o.get("tos.cloud module_utils", 0),
                        imp_r.get("(all imports)", 0), imp_r.get("ansible.module_utils.basic", 0),
                        imp_r.get("ansible.module_utils.urls", 0)),
        })
    if an.get("host_facts") and an.get("setup") and an.get("ping"):
        hf, st, pg = an["host_facts"], an["setup"], an["ping"]
        out.append({
            "scenario": 5, "title": "One process alone (AnsiballZ run directly): host_facts as a module vs setup(min)",
            "measure": "CPU s (host_facts)",
            "ours": {"median": hf["cpu_median"], "min": hf["cpu_min"], "max": None, "n": anatomy.REPS},
            "reference": {"median": st["cpu_median"], "n": anatomy.REPS}, "reference_label": "setup min",
            "ratio": hf["cpu_median"] / st["cpu_median"], "ratio_label": "host_facts / setup(min), CPU",
            # the goal row is scenario 5's own (bench/scenarios/facts.py): host_facts runs without AnsiballZ
            "goal": "(diagnostic)", "met": None,
            "note": "the module path (tos_cloud_in_process false); the floor, ping (the smallest module process): %.3f s "
                    "CPU = %.2fx setup(min); host_facts (sample_seconds 0) is %.3f s above it; wall medians: host_facts %.2f, setup(min) %.2f, ping %.2f s" % (
                        pg["cpu_median"], pg["cpu_median"] / st["cpu_median"], hf["cpu_median"] - pg["cpu_median"],
                        hf["wall_median"], st["wall_median"], pg["wall_median"]),
        })
    if "role_process" in walls:
        r = data["paired"]["role_process"]["median"]
        out.append({
            "scenario": 1, "title": "No-op converge, cluster_bringup with module processes (tos_cloud_in_process=false) vs uri",
            "measure": "wall s (role)", "ours": walls["role_process"], "reference": walls["uri"],
            "reference_label": "uri playbook", "ratio": r, "ratio_label": "uri / role (paired)", "goal": "(diagnostic)",
            "met": None,
            "note": "each API module task a module process, as before the in-process action: module processes %d; "
                    "requests %d; in-process role / this %.2f (wall, medians)" % (
                        data["executions"]["role_process"], data["requests"]["role_process"],
                        walls["role"]["median"] / walls["role_process"]["median"]),
        })
    rep = (an.get("replay") or {}).get("role")
    if rep:
        out[0]["note"] += "; the role's %d module calls replayed in one process (bench/replay.py): %.2f s, cProfile (s, " \
                          "cumulative): %s" % (rep["calls"], rep["seconds"]["median"],
                                               ", ".join("%s %.3f" % kv for kv in rep["profile"].items()))
    modules = data["modules"]
    total = sum(m["requests"] for m in modules.values())
    minimum = sum(m["minimum_total"] or 0 for m in modules.values())
    above = ["%s %d sent, minimum %s%s" % (k, m["requests"], m["minimum_total"],
                                           " (known excess, see bench/minimum_requests.yml)" if m["only_known_excess"] else "")
             for k, m in modules.items() if not m["at_minimum"]]
    mutations = sum(m["mutations"] for m in modules.values())
    unknown = [k for k, m in modules.items() if not m["only_known_excess"]]
    # the role's no-op sends no more requests than the uri playbook doing the same reads (issue 23, item 5)
    fewer = data["requests"]["role"] <= data["requests"]["uri"]
    if not fewer:
        above.append("the role's no-op sent %d requests, the uri playbook %d" % (data["requests"]["role"],
                                                                                data["requests"]["uri"]))
    out.append({
        "scenario": 2, "title": "Requests per no-op, %d modules" % len(modules), "measure": "requests",
        "ours": {"median": total, "min": total, "max": total, "n": 1},
        "reference": {"median": minimum, "min": minimum, "max": minimum, "n": 1}, "reference_label": "minimum",
        "ratio": total / minimum if minimum else None, "ratio_label": "sent / minimum",
        "goal": "= minimum, 0 mutating, role <= uri", "met": not above and mutations == 0,
        "quick_ok": not unknown and mutations == 0 and fewer,
        "note": ("not at the minimum: " + "; ".join(above)) if above else
                "every module at its minimum; %d mutating; the role's no-op %d requests, the uri playbook's %d" % (
                    mutations, data["requests"]["role"], data["requests"]["uri"]),
    })
    if not quick:
        pt = data["per_task"]
        debug = pt.get("debug", {}).get("median")
        ping = pt.get("ping", {}).get("median")
        mods = {k: v for k, v in pt.items() if k not in ("debug", "ping")}
        mod_median = statistics.median([v["median"] for v in mods.values()]) if mods else None
        out.append({
            "scenario": 3, "title": "First converge of 3 clusters from empty", "measure": "wall s",
            "ours": data["first"], "reference": None, "ratio": None, "goal": "(measure)", "met": None,
            "note": "changed=%s per run" % "/".join(str(c) for c in data["first_changed"]),
        })
        out.append({
            "scenario": 3, "title": "Per-task time in that run: tos.cloud module vs empty task", "measure": "s per task",
            "ours": {"median": mod_median, "min": min(v["min"] for v in mods.values()),
                     "max": max(v["max"] for v in mods.values()), "n": sum(v["n"] for v in mods.values())},
            "reference": pt.get("debug"), "reference_label": "debug task",
            "ratio": mod_median / debug if debug and mod_median else None, "ratio_label": "module / debug",
            "goal": "(measure)", "met": None,
            "note": "ping (the smallest module process) %.3f s = %.1fx debug; per module (median s): %s" % (
                ping or 0, (ping or 0) / debug if debug else 0,
                ", ".join("%s %.2f" % (k, v["median"]) for k, v in mods.items())),
        })
    return out


def tables(data: dict[str, Any], only: tuple[int, ...]) -> str:
    """The detail tables under the main one: requests per module (2) and where the no-op time goes (1)."""
    text = ""
    if 2 in only:
        text += "\nScenario 2, requests per module on a no-op run (minimum: bench/minimum_requests.yml):\n\n" \
                "| Module | Invocations | Requests sent | Minimum | Mutating | Requests by endpoint |\n" \
                "|---|---:|---:|---:|---:|---|\n"
        for module, m in data["modules"].items():
            flag = "" if m["at_minimum"] else (" (known excess)" if m["only_known_excess"] else " **above**")
            text += "| %s | %d | %d%s | %s | %d | %s |\n" % (
                module, m["invocations"], m["requests"], flag, m["minimum_total"], m["mutations"],
                ", ".join("%s %d" % kv for kv in m["paths"].items()) or "none")
    by = data.get("by_action") or {}
    if 1 in only and "role" in by and "uri" in by:
        text += "\nScenario 1, where the no-op time goes (first repetition; seconds summed per action):\n\n" \
                "| Run | Action | Tasks run | Module executions | Skipped | Seconds |\n|---|---|---:|---:|---:|---:|\n"
        for name in ("role", "uri", "role_noverify"):
            for action, v in (by.get(name) or {}).items():
                if v["seconds"] < 0.05 and not v.get("tasks"):
                    continue
                text += "| %s | %s | %s | %s | %s | %.2f |\n" % (
                    name, action, v.get("tasks", ""), v.get("executions", "") if action.startswith(("tos.", "ansible.builtin.uri"))
                    else "", v.get("skipped", ""), v["seconds"])
    return text


# ---- scenario 10: many clusters ------------------------------------------------------------------

MANY = PLAYBOOKS / "bringup_many.yml"
EMPTY = PLAYBOOKS / "empty_tasks.yml"
# the two sizes whose difference gives the cost per added cluster; hosts per cluster kept small (the clusters'
# count is what is measured, scenario 4 measures hosts)
MANY_SIZES = (10, 50)
MANY_HOSTS = 4
# "the simulator at its fastest": a 20 s deploy takes 20 microseconds, done before the module first reads its
# progress (at 2 ms, speed 10000, whether the first read came before or after the end decided whether a deploy
# waited 0.5 s for its next poll: a race that made the per-cluster slope of the deploy step swing from 0.06 to
# 0.5 s and read as worse than linear)
FASTEST = 1000000.0
# a step grows worse than linearly when its cost per cluster at the larger size exceeds this many times its cost
# per cluster at the smaller size, plus MANY_SLACK seconds (timer noise on a loaded machine); a step quadratic in
# clusters would show 5 (50 / 10), a linear one 1
MANY_LINEAR = 2.0
MANY_SLACK = 0.3


def many_state(clusters: int) -> dict[str, Any]:
    """The desired state of ``clusters`` clusters on genfixture's groups: each a cluster with one cloud-management
    VM, DRS, the global config and the metadata snapshot policy."""
    return {"cluster_bringup_clusters": [
        {"name": "bench-%03d" % g, "seed_ip": "198.18.%d.10" % g, "desc": "benchmark cluster %d" % g,
         "cvms": [{"host": "bench-g%03d-h000" % g, "address": "198.18.%d.250/24" % g, "gateway": "198.18.%d.1" % g}],
         "drs": {"enabled": True, "threshold_level": "normal"},
         "global_config": {"cpu": 4.0, "memory": 1.5},
         "snapshot_policy": {"interval": "6h", "daemon": "started"}}
        for g in range(clusters)]}


def step_seconds(run: Run) -> dict[str, float]:
    """Seconds per executed task of the role (its name), summed over its items."""
    out: dict[str, float] = defaultdict(float)
    for task in run.tasks:
        if task["hosts"] and not all(h["status"] == "skipped" for h in task["hosts"].values()):
            out[task["name"]] += task["duration"]
    return dict(out)


def slopes(small: dict[str, float], large: dict[str, float], sizes: tuple[int, int]) -> dict[str, dict[str, float]]:
    """Per step: seconds per added cluster, and its cost per cluster at the larger size over the smaller's."""
    a, b = sizes
    out = {}
    for name in small:
        if name not in large:
            continue
        out[name] = {"small": round(small[name], 3), "large": round(large[name], 3),
                     "per_cluster": round((large[name] - small[name]) / (b - a), 4),
                     "growth": round((large[name] / b) / (small[name] / a), 2) if small[name] > 0 else None,
                     "linear": large[name] <= MANY_LINEAR * small[name] * b / a + MANY_SLACK}
    return out


def run_many(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scenario 10: the role over 10 and 50 clusters of the large fixture: a first converge at the simulator's fastest
    speed, then no-op converges; the cost per added cluster, per step, and the floor beside each."""
    from simulator import genfixture

    data: dict[str, Any] = {"sizes": {}}
    reps = max(1, min(iterations, 3))
    sims: dict[int, Sim] = {}
    import contextlib

    with contextlib.ExitStack() as stack:
        for n in MANY_SIZES:
            fixture = workdir / ("many-%d.json" % n)
            fixture.write_text(json.dumps(genfixture.generate(n, MANY_HOSTS, precreate=False)))
            state = workdir / ("many-%d-vars.json" % n)
            state.write_text(json.dumps(many_state(n)))
            sim = sims[n] = stack.enter_context(Sim(speed=FASTEST, fixture=fixture))
            log("  first converge of %d clusters" % n)
            first = ansible.playbook(MANY, "-e", "@%s" % state, api_url=sim.url, attribute=True)
            check_playbook(first, "the first converge of %d clusters" % n, min_changed=4)
            made = {c["cluster_name"]: c for c in sim.clusters()}
            missing = [c["name"] for c in many_state(n)["cluster_bringup_clusters"]
                       if len((made.get(c["name"]) or {}).get("candidates") or []) != 1]
            if missing:
                raise BenchError("the first converge of %d clusters left %d without their CVM: %s" % (
                    n, len(missing), ", ".join(missing[:5])))
            data["sizes"][n] = {"first": {"wall": first.wall, "cpu": first.cpu, "tasks": tasks_run(first),
                                          "requests": sum(len(t.get("requests") or []) for t in first.tasks),
                                          "steps": step_seconds(first)},
                                "state": str(state), "walls": [], "cpus": [], "runs": []}
        i = 0
        empty: list[float] = []
        rtt: dict[int, list[float]] = defaultdict(list)
        while phase.more(i, reps, minimum=1):
            for n in (MANY_SIZES if i % 2 == 0 else tuple(reversed(MANY_SIZES))):
                log("  no-op converge of %d clusters %d/%d" % (n, i + 1, reps))
                entry = data["sizes"][n]
                result, requests = noop_run(ansible, sims[n], MANY, "the no-op converge of %d clusters" % n,
                                            "-e", "@%s" % entry["state"])
                entry["walls"].append(result.wall)
                entry["cpus"].append(result.cpu)
                entry["runs"].append({"tasks": tasks_run(result), "requests": len(requests), "steps": step_seconds(result)})
                rtt[n].append(round_trip(sims[n]))
            floor_run = ansible.playbook(EMPTY, attribute=True)
            check_playbook(floor_run, "the empty tasks")
            empty.extend(t["duration"] for t in floor_run.tasks if t["name"].startswith("Empty task"))
            i += 1
    data["empty_task"] = summary(empty)
    data["rtt"] = {n: summary(v) for n, v in rtt.items()}
    a, b = MANY_SIZES
    for n in MANY_SIZES:
        entry = data["sizes"][n]
        entry["wall"] = summary(entry["walls"])
        entry["cpu"] = summary(entry["cpus"])
        best = min(range(len(entry["runs"])), key=lambda k: entry["walls"][k])
        entry["noop"] = entry["runs"][best]
    small, large = data["sizes"][a], data["sizes"][b]
    data["per_cluster"] = (large["wall"]["median"] - small["wall"]["median"]) / (b - a)
    data["per_cluster_cpu"] = (large["cpu"]["median"] - small["cpu"]["median"]) / (b - a)
    data["slopes_noop"] = slopes(small["noop"]["steps"], large["noop"]["steps"], MANY_SIZES)
    data["slopes_first"] = slopes(small["first"]["steps"], large["first"]["steps"], MANY_SIZES)
    return data, many_rows(data)


def many_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = MANY_SIZES
    small, large = data["sizes"][a], data["sizes"][b]
    empty = data["empty_task"]["median"]

    def floor_of(entry: dict[str, Any], n: int) -> tuple[float, str]:
        rtt = data["rtt"][n]["median"]
        value = floor(entry["tasks"], entry["requests"], empty, rtt) or 0.0
        return value, "%d tasks x %.3f s + %d requests x %.4f s = %.2f s" % (entry["tasks"], empty, entry["requests"], rtt, value)

    f_large, f_large_text = floor_of(large["noop"], b)
    f_small, _ = floor_of(small["noop"], a)
    f_first, f_first_text = floor_of(large["first"], b)
    floor_slope = (f_large - f_small) / (b - a)
    worst = {kind: max(data[kind].items(), key=lambda kv: (not kv[1]["linear"], kv[1]["growth"] or 0), default=None)
             for kind in ("slopes_noop", "slopes_first")}
    nonlinear = {kind: [k for k, v in data[kind].items() if not v["linear"]] for kind in ("slopes_noop", "slopes_first")}

    def worst_text(kind: str) -> str:
        if worst[kind] is None:
            return "no step"
        name, v = worst[kind]
        return "steepest step %r: %.3f s at %d, %.3f s at %d clusters (%.4f s per cluster; per-cluster cost x%s)" % (
            name, v["small"], a, v["large"], b, v["per_cluster"], v["growth"])
    rows = [
        {"scenario": 10, "title": "No-op converge of %d clusters (cluster_bringup)" % b, "measure": "wall s",
         "ours": large["wall"], "reference": {"median": f_large, "n": 1}, "reference_label": "floor",
         "ratio": large["wall"]["median"] / f_large if f_large else None, "ratio_label": "measured / floor",
         "goal": "(measure)", "met": None,
         "note": "%d tasks, %d requests (%d at %d clusters), 0 mutating; CPU %.1f s; floor: %s" % (
             large["noop"]["tasks"], large["noop"]["requests"], small["noop"]["requests"], a, large["cpu"]["median"],
             f_large_text)},
        {"scenario": 10, "title": "No-op converge: cost per added cluster (%d to %d)" % (a, b), "measure": "s per cluster",
         "ours": {"median": data["per_cluster"], "n": min(large["wall"]["n"], small["wall"]["n"])},
         "reference": {"median": floor_slope, "n": 1}, "reference_label": "floor per cluster",
         "ratio": data["per_cluster"] / floor_slope if floor_slope else None, "ratio_label": "measured / floor",
         "goal": "<= 0.2 s per cluster", "goal_value": 0.2, "met": data["per_cluster"] <= 0.2 and not nonlinear["slopes_noop"],
         "note": "wall medians %.2f s (%d clusters), %.2f s (%d); CPU %.3f s per cluster; requests per added cluster %.1f; "
                 "%s; steps worse than linear: %s" % (
                     small["wall"]["median"], a, large["wall"]["median"], b, data["per_cluster_cpu"],
                     (large["noop"]["requests"] - small["noop"]["requests"]) / (b - a), worst_text("slopes_noop"),
                     ", ".join(nonlinear["slopes_noop"]) or "none")},
        {"scenario": 10, "title": "First converge of %d clusters (simulator speed %g)" % (b, FASTEST), "measure": "wall s",
         "ours": {"median": large["first"]["wall"], "n": 1}, "reference": {"median": f_first, "n": 1},
         "reference_label": "floor", "ratio": large["first"]["wall"] / f_first if f_first else None,
         "ratio_label": "measured / floor", "goal": "every step linear", "met": not nonlinear["slopes_first"],
         "note": "%.2f s for %d clusters (%.3f s per added cluster); CPU %.1f s; %s; steps worse than linear: %s; floor: %s" % (
             small["first"]["wall"], a, (large["first"]["wall"] - small["first"]["wall"]) / (b - a), large["first"]["cpu"],
             worst_text("slopes_first"), ", ".join(nonlinear["slopes_first"]) or "none", f_first_text)},
    ]
    return rows
