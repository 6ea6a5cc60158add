"""Fixtures of the role tests: a private simulator per test module, and ansible-playbook runs of the
collection's playbooks against it (the collection as `make collection` links it): whole playbooks, one-play
playbooks of tasks, and tasks started in the background (to meet an operation while it runs) whose registered
results are read back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from simulator.testing import run_simulator  # noqa: E402

PLAYBOOKS = REPO_ROOT / "playbooks"
DEMO_INVENTORY = PLAYBOOKS / "inventory" / "demo.ini"
COLLECTIONS = REPO_ROOT / "build" / "collections"
SPEED = 40  # a test module may set SIM_SPEED (and SIM_OPTIONS)
# POSTs that change nothing on the manager: what a mutation check leaves out
READ_ONLY_POSTS = frozenset(("/v1/cluster/all_cluster/topology",))
ARTIFACTS = Path(os.environ.get("TOS_ARTIFACTS") or REPO_ROOT / "build" / "artifacts")


def _plain(value: Any) -> Any:
    """ansible-inventory may mark untrusted strings as {"__ansible_unsafe": "..."}: the strings."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Run:
    rc: int
    out: str

    def __str__(self) -> str:  # what pytest shows when an assertion on the run fails
        return f"rc={self.rc}\n{self.out[-6000:]}"


class Sim:
    """The simulator: its URL, its control API, and playbook runs against it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.tmp = tmp
        self._converged: dict[str, Any] = {}

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of an ansible command against this simulator and the linked collection."""
        path = os.pathsep.join([str(REPO_ROOT / "build" / "pybin"), str(REPO_ROOT / ".venv" / "bin"), os.environ["PATH"]])
        run_env = dict(os.environ, PATH=path)
        run_env.update({
            "TOS_API_URL": self.url,
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_PIPELINING": "true",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        })
        run_env.update(extra or {})
        return run_env

    def log(self) -> list[dict[str, Any]]:
        """The simulator's request log (since the last ``clear``)."""
        return self.control("GET", "requests")["requests"]

    def clear(self) -> None:
        self.control("DELETE", "requests")

    def mutations(self) -> list[dict[str, Any]]:
        """The logged requests that change the manager: every one but GETs and the read-only POSTs."""
        return [e for e in self.log() if e["method"] != "GET" and e["path"] not in READ_ONLY_POSTS]

    def mutated(self) -> list[str]:
        """The paths of ``mutations()``, in order."""
        return [e["path"] for e in self.mutations()]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_sim/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def state(self) -> dict[str, Any]:
        return self.control("GET", "state")

    def converged(self, description: dict[str, Any]) -> None:
        """The simulator reset, then ``description`` (cluster_bringup's variables) brought up: by bringup.yml the
        first time in the test module, afterwards by loading the state that run left (PUT /_sim/state), which is
        the same platform without a playbook run (about 2 s each). The request log starts empty. For the tests
        whose subject comes after the bring-up; a test of the bring-up itself runs bringup.yml."""
        key = json.dumps(description, sort_keys=True)
        self.reset()
        if key in self._converged:
            self.control("PUT", "state", self._converged[key])
        else:
            run = self.playbook("bringup.yml", extra_vars=description)
            assert run.rc == 0, str(run)
            self._converged[key] = self.state()
        self.clear()

    def cluster(self, name: str) -> dict[str, Any]:
        return next(c for c in self.state()["clusters"].values() if c["name"] == name)

    def hosts(self) -> dict[str, dict[str, Any]]:
        """Hosts by name."""
        return {h["name"]: h for h in self.state()["hosts"].values()}

    def inventory(self) -> dict[str, Any]:
        """``ansible-inventory --list`` of the tos.cloud.hosts plugin against this simulator."""
        config = self.tmp / "cloud.tos.yml"
        config.write_text(f"plugin: tos.cloud.hosts\napi_url: {self.url}\n")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_ENABLED="tos.cloud.hosts")
        proc = subprocess.run(["ansible-inventory", "-i", str(config), "--list"], cwd=REPO_ROOT, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return _plain(json.loads(proc.stdout))

    def play(self, name: str, tasks: list[dict[str, Any]], *args: str) -> Run:
        """A one-play playbook of ``tasks`` on the demo inventory's API host (module_defaults to the simulator),
        run with ``args``."""
        path = self.tmp / ("%s.yml" % name)
        path.write_text(json.dumps([{
            "name": name, "hosts": "tos_api", "gather_facts": False,
            "module_defaults": {"group/tos.cloud.api": {"api_url": self.url}}, "tasks": tasks}]))
        return self.playbook(str(path), *args)

    def playbook(self, playbook: str, *args: str, inventory: Path | str = DEMO_INVENTORY,
                 extra_vars: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Run:
        cmd = ["ansible-playbook", "-i", str(inventory), str(PLAYBOOKS / playbook), *args]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=self.env(env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
        return Run(proc.returncode, proc.stdout)

    def start(self, tasks: list[dict[str, Any]], check: bool = False, diff: bool = False,
              play_vars: dict[str, Any] | None = None) -> Started:
        """``tasks`` on localhost, started in the background: each registered with its errors ignored, their
        results written to a JSON file that ``Started.results`` reads once the play ends."""
        stamp = time.monotonic_ns()
        out = self.tmp / ("results-%d.json" % stamp)
        tasks = [dict(t, register="r%d" % i, ignore_errors=True) for i, t in enumerate(tasks)]
        dump = {"ansible.builtin.copy": {"dest": str(out), "content": "{{ [%s] | to_json }}" % ",".join(
            "r%d" % i for i in range(len(tasks)))}, "check_mode": False, "diff": False}
        playbook = self.tmp / ("play-%d.yml" % stamp)
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars or {},
                                         "tasks": tasks + [dump]}]))
        cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)]
        cmd += ["--check"] if check else []
        cmd += ["--diff"] if diff else []
        proc = subprocess.Popen(cmd, env=self.env(), cwd=self.tmp, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        return Started(proc, out)

    def results(self, tasks: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
        """The registered results of ``tasks`` run on localhost (see ``start``)."""
        return self.start(tasks, **kwargs).results()


@dataclass
class Started:
    """A play started in the background by ``Sim.start``."""

    proc: subprocess.Popen
    out: Path

    def results(self, timeout: float = 300) -> list[dict[str, Any]]:
        text = self.proc.communicate(timeout=timeout)[0]
        assert self.out.exists(), text[-4000:]
        return json.loads(self.out.read_text())


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A simulator for the test module: with its additions (``--extensions all``) unless the module sets
    ``SIM_OPTIONS`` (the demo runs documented-only, as ``make demo`` does)."""
    if not (COLLECTIONS / "ansible_collections" / "tos" / "cloud").exists():
        pytest.fail("the collection is not linked: run `make collection` (make roles-tests does)")
    options = getattr(request.module, "SIM_OPTIONS", {"extensions": "all"})
    with run_simulator(speed=getattr(request.module, "SIM_SPEED", SPEED), **options) as url:
        yield Sim(url, tmp_path_factory.mktemp("roles"))


@pytest.fixture()
def durations(sim: Sim) -> Iterator[Any]:
    """Sets the simulator's operation durations (``durations(deploy_cvm=3000)``); restores them afterwards."""
    before = sim.control("POST", "durations", {})["durations"]
    yield lambda **kinds: sim.control("POST", "durations", kinds)
    sim.control("POST", "durations", before)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
