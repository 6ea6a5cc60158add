"""Scenario 7: the simulator under a bounded concurrent load on loopback (an asyncio/aiohttp client),
and what share of the other scenarios' time the simulator accounts for."""
from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp

from ..common import BenchError, Phase, Sim, summary
from .bringup import converged_fixture

MAX_REQUESTS = 2000  # per measurement
MAX_SECONDS = 10.0  # per measurement, whatever is reached first
CONCURRENCY = (1, 16)


def paths(sim: Sim) -> list[str]:
    uuids = [c["cluster_uuid"] for c in sim.clusters()]
    out = ["/v1/system/version", "/v1/system/member/list", "/v1/cluster/list?page_num=1&page_size=100"]
    for uuid in uuids:
        out += ["/v1/cluster/get?cluster_uuid=%s" % uuid, "/v1/cluster/cloud/manage?cluster_uuid=%s" % uuid,
                "/v1/cluster/compute/service/drsconfig/get?cluster_uuid=%s" % uuid]
    return out


async def load(url: str, targets: list[str], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + MAX_SECONDS
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal issued, errors
            while issued < MAX_REQUESTS and time.perf_counter() < deadline:
                path = targets[issued % len(targets)]
                issued += 1
                t0 = time.perf_counter()
                async with session.get(url + path) as resp:
                    body = await resp.json()
                latencies.append(time.perf_counter() - t0)
                if resp.status != 200 or body.get("scode", body.get("status_code")) != 0:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def run(workdir: Path, iterations: int, raw: dict[str, Any], log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    results: dict[int, list[dict[str, Any]]] = {c: [] for c in CONCURRENCY}
    with Sim(fixture=converged_fixture(workdir / "simload.json")) as sim:
        targets = paths(sim)
        i = 0
        while phase.more(i, iterations, minimum=min(2, iterations)):
            i += 1
            for concurrency in CONCURRENCY:
                log("  simulator load %d/%d, %d concurrent" % (i, iterations, concurrency))
                sim.clear()
                out = asyncio.run(load(sim.url, targets, concurrency))
                if out["errors"]:
                    raise BenchError("%d of %d requests failed under load" % (out["errors"], out["requests"]))
                logged = len(sim.requests())
                if logged < min(out["requests"], 10000):
                    raise BenchError("the simulator logged %d requests of %d sent" % (logged, out["requests"]))
                results[concurrency].append(out)
    data: dict[str, Any] = {}
    rows = []
    for concurrency in CONCURRENCY:
        runs = results[concurrency]
        rps = summary([r["rps"] for r in runs])
        p50 = summary([r["p50_ms"] for r in runs])
        p99 = summary([r["p99_ms"] for r in runs])
        data[str(concurrency)] = {"rps": rps, "p50_ms": p50, "p99_ms": p99, "runs": runs}
        rows.append({
            "scenario": 7, "title": "Simulator, %d concurrent client(s), GETs of 12 endpoints" % concurrency,
            "measure": "requests/s", "ours": rps, "reference": None, "ratio": None, "goal": "(measure)", "met": None,
            "note": "p50 %.2f ms (%.2f-%.2f), p99 %.2f ms (%.2f-%.2f); at most %d requests or %.0f s per run" % (
                p50["median"], p50["min"], p50["max"], p99["median"], p99["min"], p99["max"], MAX_REQUESTS, MAX_SECONDS),
        })
    bringup = raw.get("scenarios 1-3 (bring-up)")
    p50_ms = data["1"]["p50_ms"]["median"]
    if bringup:
        wall = bringup["walls"]["role"]["median"]
        sim_seconds = bringup["requests"]["role"] * p50_ms / 1000
        share = sim_seconds / wall
        data["share_of_noop"] = share
        rows.append({
            "scenario": 7, "title": "Simulator's share of the role's no-op run", "measure": "share",
            "ours": {"median": share, "min": share, "max": share, "n": 1}, "reference": None, "ratio": None,
            "goal": "not the bottleneck", "met": share < 0.05,
            "note": "%d requests x %.2f ms (p50, 1 client) = %.3f s of %.1f s" % (
                bringup["requests"]["role"], p50_ms, sim_seconds, wall),
        })
    data["p50_ms_1_client"] = statistics.median([r["p50_ms"] for r in results[1]])
    return data, rows
