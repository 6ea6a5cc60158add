# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.tos.cloud.plugins.modules import drs_config
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.settings_harness import CLUSTER, FakeManager

GET = "/v1/cluster/compute/service/drsconfig/get"
UPDATE = "/v1/cluster/compute/service/drsconfig/update"
CONFIG = {
    "DRS": {"Enabled": True, "MaxStep": 4, "MaxConcurrentMigration": 4, "MaxHostConcurrentMigration": 2,
            "ThresholdLevel": 3, "MinBenefitLevel": 3},
    "DPM": {"Enabled": False, "HighThreshold": 0.8, "LowThreshold": 0.45},
}


@pytest.fixture
def manager():
    state = {"config": copy.deepcopy(CONFIG)}

    def update(body):
        state["config"] = body["config"]
        return {"config": body["config"]}

    fake = FakeManager({("GET", GET): lambda params: copy.deepcopy(state), ("POST", UPDATE): update})
    fake.state = state
    return fake


def run(manager, capsys, **kwargs):
    check_mode = kwargs.pop("check_mode", False)
    return run_module(drs_config.main, dict(kwargs, cluster="prod"), manager, capsys, check_mode=check_mode, diff=True)


def test_partial_input_merges_and_the_full_object_is_sent(manager, capsys):
    result = run(manager, capsys, drs={"threshold_level": "aggressive"}, dpm={"low_threshold": 0.3})
    assert result["changed"]
    assert manager.posts == [(UPDATE, {"cluster_uuid": CLUSTER["uuid"], "cluster_name": "prod", "config": {
        "DRS": dict(CONFIG["DRS"], ThresholdLevel=4),
        "DPM": dict(CONFIG["DPM"], LowThreshold=0.3),
    }})]
    assert result["config"]["drs"]["threshold_level"] == 4
    assert result["diff"]["before"]["drs"]["threshold_level"] == 3
    assert result["diff"]["after"]["dpm"]["low_threshold"] == 0.3


def test_second_run_changes_nothing(manager, capsys):
    run(manager, capsys, drs={"threshold_level": 4, "enabled": False})
    manager.calls.clear()
    result = run(manager, capsys, drs={"threshold_level": "aggressive", "enabled": False})
    assert not result["changed"]
    assert manager.posts == []


def test_check_mode_predicts_change_without_sending(manager, capsys):
    result = run(manager, capsys, drs={"max_step": 8}, check_mode=True)
    assert result["changed"]
    assert result["config"]["drs"]["max_step"] == 8
    assert manager.posts == []
    assert manager.state["config"] == CONFIG


def test_float32_noise_is_not_a_change(manager, capsys):
    manager.state["config"]["DPM"]["HighThreshold"] = 0.800000011920929
    result = run(manager, capsys, dpm={"high_threshold": 0.8})
    assert not result["changed"] and manager.posts == []


@pytest.mark.parametrize("args, option", [
    ({"drs": {"threshold_level": 9}}, "drs.threshold_level"),
    ({"drs": {"min_benefit_level": "reckless"}}, "drs.min_benefit_level"),
    ({"drs": {"max_step": 0}}, "drs.max_step"),
    ({"dpm": {"high_threshold": 180.0}}, "dpm.high_threshold"),
    ({"dpm": {"low_threshold": -0.1}}, "dpm.low_threshold"),
])
def test_bad_input_fails_before_any_request(manager, capsys, args, option):
    result = run(manager, capsys, **args)
    assert result["failed"]
    assert option in result["msg"]
    assert manager.calls == []


def test_low_is_checked_against_the_current_high(manager, capsys):
    result = run(manager, capsys, dpm={"low_threshold": 0.85})
    assert result["failed"]
    assert "dpm.low_threshold: 0.85 must be lower than dpm.high_threshold 0.8 (current value)" in result["msg"]
    assert manager.posts == []


def test_low_and_high_set_together_may_move_past_each_other(manager, capsys):
    result = run(manager, capsys, dpm={"low_threshold": 0.85, "high_threshold": 0.95})
    assert result["changed"]
    assert manager.state["config"]["DPM"] == {"Enabled": False, "HighThreshold": 0.95, "LowThreshold": 0.85}


def test_per_host_migrations_may_not_exceed_the_total(manager, capsys):
    result = run(manager, capsys, drs={"max_host_concurrent_migration": 6})
    assert result["failed"]
    assert "drs.max_host_concurrent_migration: 6 must not exceed drs.max_concurrent_migration 4 (current value)" \
        in result["msg"]
    assert manager.posts == []


def test_unknown_cluster_names_the_option(manager, capsys):
    result = run_module(drs_config.main, {"cluster": "nope", "drs": {"enabled": True}}, manager, capsys)
    assert result["failed"] and result["msg"].startswith("cluster: ")
    assert manager.posts == []


def test_desired_options_only_holds_what_the_user_set():
    desired, errors = drs_config.desired_options({"drs": {"enabled": None, "max_step": 5, "threshold_level": "1"},
                                                  "dpm": None})
    assert errors == []
    assert desired == {"drs": {"max_step": 5, "threshold_level": 1}, "dpm": {}}
    assert drs_config.as_api(desired) == {"DRS": {"MaxStep": 5, "ThresholdLevel": 1}, "DPM": {}}
