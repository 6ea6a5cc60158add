# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wait_host_task against a task whose progress follows a simulated clock: when it polls, and its timeouts."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import (
    MAX_PREDICTIONS,
    TASK_PROGRESS,
    HostTaskFailed,
    predicted_end,
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


def test_predicted_end():
    assert predicted_end((0.0, 0.0), (0.5, 0.5)) == pytest.approx(0.5 * 1.05 + 0.05)
    assert predicted_end((0.0, 0.5), (1.0, 0.5)) is None
    assert predicted_end((1.0, 0.2), (1.0, 0.3)) is None
