"""Scenario 4: the tos.cloud.hosts inventory with the large fixture, cold and cached, and how it grows."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..common import BENCH, ROOT, Ansible, BenchError, Phase, Sim, ansible_env, ratio, summary, timed

HOSTS_PER_CLUSTER = 20
SIZES = (5, 10, 25, 50)  # clusters of 20 hosts: 100, 200, 500 and 1,000 hosts
LARGE = 50


def fixture(workdir: Path, clusters: int) -> Path:
    path = workdir / ("inventory-%d.json" % (clusters * HOSTS_PER_CLUSTER))
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", str(clusters), "--hosts-per-cluster",
                    str(HOSTS_PER_CLUSTER), "--precreate", "-o", str(path)], cwd=ROOT, check=True)
    return path


def sources(workdir: Path, url: str) -> tuple[Path, Path, Path]:
    cold = workdir / "cold.tos.yml"
    cold.write_text("---\nplugin: tos.cloud.hosts\napi_url: %s\n" % url)
    cached = workdir / "cached.tos.yml"
    cached.write_text("---\nplugin: tos.cloud.hosts\napi_url: %s\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                      "cache_connection: %s\ncache_timeout: 3600\n" % (url, workdir / "cache"))
    static = workdir / "static.ini"
    static.write_text("localhost\n")
    return cold, cached, static


def parse_time(ansible: Ansible, source: Path, hosts: int) -> dict[str, Any]:
    """The plugin alone, in a fresh process (bench/invparse.py): seconds to build the inventory."""
    run = timed([sys.executable, str(BENCH / "invparse.py"), str(source)], env=ansible_env(ansible.workdir))
    if run.rc != 0:
        raise BenchError("invparse %s failed:\n%s" % (source.name, run.tail()))
    data = json.loads(run.stdout.strip().splitlines()[-1])
    if data["hosts"] != hosts:
        raise BenchError("%s: %d hosts in the inventory, expected %d" % (source.name, data["hosts"], hosts))
    return data


def profile_parse(ansible: Ansible, source: Path, hosts: int, out: Path) -> dict[str, float]:
    """One parse under cProfile: where the plugin's time goes (cumulative seconds; profiling slows it down)."""
    import pstats

    run = timed([sys.executable, str(BENCH / "invparse.py"), str(source), str(out)], env=ansible_env(ansible.workdir))
    if run.rc != 0:
        raise BenchError("invparse under cProfile failed:\n%s" % run.tail())
    stats = pstats.Stats(str(out))
    found = {"total": stats.total_tt}
    wanted = {
        ("plugins/inventory/hosts.py", "fetch"): "fetch (HTTP)",
        ("plugins/inventory/hosts.py", "populate"): "populate (hosts, groups, variables)",
        ("ansible/inventory/manager.py", "set_variable"): "ansible-core set_variable",
        ("ansible/inventory/data.py", "add_host"): "ansible-core add_host",
        ("ansible/_internal/_plugins/_cache.py", "get"): "cache read",
        ("plugins/inventory/hosts.py", "make_unsafe"): "make_unsafe",
    }
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        for (suffix, name), label in wanted.items():
            if func == name and filename.endswith(suffix):
                found[label] = max(found.get(label, 0.0), ct)
    return {k: round(v, 3) for k, v in found.items()}


def listed(ansible: Ansible, source: Path, hosts: int):
    run = ansible.inventory(source)
    if run.rc != 0:
        raise BenchError("ansible-inventory -i %s --list failed:\n%s" % (source.name, run.tail()))
    got = len(json.loads(run.stdout).get("_meta", {}).get("hostvars", {}))
    if got != hosts:
        raise BenchError("ansible-inventory -i %s --list: %d hosts, expected %d" % (source.name, got, hosts))
    return run


def requests_during(sim: Sim, func):
    seq = sim.last_seq()
    result = func()
    return result, len([r for r in sim.requests(since=seq) if r["seq"] > seq])


def run(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "inventory"
    work.mkdir(parents=True, exist_ok=True)
    fixtures = {c: fixture(work, c) for c in SIZES}
    large_hosts = LARGE * HOSTS_PER_CLUSTER
    cmd = {"cold": [], "cached": [], "static": []}
    parse = {"cold": [], "cached": []}
    growth: dict[int, list[float]] = {c * HOSTS_PER_CLUSTER: [] for c in SIZES}
    with Sim(fixture=fixtures[LARGE]) as sim:
        cold, cached, static = sources(work, sim.url)
        # fill the cache once
        _, filled = requests_during(sim, lambda: parse_time(ansible, cached, large_hosts))
        if filled == 0:
            raise BenchError("filling the inventory cache sent no request")
        done = 0
        while phase.more(done, iterations, minimum=min(2, iterations)):
            done += 1
            i = done - 1
            log("  inventory %d/%d: 1,000 hosts cold and cached" % (i + 1, iterations))
            r, n = requests_during(sim, lambda: listed(ansible, cold, large_hosts))
            if n == 0:
                raise BenchError("a cold ansible-inventory run sent no request")
            cmd["cold"].append(r.wall)
            r, n = requests_during(sim, lambda: listed(ansible, cached, large_hosts))
            if n:
                raise BenchError("a cached ansible-inventory run sent %d request(s)" % n)
            cmd["cached"].append(r.wall)
            r = ansible.inventory(static)
            cmd["static"].append(r.wall)
            data, n = requests_during(sim, lambda: parse_time(ansible, cold, large_hosts))
            parse["cold"].append(data["parse"])
            data, n = requests_during(sim, lambda: parse_time(ansible, cached, large_hosts))
            if n:
                raise BenchError("a cached parse sent %d request(s)" % n)
            parse["cached"].append(data["parse"])
        requests_per_cold = filled
        log("  inventory: one cold and one cached parse under cProfile")
        profiles = {"cold": profile_parse(ansible, cold, large_hosts, work / "cold.prof"),
                    "cached": profile_parse(ansible, cached, large_hosts, work / "cached.prof")}
        for clusters in SIZES:
            hosts = clusters * HOSTS_PER_CLUSTER
            sim.reset(fixtures[clusters])
            log("  inventory growth: %d hosts" % hosts)
            for _ in range(done):
                growth[hosts].append(parse_time(ansible, cold, hosts)["parse"])
    sizes = sorted(growth)
    medians = [summary(growth[n])["median"] for n in sizes]
    # growth exponent k of t(n) ~ n^k: least squares on log t against log n over every size (1 = linear)
    xs, ys = [math.log(n) for n in sizes], [math.log(m) for m in medians]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    exponent = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    marginal_ms = 1000 * (medians[-1] - medians[0]) / (sizes[-1] - sizes[0])
    data = {
        "command": {k: summary(v) for k, v in cmd.items()},
        "parse": {k: summary(v) for k, v in parse.items()},
        "growth": {str(n): summary(growth[n]) for n in sizes},
        "growth_exponent": exponent,
        "marginal_ms_per_host": marginal_ms,
        "requests_per_cold_run": requests_per_cold,
        "profile": profiles,
    }
    c, p = data["command"], data["parse"]
    rows = [
        {"scenario": 4, "title": "Inventory, 1,000 hosts, cold: the plugin's parse", "measure": "s",
         "ours": p["cold"], "reference": None, "ratio": None, "goal": "< 3 s",
         "met": p["cold"]["median"] < 3.0,
         "note": "%d requests per cold run; the whole `ansible-inventory --list` took %.2f s (median), of which "
                 "%.2f s is its start-up with a one-host static inventory. cProfile of one cold parse (s, cumulative): %s" % (
                     requests_per_cold, c["cold"]["median"], c["static"]["median"],
                     ", ".join("%s %.2f" % kv for kv in profiles["cold"].items()))},
        {"scenario": 4, "title": "Inventory, 1,000 hosts, cached: the plugin's parse", "measure": "s",
         "ours": p["cached"], "reference": p["cold"], "reference_label": "cold", "ratio": ratio(p["cached"], p["cold"]),
         "ratio_label": "cached / cold", "goal": "< 0.5 s", "met": p["cached"]["median"] < 0.5,
         "note": "no request; the whole `ansible-inventory --list` took %.2f s (median). cProfile of one cached parse "
                 "(s, cumulative): %s" % (c["cached"]["median"], ", ".join("%s %.2f" % kv for kv in profiles["cached"].items()))},
        {"scenario": 4, "title": "Inventory, 1,000 hosts: `ansible-inventory --list` cold / cached", "measure": "wall s",
         "ours": c["cold"], "reference": c["cached"], "reference_label": "cached",
         "ratio": ratio(c["cold"], c["cached"]), "ratio_label": "cold / cached", "goal": "(measure)", "met": None},
        {"scenario": 4, "title": "Inventory growth 100 -> 1,000 hosts (cold parse)", "measure": "exponent k, t ~ n^k",
         "ours": {"median": exponent, "min": exponent, "max": exponent, "n": len(sizes)}, "reference": None,
         "ratio": medians[-1] / medians[0], "ratio_label": "t(1000) / t(100)", "goal": "k <= 1 (linear or better)",
         "met": exponent <= 1.1,
         "note": "median parse s: %s; %.2f ms per added host" % (
             ", ".join("%d hosts %.2f" % (n, m) for n, m in zip(sizes, medians, strict=True)), marginal_ms)},
    ]
    return data, rows
