"""What operators do, module by module: real ansible-playbook runs against a private simulator, judged by the
simulator's request log and state (not by the module's word).

Each test failed before 1.0.x's fix (DESIGN.md section 4: check mode predicts what a real run reports, also while
an operation runs; an operation is joined, never started twice)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import run_simulator  # noqa: E402

NON_MUTATING = {"/v1/cluster/all_cluster/topology", "/v1/system/mail_setting/test"}


class Sim:
    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_sim/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests")["requests"]

    def writes(self) -> list[tuple[str, Any]]:
        return [(r["path"], r["body"]) for r in self.requests()
                if r["method"] != "GET" and r["path"] not in NON_MUTATING]

    def clear(self) -> None:
        self.control("DELETE", "requests")


@pytest.fixture(scope="module")
def sim_url() -> Any:
    with run_simulator(port=0, speed=20) as url:
        yield url


@pytest.fixture
def sim(sim_url: str) -> Sim:
    s = Sim(sim_url)
    s.control("POST", "reset", {})
    s.clear()
    return s


def _env(sim: Sim) -> dict[str, str]:
    collections = ROOT / "build" / "collections"
    path = os.pathsep.join([str(ROOT / "build" / "pybin"), str(ROOT / ".venv" / "bin"), os.environ["PATH"]])
    return dict(os.environ, PATH=path, TOS_API_URL=sim.url, ANSIBLE_COLLECTIONS_PATH=str(collections),
                ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", PYTHONWARNINGS="ignore", ANSIBLE_NOCOLOR="1",
                ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                PYTHONPATH=os.pathsep.join([str(collections), str(ROOT)]))


def start_play(sim: Sim, tmp: Path, tasks: list[dict[str, Any]], check: bool = False, diff: bool = False,
               play_vars: dict[str, Any] | None = None) -> tuple[subprocess.Popen, Path]:
    """ansible-playbook of ``tasks`` (each registered, errors ignored), started; the results land in a JSON file."""
    out = tmp / ("results-%d.json" % time.monotonic_ns())
    tasks = [dict(t, register="r%d" % i, ignore_errors=True) for i, t in enumerate(tasks)]
    dump = {"ansible.builtin.copy": {"dest": str(out), "content": "{{ [%s] | to_json }}" % ",".join(
        "r%d" % i for i in range(len(tasks)))}, "check_mode": False, "diff": False}
    playbook = tmp / ("play-%d.yml" % time.monotonic_ns())
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "vars": play_vars or {},
                                         "tasks": tasks + [dump]}]))
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)]
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    return subprocess.Popen(cmd, env=_env(sim), cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True), out


def finish_play(started: tuple[subprocess.Popen, Path]) -> list[dict[str, Any]]:
    proc, out = started
    text = proc.communicate(timeout=300)[0]
    assert out.exists(), text[-4000:]
    return json.loads(out.read_text())


def play(sim: Sim, tmp: Path, tasks: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
    return finish_play(start_play(sim, tmp, tasks, **kwargs))


def one(sim: Sim, tmp: Path, module: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return play(sim, tmp, [{"tos.cloud.%s" % module: args}], **kwargs)[0]


def outcome(result: dict[str, Any]) -> tuple[bool, bool]:
    return bool(result.get("failed")), bool(result.get("changed"))


# -- tos.cloud.cluster ------------------------------------------------------------------------------------

def test_cluster_check_mode_predicts_the_refusal_of_a_seed_host_already_in_a_cluster(sim: Sim, tmp_path: Path) -> None:
    """The seed 192.0.2.12 joined cluster c1 with its group: a real create of c2 from it is refused (code 2004);
    check mode reads the same clusters' topologies and must predict the failure, not 'changed'."""
    assert not one(sim, tmp_path, "cluster", {"name": "c1", "ip": "192.0.2.11"}).get("failed")
    args = {"name": "c2", "ip": "192.0.2.12"}
    sim.clear()
    check = one(sim, tmp_path, "cluster", args, check=True)
    assert sim.writes() == []
    real = one(sim, tmp_path, "cluster", args)
    assert outcome(real) == (True, False), real  # the platform refuses it
    assert outcome(check) == outcome(real), (check, real)


# -- tos.cloud.cvm and tos.cloud.storage_service_vm: addresses of the other clusters ----------------------

def _two_clusters(sim: Sim, tmp: Path) -> None:
    results = play(sim, tmp, [{"tos.cloud.cluster": {"name": "a", "ip": "192.0.2.11"}},
                              {"tos.cloud.cluster": {"name": "b", "ip": "198.51.100.11"}}])
    assert not any(r.get("failed") for r in results), results
    sim.clear()


@pytest.mark.parametrize("module, args", [
    ("cvm", {"cluster": "a", "host": "tos-a1", "address": "198.51.100.11/24", "gateway": "198.51.100.1"}),
    ("storage_service_vm", {"cluster": "a", "manage_address": "198.51.100.11/24", "manage_gateway": "198.51.100.1",
                            "storage_address": "192.0.2.171/24", "storage_gateway": "192.0.2.1"}),
])
def test_an_address_used_by_a_host_of_another_cluster_is_refused_before_any_request(
        sim: Sim, tmp_path: Path, module: str, args: dict[str, Any]) -> None:
    """198.51.100.11 is host tos-b1 of cluster b: the platform refuses the deploy (code 3003). Check mode reads
    the other clusters and predicts that refusal; the real run leaves it to the platform (no change)."""
    _two_clusters(sim, tmp_path)
    check = one(sim, tmp_path, module, args, check=True)
    assert sim.writes() == []
    assert "198.51.100.11 is already used by host tos-b1 in cluster 'b'" in check["msg"], check
    real = one(sim, tmp_path, module, dict(args, wait=False))
    assert outcome(real) == (True, False), real
    assert outcome(check) == outcome(real), (check, real)
    assert sim.control("GET", "state")["cvms"] == {} and sim.control("GET", "state")["storage_vms"] == {}


# -- tos.cloud.cvm: check mode while the deploy runs ----------------------------------------------------------

def test_cvm_check_mode_diff_while_a_deploy_runs_equals_the_real_runs(sim: Sim, tmp_path: Path) -> None:
    """A deploy started with wait=false is still running. Without address, the real run (wait=true) joins it and
    reports the deployed address in its diff; check mode joins it the same way (read-only) and reports the same."""
    assert not one(sim, tmp_path, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.control("POST", "durations", {"deploy_cvm": 3000})  # 150 s at speed 20: runs until the test moves the clock
    deploy = {"cluster": "a", "host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}
    assert one(sim, tmp_path, "cvm", dict(deploy, wait=False)).get("changed")
    sim.clear()
    args = {"cluster": "a", "host": "tos-a1"}

    def polled_then_finished(started):
        seq = max((r["seq"] for r in sim.requests()), default=0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the run polls the deploy: let it finish now
            if any(r["path"] == "/v1/cluster/host/task/progress" and r["seq"] > seq for r in sim.requests()):
                break
            time.sleep(0.2)
        sim.control("POST", "time", {"advance": 10 ** 6})
        return finish_play(started)[0]

    check = polled_then_finished(start_play(sim, tmp_path, [{"tos.cloud.cvm": args}], check=True, diff=True))
    assert sim.writes() == []
    sim.control("POST", "reset", {})  # the same again: a deploy still running when the real run comes
    assert not one(sim, tmp_path, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.control("POST", "durations", {"deploy_cvm": 3000})
    assert one(sim, tmp_path, "cvm", dict(deploy, wait=False)).get("changed")
    sim.clear()
    real = polled_then_finished(start_play(sim, tmp_path, [{"tos.cloud.cvm": args}], diff=True))
    assert sim.writes() == []
    assert outcome(check) == outcome(real) == (False, False)
    assert check["diff"] == real["diff"], (check["diff"], real["diff"])


# -- the run's cache (tos_cloud_run_cache) across a long operation -----------------------------------------------

def _deploy_then_read_then_later(sim: Sim, tmp: Path, deploy: dict[str, Any], module: str, read_gather: str,
                                 later: dict[str, Any]) -> list[dict[str, Any]]:
    sim.control("POST", "durations", {"deploy_cvm": 3000, "deploy_storage_vm": 3000})
    return play(sim, tmp, [
        {"tos.cloud.%s" % module: dict(deploy, wait=False)},
        {"tos.cloud.cluster_info": {"cluster": "a", "gather": [read_gather]}},  # reads while the deploy runs
        # the deploy finishes (the platform's own progress, not a write of the play)
        {"ansible.builtin.uri": {"url": sim.url + "/_sim/time", "method": "POST", "body_format": "json",
                                 "body": {"advance": 10 ** 6}}},
        {"tos.cloud.%s" % module: later},
    ], play_vars={"tos_cloud_run_cache": True})


def test_run_cache_never_deploys_again_a_cvm_whose_deploy_finished(sim: Sim, tmp_path: Path) -> None:
    assert not one(sim, tmp_path, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.clear()
    deploy = {"cluster": "a", "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1"}
    results = _deploy_then_read_then_later(sim, tmp_path, deploy, "cvm", "cvms", deploy)
    deploys = [w for w in sim.writes() if w[0] == "/v1/cluster/deploy/cvm"]
    assert len(deploys) == 1, "the deploy was sent again: %s" % results[-1].get("msg")
    assert outcome(results[-1]) == (False, False), results[-1]


def test_run_cache_does_not_call_a_finished_storage_vm_still_deploying(sim: Sim, tmp_path: Path) -> None:
    assert not one(sim, tmp_path, "cluster", {"name": "a", "ip": "192.0.2.11"}).get("failed")
    sim.clear()
    deploy = {"cluster": "a", "manage_address": "192.0.2.131/24", "manage_gateway": "192.0.2.1",
              "storage_address": "192.0.2.171/24", "storage_gateway": "192.0.2.1"}
    results = _deploy_then_read_then_later(sim, tmp_path, deploy, "storage_service_vm", "storage_vms",
                                           {"cluster": "a", "manage_address": "192.0.2.131", "state": "absent"})
    # the deploy finished: the VM is running, and deleting it needs no force
    assert outcome(results[-1]) == (False, True), results[-1].get("msg")
    assert sim.control("GET", "state")["storage_vms"] == {}
