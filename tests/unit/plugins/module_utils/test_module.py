# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired-vs-current helpers every module relies on."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._module import (
    MASK,
    from_api,
    masked,
    merge,
    pick,
    to_api,
    wait_for,
)


def test_merge_leaves_unset_options_alone():
    current = {"DRS": {"Enabled": True, "MaxStep": 4}, "DPM": {"Enabled": False, "HighThreshold": 0.8}}
    desired = {"DRS": {"MaxStep": 6, "Enabled": None}, "DPM": None}
    after = merge(current, desired)
    assert after == {"DRS": {"Enabled": True, "MaxStep": 6}, "DPM": {"Enabled": False, "HighThreshold": 0.8}}
    assert current["DRS"]["MaxStep"] == 4  # the input is not modified


def test_merge_of_identical_values_changes_nothing():
    current = {"a": 1, "b": {"c": [1, 2]}}
    assert merge(current, {"a": 1, "b": {"c": [1, 2]}}) == current


def test_masked_hides_secrets_at_any_depth():
    value = {"smtp_password": "hunter2", "nested": {"smtp_password": "x", "user": "u"}, "list": [{"token": "t"}]}
    out = masked(value, ("smtp_password", "token"))
    assert out == {"smtp_password": MASK, "nested": {"smtp_password": MASK, "user": "u"}, "list": [{"token": MASK}]}
    assert "hunter2" not in repr(out)


def test_masked_diff_tells_a_secret_changed_without_its_value():
    before = {"smtp_password": "old"}
    after = {"smtp_password": "new"}
    shown = masked(after, ("smtp_password",), reference=before)
    assert shown == {"smtp_password": MASK + " (changed)"}
    assert masked(before, ("smtp_password",), reference=before) == {"smtp_password": MASK}


def test_masked_keeps_empty_secrets_visible_as_empty():
    assert masked({"smtp_password": ""}, ("smtp_password",)) == {"smtp_password": ""}


def test_pick_to_api_from_api_round_trip():
    mapping = {"storage": "StorOverAllocationThreshold", "cpu": "CPUOverAllocationThreshold"}
    params = {"storage": 0.7, "cpu": None, "other": 1}
    assert pick(params, ["storage", "cpu"]) == {"storage": 0.7}
    assert to_api({"storage": 0.7}, mapping) == {"StorOverAllocationThreshold": 0.7}
    assert from_api({"StorOverAllocationThreshold": 0.7, "X": 1}, mapping) == {"storage": 0.7}


def test_wait_for_returns_first_truthy_probe():
    answers = iter([None, False, {"done": True}])
    clock = iter(range(100))
    assert wait_for(lambda: next(answers), 10, clock=lambda: next(clock), sleep=lambda s: None) == {"done": True}


def test_wait_for_times_out_with_advice():
    clock = iter(range(0, 1000, 5))
    messages = []
    assert wait_for(lambda: None, 12, what="the deploy", on_timeout=messages.append,
                    clock=lambda: next(clock), sleep=lambda s: None) is None
    assert "the deploy" in messages[0] and "wait_timeout" in messages[0]


def test_wait_for_raises_without_handler():
    clock = iter(range(0, 1000, 5))
    with pytest.raises(TimeoutError):
        wait_for(lambda: None, 1, clock=lambda: next(clock), sleep=lambda s: None)
