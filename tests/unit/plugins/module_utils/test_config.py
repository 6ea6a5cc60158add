# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Setting tables and configuration comparison (module_utils/_config.py)."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._config import (
    DAEMON_STATE,
    DRS_OPTIONS,
    GLOBAL_CONFIG_MAXIMUM,
    SNAPSHOT_CONFIG,
    daemon_of,
    daemon_state_of,
    display_option,
    drs_argument_spec,
    drs_as_api,
    drs_as_options,
    drs_desired,
    drs_merged_errors,
    global_config_errors,
    read_snapshot_policy,
    same_config,
    same_number,
    settle,
    snapshot_interval,
    snapshot_names,
)


def test_float32_noise_is_not_a_change():
    assert same_number(0.7, 0.699999988079071)
    assert not same_number(0.7, 0.71)
    assert same_number("a", "a") and not same_number(1, "1")
    current = {"A": 0.699999988079071, "B": {"C": 0.8}, "D": True}
    desired = {"A": 0.7, "B": {"C": 0.8000000119}, "E": 1}
    assert settle(current, desired) == {"A": 0.699999988079071, "B": {"C": 0.8}, "E": 1}
    assert same_config(current, {"A": 0.7, "B": {"C": 0.8}, "D": True})
    assert not same_config(current, {"A": 0.75, "B": {"C": 0.8}, "D": True})


def test_booleans_are_not_settled_as_numbers():
    assert settle({"Enabled": True}, {"Enabled": 1}) == {"Enabled": 1}


@pytest.mark.parametrize("seconds, option", [
    (3600, "hour"), (21600, "hour"), (129600, "hour"), (86400, "day"), (172800, "day"), (604800, "week"),
    (1209600, "week"), (1800, "hour"), (5400, "hour"),
])
def test_display_option_is_the_largest_unit_that_divides(seconds, option):
    assert display_option(seconds) == option


def test_drs_desired_holds_what_is_set_with_levels_as_numbers():
    desired, errors = drs_desired({"drs": {"enabled": None, "threshold_level": "aggressive", "max_step": 3}})
    assert errors == [] and desired == {"drs": {"threshold_level": 4, "max_step": 3}, "dpm": {}}
    assert drs_as_api(desired) == {"DRS": {"ThresholdLevel": 4, "MaxStep": 3}, "DPM": {}}
    assert drs_as_options({"DRS": {"MaxStep": 3}}) == {"drs": {"max_step": 3}, "dpm": {}}


def test_drs_desired_coerces_like_an_argument_spec_and_names_the_place():
    desired, errors = drs_desired({"drs": {"max_step": "0", "max_concurrent_migration": "x"},
                                   "dpm": {"low_threshold": "0.2"}}, prefix="c[0].", coerce=True)
    assert errors == ["c[0].drs.max_concurrent_migration: 'x' is not an integer", "c[0].drs.max_step: 0 must be at least 1"]
    assert desired["dpm"] == {"low_threshold": 0.2}


def test_drs_argument_spec_follows_the_table():
    spec = drs_argument_spec()
    assert spec["drs"]["options"]["max_step"] == {"type": "int"}
    assert spec["dpm"]["options"]["low_threshold"] == {"type": "float"}
    assert set(spec) == set(DRS_OPTIONS)


def test_drs_merged_errors_say_which_value_is_current():
    desired = {"drs": {"max_host_concurrent_migration": 6}, "dpm": {"low_threshold": 0.9}}
    after = {"DRS": {"MaxHostConcurrentMigration": 6, "MaxConcurrentMigration": 4},
             "DPM": {"LowThreshold": 0.9, "HighThreshold": 0.5}}
    errors = drs_merged_errors(desired, after)
    assert errors[0].startswith("dpm.low_threshold: 0.9 must be lower than dpm.high_threshold 0.5 (current value)")
    assert errors[1] == ("drs.max_host_concurrent_migration: 6 must not exceed drs.max_concurrent_migration 4 "
                         "(current value)")


def test_global_config_errors_use_the_module_maximum():
    assert global_config_errors({"cpu": 3, "memory": GLOBAL_CONFIG_MAXIMUM}) == []
    assert global_config_errors({"cpu": "101"}, prefix="g.", coerce=True) == [
        "g.cpu: 101.0 is greater than the allowed maximum 100"]


def test_snapshot_interval_in_seconds():
    assert snapshot_interval("interval", "1h30m") == (5400, [])
    assert snapshot_interval("interval", "0h")[1][0].startswith("interval: ")


class Answers:
    def __init__(self, answers):
        self.answers = answers

    def get(self, path, params=None):
        return self.answers[path]


def test_the_snapshot_policy_is_read_in_one_shape():
    client = Answers({SNAPSHOT_CONFIG: {"meta_data": {"SnapshotConfig": {"duration": 3600.0, "DisplayOption": "hour",
                                                                         "MTime": 5}}},
                      DAEMON_STATE: {"meta_data": {"DaemonState": "running"}}})
    assert read_snapshot_policy(client, {"cluster_uuid": "u", "ip": "192.0.2.101"}) == {
        "interval": 3600, "display_option": "hour", "mtime": 5, "daemon_state": "running"}
    assert daemon_of({"meta_data": {"DaemonState": "Active"}}) == "started"
    assert daemon_of({}) == "stopped" and daemon_state_of({}) is None
    assert snapshot_names({"meta_data": {"Snapshot": [1, "b"]}}) == ["1", "b"]


def test_mail_errors_name_each_option_with_the_prefix_and_skip_what_is_not_given():
    from ansible_collections.tos.cloud.plugins.module_utils._config import mail_errors
    assert mail_errors({}) == []
    errors = mail_errors({"smtp_port": 0, "smtp_server": "a b", "test_recipient": ""}, prefix="m.")
    assert [e.split(":")[0] for e in errors] == ["m.smtp_port", "m.test_recipient", "m.smtp_server"]
    assert errors[1:] == ["m.test_recipient: must not be empty",
                          "m.smtp_server: must be a host name or IP address without spaces"]


def test_system_settings_desired_is_api_shaped_and_checks_minimums():
    from ansible_collections.tos.cloud.plugins.module_utils._config import system_settings_desired
    desired, errors = system_settings_desired({"login_policy": {"token_expire_seconds": 30},
                                               "access_control": {"mode": "whitelist"}})
    assert desired == {"login_policy": {"token_expire_second": 30}, "password_complexity_policy": {},
                       "access_control_policy": {"ip_access_control_policy": {"whitelist": True}}}
    assert [e.split(":")[0] for e in errors] == ["login_policy.token_expire_seconds"]
