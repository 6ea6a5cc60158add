# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsing and checks shared by the configuration modules."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import meta_data
from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    LEVEL_NAMES,
    check_email,
    check_fraction,
    check_low_below_high,
    check_multiple,
    check_port,
    check_positive,
    format_interval,
    parse_interval,
    parse_level,
)
from ansible_collections.tos.cloud.plugins.module_utils._config import display_option, same_config, same_number, settle
from ansible_collections.tos.cloud.plugins.module_utils._module import without
from ansible_collections.tos.cloud.plugins.module_utils._redact import same_secret, secret_hidden
from ansible_collections.tos.cloud.plugins.module_utils._topology import center_nodes, find_cluster, read_center_nodes

# ---- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (1, 1), (5, 5), ("3", 3), (" 4 ", 4), (2.0, 2),
    ("most_conservative", 1), ("conservative", 2), ("normal", 3), ("aggressive", 4), ("most_aggressive", 5),
    ("Most-Aggressive", 5), ("most conservative", 1), ("NORMAL", 3),
])
def test_levels_are_accepted_as_numbers_and_names(value, expected):
    assert parse_level("drs.threshold_level", value) == (expected, None)


@pytest.mark.parametrize("value", [0, 6, -1, "7", "bold", "", 2.5, True, False, [3], {"level": 3}])
def test_bad_levels_name_the_option(value):
    number, error = parse_level("drs.threshold_level", value)
    assert number is None
    assert error.startswith("drs.threshold_level: ")
    assert "1-5" in error


def test_unset_level_is_no_error():
    assert parse_level("drs.min_benefit_level", None) == (None, None)


def test_level_names_round_trip():
    for number, name in enumerate(LEVEL_NAMES, start=1):
        assert parse_level("x", name) == (number, None)


# ---- thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, 0.45, 1, 1.0, 45, 80.0, 100])
def test_fractions_and_percentages_pass(value):
    # the table says 0~100 %, the example sends 0.8: both readings are accepted
    assert check_fraction("dpm.high_threshold", value) is None


@pytest.mark.parametrize("value", [-0.1, 100.5, 101, float("nan"), float("inf")])
def test_fractions_outside_zero_one_fail(value):
    assert check_fraction("dpm.low_threshold", value).startswith("dpm.low_threshold: ")


def test_low_must_be_below_high_and_the_message_says_which_value_is_current():
    assert check_low_below_high("low", 0.3, "high", 0.8) is None
    error = check_low_below_high("dpm.low_threshold", 0.9, "dpm.high_threshold", 0.8,
                                 set_by_user=["dpm.low_threshold"])
    assert error == "dpm.low_threshold: 0.9 must be lower than dpm.high_threshold 0.8 (current value)"
    assert "must be lower" in check_low_below_high("low", 0.5, "high", 0.5, set_by_user=["low", "high"])


def test_positive_with_maximum():
    assert check_positive("cpu", 4.0, 100) is None
    assert check_positive("cpu", 0, 100) == "cpu: 0 must be greater than 0"
    assert check_positive("cpu", -1.5, 100).startswith("cpu: -1.5 must be greater than 0")
    assert check_positive("cpu", 101, 100) == "cpu: 101 is greater than the allowed maximum 100"
    assert check_positive("cpu", None) is None


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


# ---- intervals -------------------------------------------------------------------------------


@pytest.mark.parametrize("value, seconds", [
    (3600, 3600), ("3600", 3600), ("30m", 1800), ("6h", 21600), ("1d", 86400), ("1w", 604800),
    ("1h30m", 5400), ("2w1d", 1296000), (" 12H ", 43200), ("90s", 90), (7200.0, 7200),
])
def test_intervals_in_seconds_or_with_units(value, seconds):
    assert parse_interval("interval", value) == (seconds, None)


@pytest.mark.parametrize("value", ["", "h", "1y", "1.5h", "-1h", "6 hours", "1h-30m", True, [1], 0, "0h", -60])
def test_bad_intervals_name_the_option(value):
    seconds, error = parse_interval("interval", value)
    assert seconds is None
    assert error.startswith("interval: ")


def test_unset_interval_is_no_error():
    assert parse_interval("interval", None) == (None, None)


def test_whole_hours():
    assert check_multiple("interval", 7200, 3600, "hour") is None
    assert check_multiple("interval", None, 3600, "hour") is None
    assert check_multiple("interval", 1800, 3600, "hour") == \
        "interval: 30m (1800 seconds) is not a whole number of hours"
    assert "1h30m" in check_multiple("interval", 5400, 3600, "hour")


@pytest.mark.parametrize("seconds, option", [
    (3600, "hour"), (21600, "hour"), (129600, "hour"), (86400, "day"), (172800, "day"), (604800, "week"),
    (1209600, "week"), (1800, "hour"), (5400, "hour"),
])
def test_display_option_is_the_largest_unit_that_divides(seconds, option):
    assert display_option(seconds) == option


def test_format_interval_reads_back():
    for seconds in (60, 3600, 5400, 86400, 90061, 604800, 1296000):
        assert parse_interval("i", format_interval(seconds)) == (seconds, None)
    assert format_interval(86400) == "1d"
    assert format_interval(None) is None


# ---- secrets ---------------------------------------------------------------------------------


def test_same_secret():
    assert same_secret("qwer1234", "qwer1234")
    assert not same_secret("qwer1234", "qwer12345")
    assert same_secret(None, "")
    assert same_secret("密码", "密码")
    assert not same_secret("密码", "密碼")


def test_secret_hidden():
    assert secret_hidden(None)
    assert secret_hidden("******")
    assert not secret_hidden("")
    assert not secret_hidden("qwer1234")


def test_without():
    assert without({"a": 1, "smtp_password": "x"}, ("smtp_password",)) == {"a": 1}
    assert without(None, ("a",)) == {}


def test_addresses():
    assert check_email("sender_mail", "ops@example.com") is None
    assert check_email("sender_mail", "") is None
    assert check_email("sender_mail", "not-an-address").startswith("sender_mail: ")
    assert check_email("sender_mail", "a@b@c").startswith("sender_mail: ")
    assert check_port("smtp_port", 25) is None
    assert check_port("smtp_port", 0).startswith("smtp_port: ")
    assert check_port("smtp_port", 65536).startswith("smtp_port: ")


# ---- center nodes ----------------------------------------------------------------------------

MANAGE = {"host_info": [
    {"ip": "192.0.2.101", "is_leader": False},
    {"ip": "192.0.2.102", "is_leader": True},
]}

DETAIL = {"TopoHostNode": [
    {"UUID": "h1", "name": "n1", "managerNet": {"Addrs": ["192.0.2.11/24"]}, "services": {"center": None}},
    {"UUID": "h2", "name": "n2", "managerNet": {"Addrs": ["192.0.2.12/24"]},
     "services": {"center": {"enabled": True, "mode": 5, "status": 1}}},
]}


def test_center_nodes_put_the_leader_first():
    assert center_nodes(MANAGE["host_info"]) == [{"ip": "192.0.2.102", "leader": True}, {"ip": "192.0.2.101", "leader": False}]


def test_center_nodes_fall_back_to_the_topology():
    assert center_nodes([], DETAIL) == [{"ip": "192.0.2.12", "leader": False}]
    assert center_nodes(None, None) == []


class FakeClient:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def get(self, path, params=None):
        self.calls.append((path, params))
        return self.answers[path]


def test_read_center_nodes_asks_cloud_manage():
    client = FakeClient({"/v1/cluster/cloud/manage": MANAGE})
    assert read_center_nodes(client, "u1", get_detail=lambda: pytest.fail("topology not needed"))[0]["ip"] == "192.0.2.102"
    assert client.calls == [("/v1/cluster/cloud/manage", {"cluster_uuid": "u1"})]


def test_read_center_nodes_uses_the_topology_when_cloud_manage_is_empty():
    client = FakeClient({"/v1/cluster/cloud/manage": {"host_info": None}})
    assert read_center_nodes(client, "u1", get_detail=lambda: DETAIL)[0]["ip"] == "192.0.2.12"
    assert read_center_nodes(FakeClient({"/v1/cluster/cloud/manage": {}}), "u1") == []


def test_meta_data_tolerates_both_shapes():
    assert meta_data({"meta_data": {"Snapshot": ["a"]}}) == {"Snapshot": ["a"]}
    assert meta_data({"Snapshot": ["a"]}) == {"Snapshot": ["a"]}
    assert meta_data(None) == {}


class FakeClusterClient:
    """paginate() over cluster/list, counting the listings."""

    def __init__(self, clusters):
        self.clusters = clusters
        self.listings = []

    def paginate(self, path, params=None, **_ignored):
        self.listings.append(params)
        wanted = (params or {}).get("filter_name")
        return [c for c in self.clusters if not wanted or wanted in c["cluster_name"]]


UUID_A = "3afdbbfc-e45a-430e-abba-842074a8b035"
UUID_B = "0e1c2f44-7d6a-4b0e-9d51-1a2b3c4d5e6f"


def test_find_cluster_by_uuid_lists_once_without_a_filter():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "prod"},
                                {"cluster_uuid": UUID_B, "cluster_name": "prod-2"}])
    assert find_cluster(client, UUID_B)["name"] == "prod-2"
    assert client.listings == [None]


def test_find_cluster_by_name_uses_the_filter_and_matches_exactly():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "prod"},
                                {"cluster_uuid": UUID_B, "cluster_name": "prod-2"}])
    assert find_cluster(client, "prod")["uuid"] == UUID_A
    assert client.listings == [{"filter_name": "prod"}]
    assert find_cluster(client, "pro") is None


def test_find_cluster_a_name_wins_over_a_uuid():
    client = FakeClusterClient([{"cluster_uuid": UUID_A, "cluster_name": "x"},
                                {"cluster_uuid": UUID_B, "cluster_name": UUID_A}])
    assert find_cluster(client, UUID_A)["uuid"] == UUID_B
    assert find_cluster(client, "0e1c2f44-0000-4b0e-9d51-1a2b3c4d5e6f") is None
