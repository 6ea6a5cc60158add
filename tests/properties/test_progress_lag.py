# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host task's progress read before the platform registered the task (simulator ``--progress-lag``).

The documents' ``host/task/progress`` answer carries nothing but ``progress`` (cluster-api.md): no task id,
kind or start time. Right after a deploy or an upgrade is sent, a platform that registers the task a moment
later still answers the host's previous task, 1.0 when that one finished. Read as this task's end, a CVM deploy
asked to wait returned ``state: deploying`` (and the next task found no center node), and an upgrade failed its
host with "the upgrade task finished but the host reports ...". Each case runs the module in this process
against a documented-only simulator that answers the previous task for a while after every start, on a host
that has one, and asserts on the simulator's state.
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

from ansible_collections.tos.cloud.plugins.modules import cluster as cluster_module
from ansible_collections.tos.cloud.plugins.modules import cvm, snapshot_policy, upgrade

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402  (needs ROOT on sys.path)

SPEED = 40  # a CVM deploy (20 s at speed 1) takes 0.5 s, a host upgrade (30 s) 0.75 s
LAG = 120  # 3 s at SPEED: the previous task's answer outlasts the new task itself


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sim = SimulatorProcess(speed=SPEED, progress_lag=LAG)  # documented-only: progress is all the answer has
    sim.start()
    try:
        yield sim.base_url
    finally:
        sim.stop()


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, "%s/_sim/%s" % (url, path), json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def run(url: str, module: Any, **args: Any) -> dict[str, Any]:
    out = io.StringIO()
    with patch_module_args(dict(args, api_url=url)), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(out.getvalue())


@pytest.fixture()
def cluster(url: str) -> str:
    control(url, "POST", "reset", {})
    assert control(url, "GET", "health")["readings"]["progress_lag"] == LAG
    result = run(url, cluster_module, name="lag", ip="192.0.2.11")
    assert result["changed"], result
    # a first CVM (the cluster's center node), then one on tos-a2 removed again: tos-a2's last task finished (1.0)
    for host, address in (("tos-a1", "192.0.2.101/24"), ("tos-a2", "192.0.2.102/24")):
        result = run(url, cvm, cluster="lag", host=host, address=address, gateway="192.0.2.1")
        assert result["cvm"]["state"] == "running", result
    assert run(url, cvm, cluster="lag", host="tos-a2", state="absent")["changed"]
    return "lag"


def cvm_states(url: str) -> dict[str, str]:
    state = control(url, "GET", "state")
    return {vm["address"].split("/")[0]: vm["status"] for vm in state["cvms"].values()}


def test_a_cvm_deploy_waits_past_the_previous_tasks_progress(url: str, cluster: str) -> None:
    result = run(url, cvm, cluster=cluster, host="tos-a2", address="192.0.2.102/24", gateway="192.0.2.1")
    assert result["changed"] and not result.get("failed"), result
    assert result["cvm"]["state"] == "running", "asked to wait, the module returned a deploy still running: %s" % (
        result["cvm"],)
    assert cvm_states(url)["192.0.2.102"] == "running"
    # what the bring-up does next: the CVM is a center node at once
    assert not run(url, snapshot_policy, cluster=cluster, interval="1w").get("failed")


def test_an_upgrade_waits_past_the_previous_tasks_progress(url: str, cluster: str) -> None:
    result = run(url, upgrade, cluster=cluster, hosts=["tos-a2"])
    assert not result.get("failed"), result.get("msg")
    assert [(h["host"], h["status"]) for h in result["hosts"]] == [("tos-a2", "upgraded")], result["hosts"]
    host = next(h for h in control(url, "GET", "state")["hosts"].values() if h["name"] == "tos-a2")
    assert set(host["type_version"].values()) == {result["to_version"]}, host["type_version"]
