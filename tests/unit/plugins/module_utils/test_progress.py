"""_progress: a line at the first reading, then at least every interval, and at the end; the data always."""
from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils import _progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    _progress.reset()
    lines = []
    monkeypatch.setattr(_progress, "EMIT", lines.append)
    monkeypatch.delenv("TOS_PROGRESS_INTERVAL", raising=False)
    yield lines
    _progress.reset()


def test_a_line_first_then_every_ten_seconds_then_at_the_end(fresh):
    clock = Clock()
    for step in range(0, 25):  # a reading every 2 s, 4 % each
        clock.now = 100.0 + 2 * step
        _progress.report("tos-a2", "the task on host tos-a2", step * 0.04, clock=clock, wall=lambda: 0)
    clock.now += 2
    _progress.report("tos-a2", "the task on host tos-a2", 1.0, "finished", clock=clock, wall=lambda: 0)
    assert len(fresh) == 1 + 4 + 1  # at 0 s, 10, 20, 30, 40 s, and the end
    assert fresh[1] == "tos.cloud: waiting for the task on host tos-a2: 20% after 10s, about 40s left"
    assert fresh[-1] == "tos.cloud: the task on host tos-a2: finished, 100% after 50s"
    (record,) = _progress.records()
    assert record["status"] == "finished" and record["readings"] == 26 and record["lines"] == 6
    assert record["elapsed"] == 50.0 and record["eta"] is None


def test_no_estimate_until_the_progress_moves(fresh):
    clock = Clock()
    _progress.report("inspection:c1", "the inspection of cluster 'c1'", 0.0, clock=clock)
    clock.now += 11
    _progress.report("inspection:c1", "the inspection of cluster 'c1'", 0.0, clock=clock)
    assert fresh[1].endswith("0% after 11s, time left unknown")


def test_batches_show_only_when_there_are_several(fresh, monkeypatch):
    monkeypatch.setenv("TOS_PROGRESS_INTERVAL", "1")
    _progress.CONTEXT.update(batch=2, batches=3)
    _progress.report("h1", "the task on host h1", 0.5)
    assert "(batch 2 of 3)" in fresh[0]
    assert _progress.records()[0]["batches"] == 3
    _progress.reset()
    _progress.CONTEXT.update(batch=1, batches=1)
    _progress.report("h2", "the task on host h2", 0.5)
    assert "batch" not in fresh[1] and "batches" not in _progress.records()[0]


def test_without_an_emitter_only_the_data(monkeypatch):
    monkeypatch.setattr(_progress, "EMIT", None)
    _progress.report("h1", "the task on host h1", 0.3)
    assert _progress.records()[0]["lines"] == 1 and _progress.records()[0]["progress"] == 0.3
