# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-task reader and the wait (module_utils/_host_tasks.py): host_task_state reads the documented
``progress`` alone (the simulator's extra fields only as a bonus); wait_host_task against a task whose progress
follows a simulated clock: when it polls, and its timeouts."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import (
    FAST_POLL,
    MAX_PREDICTIONS,
    TASK_PROGRESS,
    HostTaskFailed,
    busy_hosts,
    host_task_state,
    predicted_end,
    read_host_task,
    wait_host_task,
)


class Task:
    """A task started at 0 whose progress at time t is ``curve(t)``; every request takes ``latency`` s."""

    def __init__(self, curve, latency=0.01):
        self.curve = curve
        self.now = 0.0
        self.latency = latency
        self.polls = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds

    def get(self, path, params=None):
        assert path == TASK_PROGRESS
        self.now += self.latency
        self.polls.append(round(self.now, 3))
        return {"progress": min(1.0, self.curve(self.now))}

    def wait(self, timeout=60, **kwargs):
        return wait_host_task(self, "c", "h", "tos-a1", timeout, clock=self.clock, sleep=self.sleep, **kwargs)


def gaps(polls):
    return [polls[i + 1] - polls[i] for i in range(len(polls) - 1)]


def test_a_steady_task_is_seen_finished_soon_after_its_end():
    task = Task(lambda t: t / 1.0)  # one second
    assert task.wait(started=0.0) == 1.0
    assert task.polls[-1] < 1.15 and len(task.polls) == 3


def test_the_end_of_a_one_second_task_is_seen_within_a_fast_poll():
    """Bench scenario 6: every millisecond between a host's end and the poll that sees it is orchestration."""
    task = Task(lambda t: t / 1.0, latency=0.001)
    task.wait(started=0.0)
    assert 1.0 <= task.polls[-1] <= 1.0 + FAST_POLL + 0.01, task.polls
    assert len(task.polls) <= 5, task.polls


def test_a_task_slower_than_predicted_is_polled_every_fast_poll_not_in_a_busy_loop():
    # 95 % in 0.95 s, then the last 5 % in 0.15 s: the predicted end comes too early
    task = Task(lambda t: t if t < 0.95 else 0.95 + 0.05 * (t - 0.95) / 0.15, latency=0.001)
    task.wait(started=0.0)
    late = [round(g, 3) for g in gaps(task.polls)[2:]]
    assert all(g >= FAST_POLL for g in late), task.polls
    assert task.polls[-1] <= 1.1 + 2 * FAST_POLL, task.polls


def test_a_long_steady_task_is_polled_every_interval_until_near_its_end():
    task = Task(lambda t: t / 30.0)
    task.wait(started=0.0)
    assert max(gaps(task.polls)) <= 2.0 + 0.011
    assert 30.0 <= task.polls[-1] < 30.3
    assert len(task.polls) <= 19


def test_progress_that_slows_near_the_end_costs_at_most_a_few_early_polls():
    # 90 % in one second, then the last 10 % in 20 s
    task = Task(lambda t: 0.9 * t if t < 1 else 0.9 + 0.1 * (t - 1) / 20)
    task.wait(started=0.0)
    early = [g for g in gaps(task.polls) if g < 1.9]
    # the first two pauses of the back-off (0.5 s, 1 s) and at most MAX_PREDICTIONS predicted ones
    assert len(early) <= 2 + MAX_PREDICTIONS
    assert task.polls[-1] >= 21.0


def test_stepped_progress_is_polled_as_before():
    task = Task(lambda t: min(1.0, 0.25 * int(t / 3)))  # 25 % every 3 s
    task.wait(started=0.0)
    assert task.polls[-1] >= 12.0
    assert len(task.polls) <= 9


def test_the_timeout_counts_from_the_start_given():
    task = Task(lambda t: t / 100.0)
    task.now = 50.0  # waited for only now, 50 s after its start
    with pytest.raises(HostTaskFailed) as exc:
        task.wait(timeout=60, started=0.0)
    assert exc.value.timed_out and "not finished after 60s" in exc.value.reason
    assert task.now < 63


def test_a_finish_read_before_any_lower_reading_waits_for_the_confirmation():
    """The documents' answer names no task: a 1.0 read first may be the previous task's (--progress-lag)."""
    task = Task(lambda t: 1.0 if t < 2.0 else (t - 2.0) / 1.0)  # the new task registered at 2 s, done at 3 s
    asked = []
    assert task.wait(confirm=lambda: asked.append(task.now) or task.now >= 3.0) == 1.0
    assert task.polls[-1] >= 3.0 and asked[0] < 1.0, (task.polls, asked)  # not the first reading's 1.0


def test_a_finish_read_before_any_lower_reading_and_confirmed_ends_at_once():
    task = Task(lambda t: 1.0)  # a task over before the first poll
    assert task.wait(confirm=lambda: True) == 1.0 and len(task.polls) == 1


def test_a_finish_after_a_lower_reading_costs_no_confirmation():
    task = Task(lambda t: t / 1.0)

    def confirm():
        raise AssertionError("confirm asked after the progress was seen below 1.0")
    assert task.wait(started=0.0, confirm=confirm) == 1.0


@pytest.mark.parametrize("duration", [1.0, 30.0, 600.0, 3600.0])
@pytest.mark.parametrize("seen", [0.1, 0.5, 0.9])
def test_predicted_end_lands_just_after_a_steady_task_ends(duration, seen):
    """A task whose progress grows steadily: the predicted poll comes after its end (no wasted early request),
    and late by no more than 0.2 % of the time left and 5 ms (a 10-minute upgrade is seen ~1 s after its end,
    not 6 s as with a 1 % margin)."""
    now = seen * duration
    left = duration - now
    eta = predicted_end((0.0, 0.0), (now, seen))
    assert left <= eta <= left * 1.002 + 0.005 + 1e-9


def test_predicted_end():
    assert predicted_end((0.0, 0.5), (1.0, 0.5)) is None
    assert predicted_end((1.0, 0.2), (1.0, 0.3)) is None


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


def test_busy_hosts_names_the_hosts_whose_task_runs():
    detail = {"TopoHostNode": [{"UUID": "h1", "name": "a1"}, {"UUID": "h2", "name": "a2"},
                               {"UUID": "v1", "name": "cvm", "IsSystemService": True}]}

    class Client:
        def get(self, path, params):
            assert path == TASK_PROGRESS and params["host_uuid"] != "v1"
            return {"h1": {"progress": 0.25}, "h2": {"progress": 1.0}}[params["host_uuid"]]

    assert busy_hosts(Client(), "u", detail) == ["a1 (task at 25%)"]
