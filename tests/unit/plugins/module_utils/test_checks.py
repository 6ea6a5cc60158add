# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Input checks and parsers (module_utils/_checks.py)."""

from __future__ import annotations

import pytest

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


def test_format_interval_reads_back():
    for seconds in (60, 3600, 5400, 86400, 90061, 604800, 1296000):
        assert parse_interval("i", format_interval(seconds)) == (seconds, None)
    assert format_interval(86400) == "1d"
    assert format_interval(None) is None


def test_addresses():
    assert check_email("sender_mail", "ops@example.com") is None
    assert check_email("sender_mail", "") is None
    assert check_email("sender_mail", "not-an-address").startswith("sender_mail: ")
    assert check_email("sender_mail", "a@b@c").startswith("sender_mail: ")
    assert check_port("smtp_port", 25) is None
    assert check_port("smtp_port", 0).startswith("smtp_port: ")
    assert check_port("smtp_port", 65536).startswith("smtp_port: ")
