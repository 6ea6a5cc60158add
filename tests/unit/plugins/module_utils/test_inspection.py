# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the inspection's progress and shaping its result."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._inspection import (
    inspection_id,
    is_running,
    shape_result,
    start_body,
    state_name,
)

# the documented answer of cluster/inspection (nothing checked yet)
DOCUMENTED = {
    "status": {"code": 0, "message": "", "messageCn": "", "stack": None, "desc": "", "UUID": ""},
    "normal": 0, "alarm": 0, "fault": 0, "score": 0, "system": None, "network": None, "hardware": None,
    "state": 0, "finishedPercent": 0, "checking": "",
}


@pytest.mark.parametrize("data, name", [
    (DOCUMENTED, "idle"),
    ({"state": 1, "finishedPercent": 40}, "running"),
    ({"state": 2, "finishedPercent": 100}, "finished"),
    ({"state": 3, "finishedPercent": 60}, "stopped"),
    ({"state": "1"}, "running"),
    ({"state": "running"}, "running"),
    ({"state": "Checking"}, "running"),
    ({"state": "done"}, "finished"),
    ({"finishedPercent": 30, "checking": "system: License"}, "running"),
    ({"finishedPercent": 100}, "finished"),
    ({}, "idle"),
    (None, "idle"),
])
def test_state_name_reads_numbers_words_and_progress(data, name):
    assert state_name(data) == name
    assert is_running(data) == (name == "running")


def test_start_body_sends_every_documented_flag():
    assert start_body("u", "demo", ["network"]) == {
        "cluster_uuid": "u", "cluster_name": "demo",
        "check_system": False, "check_network": True, "check_hardware": False}


def test_shape_result_keeps_the_documented_fields_and_names_the_state():
    data = dict(DOCUMENTED, state=2, finishedPercent=100, normal=3, alarm=1, fault=0, score=95,
                system=[{"item": "license", "status": "normal"}], network=[], hardware=None,
                start_time=100, end_time=160, cluster_uuid="u", cluster_name="demo",
                status=dict(DOCUMENTED["status"], UUID="run-1"))
    result = shape_result(data)
    assert result["state"] == 2 and result["state_name"] == "finished" and result["running"] is False
    assert (result["normal"], result["alarm"], result["fault"], result["score"]) == (3, 1, 0, 95)
    assert result["system"] == [{"item": "license", "status": "normal"}]
    assert result["network"] == [] and result["hardware"] is None
    assert result["finishedPercent"] == 100 and result["checking"] == ""
    assert result["id"] == "run-1" and result["start_time"] == 100 and result["end_time"] == 160
    assert "status" not in result


def test_shape_result_of_nothing_is_an_idle_empty_result():
    result = shape_result(None)
    assert result["state_name"] == "idle" and result["score"] == 0 and result["system"] is None


def test_shape_result_tolerates_categories_as_objects_and_strings_as_numbers():
    result = shape_result({"state": 2, "normal": "4", "score": "88", "hardware": {"items": [{"item": "x"}]}})
    assert result["normal"] == 4 and result["score"] == 88 and result["hardware"] == [{"item": "x"}]


def test_inspection_id_prefers_the_uuid_then_the_start_time():
    assert inspection_id({"status": {"UUID": "a"}, "start_time": 5}) == "a"
    assert inspection_id({"status": {"UUID": ""}, "start_time": 5}) == 5
    assert inspection_id(DOCUMENTED) is None
