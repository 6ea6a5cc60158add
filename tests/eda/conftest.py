"""Shared pieces of the EDA tests: the source plugin loaded by path (as ansible-rulebook loads it), simulators
from the reliability suite's helpers, and a runner that polls the source a given number of times."""
from __future__ import annotations

import asyncio
import os
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("RELIABILITY_WORKDIR", str(ROOT / "build" / "eda-tests"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
sys.path.insert(0, str(ROOT))

import relib  # noqa: E402

SOURCE = ROOT / "extensions" / "eda" / "plugins" / "event_source" / "events.py"
SPEED = 50.0


@pytest.fixture(scope="session")
def events():
    """The plugin's namespace, loaded from its file the way ansible-rulebook runs a source."""
    return runpy.run_path(str(SOURCE))


def drain(queue):
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def run_source(events, args, polls=1):
    """Run the source for ``polls`` polls (interval 0: back to back) and return the events it delivered."""
    queue = asyncio.Queue()
    asyncio.run(events["main"](queue, dict({"interval": 0.05, "timeout": 5}, **args, max_polls=polls)))
    return drain(queue)


def kinds(delivered):
    return [(e["type"], e.get("cluster") and e["cluster"]["name"], (e.get("host") or {}).get("ip") or e.get("member"))
            for e in delivered]


@pytest.fixture
def sim_factory():
    sims = []

    def make(name, **options):
        sim = relib.Sim(name, speed=SPEED, **options)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()
