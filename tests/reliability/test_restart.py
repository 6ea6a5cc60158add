# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 2, restart: the simulator is killed with SIGKILL in the middle of a bring-up and started
again on the same --state-file (and port).

A watcher thread follows the simulator's request log and pulls the trigger when the bring-up
reaches the chosen request.  The run that was interrupted either rides over the restart or fails
cleanly (no traceback); then the bring-up is run again and must converge: everything the
manager had before the kill is still there, nothing is duplicated, every VM runs.
"""

from __future__ import annotations

import threading
import time

import pytest
import relib

SPEED = 10  # deploys take 2 s: a window to kill in

BRINGUP = [{
    "name": "rel-b", "seed_ip": relib.SEEDS["b"],
    "cvms": [{"host": "tos-b1", "address": "198.51.100.101/24", "gateway": "198.51.100.1"},
             {"host": "tos-b2", "address": "198.51.100.102/24", "gateway": "198.51.100.1"}],
    "storage_vms": [{"manage_cidr": "198.51.100.121/24", "manage_gateway": "198.51.100.1",
                     "storage_cidr": "198.51.100.161/24", "storage_gateway": "198.51.100.1"}],
    "drs": {"enabled": True, "threshold_level": 4}, "global_config": {"cpu": 2.5},
    "snapshot_policy": {"interval": "1d", "daemon": "started"},
}]

CVM_ADDRESSES = sorted(c["address"] for c in BRINGUP[0]["cvms"])


class Killer(threading.Thread):
    """Kill the simulator (SIGKILL) when ``trigger(log entry)`` first matches; restart it after
    ``down`` seconds on the same state file and port."""

    def __init__(self, sim, trigger, down=0.3, times=1, before=None):
        super().__init__(daemon=True)
        self.sim = sim
        self.trigger = trigger
        self.down = down
        self.times = times
        self.before = before  # called (with the sim) just before the kill, e.g. to stage a fault
        self.kills = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set() and len(self.kills) < self.times:
                try:
                    entries = self.sim.requests()
                except Exception:  # noqa: BLE001 - the simulator may be restarting
                    time.sleep(0.05)
                    continue
                hit = next((e for e in entries if self.trigger(e)), None)
                if hit is None:
                    time.sleep(0.03)
                    continue
                if self.before:
                    self.before(self.sim)
                summary = self.sim.summary()
                self.sim.kill()
                self.kills.append({"at": hit, "summary": summary})
                time.sleep(self.down)
                self.sim.restart()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def answered(method, path):
    return lambda e: e["method"] == method and e["path"] == path and e.get("status") not in (None, 0)


def arrived(method, path, delay):
    """A request that arrived ``delay`` seconds ago and is still unanswered (held by a latency fault)."""
    return lambda e: e["method"] == method and e["path"] == path and e.get("status") is None and \
        time.time() - e["time"] >= delay


def bringup_play(url, name):
    return relib.play([{"name": name, "ansible.builtin.include_role": {"name": "tos.cloud.cluster_bringup"},
                        "vars": {"tos_api_url": url, "cluster_bringup_clusters": BRINGUP, "tos_timeout": 5,
                                 # the suite reads the result back itself
                                 "cluster_bringup_verify": False}}])


def modules_play(url, name):
    c = BRINGUP[0]
    tasks = [relib.module_task(name + " cluster", "cluster", {"name": c["name"], "ip": c["seed_ip"]},
                               ignore_errors=False)]
    for cvm in c["cvms"]:
        tasks.append(relib.module_task(name + " cvm " + cvm["host"], "cvm", dict(cvm, cluster=c["name"]),
                                       ignore_errors=False))
    svm = c["storage_vms"][0]
    tasks.append(relib.module_task(name + " storage vm", "storage_service_vm", {
        "cluster": c["name"], "manage_address": svm["manage_cidr"], "manage_gateway": svm["manage_gateway"],
        "storage_address": svm["storage_cidr"], "storage_gateway": svm["storage_gateway"]}, ignore_errors=False))
    tasks.append(relib.module_task(name + " drs", "drs_config", {"cluster": c["name"], "drs": c["drs"]},
                                   ignore_errors=False))
    tasks.append(relib.module_task(name + " global", "global_config", dict(c["global_config"], cluster=c["name"]),
                                   ignore_errors=False))
    tasks.append(relib.module_task(name + " policy", "snapshot_policy", dict(c["snapshot_policy"], cluster=c["name"]),
                                   ignore_errors=False))
    return relib.play(tasks, module_defaults=relib.module_defaults(url, timeout=5))


# the scenarios that also run the bring-up a third time (must change nothing); the others stop at
# the converging re-run, to keep the suite short
THIRD_RUN = ("after-cluster-add", "module-playbook-twice")

SCENARIOS = {
    # name: (playbook builder, trigger, down seconds, times, before-kill hook)
    "after-cluster-add": (bringup_play, answered("POST", "/v1/cluster/add"), 0.3, 1, None),
    "mid-cvm-deploy": (bringup_play, answered("POST", "/v1/cluster/deploy/cvm"), 0.3, 1, None),
    "in-flight-cvm-deploy": (bringup_play, arrived("POST", "/v1/cluster/deploy/cvm", 0.5), 0.3, 1, "hold-deploy"),
    "long-outage": (bringup_play, answered("POST", "/v1/cluster/deploy/cvm"), 8.0, 1, None),
    "module-playbook-twice": (modules_play, lambda e: e["method"] == "POST" and e.get("status") not in (None, 0),
                              0.3, 2, None),
}


def run_scenario(name):
    build, trigger, down, times, hold = SCENARIOS[name]
    sim = relib.Sim("restart-" + name, speed=SPEED, state_file=True).start()
    try:
        if hold == "hold-deploy":
            # hold the first deploy in the simulator so the kill lands while it is in flight
            sim.fault(kind="latency", seconds=3, path="/v1/cluster/deploy/cvm", method="POST", count=1)
        killer = Killer(sim, trigger, down=down, times=times)
        killer.start()
        first = relib.run_playbook([build(sim.url, name)], relib.workdir("restart-%s-1" % name))
        killer.stop.set()
        killer.join(timeout=30)
        assert killer.error is None, "the watcher failed: %r" % killer.error
        assert len(killer.kills) == times, "the simulator was killed %d time(s), expected %d (first run rc=%s)" % (
            len(killer.kills), times, first.rc)
        after_restart = sim.summary()
        # the converging re-run and (for some) a third run, as two plays of one ansible-playbook
        plays = [build(sim.url, name + " again"),
                 relib.play([relib.sim_step("converged", sim.url, read=True, clear_log=True)])]
        if name in THIRD_RUN:
            plays += [build(sim.url, name + " once more"), relib.play([relib.sim_step("after", sim.url, read=True)])]
        rerun = relib.run_playbook(plays, relib.workdir("restart-%s-2" % name))
        final = rerun.result("converged")["summary"] if rerun.named("converged") else sim.summary()
        log = rerun.result("after")["requests"] if rerun.named("after") else None
        return {"first": first, "rerun": rerun, "kills": killer.kills, "after_restart": after_restart,
                "final": final, "log_after_third": log, "third": name in THIRD_RUN}
    finally:
        sim.stop()


def _part(run, marker):
    """The records of the play whose tasks carry ``marker`` in their names (role tasks included)."""
    names = [r["task"] for r in run.records]
    if marker == "again":
        stop = names.index("converged") if "converged" in names else len(names)
        return run.records[:stop]
    start = names.index("converged") + 1 if "converged" in names else len(names)
    return run.records[start:]


def check(outcome):
    first, rerun = outcome["first"], outcome["rerun"]
    # the interrupted run: rode over the restart, or failed cleanly
    for rec in first.records + rerun.records:
        relib.assert_no_traceback(rec["result"])
    if first.rc != 0:
        failed = [r for r in first.records if r["status"] == "failed"]
        assert failed, "rc=%s without a failed task: %s" % (first.rc, first.output()[-2000:])
        relib.assert_clean_failure(failed[0]["result"])
    # nothing the manager had just before the (last) kill was lost
    before = outcome["kills"][-1]["summary"]
    after = outcome["after_restart"]
    for cname in before["cluster_names"]:
        assert cname in after["cluster_names"], "cluster %s lost in the restart" % cname
    for cvm in before["cvms"]:
        assert cvm["address"] in [c["address"] for c in after["cvms"]], "CVM %s lost" % cvm["address"]
    # the re-run converges, without duplicates
    failed = [r for r in _part(rerun, "again") if r["status"] == "failed"]
    assert rerun.rc == 0 and not failed, "the re-run after the restart failed: %s" % (
        relib.failure_text(failed[0]["result"]) if failed else rerun.output()[-3000:])
    final = outcome["final"]
    assert final["cluster_names"] == ["rel-b"], final["cluster_names"]
    cluster = final["clusters"]["rel-b"]
    assert sorted(c["address"] for c in cluster["cvms"]) == CVM_ADDRESSES, cluster["cvms"]
    assert all(c["status"] == "running" for c in cluster["cvms"]), cluster["cvms"]
    assert [v["manage_cidr"] for v in cluster["storage_vms"]] == ["198.51.100.121/24"], cluster["storage_vms"]
    assert 2.5 in cluster["global_config"].values(), cluster["global_config"]
    # and a third run changes nothing
    if not outcome["third"]:
        return
    third = _part(rerun, "once more")
    changed = [r["task"] for r in third if r["result"].get("changed")]
    assert not changed, "the run after convergence still changed: %s" % changed
    mutations = [e for e in outcome["log_after_third"] if relib.is_mutation(e)]
    assert not mutations, "the run after convergence still sent %s" % mutations


def _scenario_class(name):
    class RestartRow:
        def test_restart(self):
            if not (relib.ROOT / "roles/cluster_bringup/tasks/main.yml").exists():
                pytest.skip("cluster_bringup is not in the collection yet")
            check(run_scenario(name))

    RestartRow.__name__ = RestartRow.__qualname__ = "TestRestart_" + name.replace("-", "_")
    return RestartRow


for _name in SCENARIOS:
    _cls = _scenario_class(_name)
    globals()[_cls.__name__] = _cls
