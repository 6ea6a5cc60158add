"""The running simulator: the world, its persistence, the clock speed, faults and the request log."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from . import fixture, inspection, ops, readings
from .faults import FaultTable
from .requestlog import RequestLog
from .state import StateFile, World

log = logging.getLogger("simulator")


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 9990
    fixture: str | None = None
    state_file: str | None = None
    token: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    legacy_envelope: bool = False
    speed: float = 1.0
    ready_file: str | None = None
    quiet: bool = False
    # documented-only by default; see simulator/readings.py
    extensions: frozenset[str] = frozenset()
    page_base: int = 1
    page_size_zero: str = "all"
    task_failure: str = "stop"
    cvm_host: str = "machine_uuid"
    progress_lag: float = 0.0


class Simulator:
    def __init__(self, options: Options) -> None:
        self.options = options
        readings.configure(readings.Readings(
            frozenset(options.extensions), options.page_base, options.page_size_zero, options.task_failure,
            options.cvm_host, options.progress_lag))
        self.speed = options.speed
        self.store = StateFile(options.state_file)
        self.faults = FaultTable()
        self.requests = RequestLog()
        loaded = self.store.load()
        if loaded is not None:
            log.info("state loaded from %s", options.state_file)
            self.world = loaded
        else:
            self.world = fixture.load(options.fixture, time.time())
            self.save()

    @property
    def legacy(self) -> bool:
        return self.options.legacy_envelope

    def reset(self, fixture_path: str | None = None) -> None:
        """Back to the start-up fixture (or load the one given); clears faults and the request
        log. A fixture that does not load leaves everything as it was."""
        self.world = fixture.load(fixture_path or self.options.fixture, time.time())
        ops.DURATIONS.clear()
        ops.DURATIONS.update(ops.DEFAULT_DURATIONS)
        self.faults.clear()
        self.requests.clear()
        self.save()

    def tick(self) -> bool:
        """Let time finish tasks and inspections; persist if that changed anything."""
        changed = ops.tick_tasks(self.world, self.speed)
        now = self.world.now()
        for cluster in self.world.clusters.values():
            changed |= inspection.finish_if_done(cluster, now, self.speed)
        if changed:
            self.save()
        return changed

    def advance(self, seconds: float) -> None:
        self.world.clock_offset += seconds
        self.tick()
        self.save()

    def save(self) -> None:
        self.store.save(self.world)


__all__ = ["Options", "Simulator", "World"]
