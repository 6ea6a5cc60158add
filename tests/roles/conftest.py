"""Fixtures of the role tests: a private simulator per test module, and ansible-playbook runs of the
collection's playbooks against it (the collection as `make collection` links it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
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
SPEED = 40
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

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_sim/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def state(self) -> dict[str, Any]:
        return self.control("GET", "state")

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
        run_env = dict(os.environ)
        run_env.update({
            "TOS_API_URL": self.url,
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_PIPELINING": "true",
        })
        run_env.update(env or {})
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=run_env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
        return Run(proc.returncode, proc.stdout)


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A simulator for the test module: with its additions (``--extensions all``) unless the module sets
    ``SIM_OPTIONS`` (the demo runs documented-only, as ``make demo`` does)."""
    if not (COLLECTIONS / "ansible_collections" / "tos" / "cloud").exists():
        pytest.fail("the collection is not linked: run `make collection` (make roles-tests does)")
    options = getattr(request.module, "SIM_OPTIONS", {"extensions": "all"})
    with run_simulator(speed=SPEED, **options) as url:
        yield Sim(url, tmp_path_factory.mktemp("roles"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
