"""Operations in flight (issue 19): a running deploy, upgrade or inspection is joined, never restarted; a wait
that times out sends nothing; check mode tells the same story as the real run; role input the platform would
refuse half-way is refused before any request.

Every scenario runs with the operation actually in flight (the simulator's per-operation durations, at
--speed 40) and asserts on the simulator's request log; the role scenarios run --check first, then twice for
real, and compare the check-mode recap with the real run's."""
from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, Sim

INSPECTION = "/v1/cluster/inspection"
UPGRADE = "/v1/system/compute/version/upgrade"
DEPLOY_CVM = "/v1/cluster/deploy/cvm"
CLUSTERS = [{"name": "fly-a", "seed_ip": "192.0.2.11"},
            {"name": "fly-b", "seed_ip": "198.51.100.11",
             "cvms": [{"host": "tos-b1", "address": "198.51.100.101/24", "gateway": "198.51.100.1"}]}]
_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def changed(run: Run) -> dict[str, int]:
    """changed= of each host of the play recap."""
    return {host: int(count) for host, _ok, count, _unreachable, _failed in _RECAP.findall(run.out)}


@pytest.fixture(scope="module")
def clusters(sim: Sim) -> list[str]:
    sim.reset()
    run = sim.playbook("bringup.yml", extra_vars={
        "cluster_bringup_clusters": CLUSTERS, "cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}})
    assert run.rc == 0, run
    return [c["name"] for c in CLUSTERS]


# ---- role input refused before any request ----------------------------------------------------------------

@pytest.mark.parametrize("description, fragment", [
    ([{"name": "dup-1", "seed_ip": "203.0.113.11"}, {"name": "dup-2", "seed_ip": "203.0.113.11"}],
     "cluster_bringup_clusters[1].seed_ip: 203.0.113.11 is also the seed of cluster_bringup_clusters[0]"),
    ([{"name": "dup-1", "seed_ip": "203.0.113.11",
       "cvms": [{"host": "203.0.113.12", "address": "203.0.113.101/24", "gateway": "203.0.113.1"}]},
      {"name": "dup-2", "seed_ip": "203.0.113.12"}],
     "cluster_bringup_clusters[1].seed_ip"),
    ([{"name": "dup-1", "seed_ip": "203.0.113.11",
       "cvms": [{"host": "tos-c1", "address": "203.0.113.11/24", "gateway": "203.0.113.1"}]}],
     "is the address of the host given as cluster_bringup_clusters[0].seed_ip"),
])
def test_bringup_refuses_conflicts_before_any_request(sim: Sim, description: list[dict[str, Any]],
                                                      fragment: str) -> None:
    sim.clear()
    run = sim.playbook("bringup.yml", extra_vars={
        "cluster_bringup_clusters": description, "cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}})
    assert run.rc != 0 and "Invalid input, nothing was changed" in run.out, run
    assert fragment in run.out, run
    assert sim.log() == [], "a request was sent before the input was refused"


# ---- inspection_report: one inspection per cluster, attached to, and a report re-run that changes nothing ----

def test_inspection_report_joins_its_inspections_and_a_rerun_without_news_changes_nothing(
        sim: Sim, clusters: list[str], durations: Any) -> None:
    # the second cluster's inspection ends while the role still waits on the first one
    durations(inspection=60)
    report = sim.tmp / "report"
    extra = {"inspection_report_clusters": clusters, "inspection_report_dir": str(report),
             "inspection_report_versions": False, "inspection_report_formats": ["json"]}
    recaps = []
    for args in (("--check",), ()):
        sim.clear()
        run = sim.playbook("inspect.yml", *args, extra_vars=extra)
        assert run.rc == 0, run
        recaps.append(changed(run))
        if args:
            assert sim.mutated() == [], "check mode sent a change"
        else:  # one inspection per cluster, joined by the wait: never a second one
            starts = [e["body"]["cluster_name"] for e in sim.log() if e["path"] == INSPECTION]
            assert sorted(starts) == sorted(clusters) and sim.mutated() == [INSPECTION, INSPECTION], starts
    assert recaps[0] == recaps[1] and sum(recaps[1].values()) > 0, recaps
    written = (report / "report.json").read_text()
    # the same report again, from the inspections already done: nothing new, so nothing changes
    extra["inspection_report_inspect"] = False
    for args in (("--check",), ()):
        sim.clear()
        again = sim.playbook("inspect.yml", *args, extra_vars=extra)
        assert again.rc == 0, again
        assert sum(changed(again).values()) == 0, again
        assert sim.mutated() == []
    assert (report / "report.json").read_text() == written, "the unchanged report was rewritten"


# ---- the upgrade module with an upgrade in flight ------------------------------------------------------------

def test_a_running_upgrade_is_joined_and_a_timed_out_wait_sends_nothing(sim: Sim, clusters: list[str],
                                                                        durations: Any) -> None:
    durations(upgrade=2400)  # 60 s at speed 40: still running through the next steps
    start = {"tos.cloud.upgrade": {"cluster": "fly-a", "hosts": ["tos-a2", "tos-a4"], "wait": False},
             "register": "started"}
    sim.clear()
    run = sim.play("start", [start])
    assert run.rc == 0 and changed(run) == {"localhost": 1}, run
    assert sim.mutated() == [UPGRADE]
    joined = {"tos.cloud.upgrade": {"cluster": "fly-a", "hosts": ["tos-a2", "tos-a4"], "wait_timeout": 3},
              "register": "joined", "ignore_errors": True}
    check = sim.play("check", [joined, {"ansible.builtin.assert": {"that": [
        "joined.hosts[0].status == 'running'", "joined.hosts[0].started_by == 'another_run'",
        "joined.hosts[1].status == 'pending'", "joined is changed"]}}], "--check")
    assert check.rc == 0, check
    real = sim.play("join", [joined, {"ansible.builtin.assert": {"that": [
        "joined is failed", "joined is not changed", "'started by another run' in joined.msg",
        "'nothing was sent' in joined.msg", "joined.hosts[0].started_by == 'another_run'",
        "joined.hosts[1].status == 'not_started'"]}}])
    assert real.rc == 0, real
    assert sim.mutated() == [UPGRADE], "a second upgrade was sent to a host still upgrading"
    # the same task with wait: false joins without waiting, in check mode and for real: no change, no request
    again = dict(start, register="again")
    for args in (("--check",), ()):
        run = sim.play("again", [again, {"ansible.builtin.assert": {"that": [
            "again is not changed", "again.hosts[0].status == 'running'"]}}], *args)
        assert run.rc == 0, run
    assert sim.mutated() == [UPGRADE]


# ---- the cvm module with a deploy in flight ---------------------------------------------------------------

def test_a_running_deploy_at_another_address_fails_in_check_mode_as_for_real(sim: Sim, clusters: list[str],
                                                                             durations: Any) -> None:
    durations(deploy_cvm=160)  # 4 s at speed 40
    # fly-a has no CVM yet: this one will be its first, and so its leader
    deploy = {"tos.cloud.cvm": {"cluster": "fly-a", "host": "tos-a3", "address": "192.0.2.105/24",
                                "gateway": "192.0.2.1", "wait": False}, "register": "deployed"}
    sim.clear()
    run = sim.play("deploy", [deploy, {"ansible.builtin.assert": {"that": [
        "deployed is changed", "deployed.started_by == 'this_run'", "deployed.cvm.is_leader"]}}])
    assert run.rc == 0, run
    other = {"tos.cloud.cvm": {"cluster": "fly-a", "host": "tos-a3", "address": "192.0.2.109/24",
                               "gateway": "192.0.2.1", "wait": False}, "register": "other", "ignore_errors": True}
    verdict = {"ansible.builtin.assert": {"that": [
        "other is failed", "other is not changed",
        "'already runs the cloud-management VM 192.0.2.105/24, not 192.0.2.109/24' in other.msg"]}}
    for args in (("--check",), ()):
        run = sim.play("other", [other, verdict], *args)
        assert run.rc == 0, run
    assert sim.mutated() == [DEPLOY_CVM], "the deploy was sent again"
    after = sim.play("after", [other, verdict])  # the deploy is over now: the same failure
    assert after.rc == 0, after
    assert sim.mutated() == [DEPLOY_CVM]


def test_rolling_upgrade_check_recap_equals_the_real_run(sim: Sim, clusters: list[str], tmp_path: Path) -> None:
    inventory = tmp_path / "cloud.tos.yml"
    inventory.write_text(f"plugin: tos.cloud.hosts\napi_url: {sim.url}\n")
    extra = {"rolling_upgrade_cluster": "fly-b", "rolling_upgrade_hosts": ["tos-b3"]}
    sim.clear()
    check = sim.playbook("rolling_upgrade.yml", "--check", inventory=inventory, extra_vars=extra)
    assert check.rc == 0, check
    assert sim.mutated() == []
    real = sim.playbook("rolling_upgrade.yml", inventory=inventory, extra_vars=extra)
    assert real.rc == 0, real
    # the snapshot and the one batch: the same two changes announced by --check
    assert changed(check) == changed(real) and sum(changed(real).values()) == 2, (check.out[-3000:], real.out[-2000:])
    assert sim.mutated() == ["/v1/cluster/data/snapshot/save", UPGRADE]


# ---- metadata_snapshot: two runs at once ----------------------------------------------------------------------

def test_two_snapshot_runs_at_once_each_report_their_own_and_never_prune_it(sim: Sim, clusters: list[str]) -> None:
    tasks = [{"tos.cloud.metadata_snapshot": {"cluster": "fly-b", "retain": 1}, "register": "snap"},
             {"ansible.builtin.copy": {"content": "{{ snap | to_json }}", "dest": "{{ out }}", "mode": "0644"}}]
    sim.clear()
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda i: sim.play("snap%d" % i, tasks, "-e", "out=%s" % (sim.tmp / ("snap%d.json" % i))),
                             range(2)))
    # the failing run's whole tail, not the list's repr that pytest cuts in the middle (a one-off failure of this
    # test under a loaded cold start could not be read)
    assert all(run.rc == 0 for run in runs), "\n\n".join(str(run) for run in runs if run.rc != 0)
    results = [json.loads((sim.tmp / ("snap%d.json" % i)).read_text()) for i in range(2)]
    saves = [e for e in sim.log() if e["path"] == "/v1/cluster/data/snapshot/save"]
    created = {r["created"] for r in results}
    assert len(saves) == 2 and len(created) == 2 and None not in created, results  # each its own, none unknown
    assert all(r["created"] not in r["deleted"] for r in results), results  # never prunes what it took
    # a snapshot a run sees only once it has taken its own is another run's, just taken: kept too
    left = set(sim.cluster("fly-b")["snapshots"])
    assert any(r["created"] in left for r in results) and len(left) <= 2, (left, results)
