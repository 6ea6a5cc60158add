# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_task_state: the documented ``progress`` alone, the simulator's extra fields only as a bonus."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import host_task_state, read_host_task


@pytest.mark.parametrize("data, running, finished", [
    ({"progress": 0.0}, False, False),     # idle, or a task that has just started: the documents cannot tell
    ({"progress": 0.5}, True, False),
    ({"progress": 1.0}, False, True),
    ({"progress": 70}, True, False),       # a percentage
    ({}, False, False),
    (None, False, False),
])
def test_progress_alone(data, running, finished):
    state = host_task_state(data)
    assert (state["running"], state["finished"], state["failed"], state["status"]) == (running, finished, False, None)


def test_progress_falling_back_is_a_failure():
    state = host_task_state({"progress": 0.0}, previous=0.5)
    assert state["failed"] and not state["running"]
    assert "fell back from 50% to 0%" in state["reason"]
    assert not host_task_state({"progress": 0.6}, previous=0.5)["failed"]


def test_status_when_a_server_sends_one():
    failed = host_task_state({"progress": 0.5, "status": "failed", "message": "disk full", "message_cn": "磁盘满"})
    assert failed["failed"] and not failed["running"] and failed["reason"] == "disk full / 磁盘满"
    assert not host_task_state({"progress": 0.0, "status": "idle"})["running"]
    assert host_task_state({"progress": 0.0, "status": "running", "task_type": "deploy_cvm"})["kind"] == "deploy_cvm"


class _Refusing:
    def get(self, path, params=None):
        raise TosApiError("GET %s was refused by the manager (code 3010): task failed" % path, kind="api", code=3010)


class _Unreachable:
    def get(self, path, params=None):
        raise TosApiError("Cannot connect", kind="connection")


def test_an_error_envelope_reads_as_a_failed_last_task():
    state = read_host_task(_Refusing(), "c", "h")
    assert state["failed"] and not state["running"] and "code 3010" in state["reason"]


def test_a_transport_error_is_raised():
    with pytest.raises(TosApiError):
        read_host_task(_Unreachable(), "c", "h")
