"""playbooks/rolling_upgrade.yml over the tos.cloud.hosts inventory: a fault on the second host stops
the run naming it, leaves the third host untouched and the snapshot in place; once the fault is
cleared a re-run finishes, skipping the host already upgraded."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import SPEED, Sim

from simulator.testing import run_simulator

TARGET = "3.2.5.rc2"
# rack-a of the default fixture; the leader CVM on tos-a1, so the order is a2, a3, a4, then a1
CLUSTER = {
    "name": "upgrade-a",
    "seed_ip": "192.0.2.11",
    "cvms": [
        {"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"},
        {"host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1"},
        {"host": "tos-a3", "address": "192.0.2.103/24", "gateway": "192.0.2.1"},
    ],
}
ORDER = ["tos-a2", "tos-a3", "tos-a4", "tos-a1"]


@pytest.fixture(scope="module")
def cluster(sim: Sim) -> Path:
    """The cluster brought up on a fresh simulator; the inventory file of tos.cloud.hosts."""
    return bring_up(sim)


def bring_up(sim: Sim, env: dict[str, str] | None = None) -> Path:
    """Reset the simulator and bring the cluster up (every host behind the target), with ``env`` (a token); the
    inventory file of tos.cloud.hosts."""
    sim.reset()
    run = sim.playbook("bringup.yml", env=env, extra_vars={
        "cluster_bringup_clusters": [CLUSTER], "cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}})
    assert run.rc == 0, run
    inventory = sim.tmp / "cloud.tos.yml"
    inventory.write_text(f"plugin: tos.cloud.hosts\napi_url: {sim.url}\n")
    return inventory


def versions(sim: Sim) -> dict[str, set[str]]:
    return {name: set(h["type_version"].values()) for name, h in sim.hosts().items() if name.startswith("tos-a")}


NODE_OF_IP = {"192.0.2.1%d" % n: "tos-a%d" % n for n in range(1, 5)}  # the inventory names the hosts by IP


def batch_hosts(out: str) -> list[str]:
    """The host each serial batch ran on, in order, from the first result line after each batch task's banner
    ("changed: [tos-a3 -> localhost]"): the batch's task has a fixed name (an imported task's name is templated once),
    so the batches are told apart by their hosts, in the result lines and in the failure message."""
    hosts, waiting = [], False
    for line in out.splitlines():
        if re.match(r"TASK \[(tos\.cloud\.rolling_upgrade : )?Upgrade the batch's hosts", line):
            waiting = True
        elif waiting and re.match(r"(ok|changed|fatal): \[", line):
            host = line.split("[", 1)[1].split(" ")[0].rstrip("]")
            hosts.append(NODE_OF_IP.get(host, host))
            waiting = False
    return hosts


def test_check_mode_prints_the_plan_and_changes_nothing(sim: Sim, cluster: Path) -> None:
    before = sim.state()
    run = sim.playbook("rolling_upgrade.yml", "--check", inventory=cluster,
                       extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
    assert run.rc == 0, run
    assert f"Upgrade plan for cluster upgrade-a to {TARGET}: 4 host(s) in 4 batch(es) (check mode: nothing is changed)" in run.out
    assert batch_hosts(run.out) == ["tos-a2", "tos-a3", "tos-a4", "tos-a1"], run
    lines = [line for line in run.out.splitlines() if line.strip().startswith('"batch ')]
    assert [line.split(": ")[1].split()[0] for line in lines] == ORDER, run
    assert "tos-a1 (192.0.2.11), leader CVM: compute 3.2.4 -> 3.2.5.rc2" in run.out
    after = sim.state()
    assert after["hosts"] == before["hosts"]
    assert sim.cluster("upgrade-a")["snapshots"] == []


def check_with_inventory(sim: Sim, name: str, hosts: dict[str, Any]) -> tuple[Any, set[str]]:
    """The playbook in check mode over a static inventory of ``hosts``; the run and the hosts of its recap."""
    inventory = sim.tmp / name
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    run = sim.playbook("rolling_upgrade.yml", "--check", inventory=inventory,
                       extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
    assert run.rc == 0, run
    recap = run.out[run.out.index("PLAY RECAP"):]
    return run, {line.split()[0] for line in recap.splitlines()[1:] if ": ok=" in line}


def test_the_queue_uses_the_inventory_host_of_each_planned_host(sim: Sim, cluster: Path) -> None:
    """Play 1 queues each planned host under its inventory name: the host named as the node when its tos_uuid is
    the node's, else any host with that tos_uuid (an alias), else a new host named by the node's IP."""
    uuids = {name: h["uuid"] for name, h in sim.hosts().items()}
    run, ran = check_with_inventory(sim, "aliases.yml", {
        "alias-a3": {"tos_uuid": uuids["tos-a3"]},  # found by tos_uuid only
        "alias-a4": {"tos_uuid": uuids["tos-a4"]},  # first with tos-a4's tos_uuid, but tos-a4 is named as the node
        "tos-a4": {"tos_uuid": uuids["tos-a4"]},  # found by name
        "tos-a2": {"tos_uuid": "not-the-node-of-tos-a2"},  # named as the node but another host: not used
    })
    assert ran == {"localhost", "alias-a3", "tos-a4", "192.0.2.12", "192.0.2.11"}, run


def test_a_host_name_that_is_a_pattern_is_queued_as_itself(sim: Sim, cluster: Path) -> None:
    """Play 2 runs on the queue's names as a list of host patterns; a name that a pattern splits ("edge,a3" reads as
    hosts edge and a3, neither of which exists) must still be exactly that one host: the playbook then queues the
    planned hosts in a group instead."""
    uuids = {name: h["uuid"] for name, h in sim.hosts().items()}
    run, ran = check_with_inventory(sim, "patterns.yml", {
        "edge,a3": {"tos_uuid": uuids["tos-a3"]},  # found by tos_uuid; as a pattern, two hosts that do not exist
        "tos-a4": {"tos_uuid": uuids["tos-a4"]},
    })
    assert ran == {"localhost", "edge,a3", "tos-a4", "192.0.2.12", "192.0.2.11"}, run
    assert batch_hosts(run.out) == ["tos-a2", "edge,a3", "tos-a4", "tos-a1"], run


def test_preflight_stops_while_an_inspection_runs_and_changes_nothing(sim: Sim, cluster: Path) -> None:
    """The pre-flight checks of what cluster_info read are one task; its message is the failing check's."""
    before = sim.control("POST", "durations", {})["durations"]
    sim.control("POST", "durations", {"inspection": 3600})
    try:
        uuid = sim.cluster("upgrade-a")["uuid"]
        started = requests.post(f"{sim.url}/v1/cluster/inspection", timeout=30, json={
            "cluster_uuid": uuid, "cluster_name": "upgrade-a", "check_system": True})
        assert started.ok and started.json().get("code") in (0, "0", None), started.text
        progress = requests.get(f"{sim.url}/v1/cluster/inspection/progress", params={"cluster_uuid": uuid}, timeout=30)
        assert str(progress.json()["data"].get("state")) in ("1", "running"), progress.text  # else the run would upgrade
        sim.control("DELETE", "requests")
        run = sim.playbook("rolling_upgrade.yml", inventory=cluster, extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
        assert run.rc != 0, run
        assert "Pre-flight failed: an inspection is running on upgrade-a (" in run.out, run
        assert "% done); wait for it or stop it with tos.cloud.inspection state=stopped. Nothing was changed." in run.out
        mutations = [r["path"] for r in sim.control("GET", "requests")["requests"] if r["method"] != "GET"]
        assert mutations == []
    finally:
        requests.post(f"{sim.url}/v1/cluster/inspection/stop", timeout=30,
                      json={"cluster_uuid": sim.cluster("upgrade-a")["uuid"], "cluster_name": "upgrade-a"})
        sim.control("POST", "durations", before)


def test_fault_on_the_second_host_stops_the_run_naming_it(sim: Sim, cluster: Path) -> None:
    sim.control("POST", "upgrade_failure", {"host": "tos-a3", "at": 0.5})
    run = sim.playbook("rolling_upgrade.yml", inventory=cluster, extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
    assert run.rc != 0, run
    # the failing batch's own line: batch 2, not the first batch's name repeated
    assert "Rolling upgrade of upgrade-a stopped at tos-a3 (Batch 2 of 4: tos-a3; done: tos-a2): " in run.out, run
    assert batch_hosts(run.out) == ["tos-a2", "tos-a3"], run
    assert "upgrade failed on host 192.0.2.13 (tos-a3)" in run.out, run
    assert "Not started: tos-a4, tos-a1." in run.out, run
    now = versions(sim)
    assert now["tos-a2"] == {TARGET}
    assert now["tos-a3"] != {TARGET}
    assert now["tos-a4"] == {"3.2.4"}, "the third host was touched"
    assert now["tos-a1"] == {"3.2.4"}
    assert len(sim.cluster("upgrade-a")["snapshots"]) == 1


def test_the_halt_file_stops_the_run_before_a_batch_starts(sim: Sim, cluster: Path) -> None:
    """What the rulebook tos.cloud.upgrade_failed writes when a host task fails: no batch starts while it exists."""
    halt = sim.tmp / "upgrade.halt"
    halt.write_text("{}")
    sim.control("DELETE", "requests")
    run = sim.playbook("rolling_upgrade.yml", inventory=cluster, extra_vars={
        "rolling_upgrade_cluster": "upgrade-a", "rolling_upgrade_halt_file": str(halt)})
    halt.unlink()
    assert run.rc != 0, run
    assert "Batch 1 of 3: tos-a3; done: none yet" in run.out, run
    assert "The rolling upgrade is halted: %s exists" % halt in run.out, run
    sent = [r["path"] for r in sim.control("GET", "requests")["requests"]]
    assert "/v1/system/compute/version/upgrade" not in sent


def test_rerun_after_the_fault_is_cleared_resumes_and_skips_the_first_host(sim: Sim, cluster: Path) -> None:
    sim.control("DELETE", "upgrade_failure")
    sim.control("DELETE", "requests")
    run = sim.playbook("rolling_upgrade.yml", inventory=cluster, extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
    assert run.rc == 0, run
    assert f"skipped, already at {TARGET}: tos-a2" in run.out, run
    assert batch_hosts(run.out) == ["tos-a3", "tos-a4", "tos-a1"], run
    upgrades = [r for r in sim.control("GET", "requests")["requests"] if r["path"] == "/v1/system/compute/version/upgrade"]
    assert [item["host_ip"] for r in upgrades for item in r["body"]["list"][:1]] == ["192.0.2.13", "192.0.2.14", "192.0.2.11"]
    assert set().union(*versions(sim).values()) == {TARGET}


def test_a_finished_cluster_needs_nothing(sim: Sim, cluster: Path) -> None:
    sim.control("DELETE", "requests")
    run = sim.playbook("rolling_upgrade.yml", inventory=cluster, extra_vars={"rolling_upgrade_cluster": "upgrade-a"})
    assert run.rc == 0, run
    assert "0 host(s) in 0 batch(es)" in run.out
    mutations = [r["path"] for r in sim.control("GET", "requests")["requests"] if r["method"] != "GET"]
    assert mutations == []


def test_the_role_variables_connect_every_batch_and_the_token_is_never_shown(tmp_path: Path) -> None:
    """rolling_upgrade_api_url/_api_token (not the environment) against a manager that requires the token: play 1
    resolves them once for the batches (module_defaults of play 2), so each batch must still reach the manager with
    them, and no output, even at -vvv, may show the token (the set_fact that keeps them is no_log)."""
    token = "rolling-upgrade-token-7f3a9c"
    with run_simulator(speed=SPEED, extensions="all", token=token) as url:
        manager = Sim(url, tmp_path)
        bring_up(manager, env={"TOS_API_TOKEN": token})
        manager.clear()
        run = manager.playbook("rolling_upgrade.yml", "-vvv", env={"TOS_API_URL": "", "TOS_API_TOKEN": ""}, extra_vars={
            "rolling_upgrade_cluster": "upgrade-a", "rolling_upgrade_hosts": ["tos-a2", "tos-a3"],
            "rolling_upgrade_api_url": url, "rolling_upgrade_api_token": token})
        assert run.rc == 0, run
        assert token not in run.out
        assert batch_hosts(run.out) == ["tos-a2", "tos-a3"], run
        upgrades = [r for r in manager.log() if r["path"] == "/v1/system/compute/version/upgrade"]
        assert len(upgrades) == 2 and all(r["status"] == 200 for r in manager.log()), manager.log()[-3:]
        assert versions(manager)["tos-a2"] == {TARGET} and versions(manager)["tos-a3"] == {TARGET}


def test_the_playbooks_batch_call_passes_every_role_variable(sim: Sim, tmp_path: Path) -> None:
    """playbooks/rolling_upgrade.yml does not run the role's batch step: play 1 prepares each batch's arguments
    (module_defaults of play 2's one task). They must be what the role's tasks/batch.yml passes, every role
    variable included: the first batch's invocation, read from the -vvv output of a check-mode run (the default
    callback shows module_args from -vvv on). On a cluster of its own: the tests before it upgrade every host."""
    cluster = bring_up(sim)
    halt = tmp_path / "no-such.halt"  # set, absent: the run goes on
    run = sim.playbook("rolling_upgrade.yml", "--check", "-vvv", inventory=cluster, extra_vars={
        "rolling_upgrade_cluster": "upgrade-a", "rolling_upgrade_hosts": "tos-a3", "rolling_upgrade_wait_timeout": 77,
        "rolling_upgrade_health_retries": 4, "rolling_upgrade_health_delay": 2, "rolling_upgrade_service_types": "compute",
        "rolling_upgrade_halt_file": str(halt)})
    assert run.rc == 0, run
    lines = run.out.splitlines()
    banner = next(i for i, line in enumerate(lines) if re.match(r"TASK \[Upgrade the batch's hosts", line))
    start = next(i for i in range(banner, len(lines)) if lines[i].startswith(("changed: [", "ok: [")))
    text = "\n".join(lines[start:]).split(" => ", 1)[1]
    result = json.JSONDecoder().raw_decode(text)[0]
    args = result["invocation"]["module_args"]
    uuid = sim.hosts()["tos-a3"]["uuid"]
    assert {key: args[key] for key in ("cluster", "hosts", "service_types", "version", "batch_size", "wait",
                                       "wait_timeout", "health_retries", "health_delay", "halt_file")} == {
        "cluster": "upgrade-a", "hosts": [uuid], "service_types": ["compute"], "version": TARGET, "batch_size": 1,
        "wait": True, "wait_timeout": 77, "health_retries": 4, "health_delay": 2, "halt_file": str(halt)}, args
