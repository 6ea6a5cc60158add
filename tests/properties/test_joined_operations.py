# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operations another client started, met while they run, under each reading of a host task's answer.

The documents' ``host/task/progress`` answer is ``{"progress": 0.7}`` alone (cluster-api.md): it does not say
which operation runs on a host, nor how a failed one ends (docs/api-notes.md, register entries 5-7). Each
case starts an operation through ``/v1`` as another client (the platform's own console, another play) and runs
the modules in this process while it runs, under every reading the simulator plays (a failed task whose progress
stops, drops to 0 or is refused with an error envelope; the ``status``/``task_type`` fields of the extensions),
asserting on the simulator's request log and state:

- a task on a host that turns out not to be the deploy of the VM asked for (an upgrade) is waited for, then the
  VM is deployed - in check mode as in the real run, and a second run changes nothing; never "ok" with no VM;
- a joined upgrade that fails while the run upgrades another host first is reported failed, started by another
  run, and never sent again.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ansible.module_utils.testing import patch_module_args

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.modules import cluster as cluster_module
from ansible_collections.tos.cloud.plugins.modules import cvm, storage_service_vm, upgrade

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402  (needs ROOT on sys.path)

SPEED = 40
READINGS = {
    "stop": {"task_failure": "stop"},
    "reset": {"task_failure": "reset", "page_base": 0, "page_size_zero": "default"},
    "error": {"task_failure": "error", "cvm_host": "topology"},
    "extensions": {"extensions": "all"},
}
UPGRADE = "/v1/system/compute/version/upgrade"
DEPLOY_CVM = "/v1/cluster/deploy/cvm"
READ_ONLY_POSTS = ("/v1/cluster/all_cluster/topology",)


class Sim:
    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, "%s/_sim/%s" % (self.url, path), json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def api(self, path: str, body: dict[str, Any]) -> None:
        """A POST of another client (the console, another play): must be accepted."""
        answer = requests.post(self.url + path, json=body, timeout=30).json()
        assert answer.get("scode", answer.get("status_code")) == 0, answer

    def writes(self) -> list[str]:
        """The mutating requests since the last call (then forgotten)."""
        log = self.control("GET", "requests")["requests"]
        self.control("DELETE", "requests")
        return [e["path"] for e in log if e["method"] != "GET" and e["path"] not in READ_ONLY_POSTS]

    def state(self) -> dict[str, Any]:
        return self.control("GET", "state")

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.state()["hosts"].values() if h["name"] == name)

    def cluster_uuid(self, name: str) -> str:
        return next(c["uuid"] for c in self.state()["clusters"].values() if c["name"] == name)

    def run(self, module: Any, check: bool = False, **args: Any) -> dict[str, Any]:
        _progress.reset()
        out = io.StringIO()
        with patch_module_args(dict(args, api_url=self.url, _ansible_check_mode=check, _ansible_diff=True)), \
                contextlib.redirect_stdout(out):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(out.getvalue())

    def upgrade_by_another_client(self, cluster: str, host: str, service_type: str) -> None:
        self.api(UPGRADE, {"cluster_uuid": self.cluster_uuid(cluster),
                           "list": [{"host_ip": self.host(host)["management"]["ip"], "service_type": service_type}]})


@pytest.fixture(scope="module", params=sorted(READINGS))
def sim(request: Any) -> Iterator[Sim]:
    process = SimulatorProcess(speed=SPEED, **READINGS[request.param])
    process.start()
    try:
        yield Sim(process.base_url)
    finally:
        process.stop()


@pytest.fixture()
def cluster(sim: Sim) -> str:
    sim.control("POST", "reset", {})
    assert sim.run(cluster_module, name="join", ip="192.0.2.11")["changed"]
    result = sim.run(cvm, cluster="join", host="tos-a1", address="192.0.2.101/24", gateway="192.0.2.1")
    assert result["cvm"]["state"] == "running", result
    sim.writes()
    return "join"


class TestVmsOverAnotherTask:
    """A VM asked for, or removed, on a host whose task another client started."""

    def test_a_cvm_asked_for_on_a_host_that_runs_an_upgrade_is_deployed_after_it(self, sim: Sim, cluster: str) -> None:
        sim.control("POST", "durations", {"upgrade": 120})  # 3 s at SPEED: the runs below meet it running
        args = {"cluster": cluster, "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1",
                "wait_timeout": 60}
        sim.upgrade_by_another_client(cluster, "tos-a2", "compute")
        sim.writes()
        check = sim.run(cvm, check=True, **args)
        assert not check.get("failed") and check["changed"], "check mode: %r" % check
        assert sim.writes() == [], "check mode sent a change"
        assert json.loads(check["diff"]["after"]) == {"host": "tos-a2", "address": "192.0.2.102/24"}, check["diff"]

        sim.control("POST", "time", {"advance": 10})  # the first upgrade is over (check mode may not have waited)
        sim.upgrade_by_another_client(cluster, "tos-a2", "storage")  # the real run meets an upgrade running too
        sim.writes()
        real = sim.run(cvm, **args)
        assert not real.get("failed") and real["changed"], "the real run: %r" % real
        assert sim.writes() == [DEPLOY_CVM]
        assert real["diff"] == check["diff"] and real["started_by"] == check["started_by"] == "this_run", (check, real)
        assert real["cvm"]["state"] == "running" and real["cvm"]["ip"] == "192.0.2.102", real["cvm"]
        cvms = {vm["address"]: vm["status"] for vm in sim.state()["cvms"].values()}
        assert cvms == {"192.0.2.101/24": "running", "192.0.2.102/24": "running"}, cvms

        again = sim.run(cvm, **args)
        assert not again.get("failed") and not again["changed"] and sim.writes() == [], again

    def test_a_cvm_asked_for_on_a_host_whose_upgrade_fails_fails_naming_the_task_and_sends_nothing(
            self, sim: Sim, cluster: str) -> None:
        sim.control("POST", "durations", {"upgrade": 120})
        args = {"cluster": cluster, "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1",
                "wait_timeout": 4}
        for check in (True, False):  # each run meets an upgrade running, that fails at 1.5 s
            sim.control("POST", "upgrade_failure", {"host": "tos-a2", "at": 0.5})
            sim.upgrade_by_another_client(cluster, "tos-a2", "compute")
            sim.writes()
            result = sim.run(cvm, check=check, **args)
            msg = result.get("msg", "")
            assert result.get("failed") and not result["changed"] and "nothing was sent" in msg, result
            # the documents' progress does not say what runs: never told as the failure of a CVM deploy alone
            assert "upgrade" in msg and not msg.startswith("The deploy of"), msg
            assert sim.writes() == [], "a CVM was deployed beside a failed task"
        assert [vm["address"] for vm in sim.state()["cvms"].values()] == ["192.0.2.101/24"]

    def test_state_absent_on_a_host_whose_task_runs_removes_what_the_task_leaves(self, sim: Sim, cluster: str) -> None:
        # an upgrade on a host without a CVM: nothing to remove, in check mode as for real (never a delete sent)
        sim.control("POST", "durations", {"upgrade": 120, "deploy_cvm": 120})
        sim.upgrade_by_another_client(cluster, "tos-a2", "compute")
        sim.writes()
        args = {"cluster": cluster, "host": "tos-a2", "state": "absent"}
        for check in (True, False):
            result = sim.run(cvm, check=check, **args)
            assert not result.get("failed") and not result["changed"], result
            assert sim.writes() == [], "a CVM that is not there was deleted"
        # a CVM another client deploys: removed once deployed (a cancelled deploy's progress may stay where it stopped)
        sim.api(DEPLOY_CVM, {"cluster_uuid": sim.cluster_uuid(cluster), "MachineUUID": sim.host("tos-a3")["uuid"],
                             "Networks": [{"Addr": "192.0.2.103/24", "Gateway": "192.0.2.1"}]})
        sim.writes()
        args["host"] = "tos-a3"
        check = sim.run(cvm, check=True, **args)
        assert not check.get("failed") and check["changed"] and sim.writes() == [], check
        sim.control("POST", "time", {"advance": 10})  # the check run may not have waited
        sim.api(DEPLOY_CVM, {"cluster_uuid": sim.cluster_uuid(cluster), "MachineUUID": sim.host("tos-a4")["uuid"],
                             "Networks": [{"Addr": "192.0.2.104/24", "Gateway": "192.0.2.1"}]})
        sim.writes()
        for host in ("tos-a3", "tos-a4"):  # one deployed meanwhile, one still deploying
            real = sim.run(cvm, **dict(args, host=host))
            assert not real.get("failed") and real["changed"], real
            assert sim.writes() == ["/v1/cluster/delete/cvm"]
        assert [vm["address"] for vm in sim.state()["cvms"].values()] == ["192.0.2.101/24"]
        for host in ("tos-a3", "tos-a4"):
            again = sim.run(cvm, **dict(args, host=host))
            assert not again.get("failed") and not again["changed"] and sim.writes() == [], again


class TestUpgradesOverAnotherTask:
    """An upgrade or a storage VM while another client's task runs on the hosts."""

    def test_a_joined_upgrade_that_fails_while_another_host_upgrades_is_failed_and_never_sent_again(
            self, sim: Sim, cluster: str) -> None:
        # another client's upgrade of tos-a3 fails halfway (1.5 s), while this run upgrades tos-a2 first (4 s)
        sim.control("POST", "durations", {"upgrade": 120})
        sim.control("POST", "upgrade_failure", {"host": "tos-a3", "at": 0.5})
        sim.upgrade_by_another_client(cluster, "tos-a3", "compute")
        sim.control("POST", "durations", {"upgrade": 160})
        sim.writes()
        result = sim.run(upgrade, cluster=cluster, hosts=["tos-a2", "tos-a3"], service_types=["compute"],
                         stall_timeout=2, wait_timeout=60)
        outcomes = {h["host"]: h for h in result["hosts"]}
        assert result.get("failed"), "a failed upgrade was not reported: %r" % outcomes
        assert outcomes["tos-a2"]["status"] == "upgraded", outcomes["tos-a2"]
        assert outcomes["tos-a3"]["status"] == "failed" and outcomes["tos-a3"]["started_by"] == "another_run", \
            outcomes["tos-a3"]
        assert "nothing was sent" in outcomes["tos-a3"]["reason"], outcomes["tos-a3"]
        assert sim.writes() == [UPGRADE], "the failed upgrade of another run was sent again"
        assert sim.host("tos-a3")["type_version"]["compute"] != result["to_version"]

    @pytest.mark.parametrize("wait", [True, False])
    def test_an_upgrade_of_a_host_deploying_a_cvm_does_in_the_real_run_what_check_mode_says(
            self, sim: Sim, cluster: str, wait: bool) -> None:
        # another client deploys a CVM on tos-a3 (5 s at SPEED): a host task the documents do not name
        sim.control("POST", "durations", {"deploy_cvm": 200})
        sim.api(DEPLOY_CVM, {"cluster_uuid": sim.cluster_uuid(cluster), "MachineUUID": sim.host("tos-a3")["uuid"],
                             "Networks": [{"Addr": "192.0.2.103/24", "Gateway": "192.0.2.1"}]})
        sim.writes()
        args = {"cluster": cluster, "hosts": ["tos-a3"], "service_types": ["compute"], "wait": wait, "wait_timeout": 60}
        check = sim.run(upgrade, check=True, **args)
        assert not check.get("failed") and sim.writes() == [], check
        real = sim.run(upgrade, **args)
        assert not real.get("failed"), real
        sent = sim.writes()
        assert (check["changed"], check["diff"]) == (real["changed"], real["diff"]), (
            "check mode said changed=%s %r, the real run changed=%s %r (sent %s)" % (
                check["changed"], check["diff"], real["changed"], real["diff"], sent))
        assert sent == ([UPGRADE] if wait else []), sent
        for result in (check, real):
            if not result["changed"]:
                assert result["diff"]["before"] == result["diff"]["after"], "no change, but a diff: %r" % result["diff"]
        if not wait:  # joined, not waited for: the same outcome announced and met
            assert [(h["status"], h["started_by"]) for h in check["hosts"]] == [
                (h["status"], h["started_by"]) for h in real["hosts"]] == [("running", "another_run")], (check, real)

    def test_a_storage_vm_while_every_storage_host_upgrades_is_refused_in_check_mode_as_for_real(self, sim: Sim) -> None:
        # rack c: tos-c1 and tos-c2 run the storage service (tos-c3 is compute only); the console upgrades both
        sim.control("POST", "reset", {})
        assert sim.run(cluster_module, name="busy", ip="203.0.113.11")["changed"]
        sim.control("POST", "durations", {"upgrade": 400})  # 10 s at SPEED
        sim.api(UPGRADE, {"cluster_uuid": sim.cluster_uuid("busy"), "list": [
            {"host_ip": sim.host(name)["management"]["ip"], "service_type": "storage"} for name in ("tos-c1", "tos-c2")]})
        sim.writes()
        args = {"cluster": "busy", "manage_address": "203.0.113.120/24", "manage_gateway": "203.0.113.1",
                "storage_address": "203.0.113.170/24", "storage_gateway": "203.0.113.1"}
        check = sim.run(storage_service_vm, check=True, **args)
        assert sim.writes() == []
        real = sim.run(storage_service_vm, **args)
        assert real.get("failed") and not real["changed"], real  # the platform's refusal: no storage host is free
        assert check.get("failed") and not check["changed"], "check mode predicted %r, the real run failed: %s" % (
            check, real["msg"])
        assert "tos-c1" in check["msg"] and "tos-c2" in check["msg"], check["msg"]
        assert sim.state()["storage_vms"] == {}
