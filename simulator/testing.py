"""Start and stop a real simulator process for tests (used by tests/simulator and by anyone's).

    from simulator.testing import run_simulator

    with run_simulator(speed=100, token="s3cret") as base_url:
        requests.get(f"{base_url}/v1/system/version", headers={"Authorization": "Bearer s3cret"})

Options are the command-line options with underscores (fixture, state_file, token, tls_cert,
tls_key, legacy_envelope, speed, host, port); the port defaults to 0 (a free port).
For more control (kill -9, restart), use SimulatorProcess directly.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# a readiness wait, not a time limit: a simulator that dies fails at once; one that starts slowly (a loaded
# machine: make test runs two lanes of suites on 2 cores) is waited for
START_TIMEOUT = float(os.environ.get("TOS_SIM_START_TIMEOUT", "120"))


class SimulatorError(RuntimeError):
    pass


class SimulatorProcess:
    """One simulator process; start() waits until it listens and sets base_url."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("port", 0)
        options.setdefault("quiet", True)
        self.options = options
        self.workdir = Path(tempfile.mkdtemp(prefix="tos-sim-"))
        self.log_path = self.workdir / "simulator.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "simulator", "--ready-file", str(self.workdir / "ready")]
        for key, value in self.options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                cmd.append(flag)
            elif value is not None and value is not False:
                cmd += [flag, str(value)]
        return cmd

    def start(self) -> str:
        ready = self.workdir / "ready"
        ready.unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if ready.exists() and ready.read_text().strip():
                self.base_url = ready.read_text().strip()
                return self.base_url
            if self.process.poll() is not None:
                raise SimulatorError(f"simulator exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        self.stop()
        raise SimulatorError(f"simulator not ready after {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill without any chance to clean up (default SIGKILL), and reap the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def run_simulator(**options: Any) -> Iterator[str]:
    """Run a simulator for the duration of the block; yields its base URL."""
    sim = SimulatorProcess(**options)
    try:
        sim.start()
        yield sim.base_url
    finally:
        sim.stop()
        shutil.rmtree(sim.workdir, ignore_errors=True)
