"""Scenario 8: the EDA event source tos.cloud.events (extensions/eda): event latency at a 1 s poll (from the
simulator's change to the event on the queue) and requests per poll for 3 and 100 clusters in each mode."""
from __future__ import annotations

import asyncio
import random
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..common import ROOT, BenchError, Phase, Sim, summary

SOURCE = ROOT / "extensions" / "eda" / "plugins" / "event_source" / "events.py"
INTERVAL = 1.0
CHANGES = 20
MEMBERS = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]


def fixture(workdir: Path, clusters: int, hosts: int) -> Path:
    path = workdir / ("events-%d.json" % clusters)
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", str(clusters), "--hosts-per-cluster",
                    str(hosts), "--precreate", "-o", str(path)], cwd=ROOT, check=True)
    return path


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _latencies(events: dict[str, Any], sim: Sim, state_file: Path, changes: int, log) -> list[float]:
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(events["main"](queue, {"api_url": sim.url, "interval": INTERVAL, "state_file": str(state_file),
                                                      "initial_events": False}))
    loop = asyncio.get_running_loop()
    await asyncio.sleep(2 * INTERVAL)  # the baseline poll
    while not queue.empty():
        queue.get_nowait()
    rng = random.Random(8)
    out = []
    try:
        for i in range(changes):
            await asyncio.sleep(rng.uniform(0, INTERVAL))  # a change at any phase of the poll cycle
            leader = MEMBERS[(i + 1) % len(MEMBERS)]
            await loop.run_in_executor(None, lambda leader=leader: sim._call("POST", "/_sim/manager", {"leader": leader}))
            changed_at = time.monotonic()
            while True:
                event = await asyncio.wait_for(queue.get(), 10 * INTERVAL)
                if event["type"] == "leader_changed" and event["after"] == leader:
                    out.append(time.monotonic() - changed_at)
                    break
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    log("  %d leader changes, latency median %.2f s, max %.2f s" % (len(out), statistics.median(out), max(out)))
    return out


def _requests_per_poll(events: dict[str, Any], sim: Sim, state_file: Path, args: dict[str, Any]) -> tuple[float, float]:
    """Requests of one poll (the second of two, after the baseline) and its wall time."""
    queue: asyncio.Queue = asyncio.Queue()
    settings = events["settings_from"](dict({"api_url": sim.url, "state_file": str(state_file)}, **args), environ={})
    source = events["EventSource"](settings, queue)
    asyncio.run(source.poll())
    sim.clear()
    started = time.perf_counter()
    asyncio.run(source.poll())
    wall = time.perf_counter() - started
    sent = sim.requests()
    if len(sent) != source.requests_last_poll or any(r["method"] != "GET" for r in sent):
        raise BenchError("the source counted %d requests, the simulator saw %d (%s)" % (
            source.requests_last_poll, len(sent), sorted({r["method"] for r in sent})))
    return len(sent), wall


MODES = (("full", {}, "2 + 4C + N"), ("full, host_tasks false", {"host_tasks": False}, "2 + 4C"),
         ("cheap", {"mode": "cheap"}, "2"))


def formula(label: str, clusters: int, nodes: int) -> int:
    """C clusters, N nodes in their topologies (cluster/get's TopoHostNode: the hosts and the VMs listed there)."""
    return {"2 + 4C + N": 2 + 4 * clusters + nodes, "2 + 4C": 2 + 4 * clusters, "2": 2}[label]


def topology_nodes(sim: Sim) -> int:
    return sum(len(sim.api("/cluster/get?cluster_uuid=%s" % c["cluster_uuid"]).get("TopoHostNode") or [])
               for c in sim.clusters())


def run(workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "events"
    work.mkdir(parents=True, exist_ok=True)
    events = runpy.run_path(str(SOURCE))
    data: dict[str, Any] = {"interval": INTERVAL}
    rows: list[dict[str, Any]] = []
    with Sim(speed=40, fixture=fixture(work, 3, 4)) as sim:
        sim._call("POST", "/_sim/manager", {"members": MEMBERS, "leader": MEMBERS[0], "ready": True})
        lat = asyncio.run(_latencies(events, sim, work / "latency.json", CHANGES * max(1, min(iterations, 2)), log))
    data["latency"] = summary(lat)
    p95 = percentile(lat, 95)
    data["latency"]["p95"] = p95
    rows.append({
        "scenario": 8, "title": "EDA source: event latency at a %.0f s poll, 3 clusters" % INTERVAL,
        "measure": "s, change to event", "ours": data["latency"], "reference": {"median": 2 * INTERVAL, "n": 1},
        "reference_label": "2 poll intervals", "ratio": p95 / (2 * INTERVAL), "ratio_label": "p95 / 2 intervals",
        "goal": "p95 <= 2 intervals", "met": p95 <= 2 * INTERVAL,
        "note": "leader changes at random phases of the poll cycle; p95 %.2f s, median %.2f s over %d changes" % (
            p95, data["latency"]["median"], len(lat)),
    })
    for clusters, hosts in ((3, 4), (100, 20)):
        with Sim(speed=40, fixture=fixture(work, clusters, hosts)) as sim:
            nodes = topology_nodes(sim)
            for label, args, rule in MODES:
                count, wall = _requests_per_poll(events, sim, work / ("c%d-%s.json" % (clusters, label)), args)
                expected = formula(rule, clusters, nodes)
                log("  %d clusters, %s: %d requests per poll (%s = %d), %.2f s" % (clusters, label, count, rule, expected, wall))
                data["%d/%s" % (clusters, label)] = {"requests": count, "expected": expected, "wall": wall}
                rows.append({
                    "scenario": 8, "title": "EDA source: requests per poll, %d clusters x %d hosts, %s" % (clusters, hosts, label),
                    "measure": "requests", "ours": {"median": count, "min": count, "max": count, "n": 1},
                    "reference": {"median": expected, "n": 1}, "reference_label": rule, "ratio": count / expected,
                    "ratio_label": "measured / formula", "goal": "= formula", "met": count == expected,
                    "note": "N = %d topology nodes (%d hosts, and a CVM, per cluster); one poll took %.2f s" % (
                        nodes, hosts, wall) if label == "full" else "",
                })
    return data, rows
