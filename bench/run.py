"""The tos.cloud benchmark: python -m bench [--quick] [--iterations N] [--only 1,4] [--workdir DIR].

Starts its own simulators on 127.0.0.1, runs each scenario several times (interleaving what it compares),
checks every run's result before its time counts, prints a Markdown table and writes it, with every raw
number, to bench/results/latest.{md,json}. --quick (make bench-quick, part of make test) runs scenarios 1
and 2 once and fails unless every module sends exactly its minimum of requests and nothing mutating on a
no-op; it never asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import BENCH, Ansible, BenchError, Budget, machine

RESULTS = BENCH / "results"
ALL = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def log(msg: str) -> None:
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value >= 100:
            return "%.0f" % value
        if value >= 10:
            return "%.1f" % value
        return ("%%.%dg" % digits) % value
    return str(value)


def markdown(rows: list[dict[str, Any]]) -> str:
    head = "| # | Scenario | Measure | Median | Min | Max | n | Reference (median) | Ratio | Goal | Met |\n" \
           "|---|---|---|---:|---:|---:|---:|---|---:|---|---|\n"
    lines = []
    for r in rows:
        ours = r.get("ours") or {}
        ref = r.get("reference") or {}
        ref_text = "-" if not ref.get("n") else "%s: %s" % (r.get("reference_label", "reference"), fmt(ref.get("median")))
        ratio = "-" if r.get("ratio") is None else "%s %s" % (fmt(r["ratio"]), r.get("ratio_label", ""))
        met = {True: "**met**", False: "**missed**", None: "-"}[r.get("met")]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["title"], r["measure"], fmt(ours.get("median")), fmt(ours.get("min")),
            fmt(ours.get("max")), ours.get("n", "-"), ref_text, ratio, r.get("goal", ""), met))
    notes = ["- %s. %s: %s" % (r["scenario"], r["title"], r["note"]) for r in rows if r.get("note")]
    return head + "\n".join(lines) + "\n\nNotes:\n\n" + "\n".join(notes) + "\n"


DOCS = BENCH.parent / "docs" / "performance.md"
BEGIN, END = "<!-- bench:latest:begin -->", "<!-- bench:latest:end -->"


def update_docs(text: str) -> None:
    page = DOCS.read_text(encoding="utf-8")
    if BEGIN not in page or END not in page:
        log("docs/performance.md has no %s ... %s markers: not updated" % (BEGIN, END))
        return
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(head + BEGIN + "\n" + text.rstrip() + "\n" + END + tail, encoding="utf-8")
    log("updated %s" % DOCS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scenarios 1 and 2 once; assert request counts, no times")
    parser.add_argument("--iterations", type=int, default=int(os.environ.get("BENCH_ITERATIONS", "3")),
                        help="runs per measurement (default 3, env BENCH_ITERATIONS)")
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="comma list of scenarios, e.g. 1,2,4")
    parser.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR", str(BENCH.parent / "build" / "bench")))
    parser.add_argument("--budget", type=float, default=float(os.environ.get("BENCH_BUDGET", "600")),
                        help="seconds the whole run may take (default 600, env BENCH_BUDGET): repetitions beyond the "
                        "first two stop when the next would not fit in the scenario's share")
    parser.add_argument("--update-docs", action="store_true",
                        help="also put the table into docs/performance.md, between its bench:latest markers")
    parser.add_argument("--results", default=None, help="where latest.json/latest.md go (default bench/results; "
                        "--quick: the workdir)")
    args = parser.parse_args(argv)

    only = tuple(int(x) for x in args.only.split(",") if x.strip()) or ((1, 2) if args.quick else ALL)
    iterations = 1 if args.quick else max(1, args.iterations)
    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    results_dir = Path(args.results) if args.results else (workdir if args.quick else RESULTS)
    results_dir.mkdir(parents=True, exist_ok=True)
    ansible = Ansible(workdir)
    budget = Budget(args.budget)
    info = machine()
    started = time.monotonic()
    log("machine: %(nproc)s CPUs, %(cpu)s, Python %(python)s, ansible-core %(ansible_core)s, load %(loadavg_start)s" % info)

    rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}
    errors: list[str] = []

    def phase(name: str, func, *fargs) -> None:
        t0 = time.monotonic()
        log("%s ..." % name)
        try:
            data, new_rows = func(*fargs)
        except BenchError as exc:
            errors.append("%s: %s" % (name, exc))
            log("%s: WRONG RESULT, not timed: %s" % (name, exc))
            return
        except Exception:  # noqa: BLE001 - one broken scenario must not hide the others' numbers
            errors.append("%s: %s" % (name, traceback.format_exc()))
            log("%s: ERROR\n%s" % (name, traceback.format_exc()))
            return
        raw[name] = data
        raw[name + "_seconds"] = round(time.monotonic() - t0, 1)
        rows.extend(new_rows)
        log("%s done in %.0f s" % (name, time.monotonic() - t0))

    if {1, 2, 3} & set(only):
        from .scenarios import bringup

        def s123():
            data = bringup.run(ansible, workdir, iterations, args.quick, log, budget.phase(0.35))
            return data, [r for r in bringup.rows(data, args.quick) if r["scenario"] in only or r["scenario"] == 5]
        phase("scenarios 1-3 (bring-up)", s123)
    if 4 in only:
        from .scenarios import inventory
        phase("scenario 4 (inventory)", lambda: inventory.run(ansible, workdir, iterations, log, budget.phase(0.10)))
    if 5 in only:
        from .scenarios import facts
        phase("scenario 5 (host facts)", lambda: facts.run(ansible, workdir, iterations, log, budget.phase(0.15)))
    if 6 in only:
        from .scenarios import upgrade
        phase("scenario 6 (rolling upgrade)", lambda: upgrade.run(ansible, workdir, iterations, log, budget.phase(0.30)))
    if 7 in only:
        from .scenarios import simload
        phase("scenario 7 (simulator)", lambda: simload.run(workdir, iterations, raw, log, budget.phase(0.05)))
    if 8 in only:
        from .scenarios import events
        phase("scenario 8 (EDA events)", lambda: events.run(workdir, iterations, log, budget.phase(0.05)))
    if 9 in only:
        from .scenarios import drift
        phase("scenario 9 (drift report, lookups)", lambda: drift.run(ansible, workdir, iterations, log, budget.phase(0.10)))

    if 10 in only:
        from .scenarios import bringup as many

        phase("scenario 10 (many clusters)", lambda: many.run_many(ansible, workdir, iterations, log, budget.phase(0.20)))

    rows.sort(key=lambda r: r["scenario"])
    elapsed = time.monotonic() - started
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    table = markdown(rows)
    header = "tos.cloud benchmark, %s: %s CPUs (%s), Python %s, ansible-core %s; %d iteration(s); %.0f s; " \
             "load average %s at the start, %s at the end.\n\n" % (
                 datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), info["nproc"], info["cpu"], info["python"],
                 info["ansible_core"], iterations, elapsed, info["loadavg_start"], info["loadavg_end"])
    text = header + table
    if "scenarios 1-3 (bring-up)" in raw:
        from .scenarios import bringup

        text += bringup.tables(raw["scenarios 1-3 (bring-up)"], only)
    if errors:
        text += "\nScenarios with a wrong result (their times do not count):\n\n" + "\n".join(
            "- " + e.splitlines()[0] for e in errors) + "\n"
    print(text)
    doc = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": info, "quick": args.quick,
           "iterations": iterations, "elapsed_seconds": round(elapsed, 1), "rows": rows, "raw": raw, "errors": errors}
    (results_dir / "latest.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    (results_dir / "latest.md").write_text(text)
    log("wrote %s and %s" % (results_dir / "latest.json", results_dir / "latest.md"))
    if args.update_docs:
        update_docs(text)
    if errors:
        return 1
    if args.quick:
        failed = [r for r in rows if r["scenario"] == 2 and not r.get("quick_ok")]
        if failed:
            log("bench-quick: %s" % "; ".join(r["note"] for r in failed))
            return 1
        known = [r["note"] for r in rows if r["scenario"] == 2 and r.get("met") is False]
        log("bench-quick: every module at its minimum of requests (%s), nothing mutating on a no-op" % (
            "beyond it only the known excess: " + "; ".join(known) if known else "exactly"))
    return 0
