# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.modules import global_config
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import CLUSTER, FakeManager

GET = "/v1/cluster/get/global/config"
SET = "/v1/cluster/set/global/config"
CURRENT = {"StorOverAllocationThreshold": 0.9, "CPUOverAllocationThreshold": 0.8,
           "MemOverAllocationThreshold": 0.8, "USDOverAllocationThreshold": 0.9}


@pytest.fixture
def manager():
    state = dict(CURRENT)

    def set_config(body):
        state.update({k: v for k, v in body.items() if k in CURRENT})
        return dict(state, cluster_uuid=body["cluster_uuid"])

    fake = FakeManager({("GET", GET): lambda params: dict(state, cluster_uuid=params["cluster_uuid"]),
                        ("POST", SET): set_config})
    fake.state = state
    return fake


def run(manager, capsys, check_mode=False, **kwargs):
    return run_module(global_config.main, dict(kwargs, cluster="prod"), manager, capsys, check_mode=check_mode, diff=True)


def test_partial_input_sends_all_four_thresholds(manager, capsys):
    result = run(manager, capsys, cpu=4.0)
    assert result["changed"]
    assert manager.posts == [(SET, dict(CURRENT, CPUOverAllocationThreshold=4.0, cluster_uuid=CLUSTER["uuid"]))]
    assert result["config"] == {"storage": 0.9, "cpu": 4.0, "memory": 0.8, "usd": 0.9}
    assert result["diff"] == {"before": {"storage": 0.9, "cpu": 0.8, "memory": 0.8, "usd": 0.9},
                              "after": {"storage": 0.9, "cpu": 4.0, "memory": 0.8, "usd": 0.9}}


def test_second_run_changes_nothing(manager, capsys):
    run(manager, capsys, cpu=4.0, memory=0.95)
    manager.calls.clear()
    result = run(manager, capsys, cpu=4.0, memory=0.95)
    assert not result["changed"] and manager.posts == []


def test_float32_noise_is_not_a_change(manager, capsys):
    manager.state["StorOverAllocationThreshold"] = 0.699999988079071
    assert not run(manager, capsys, storage=0.7)["changed"]
    assert manager.posts == []


def test_check_mode_sends_nothing(manager, capsys):
    result = run(manager, capsys, check_mode=True, usd=0.5)
    assert result["changed"] and result["config"]["usd"] == 0.5
    assert manager.posts == [] and manager.state == CURRENT


@pytest.mark.parametrize("option, value", [("cpu", 0), ("memory", -1.0), ("storage", 101.0)])
def test_bad_thresholds_fail_before_any_request(manager, capsys, option, value):
    result = run(manager, capsys, **{option: value})
    assert result["failed"] and result["msg"].startswith("Invalid input: %s: " % option)
    assert manager.calls == []


def test_config_of_reads_both_shapes():
    assert global_config.config_of(dict(CURRENT, cluster_uuid="u")) == CURRENT
    assert global_config.config_of({"config": CURRENT}) == CURRENT
    assert global_config.config_of(None) == {}


def test_missing_current_thresholds_are_asked_for(capsys):
    fake = FakeManager({("GET", GET): lambda params: {}})
    result = run(fake, capsys, cpu=2.0)
    assert result["failed"] and "storage, memory, usd" in result["msg"]
    assert fake.posts == []
