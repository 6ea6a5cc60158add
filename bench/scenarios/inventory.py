"""Scenario 4: the tos.cloud.hosts inventory at 10,000 hosts (100 clusters x 100), cold and cached, beside the floor
(ansible-core with a static inventory of the same hosts, variables and groups), and how it grows from 100 hosts."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..common import BENCH, ROOT, Ansible, BenchError, Phase, Sim, ansible_env, ratio, summary, timed

HOSTS_PER_CLUSTER = 100
SIZES = (1, 10, 100)  # clusters of 100 hosts: 100, 1,000 and 10,000 hosts
LARGE = 100
PAGE_SIZE = 100  # the plugin's cluster/list page size (TosClient.paginate)
PAGE_BASE = 1  # the simulator's default reading: pages count from 1, page 0 is read as page 1


def list_requests(clusters: int, page_size: int = PAGE_SIZE, page_base: int = PAGE_BASE) -> int:
    """``cluster/list`` requests of one cold run (docs/inventory.md): the pages, at least one; a manager counting
    from 1 answers page 0 and page 1 alike, so there the first page is asked twice once there is a second."""
    pages = max(1, math.ceil(clusters / page_size))
    return pages + (1 if page_base == 1 and clusters > page_size else 0)


def cold_requests(clusters: int, page_size: int = PAGE_SIZE, page_base: int = PAGE_BASE) -> int:
    """Requests of one cold run on genfixture's clusters (each has a CVM, and its topology names the CVM's host):
    the list pages, one ``cluster/get`` and one ``cluster/cloud/manage`` (the leader) per cluster."""
    return list_requests(clusters, page_size, page_base) + 2 * clusters


def fixture(workdir: Path, clusters: int) -> Path:
    path = workdir / ("inventory-%d.json" % (clusters * HOSTS_PER_CLUSTER))
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", str(clusters), "--hosts-per-cluster",
                    str(HOSTS_PER_CLUSTER), "--precreate", "-o", str(path)], cwd=ROOT, check=True)
    return path


def sources(workdir: Path, url: str) -> tuple[Path, Path]:
    cold = workdir / "cold.tos.yml"
    cold.write_text("---\nplugin: tos.cloud.hosts\napi_url: %s\n" % url)
    cached = workdir / "cached.tos.yml"
    cached.write_text("---\nplugin: tos.cloud.hosts\napi_url: %s\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                      "cache_connection: %s\ncache_timeout: 3600\n" % (url, workdir / "cache"))
    return cold, cached


def static_inventory(listing: dict[str, Any]) -> dict[str, Any]:
    """The floor's source: an ``ansible-inventory --list`` output as a static YAML-plugin inventory (JSON) with the
    same hosts, variables (unsafe markers removed: a static file's strings are plain) and groups."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"__ansible_unsafe"}:
                return value["__ansible_unsafe"]
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    def group(name: str) -> dict[str, Any]:
        entry = listing.get(name) or {}
        out: dict[str, Any] = {}
        if entry.get("hosts"):
            out["hosts"] = {host: None for host in entry["hosts"]}
        if entry.get("children"):
            out["children"] = {child: group(child) for child in entry["children"]}
        return out

    top = group("all")
    top["hosts"] = {host: plain(hostvars) for host, hostvars in listing["_meta"]["hostvars"].items()}
    return {"all": top}


def parse_time(ansible: Ansible, source: Path, hosts: int, phases: bool = False) -> dict[str, Any]:
    """The inventory source alone, in a fresh process (bench/invparse.py): seconds and CPU seconds to build it, and
    with ``phases`` the CPU seconds of each part of the parse (plain timers, see invparse.py)."""
    cmd = [sys.executable, str(BENCH / "invparse.py"), str(source)] + (["--phases"] if phases else [])
    run = timed(cmd, env=ansible_env(ansible.workdir))
    if run.rc != 0:
        raise BenchError("invparse %s failed:\n%s" % (source.name, run.tail()))
    data = json.loads(run.stdout.strip().splitlines()[-1])
    if data["hosts"] != hosts:
        raise BenchError("%s: %d hosts in the inventory, expected %d" % (source.name, data["hosts"], hosts))
    return data


# the parts of a parse shown in the report, in this order (CPU seconds; invparse.py --phases says what each is)
PHASES = ("cache read", "fetch", "cluster_hosts", "ours in populate", "core work in HostAdder", "core add_host",
          "core set_variable", "outside the plugin")


def phase_times(ansible: Ansible, source: Path, hosts: int) -> dict[str, float]:
    """One parse with its phases timed by plain ``time.process_time`` deltas (no profiler: cProfile inflated the
    many small calls of ansible-core beyond what they cost)."""
    data = parse_time(ansible, source, hosts, phases=True)
    found = {"total": data["cpu"]}
    found.update({k: data["phases"][k] for k in PHASES if k in data["phases"]})
    return {k: round(v, 3) for k, v in found.items()}


def listed(ansible: Ansible, source: Path, hosts: int, *args: str):
    run = ansible.inventory(source, *args)
    if run.rc != 0:
        raise BenchError("ansible-inventory -i %s --list %s failed:\n%s" % (source.name, " ".join(args), run.tail()))
    got = len(json.loads(run.stdout).get("_meta", {}).get("hostvars", {}))
    if got != hosts:
        raise BenchError("ansible-inventory -i %s --list: %d hosts, expected %d" % (source.name, got, hosts))
    return run


def same_listing(full, export) -> None:
    """``--list --export`` (AWX's inventory sync) must show the same inventory as ``--list``: the plugin sets every
    variable on its host, so the export's host variables are the full listing's, and its groups the same."""
    a, b = json.loads(full.stdout), json.loads(export.stdout)
    if a != b:
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise BenchError("ansible-inventory --list --export differs from --list in: %s" % ", ".join(differ[:10]))


def requests_during(sim: Sim, func):
    seq = sim.last_seq()
    result = func()
    return result, len([r for r in sim.requests(since=seq) if r["seq"] > seq])


def cold_run(sim: Sim, func, clusters: int):
    """``func()`` (a cold run) and its requests, which must be exactly ``cold_requests(clusters)``."""
    result, sent = requests_during(sim, func)
    if sent != cold_requests(clusters):
        raise BenchError("a cold run over %d clusters sent %d requests, the formula says %d" % (
            clusters, sent, cold_requests(clusters)))
    return result


def cached_run(sim: Sim, func):
    result, sent = requests_during(sim, func)
    if sent:
        raise BenchError("a run from the inventory cache sent %d request(s)" % sent)
    return result


def measure(ansible: Ansible, sim: Sim, work: Path, iterations: int, log, phase: Phase) -> dict[str, Any]:
    """The 10,000-host runs: cold and cached, ``--list`` and the parse alone, then the floor and the phases once."""
    hosts = LARGE * HOSTS_PER_CLUSTER
    cold, cached = sources(work, sim.url)
    runs: dict[str, list[Any]] = {k: [] for k in ("list_cold", "list_cached", "export_cold", "export_cached",
                                                  "parse_cold", "parse_cached")}
    cold_run(sim, lambda: parse_time(ansible, cached, hosts), LARGE)  # fills the cache
    done = 0
    while phase.more(done, iterations, minimum=1):  # one repetition is about 30 s of CPU at this size
        done += 1
        log("  inventory %d/%d: 10,000 hosts, cold and cached" % (done, iterations))
        runs["list_cold"].append(cold_run(sim, lambda: listed(ansible, cold, hosts), LARGE))
        runs["list_cached"].append(cached_run(sim, lambda: listed(ansible, cached, hosts)))
        runs["export_cold"].append(cold_run(sim, lambda: listed(ansible, cold, hosts, "--export"), LARGE))
        runs["export_cached"].append(cached_run(sim, lambda: listed(ansible, cached, hosts, "--export")))
        if done == 1:
            same_listing(runs["list_cold"][-1], runs["export_cold"][-1])
        runs["parse_cold"].append(cold_run(sim, lambda: parse_time(ansible, cold, hosts), LARGE))
        runs["parse_cached"].append(cached_run(sim, lambda: parse_time(ansible, cached, hosts)))
    log("  inventory: the floor (a static inventory of the same hosts) and the phases of a cold and a cached parse")
    static = work / "static.json"
    static.write_text(json.dumps(static_inventory(json.loads(runs["list_cold"][-1].stdout))))
    floor_list = listed(ansible, static, hosts)
    floor_export = listed(ansible, static, hosts, "--export")
    floor_parse = parse_time(ansible, static, hosts)
    one = work / "static-one.json"
    one.write_text(json.dumps({"all": {"hosts": {"192.0.2.1": {"tos_name": "one"}}}}))
    floor_one = listed(ansible, one, 1)
    phases = {"cold": cold_run(sim, lambda: phase_times(ansible, cold, hosts), LARGE),
              "cached": cached_run(sim, lambda: phase_times(ansible, cached, hosts))}
    return {"runs": runs, "done": done, "floor_list": floor_list, "floor_export": floor_export, "floor_parse": floor_parse,
            "floor_one": floor_one, "phases": phases}


def growth(ansible: Ansible, sim: Sim, work: Path, fixtures: dict[int, Path], done: int, log) -> dict[int, list[float]]:
    """Cold parses at the smaller sizes (the 10,000-host ones come from ``measure``), each at its request count."""
    cold, _cached = sources(work, sim.url)
    times: dict[int, list[float]] = {}
    for clusters in SIZES[:-1]:
        hosts = clusters * HOSTS_PER_CLUSTER
        sim.reset(fixtures[clusters])
        log("  inventory growth: %d hosts" % hosts)
        times[hosts] = [cold_run(sim, lambda: parse_time(ansible, cold, hosts), clusters)["parse"]  # noqa: B023
                        for _ in range(max(1, done))]
    return times


def exponent(times: dict[int, list[float]]) -> tuple[float, list[int], list[float]]:
    """k of t(n) ~ n^k: least squares on log t against log n over every size (1 = linear)."""
    sizes = sorted(times)
    medians = [summary(times[n])["median"] for n in sizes]
    xs, ys = [math.log(n) for n in sizes], [math.log(m) for m in medians]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return k, sizes, medians


def run(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "inventory"
    work.mkdir(parents=True, exist_ok=True)
    fixtures = {c: fixture(work, c) for c in SIZES}
    with Sim(fixture=fixtures[LARGE]) as sim:
        got = measure(ansible, sim, work, iterations, log, phase)
        times = growth(ansible, sim, work, fixtures, got["done"], log)
    runs = got["runs"]
    times[LARGE * HOSTS_PER_CLUSTER] = [d["parse"] for d in runs["parse_cold"]]
    k, sizes, medians = exponent(times)
    data = {
        "list": {k2: summary([r.wall for r in runs[k2]]) for k2 in ("list_cold", "list_cached")},
        "list_cpu": {k2: summary([r.cpu for r in runs[k2]]) for k2 in ("list_cold", "list_cached")},
        "export": {k2: summary([r.wall for r in runs[k2]]) for k2 in ("export_cold", "export_cached")},
        "export_cpu": {k2: summary([r.cpu for r in runs[k2]]) for k2 in ("export_cold", "export_cached")},
        "parse": {k2: summary([d["parse"] for d in runs[k2]]) for k2 in ("parse_cold", "parse_cached")},
        "parse_cpu": {k2: summary([d["cpu"] for d in runs[k2]]) for k2 in ("parse_cold", "parse_cached")},
        "floor": {"list": summary([got["floor_list"].wall]), "list_cpu": got["floor_list"].cpu,
                  "export": summary([got["floor_export"].wall]), "export_cpu": got["floor_export"].cpu,
                  "list_one": got["floor_one"].wall, "list_one_cpu": got["floor_one"].cpu,
                  "parse": summary([got["floor_parse"]["parse"]]), "parse_cpu": got["floor_parse"]["cpu"]},
        "growth": {str(n): summary(times[n]) for n in sizes},
        "growth_exponent": k,
        "requests_per_cold_run": cold_requests(LARGE),
        "requests_formula": "max(1, ceil(C / P)) + (1 if C > P on a manager counting pages from 1) + 2 C",
        "phases": got["phases"],
    }
    return data, rows(data, sizes, medians)


def rows(data: dict[str, Any], sizes: list[int], medians: list[float]) -> list[dict[str, Any]]:
    p, pc, c, cc, floor = data["parse"], data["parse_cpu"], data["list"], data["list_cpu"], data["floor"]
    e, ec = data["export"], data["export_cpu"]
    phases = data["phases"]

    def parts(which: str) -> str:
        return ", ".join("%s %.2f" % kv for kv in phases[which].items())

    floor_note = ("the floor is ansible-core with a static inventory (bench/scenarios/inventory.py static_inventory: "
                  "the same 10,000 hosts, variables and groups as one JSON file for the yaml plugin)")
    size = "10,000 hosts (100 clusters x 100)"
    return [
        {"scenario": 4, "title": "Inventory, %s, cold: the plugin's parse" % size, "measure": "s",
         "ours": p["parse_cold"], "reference": floor["parse"], "reference_label": "static floor",
         "ratio": ratio(p["parse_cold"], floor["parse"]), "ratio_label": "ours / floor", "goal": "<= 3 s",
         "met": p["parse_cold"]["median"] <= 3.0,
         "note": "%d requests per cold run = %s (C clusters, P = %d per page; docs/inventory.md); CPU s: ours %.2f, "
                 "floor %.2f; %s; the fetch (HTTP, 4 workers) is what it adds to the cached parse: %.2f s wall, %.2f s "
                 "CPU" % (data["requests_per_cold_run"], data["requests_formula"], PAGE_SIZE,
                          pc["parse_cold"]["median"], floor["parse_cpu"], floor_note,
                          p["parse_cold"]["median"] - p["parse_cached"]["median"],
                          pc["parse_cold"]["median"] - pc["parse_cached"]["median"])},
        {"scenario": 4, "title": "Inventory, %s, cached: the plugin's parse" % size, "measure": "s",
         "ours": p["parse_cached"], "reference": floor["parse"], "reference_label": "static floor",
         "ratio": ratio(p["parse_cached"], floor["parse"]), "ratio_label": "ours / floor", "goal": "<= 1 s",
         "met": p["parse_cached"]["median"] <= 1.0,
         "note": "no request; CPU s: ours %.2f, floor %.2f. CPU s of the parts of one parse (plain timers, "
                 "bench/invparse.py --phases), cached: %s; cold: %s" % (
             pc["parse_cached"]["median"], floor["parse_cpu"], parts("cached"), parts("cold"))},
        {"scenario": 4, "title": "Inventory, %s: `ansible-inventory --list` cold, end to end" % size,
         "measure": "wall s", "ours": c["list_cold"], "reference": floor["list"], "reference_label": "static floor",
         "ratio": ratio(c["list_cold"], floor["list"]), "ratio_label": "ours / floor", "goal": "<= 5 s",
         "met": c["list_cold"]["median"] <= 5.0,
         "note": "CPU s of the process: ours %.2f, floor %.2f; from the cache %.2f s wall, %.2f s CPU; "
                 "ansible-inventory's own start-up (a static inventory of one host): %.2f s wall, %.2f s CPU" % (
             cc["list_cold"]["median"], floor["list_cpu"], c["list_cached"]["median"], cc["list_cached"]["median"],
             floor["list_one"], floor["list_one_cpu"])},
        {"scenario": 4, "title": "Inventory, %s: `ansible-inventory --list` cached, end to end" % size,
         "measure": "wall s", "ours": c["list_cached"], "reference": floor["list"], "reference_label": "static floor",
         "ratio": ratio(c["list_cached"], floor["list"]), "ratio_label": "ours / floor", "goal": "(measure)",
         "met": None},
        {"scenario": 4, "title": "Inventory, %s: `ansible-inventory --list --export` (AWX's inventory sync) cold, "
                                  "end to end" % size,
         "measure": "wall s", "ours": e["export_cold"], "reference": floor["export"], "reference_label": "static floor",
         "ratio": ratio(e["export_cold"], floor["export"]), "ratio_label": "ours / floor", "goal": "(measure)",
         "met": None,
         "note": "the command AWX and Automation Platform run to sync an inventory source; the same JSON as --list "
                 "(checked: the plugin sets every variable on its host, so no group's variables are left out of the "
                 "hosts'); it skips ansible-core's per-host VariableManager.get_vars; CPU s of the process: ours %.2f, "
                 "floor %.2f; from the cache %.2f s wall, %.2f s CPU" % (
             ec["export_cold"]["median"], floor["export_cpu"], e["export_cached"]["median"],
             ec["export_cached"]["median"])},
        {"scenario": 4, "title": "Inventory growth 100 -> 10,000 hosts (cold parse)", "measure": "exponent k, t ~ n^k",
         "ours": {"median": data["growth_exponent"], "min": data["growth_exponent"], "max": data["growth_exponent"],
                  "n": len(sizes)}, "reference": None,
         "ratio": medians[-1] / medians[0], "ratio_label": "t(10000) / t(100)", "goal": "k <= 1 (linear or better)",
         "met": data["growth_exponent"] <= 1.0,
         "note": "median parse s: %s; %.2f ms per added host" % (
             ", ".join("%d hosts %.2f" % (n, m) for n, m in zip(sizes, medians, strict=True)),
             1000 * (medians[-1] - medians[0]) / (sizes[-1] - sizes[0]))},
    ]
