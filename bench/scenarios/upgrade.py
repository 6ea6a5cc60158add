"""Scenario 6: playbooks/rolling_upgrade.yml on 20 hosts whose upgrade takes a known simulated time, with the
inventory it is documented with (tos.cloud.hosts, read once and written as a static file), batch size 1 against
4: wall time against the simulated time (the overhead ratio), and the orchestration overhead per host (wall
minus the simulated critical path, over the hosts; goal <= 0.15 s) beside its floor: the same playbook shape
with an empty task in place of every task of ours (ansible-core's start-up, a serial batch per planned batch,
the imported batch task), so the ratio says what is ours."""
from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..common import ROOT, Ansible, BenchError, Phase, Sim, check_playbook, summary
from .inventory import static_inventory

HOSTS = 20
UPGRADE_SECONDS = 30.0  # the simulator's upgrade of one host at speed 1 (simulator/ops.py DURATIONS)
SPEED = 30.0  # -> 1 s per host
PER_HOST = UPGRADE_SECONDS / SPEED
CLUSTER = "bench-000"
PLAYBOOK = ROOT / "playbooks" / "rolling_upgrade.yml"
OVERHEAD_GOAL = 0.15  # s per host above the simulated upgrade time (issue 23)
EMPTY_TASKS = 20


def fixture(workdir: Path) -> Path:
    path = workdir / "upgrade-20.json"
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", "1", "--hosts-per-cluster", str(HOSTS),
                    "--precreate", "-o", str(path)], cwd=ROOT, check=True)
    return path


def cloud_inventory(ansible: Ansible, sim: Sim, work: Path) -> Path:
    """The inventory the playbook is documented with (tos.cloud.hosts on the manager), read once, untimed, and
    written as a static file: the same host names, variables and groups (tos_uuid among them, which play 1 matches the
    plan's hosts by), so a run measures the playbook and not an inventory parse (scenario 4 measures that)."""
    source = work / "cloud.tos.yml"
    source.write_text("---\nplugin: tos.cloud.hosts\napi_url: %s\n" % sim.url)
    run = ansible.inventory(source, env={"ANSIBLE_INVENTORY_ENABLED": "tos.cloud.hosts"})
    if run.rc != 0:
        raise BenchError("the cloud inventory of the upgrade scenario failed:\n%s" % run.tail())
    static = static_inventory(json.loads(run.stdout))  # scenario 4's floor is made the same way
    if len(static["all"]["hosts"]) < HOSTS:
        raise BenchError("the cloud inventory has %d hosts, expected %d" % (len(static["all"]["hosts"]), HOSTS))
    path = work / "cloud-inventory.json"
    path.write_text(json.dumps(static))
    return path


def check_upgraded(sim: Sim) -> None:
    uuid = next(c["cluster_uuid"] for c in sim.clusters() if c["cluster_name"] == CLUSTER)
    target = sim.api("/system/upgrade_package/current/inspect?cluster_uuid=%s" % uuid)
    version = (target.get("version") if isinstance(target, dict) else None) or "3.2.5.rc2"
    listing = sim.api("/system/upgrade_package/list?cluster_uuid=%s" % uuid)
    behind = []
    for item in listing.get("list") or []:
        versions = item.get("type_version") or {}
        if any(v != version for v in versions.values()):
            behind.append(item.get("host_ip"))
    if len(listing.get("list") or []) < HOSTS or behind:
        raise BenchError("after the rolling upgrade %d host(s) are not at %s: %s" % (len(behind), version, behind[:5]))


def phases(run) -> dict[str, float]:
    """Seconds spent per kind of task (summed over the run)."""
    out: dict[str, float] = defaultdict(float)
    for task in run.tasks:
        action = task["action"].split(".")[-1]
        out[action] += task["duration"]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def batch_tasks(run) -> int:
    """Tasks run by the batches: every task after play 1's last one (the add_host that queues the planned
    hosts), to the end."""
    actions = [task["action"] for task in run.tasks]
    queued = [i for i, action in enumerate(actions) if action.endswith("add_host")]
    return len(actions) - queued[-1] - 1 if queued else 0


def batch_span(run) -> float:
    """Seconds from the start of the first batch's first task (see batch_tasks) to the end of the last task."""
    tasks = run.tasks
    count = batch_tasks(run)
    if not count:
        return 0.0
    return tasks[-1]["end"] - tasks[len(tasks) - count]["start"]


def empty_task_seconds(ansible: Ansible, work: Path) -> float:
    """The floor of one task: the median duration of an empty task (debug) in a playbook of such tasks."""
    path = work / "empty_tasks.yml"
    tasks = "".join("    - name: Empty task %d\n      ansible.builtin.debug:\n        msg: ''\n" % i
                    for i in range(EMPTY_TASKS))
    path.write_text("---\n- name: Empty tasks\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks)
    result = ansible.playbook(path)
    check_playbook(result, "the empty tasks")
    durations = [task["duration"] for task in result.tasks if task["name"].startswith("Empty task")]
    if not durations:
        raise BenchError("the empty-task playbook recorded no task")
    return statistics.median(durations)


FLOOR_PLAYBOOK = """---
- name: Play 1, empty
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Empty task in place of the pre-flight, the plan and the queue
      ansible.builtin.debug:
        msg: ''

- name: Play 2, the serial batches of playbooks/rolling_upgrade.yml
  hosts: queue
  gather_facts: false
  serial: %s
  tasks:
    - name: Import the batch's task
      ansible.builtin.import_role:
        name: floor_batch
        tasks_from: batch
      delegate_to: localhost
      run_once: true
"""


def structure_floor(ansible: Ansible, work: Path, batch: int) -> dict[str, float]:
    """The floor of the playbook's shape at ``batch``: playbooks/rolling_upgrade.yml's two plays, serial batches
    and the imported batch task, with one empty task in place of each play's work. Its wall over the hosts, and its
    batches' span over the batches (as batch_span measures ours)."""
    floor = work / "floor"
    (floor / "roles" / "floor_batch" / "tasks").mkdir(parents=True, exist_ok=True)
    (floor / "roles" / "floor_batch" / "tasks" / "batch.yml").write_text(
        "---\n- name: Upgrade the batch\n  ansible.builtin.debug:\n    msg: ''\n")
    inventory = floor / "hosts.ini"
    inventory.write_text("[queue]\n" + "".join("floor-%02d ansible_connection=local\n" % i for i in range(HOSTS)))
    playbook = floor / ("floor_batch%d.yml" % batch)
    playbook.write_text(FLOOR_PLAYBOOK % batch)
    result = ansible.playbook(playbook, inventory=inventory)
    check_playbook(result, "the rolling upgrade's floor (batch size %d)" % batch)
    batches = math.ceil(HOSTS / batch)
    tasks = result.tasks
    first = next((i for i, task in enumerate(tasks) if task["name"].endswith("Upgrade the batch")), None)
    if first is None:
        raise BenchError("the floor playbook recorded no batch task")
    return {"per_host": result.wall / HOSTS, "per_batch": (tasks[-1]["end"] - tasks[first]["start"]) / batches,
            "wall": result.wall}


def overhead_row(batch: int, wall: dict[str, Any], tasks: int, empty: float, floor: dict[str, float]) -> dict[str, Any]:
    batches = math.ceil(HOSTS / batch)
    critical = batches * PER_HOST
    overhead = (wall["median"] - critical) / HOSTS
    per_batch = tasks / batches
    return {
        "scenario": 6, "title": "Rolling upgrade orchestration per host above the simulated time, batch size %d" % batch,
        "measure": "s per host", "ours": {"median": overhead, "min": overhead, "max": overhead, "n": wall["n"]},
        "reference": {"median": floor["per_host"], "min": floor["per_host"], "max": floor["per_host"], "n": 1},
        "reference_label": "floor: the playbook's shape, empty tasks", "ratio": overhead / floor["per_host"],
        "ratio_label": "overhead / floor", "goal": "<= %.2f s per host" % OVERHEAD_GOAL, "met": overhead <= OVERHEAD_GOAL,
        "note": "(wall %.1f s - simulated critical path %.0f s) / %d hosts; the floor is the same two plays, serial "
                "batches and the imported batch task, with an empty task in place of each play's work (wall %.2f s / %d "
                "hosts), %.1f tasks per batch (an empty task %.3f s)" % (
                    wall["median"], critical, HOSTS, floor["wall"], HOSTS, per_batch, empty),
    }


def per_batch_row(span: dict[str, Any], tasks: int, empty: float, floor: dict[str, float]) -> dict[str, Any]:
    """What each added batch costs at batch size 1, without the run's fixed part (start-up, play 1, exit): the
    batches' span over the batches, less the simulated upgrade of one host."""
    batches = HOSTS
    each = (span["median"] - batches * PER_HOST) / batches
    return {
        "scenario": 6, "title": "Rolling upgrade orchestration per added batch (no start-up, no play 1), batch size 1",
        "measure": "s per batch", "ours": {"median": each, "min": each, "max": each, "n": span["n"]},
        "reference": {"median": floor["per_batch"], "min": floor["per_batch"], "max": floor["per_batch"], "n": 1},
        "reference_label": "floor: a serial batch including one empty task", "ratio": each / floor["per_batch"],
        "ratio_label": "overhead / floor", "goal": "(measure)", "met": None,
        "note": "(the batches' span %.1f s - %d x %.0f s simulated) / %d batches; %.1f tasks per batch (an empty "
                "task %.3f s)" % (span["median"], batches, PER_HOST, batches, tasks / batches, empty),
    }


def run(ansible: Ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "upgrade"
    work.mkdir(parents=True, exist_ok=True)
    walls: dict[int, list[float]] = {1: [], 4: []}
    breakdown: dict[int, dict[str, float]] = {}
    tasks: dict[int, int] = {}
    in_batches: dict[int, int] = {}
    spans: dict[int, list[float]] = {1: [], 4: []}
    with Sim(speed=SPEED, fixture=fixture(work)) as sim:
        inventory = cloud_inventory(ansible, sim, work)
        wanted = min(iterations, 2)  # the most expensive scenario: two pairs of runs at most
        i = 0
        while phase.more(i, wanted, minimum=1):
            i += 1
            for batch in ((1, 4) if i % 2 == 1 else (4, 1)):
                sim.reset()
                log("  rolling upgrade %d/%d, batch size %d" % (i, wanted, batch))
                result = ansible.playbook(PLAYBOOK, "-e", "rolling_upgrade_cluster=%s" % CLUSTER,
                                          "-e", "rolling_upgrade_batch_size=%d" % batch, api_url=sim.url, timeout=1200,
                                          inventory=inventory)
                check_playbook(result, "the rolling upgrade (batch size %d)" % batch, min_changed=1)
                check_upgraded(sim)
                walls[batch].append(result.wall)
                breakdown[batch] = phases(result)
                tasks[batch] = len(result.tasks)
                in_batches[batch] = batch_tasks(result)
                spans[batch].append(batch_span(result))
        log("  the floor: %d empty tasks, the playbook's shape at batch sizes 1 and 4" % EMPTY_TASKS)
        empty = empty_task_seconds(ansible, work)
        floors = {batch: structure_floor(ansible, work, batch) for batch in (1, 4)}
    data: dict[str, Any] = {"walls": {str(b): summary(v) for b, v in walls.items()}, "phases": breakdown,
                            "batch_spans": {str(b): summary(v) for b, v in spans.items()},
                            "tasks": tasks, "batch_tasks": in_batches, "empty_task_seconds": empty,
                            "floors": {str(b): f for b, f in floors.items()},
                            "per_host_seconds": PER_HOST}
    rows = []
    for batch in (1, 4):
        simulated_sum = HOSTS * PER_HOST
        critical = math.ceil(HOSTS / batch) * PER_HOST
        w = data["walls"][str(batch)]
        rows.append({
            "scenario": 6, "title": "Rolling upgrade, 20 hosts x %.0f s simulated, batch size %d" % (PER_HOST, batch),
            "measure": "wall s", "ours": w, "reference": {"median": critical, "min": critical, "max": critical, "n": 1},
            "reference_label": "simulated critical path", "ratio": w["median"] / critical, "ratio_label": "wall / simulated",
            "goal": "(measure)", "met": None,
            "note": "sum of the simulated upgrades %.0f s (wall / sum %.1fx); %d tasks; seconds by kind of task: %s" % (
                simulated_sum, w["median"] / simulated_sum, tasks[batch],
                ", ".join("%s %.0f" % (k, v) for k, v in list(breakdown[batch].items())[:6])),
        })
    rows.extend(overhead_row(batch, data["walls"][str(batch)], in_batches[batch], empty, floors[batch])
                for batch in (1, 4))
    rows.append(per_batch_row(data["batch_spans"]["1"], in_batches[1], empty, floors[1]))
    speedup = statistics.median([a / b for a, b in zip(walls[1], walls[4], strict=False)])
    rows.append({
        "scenario": 6, "title": "Rolling upgrade, batch size 4 vs 1", "measure": "wall s (batch 4)",
        "ours": data["walls"]["4"], "reference": data["walls"]["1"], "reference_label": "batch 1",
        "ratio": speedup, "ratio_label": "batch 1 / batch 4 (paired)", "goal": "(measure; 4 at best)", "met": None,
    })
    return data, rows
