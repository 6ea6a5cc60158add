"""Scenario 5: tos.cloud.host_facts against ansible.builtin.setup (gather_subset min, and the default subset),
on localhost and on 20 local hosts (ansible_connection=local aliases) with forks 5 and 20.

One playbook run per host set holds every variant, rounds of them in rotating order, so each ratio is taken
within one run; the bench_timer callback gives each task's wall time (all hosts of the task)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from ..common import Ansible, Phase, check_playbook, ratio, summary

VARIANTS = {
    "empty": "ansible.builtin.debug: {msg: empty}",
    "setup_min": "ansible.builtin.setup: {gather_subset: [min]}",
    "setup_default": "ansible.builtin.setup:",
    "host_facts": "tos.cloud.host_facts:",
    "host_facts_nosample": "tos.cloud.host_facts: {sample_seconds: 0}",
}
ALIASES = 20


def playbook(path: Path, rounds: int) -> Path:
    names = list(VARIANTS)
    lines = ["---", "- name: Facts, %d rounds" % rounds, "  hosts: bench_facts", "  gather_facts: false", "  tasks:"]
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            lines += ["    - name: bench %s round %d" % (name, r + 1), "      %s" % VARIANTS[name]]
    lines += [
        "    - name: Check that both kinds of facts were gathered",
        "      ansible.builtin.assert:",
        "        that: [ansible_facts.tos_host.hostname is defined, ansible_facts.distribution is defined]",
        "        quiet: true",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def inventory(path: Path, hosts: int) -> Path:
    lines = ["[bench_facts]"]
    if hosts == 1:
        lines.append('localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"')
    else:
        lines += ['bench-h%02d ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"' % (i + 1)
                  for i in range(hosts)]
    path.write_text("\n".join(lines) + "\n")
    return path


def durations(run) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for task in run.tasks:
        if task["name"].startswith("bench "):
            out[task["name"].split()[1]].append(task["duration"])
    return out


def run(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "facts"
    work.mkdir(parents=True, exist_ok=True)
    # rounds: every variant once per round, in rotating order; the 20-host runs are the expensive ones
    cases = [("localhost", 1, 5, iterations), ("20 hosts, forks 5", ALIASES, 5, min(2, iterations)),
             ("20 hosts, forks 20", ALIASES, 20, min(2, iterations))]
    data: dict[str, Any] = {}
    rows = []
    for n, (label, hosts, forks, rounds) in enumerate(cases):
        phase.more(n, len(cases), minimum=len(cases))  # every case runs; this only updates phase.last
        # a 20-host case takes about rounds x (the localhost case's time per round) x 8: past the phase's share,
        # one round still measures every variant
        if n and time.monotonic() + phase.last * rounds > phase.deadline:
            rounds = 1
        log("  host facts: %s, %d round(s)" % (label, rounds))
        book = playbook(work / ("facts-%d.yml" % rounds), rounds)
        inv = inventory(work / ("hosts-%d.ini" % hosts), hosts)
        result = ansible.playbook(book, "-f", str(forks), inventory=inv)
        check_playbook(result, "the host facts playbook (%s)" % label)
        per = {k: summary(v) for k, v in durations(result).items()}
        empty = per["empty"]["median"]
        net = {k: max(v["median"] - empty, 0.0) for k, v in per.items()}
        data[label] = {"tasks": per, "net": net, "wall": result.wall}
        hf, hf0, smin, sdef = per["host_facts"], per["host_facts_nosample"], per["setup_min"], per["setup_default"]
        r_default = ratio(hf, smin)
        r_nosample = ratio(hf0, smin)
        rows.append({
            "scenario": 5, "title": "host_facts vs setup(min), %s" % label, "measure": "task s",
            "ours": hf, "reference": smin, "reference_label": "setup min", "ratio": r_default,
            "ratio_label": "host_facts / setup(min)", "goal": "<= 0.5x", "met": r_default is not None and r_default <= 0.5,
            "note": "sample_seconds 0: %.2f s = %.2fx; setup default %.2f s (host_facts = %.2fx of it); empty task "
                    "%.2f s; net of the empty task: host_facts %.2f, sample_seconds 0 %.2f, setup min %.2f, setup default "
                    "%.2f s" % (hf0["median"], r_nosample or 0, sdef["median"], ratio(hf, sdef) or 0, empty,
                                net["host_facts"], net["host_facts_nosample"], net["setup_min"], net["setup_default"]),
        })
    data["net_ratio_nosample"] = statistics.median(
        [d["net"]["host_facts_nosample"] / d["net"]["setup_min"] for d in data.values()
         if isinstance(d, dict) and d.get("net", {}).get("setup_min")])
    return data, rows
