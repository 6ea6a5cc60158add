"""Shared machinery of the benchmark: the environment, timed runs, the simulator, statistics."""
from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
COLLECTIONS = ROOT / "build" / "collections"

sys.path.insert(0, str(ROOT))
from simulator.testing import SimulatorProcess  # noqa: E402


class BenchError(RuntimeError):
    """A scenario's result is wrong (not merely slow): its time does not count."""


def bin_path(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    venv = VENV_BIN / name
    return str(venv) if venv.exists() else name


def ansible_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of every ansible command of the benchmark (as `make` sets it, plus the callback)."""
    env = dict(os.environ)
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(VENV_BIN), env.get("PATH", "")]),
        "ANSIBLE_CONFIG": str(BENCH / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "PYTHONPATH": os.pathsep.join([str(COLLECTIONS), str(ROOT)]),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_timer",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(workdir / "ansible-remote"),
        "ANSIBLE_ASYNC_DIR": str(workdir / "ansible-async"),
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
    })
    for key in ("BENCH_SIM_URL", "BENCH_TIMER_OUT", "ANSIBLE_INVENTORY_CACHE", "ANSIBLE_CACHE_PLUGIN_CONNECTION"):
        env.pop(key, None)
    env.update(extra)
    return env


@dataclass
class Run:
    """One timed command: wall time, CPU time of the whole process tree, output, and the callback's record."""

    cmd: list[str]
    wall: float
    cpu: float
    rc: int
    stdout: str
    stderr: str
    record: dict[str, Any] = field(default_factory=dict)

    def tail(self, lines: int = 25) -> str:
        text = (self.stdout + "\n" + self.stderr).strip().splitlines()
        return "\n".join(text[-lines:])

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        return self.record.get("stats") or {}

    def total(self, key: str) -> int:
        return sum(h.get(key, 0) for h in self.stats.values())

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.record.get("tasks") or []


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 900) -> Run:
    """Run ``cmd`` once; wall time from a monotonic clock, CPU time (user+sys) of every waited-for descendant."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(cmd, wall, cpu, proc.returncode, proc.stdout, proc.stderr)


class Ansible:
    """Runs ansible-playbook / ansible-inventory with the benchmark's environment and the bench_timer callback."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0
        self.lock = threading.Lock()
        for sub in ("ansible-local", "ansible-remote", "ansible-async", "records"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)

    def playbook(self, playbook: Path, *args: str, api_url: str = "", attribute: bool = False,
                 inventory: Path | str | None = None, env: dict[str, str] | None = None, timeout: float = 900) -> Run:
        with self.lock:  # bench-quick runs playbooks in threads
            self.counter += 1
            record = self.workdir / "records" / ("%03d-%s.json" % (self.counter, playbook.stem))
        extra = {"BENCH_TIMER_OUT": str(record)}
        if api_url:
            extra["TOS_API_URL"] = api_url
            if attribute:
                extra["BENCH_SIM_URL"] = api_url
        extra.update(env or {})
        cmd = [bin_path("ansible-playbook"), "-i", str(inventory or BENCH / "inventory.ini"), str(playbook), *args]
        run = timed(cmd, env=ansible_env(self.workdir, **extra), cwd=self.workdir, timeout=timeout)
        if record.exists():
            run.record = json.loads(record.read_text())
        return run

    def inventory(self, source: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
        cmd = [bin_path("ansible-inventory"), "-i", str(source), "--list", *args]
        return timed(cmd, env=ansible_env(self.workdir, **(env or {})), cwd=self.workdir, timeout=timeout)


def check_playbook(run: Run, what: str, changed: int | None = None, min_changed: int = 0) -> None:
    """A playbook run counts only when it succeeded (and changed what it should)."""
    if run.rc != 0 or run.total("failures") or run.total("unreachable"):
        raise BenchError("%s failed (rc %s):\n%s" % (what, run.rc, run.tail()))
    if not run.stats:
        raise BenchError("%s: the bench_timer callback wrote no record:\n%s" % (what, run.tail()))
    got = run.total("changed")
    if changed is not None and got != changed:
        raise BenchError("%s: changed=%d, expected %d; the changed tasks: %s" % (
            what, got, changed, ", ".join(changed_tasks(run)) or "none"))
    if got < min_changed:
        raise BenchError("%s: changed=%d, expected at least %d" % (what, got, min_changed))


def changed_tasks(run: Run) -> list[str]:
    return [t["name"] for t in run.tasks if any(h.get("changed") for h in t["hosts"].values())]


# ---- the simulator ---------------------------------------------------------------------------------

def _mutating_paths() -> frozenset[str]:
    from simulator.handlers import load_all

    routes = load_all()
    # mail_setting/test changes nothing on the manager but sends a mail: a no-op run must not send it either
    return frozenset(path for path, route in routes.items() if route.mutating or path.endswith("/mail_setting/test"))


MUTATING = _mutating_paths()


def is_mutating(request: dict[str, Any]) -> bool:
    return request["path"] in MUTATING or (request["method"] != "GET" and request["path"] not in READ_POSTS)


# POST endpoints that only read (the topology picture)
READ_POSTS = frozenset({"/v1/cluster/all_cluster/topology"})


class Sim:
    """A private simulator on 127.0.0.1 (port 0) with its control API."""

    def __init__(self, speed: float = 1.0, fixture: Path | None = None) -> None:
        options: dict[str, Any] = {"speed": speed, "host": "127.0.0.1", "extensions": "all"}
        if fixture is not None:
            options["fixture"] = str(fixture)
        self.proc = SimulatorProcess(**options)
        self.url = ""

    def __enter__(self) -> Sim:
        self.url = self.proc.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.proc.stop()
        shutil.rmtree(self.proc.workdir, ignore_errors=True)

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 120) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.load(resp)

    def reset(self, fixture: Path | None = None) -> None:
        body = {"fixture": str(fixture)} if fixture else None
        answer = self._call("POST", "/_sim/reset", body if body is not None else {})
        if not answer.get("ok"):
            raise BenchError("simulator reset failed: %s" % answer)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", "/_sim/requests?since=%d" % since)["requests"]

    def last_seq(self) -> int:
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0

    def clear(self) -> None:
        self._call("DELETE", "/_sim/requests")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/state")

    def api(self, path: str) -> Any:
        return self._call("GET", "/v1" + path)["data"]

    def clusters(self) -> list[dict[str, Any]]:
        return self.api("/cluster/list?page_num=1&page_size=1000")["list"]


# ---- statistics and the machine -------------------------------------------------------------------

def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": [round(v, 4) for v in values]}


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if not a.get("n") or not b.get("n") or not b["median"]:
        return None
    return a["median"] / b["median"]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        version = subprocess.run([bin_path("ansible"), "--version"], capture_output=True, text=True, check=False).stdout
        core = re.search(r"core ([\d.]+\w*)", version)
        ansible_core = core.group(1) if core else "unknown"
    except OSError:
        ansible_core = "unknown"
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "ansible_core": ansible_core,
        "os": "%s %s" % (platform.system(), platform.release()),
        "loadavg_start": [round(x, 2) for x in load],
    }


class Budget:
    """Keeps `make bench` within its time: each phase may use a share of the total; a scenario repeats while
    the next repetition (as long as the last one took) still fits, and always runs at least ``minimum`` times."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.start = time.monotonic()
        self.deadline = self.start + total

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def phase(self, share: float) -> Phase:
        return Phase(min(self.deadline, time.monotonic() + share * self.total))


class Phase:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.last = 0.0
        self.t0 = time.monotonic()
        self.cut = False

    def more(self, done: int, wanted: int, minimum: int = 1) -> bool:
        """Whether to run repetition number ``done + 1`` of ``wanted``."""
        now = time.monotonic()
        if done:
            self.last = (now - self.t0) / done
        if done >= wanted:
            return False
        if done < minimum:
            return True
        if now + self.last > self.deadline:
            self.cut = True
            return False
        return True
