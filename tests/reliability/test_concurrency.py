# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 6, concurrency: many module executions at once against one simulator.

- 20 inventory hosts (ansible_connection=local) with forks 10 run the info modules: every one
  succeeds, all agree, and nothing is written;
- 3 hosts with forks 3 each converge one cluster (cluster, CVM, DRS, global config, snapshot
  policy) in parallel: no errors, exactly three clusters and three CVMs, and a second parallel
  run changes nothing;
- 3 hosts race to create the same cluster: exactly one cluster exists afterwards and every
  host ends up with it (created once, found by the others, or a clean refusal).
"""

from __future__ import annotations

import pytest
import relib

HOSTS = ["h%02d" % i for i in range(1, 21)]
CLUSTER_A = {"name": "rel-a", "seed": relib.SEEDS["a"],
             "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}

# the three parallel bring-ups: one rack each
RACKS = {
    "c1": {"cname": "rel-par-a", "seed": relib.SEEDS["a"], "cvm_host": "tos-a1", "address": "192.0.2.101/24",
           "gateway": "192.0.2.1"},
    "c2": {"cname": "rel-par-b", "seed": relib.SEEDS["b"], "cvm_host": "tos-b1", "address": "198.51.100.101/24",
           "gateway": "198.51.100.1"},
    "c3": {"cname": "rel-par-c", "seed": relib.SEEDS["c"], "cvm_host": "tos-c1", "address": "203.0.113.101/24",
           "gateway": "203.0.113.1"},
}
STEPS = ["cluster", "cvm", "drs", "global", "policy"]


@pytest.fixture(scope="module")
def csim():
    s = relib.Sim("concurrency").start()
    yield s
    s.stop()


# ---- 20 hosts x forks 10 on the info modules --------------------------------------------------

INFO = ["system_info", "cluster_info"]


@pytest.fixture(scope="module")
def info_run(csim):
    dir = relib.workdir("concurrency-info")
    fixture = relib.write_fixture(dir / "a.yml", clusters=[CLUSTER_A])
    csim.reset(fixture)
    csim.clear_log()
    inventory = relib.write_inventory(dir, hosts=HOSTS)
    tasks = [
        relib.module_task("system_info", "system_info", {}),
        relib.module_task("cluster_info", "cluster_info", {"cluster": "rel-a", "gather": ["topology", "drs"]}),
    ]
    run = relib.run_playbook([relib.play(tasks, hosts="all", module_defaults=relib.module_defaults(csim.url))], dir,
                             inventory=inventory, forks=10)
    return run, csim.requests()


class TestConcurrencyInfo:
    @pytest.mark.parametrize("host", HOSTS)
    @pytest.mark.parametrize("module", INFO)
    def test_info_in_parallel(self, info_run, module, host):
        run, log = info_run
        result = run.result(module, host)
        assert not result.get("failed"), relib.short_msg(result)
        if module == "system_info":
            assert result["members"]["ready"] is True and result["members"]["leader"], result["members"]
        else:
            assert "rel-a" in str(result), "cluster_info did not return rel-a"
        assert not [e for e in log if relib.is_mutation(e)], "info modules wrote"
        errors = [e for e in log if e.get("code") not in (0, None) or (e.get("status") or 200) >= 400]
        assert not errors, errors[:3]


# ---- three clusters converging in parallel ----------------------------------------------------


def _bringup_tasks(prefix):
    v = "{{ %s }}"
    return [
        relib.module_task("%s cluster" % prefix, "cluster", {"name": v % "cname", "ip": v % "seed"}),
        relib.module_task("%s cvm" % prefix, "cvm", {
            "cluster": v % "cname", "host": v % "cvm_host", "address": v % "address", "gateway": v % "gateway",
            "wait_timeout": 120}),
        relib.module_task("%s drs" % prefix, "drs_config", {"cluster": v % "cname",
                                                            "drs": {"enabled": True, "threshold_level": 4},
                                                            "dpm": {"enabled": True, "low_threshold": 0.2,
                                                                    "high_threshold": 0.8}}),
        relib.module_task("%s global" % prefix, "global_config", {"cluster": v % "cname", "cpu": 3.0, "memory": 1.5}),
        relib.module_task("%s policy" % prefix, "snapshot_policy", {"cluster": v % "cname", "interval": "6h",
                                                                    "daemon": "started"}),
    ]


@pytest.fixture(scope="module")
def parallel_run(csim):
    dir = relib.workdir("concurrency-bringup")
    csim.reset()
    inventory = relib.write_inventory(dir, hosts=list(RACKS), hostvars=RACKS)
    plays = [relib.play(_bringup_tasks("first"), hosts="c1:c2:c3", module_defaults=relib.module_defaults(csim.url)),
             relib.play([relib.sim_step("between", csim.url, read=True, clear_log=True)], hosts="localhost"),
             relib.play(_bringup_tasks("second"), hosts="c1:c2:c3", module_defaults=relib.module_defaults(csim.url)),
             relib.play([relib.sim_step("after", csim.url, read=True)], hosts="localhost")]
    (dir / "inventory.ini").write_text((dir / "inventory.ini").read_text() + "localhost ansible_connection=local "
                                       "ansible_python_interpreter=%s\n" % relib.PYTHON)
    return relib.run_playbook(plays, dir, inventory=inventory, forks=3)


class TestConcurrencyBringup:
    @pytest.mark.parametrize("host", list(RACKS))
    @pytest.mark.parametrize("step", STEPS)
    @pytest.mark.parametrize("phase", ["first", "second"])
    def test_parallel_bringup(self, parallel_run, phase, step, host):
        result = parallel_run.result("%s %s" % (phase, step), host)
        assert not result.get("failed"), relib.short_msg(result)
        if phase == "first":
            assert result.get("changed"), "the first run did not change %s on %s" % (step, host)
        else:
            assert not result.get("changed"), "the second run changed %s on %s" % (step, host)
            after = parallel_run.result("after", "localhost")
            assert not after["mutations"], "the second run sent %s" % after["mutations"]

    def test_three_clusters_no_duplicates(self, parallel_run):
        summary = parallel_run.result("between", "localhost")["summary"]
        assert summary["cluster_names"] == sorted(r["cname"] for r in RACKS.values()), summary["cluster_names"]
        assert sorted(c["address"] for c in summary["cvms"]) == sorted(r["address"] for r in RACKS.values())
        for rack in RACKS.values():
            cluster = summary["clusters"][rack["cname"]]
            assert [c["address"] for c in cluster["cvms"]] == [rack["address"]], cluster["cvms"]
            assert cluster["global_config"], cluster


# ---- a race: three hosts create the same cluster at once -------------------------------------


@pytest.fixture(scope="module")
def race_run(csim):
    dir = relib.workdir("concurrency-race")
    inventory = relib.write_inventory(dir, hosts=["r1", "r2", "r3"])
    (dir / "inventory.ini").write_text((dir / "inventory.ini").read_text() + "localhost ansible_connection=local "
                                       "ansible_python_interpreter=%s\n" % relib.PYTHON)
    plays = [relib.play([relib.sim_step("reset", csim.url, reset=True, clear_log=True)], hosts="localhost"),
             relib.play([relib.module_task("race", "cluster", {"name": "rel-race", "ip": relib.SEEDS["b"]}),
                         relib.module_task("after race", "cluster", {"name": "rel-race", "ip": relib.SEEDS["b"]})],
                        hosts="r1:r2:r3", module_defaults=relib.module_defaults(csim.url)),
             relib.play([relib.sim_step("state", csim.url, read=True)], hosts="localhost")]
    return relib.run_playbook(plays, dir, inventory=inventory, forks=3)


class TestConcurrencyRace:
    @pytest.mark.parametrize("host", ["r1", "r2", "r3"])
    def test_same_cluster_from_three_hosts(self, race_run, host):
        result = race_run.result("race", host)
        relib.assert_no_traceback(result)
        if result.get("failed"):
            relib.assert_clean_failure(result, words=("rel-race",))
        again = race_run.result("after race", host)
        assert not again.get("failed") and not again.get("changed"), relib.short_msg(again)
        state = race_run.result("state", "localhost")
        assert state["summary"]["cluster_names"] == ["rel-race"], state["summary"]["cluster_names"]
        created = [h for h in ("r1", "r2", "r3") if race_run.result("race", h).get("changed")]
        assert len(created) == 1, "changed=true on %s: the cluster was created once" % created
