"""Fixtures of the simulator tests: one simulator process per test session (reset before each
test), plus helpers to start more (TLS, token, legacy envelope, state file...)."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SPEED = 50.0  # a CVM deploy takes 0.4 s, an upgrade 0.6 s, the inspection 0.3 s


class Api:
    """A tiny client of the simulator: /v1 calls return the envelope, ok_* return its data."""

    def __init__(self, base_url: str, token: str | None = None, verify: Any = True) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.verify = verify
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(self.base_url + path, params=params, timeout=30)
        return response.json()

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.session.post(self.base_url + path, json=body if body is not None else {}, timeout=30)
        return response.json()

    def ok_get(self, path: str, **params: Any) -> Any:
        envelope = self.get(path, **params)
        assert envelope["scode"] == 0, envelope
        return envelope["data"]

    def ok_post(self, path: str, body: Any = None) -> Any:
        envelope = self.post(path, body)
        assert envelope["scode"] == 0, envelope
        return envelope["data"]

    # --- control API ---------------------------------------------------------------------
    def reset(self, fixture: str | Path | None = None) -> None:
        body = {"fixture": str(fixture)} if fixture else None
        response = self.session.post(self.base_url + "/_sim/reset", json=body, timeout=30)
        assert response.json() == {"ok": True}, response.text

    def state(self) -> dict[str, Any]:
        return self.session.get(self.base_url + "/_sim/state", timeout=30).json()

    def advance(self, seconds: float) -> None:
        response = self.session.post(self.base_url + "/_sim/time", json={"advance": seconds}, timeout=30)
        assert response.json()["ok"], response.text

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(method, self.base_url + path, json=body, timeout=30)

    # --- shortcuts ---------------------------------------------------------------------------
    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.state()["hosts"].values() if h["name"] == name)

    def add_cluster(self, ip: str = "192.0.2.11", name: str = "c1") -> str:
        return self.ok_post("/v1/cluster/add", {"ip": ip, "name": name})["uuid"]

    def deploy_cvm(self, cluster: str, host: str = "tos-a1", addr: str = "192.0.2.101/24",
                   gateway: str = "192.0.2.1", finish: bool = True) -> dict[str, Any]:
        data = self.ok_post(
            "/v1/cluster/deploy/cvm",
            {"cluster_uuid": cluster, "MachineUUID": self.host(host)["uuid"],
             "Networks": [{"Addr": addr, "Gateway": gateway}]},
        )
        if finish:
            self.advance(30)
        return data


@pytest.fixture(scope="session")
def sim_process() -> Iterator[SimulatorProcess]:
    # these tests pin the simulator's whole behaviour, its additions included (test_documented.py:
    # the documented-only mode and its readings)
    process = SimulatorProcess(speed=SPEED, extensions="all")
    process.start()
    yield process
    process.stop()


@pytest.fixture()
def api(sim_process: SimulatorProcess) -> Api:
    client = Api(sim_process.base_url)
    client.reset()
    return client


@pytest.fixture()
def cluster(api: Api) -> str:
    """A cluster of the 4 rack-a hosts (192.0.2.11-14), no VM yet."""
    return api.add_cluster()


@pytest.fixture()
def cvm_cluster(api: Api, cluster: str) -> str:
    """The rack-a cluster with a running CVM (192.0.2.101) on tos-a1."""
    api.deploy_cvm(cluster)
    return cluster
