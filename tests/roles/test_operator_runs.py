"""What operators do, module by module: real ansible-playbook runs against a private simulator, judged by the
simulator's request log and state (not by the module's word).

Each test failed before 1.0.x's fix (DESIGN.md section 4: check mode predicts what a real run reports, also while
an operation runs; an operation is joined, never started twice)."""
from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import Sim, Started

SIM_OPTIONS: dict[str, Any] = {}  # the simulator's defaults
SIM_SPEED = 20


@pytest.fixture(autouse=True)
def fresh(sim: Sim) -> None:
    """Each test starts from the simulator's fixture with an empty request log."""
    sim.reset()
    sim.clear()


def one(sim: Sim, module: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return sim.results([{"tos.cloud.%s" % module: args}], **kwargs)[0]


def outcome(result: dict[str, Any]) -> tuple[bool, bool]:
    return bool(result.get("failed")), bool(result.get("changed"))


# -- tos.cloud.cluster ------------------------------------------------------------------------------------

def test_cluster_check_mode_predicts_the_refusal_of_a_seed_host_already_in_a_cluster(sim: Sim) -> None:
    """The seed 192.0.2.12 joined cluster c1 with its group: a real create of c2 from it is refused (code 2004);
    check mode reads the same clusters' topologies and must predict the failure, not 'changed'."""
    assert not one(sim, "cluster", {"name": "c1", "ip": "192.0.2.11"}).get("failed")
    args = {"name": "c2", "ip": "192.0.2.12"}
    sim.clear()
    check = one(sim, "cluster", args, check=True)
    assert sim.mutations() == []
    real = one(sim, "cluster", args)
    assert outcome(real) == (True, False), real  # the platform refuses it
    assert outcome(check) == outcome(real), (check, real)


# -- tos.cloud.cvm and tos.cloud.storage_service_vm: addresses of the other clusters ----------------------

def _two_clusters(sim: Sim) -> None:
    results = sim.results([{"tos.cloud.cluster": {"name": "a", "ip": "192.0.2.11"}},
                           {"tos.cloud.cluster": {"name": "b", "ip": "198.51.100.11"}}])
    assert not any(r.get("failed") for r in results), results
    sim.clear()


@pytest.mark.parametrize("module, args", [
    ("cvm", {"cluster": "a", "host": "tos-a1", "address": "198.51.100.11/24", "gateway": "198.51.100.1"}),
    ("storage_service_vm", {"cluster": "a", "manage_address": "198.51.100.11/24", "manage_gateway": "198.51.100.1",
                            "storage_address": "192.0.2.171/24", "storage_gateway": "192.0.2.1"}),
])
def test_an_address_used_by_a_host_of_another_cluster_is_refused_before_any_request(
        sim: Sim, module: str, args: dict[str, Any]) -> None:
    """198.51.100.11 is host tos-b1 of cluster b: the platform refuses the deploy (code 3003). Check mode reads
    the other clusters and predicts that refusal; the real run leaves it to the platform (no change)."""
    _two_clusters(sim)
    check = one(sim, module, args, check=True)
    assert sim.mutations() == []
    assert "198.51.100.11 is already used by host tos-b1 in cluster 'b'" in check["msg"], check
    real = one(sim, module, dict(args, wait=False))
    assert outcome(real) == (True, False), real
    assert outcome(check) == outcome(real), (check, real)
    assert sim.control("GET", "state")["cvms"] == {} and sim.control("GET", "state")["storage_vms"] == {}


# -- tos.cloud.cvm: check mode while the deploy runs ----------------------------------------------------------

def test_cvm_check_mode_diff_while_a_deploy_runs_equals_the_real_runs(sim: Sim) -> None:
    """A deploy started with wait=false is still running. Without address, the real run (wait=true) joins it and
    reports the deployed address in its diff; check mode joins it the same way (read-only) and reports the same."""
    assert not one(sim, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.control("POST", "durations", {"deploy_cvm": 3000})  # 150 s at speed 20: runs until the test moves the clock
    deploy = {"cluster": "a", "host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}
    assert one(sim, "cvm", dict(deploy, wait=False)).get("changed")
    sim.clear()
    args = {"cluster": "a", "host": "tos-a1"}

    def polled_then_finished(started: Started) -> dict[str, Any]:
        seq = max((r["seq"] for r in sim.log()), default=0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the run polls the deploy: let it finish now
            if any(r["path"] == "/v1/cluster/host/task/progress" and r["seq"] > seq for r in sim.log()):
                break
            time.sleep(0.2)
        sim.control("POST", "time", {"advance": 10 ** 6})
        return started.results()[0]

    check = polled_then_finished(sim.start([{"tos.cloud.cvm": args}], check=True, diff=True))
    assert sim.mutations() == []
    sim.control("POST", "reset", {})  # the same again: a deploy still running when the real run comes
    assert not one(sim, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.control("POST", "durations", {"deploy_cvm": 3000})
    assert one(sim, "cvm", dict(deploy, wait=False)).get("changed")
    sim.clear()
    real = polled_then_finished(sim.start([{"tos.cloud.cvm": args}], diff=True))
    assert sim.mutations() == []
    assert outcome(check) == outcome(real) == (False, False)
    assert check["diff"] == real["diff"], (check["diff"], real["diff"])


# -- the run's cache (tos_cloud_run_cache) across a long operation -----------------------------------------------

def _deploy_then_read_then_later(sim: Sim, deploy: dict[str, Any], module: str, read_gather: str,
                                 later: dict[str, Any]) -> list[dict[str, Any]]:
    sim.control("POST", "durations", {"deploy_cvm": 3000, "deploy_storage_vm": 3000})
    return sim.results([
        {"tos.cloud.%s" % module: dict(deploy, wait=False)},
        {"tos.cloud.cluster_info": {"cluster": "a", "gather": [read_gather]}},  # reads while the deploy runs
        # the deploy finishes (the platform's own progress, not a write of the play)
        {"ansible.builtin.uri": {"url": sim.url + "/_sim/time", "method": "POST", "body_format": "json",
                                 "body": {"advance": 10 ** 6}}},
        {"tos.cloud.%s" % module: later},
    ], play_vars={"tos_cloud_run_cache": True})


def test_run_cache_never_deploys_again_a_cvm_whose_deploy_finished(sim: Sim) -> None:
    assert not one(sim, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.clear()
    deploy = {"cluster": "a", "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1"}
    results = _deploy_then_read_then_later(sim, deploy, "cvm", "cvms", deploy)
    deploys = [p for p in sim.mutated() if p == "/v1/cluster/deploy/cvm"]
    assert len(deploys) == 1, "the deploy was sent again: %s" % results[-1].get("msg")
    assert outcome(results[-1]) == (False, False), results[-1]


def test_run_cache_does_not_call_a_finished_storage_vm_still_deploying(sim: Sim) -> None:
    assert not one(sim, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.clear()
    deploy = {"cluster": "a", "manage_address": "192.0.2.131/24", "manage_gateway": "192.0.2.1",
              "storage_address": "192.0.2.171/24", "storage_gateway": "192.0.2.1"}
    results = _deploy_then_read_then_later(sim, deploy, "storage_service_vm", "storage_vms",
                                           {"cluster": "a", "manage_address": "192.0.2.131", "state": "absent"})
    # the deploy finished: the VM is running, and deleting it needs no force
    assert outcome(results[-1]) == (False, True), results[-1].get("msg")
    assert sim.control("GET", "state")["storage_vms"] == {}
