"""The server itself: start-up, persistence across kill -9, TLS, token, legacy envelope,
injected faults, the request log, concurrency and memory with the large fixture."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from conftest import FIXTURES, REPO_ROOT, Api

from simulator.testing import SimulatorProcess, run_simulator


@pytest.fixture()
def spawn() -> Iterator[Any]:
    """Start extra simulators (stopped at the end of the test)."""
    started: list[SimulatorProcess] = []

    def start(**options: Any) -> SimulatorProcess:
        options.setdefault("extensions", "all")
        process = SimulatorProcess(**options)
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_prints_the_ready_line_with_the_chosen_port(tmp_path: Path) -> None:
    ready = tmp_path / "url"
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--quiet", "--ready-file", str(ready)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("SIMULATOR READY http://127.0.0.1:")
        url = line.split()[-1]
        assert ready.read_text().strip() == url
        assert requests.get(url + "/v1/system/version", timeout=10).json()["scode"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_state_survives_kill_9_and_tasks_keep_progressing(spawn: Any, tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    first = spawn(state_file=state_file, speed=1.0)
    api = Api(first.base_url)
    cluster = api.add_cluster()
    api.ok_post("/v1/system/mail_setting/update", {"smtp_server_ip": "192.0.2.25", "smtp_password": "pw"})
    deployed = api.deploy_cvm(cluster, finish=False)  # 20 s at speed 1
    host = api.host("tos-a1")["uuid"]
    before = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=host)["progress"]
    first.kill()  # SIGKILL right after the answers: nothing may be lost
    second = spawn(state_file=state_file, speed=1.0)
    api = Api(second.base_url)
    assert [c["cluster_uuid"] for c in api.ok_get("/v1/cluster/list")["list"]] == [cluster]
    assert api.ok_get("/v1/system/mail_setting/inspect")["smtp_password"] == "pw"
    progress = api.ok_get("/v1/cluster/host/task/progress", cluster_uuid=cluster, host_uuid=host)
    assert progress["status"] == "running" and progress["progress"] >= before
    assert progress["target_uuid"] == deployed["uuid"]
    api.advance(25)
    second.kill()
    third = spawn(state_file=state_file, speed=1.0)
    api = Api(third.base_url)
    info = api.ok_get("/v1/cluster/cloud/manage", cluster_uuid=cluster)["host_info"]
    assert [i["uuid"] for i in info] == [deployed["uuid"]]
    assert json.loads(state_file.read_text())["cvms"][deployed["uuid"]]["status"] == "running"


def test_tls_with_a_private_ca(spawn: Any, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(tmp_path / "server.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    process = spawn(tls_cert=tmp_path / "server.pem", tls_key=tmp_path / "server.pem")
    assert process.base_url.startswith("https://127.0.0.1:")
    response = requests.get(process.base_url + "/v1/system/version", verify=str(tmp_path / "ca.pem"), timeout=10)
    assert response.json()["scode"] == 0
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(process.base_url + "/v1/system/version", timeout=10)


@pytest.fixture(scope="module")
def secured() -> Iterator[SimulatorProcess]:
    """A simulator that requires a token and logs every request on stderr."""
    process = SimulatorProcess(token="t0k3n", quiet=False)
    process.start()
    yield process
    process.stop()


def test_token_is_required_on_v1_only(secured: SimulatorProcess) -> None:
    process = secured
    Api(process.base_url).control("DELETE", "/_sim/requests")
    url = process.base_url + "/v1/system/version"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t0k3n"}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["scode"] == 1401 and "Authorization: Bearer" in response.json()["message"]
    assert requests.get(url, headers={"Authorization": "Bearer t0k3n"}, timeout=10).json()["scode"] == 0
    assert requests.get(process.base_url + "/_sim/state", timeout=10).status_code == 200
    log = Api(process.base_url).control("GET", "/_sim/requests").json()["requests"]
    assert [r["status"] for r in log] == [401, 401, 401, 200]
    assert "t0k3n" not in process.log()


def test_legacy_envelope_through_the_run_simulator_helper() -> None:
    with run_simulator(legacy_envelope=True, extensions="all") as base_url:
        ok = requests.get(base_url + "/v1/system/version", timeout=10).json()
        assert set(ok) == {"status_code", "message_en", "message_cn", "data"} and ok["status_code"] == 0
        error = requests.get(base_url + "/v1/cluster/get", timeout=10).json()
        assert error["status_code"] == 1002 and error["data"] is None and "'cluster_uuid'" in error["message_en"]


# --- faults -------------------------------------------------------------------------------------------
def add_fault(api: Api, **spec: Any) -> str:
    response = api.control("POST", "/_sim/faults", spec)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def test_latency_fault_delays_then_answers(api: Api) -> None:
    add_fault(api, path="/v1/system/*", kind="latency", seconds=0.3, count=1)
    started = time.monotonic()
    assert api.get("/v1/system/version")["scode"] == 0
    assert time.monotonic() - started >= 0.3


def test_http_fault_with_retry_after_and_count(api: Api) -> None:
    add_fault(api, path="/v1/cluster/*", method="GET", kind="http", status=503, retry_after=1, count=2)
    for attempt in range(2):
        response = requests.get(api.base_url + "/v1/cluster/list", timeout=10)
        assert response.status_code == 503, attempt
        assert response.headers["Retry-After"] == "1"
    assert requests.get(api.base_url + "/v1/cluster/list", timeout=10).status_code == 200
    assert api.control("GET", "/_sim/faults").json()["faults"] == []


def test_drop_fault_closes_the_connection(api: Api) -> None:
    add_fault(api, path="/v1/system/version", kind="drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api.base_url + "/v1/system/version", timeout=10)
    assert api.get("/v1/system/version")["scode"] == 0


def test_envelope_fault_and_skip_and_method(api: Api) -> None:
    add_fault(api, path="/v1/cluster/list", method="GET", kind="envelope", code=5001, message_en="busy",
              message_cn="忙", skip=1)
    assert api.get("/v1/cluster/list")["scode"] == 0  # skipped
    faulted = api.get("/v1/cluster/list")
    assert faulted["scode"] == 5001 and faulted["message"] == "busy" and faulted["message_cn"] == "忙"
    assert api.post("/v1/cluster/list", {})["scode"] == 1005  # another method: no fault
    assert api.get("/v1/cluster/list")["scode"] == 5001  # count null: until cleared
    assert api.control("DELETE", "/_sim/faults").json() == {"ok": True}
    assert api.get("/v1/cluster/list")["scode"] == 0


def test_apply_fault_processes_the_post_and_loses_the_answer(api: Api) -> None:
    add_fault(api, path="/v1/cluster/add", method="POST", kind="drop", apply=True, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(api.base_url + "/v1/cluster/add", json={"ip": "192.0.2.11", "name": "landed"}, timeout=10)
    assert [c["cluster_name"] for c in api.ok_get("/v1/cluster/list")["list"]] == ["landed"]
    log = api.control("GET", "/_sim/requests").json()["requests"]
    assert log[0]["path"] == "/v1/cluster/add" and log[0]["status"] == 0 and log[0]["fault"]


def test_fault_management(api: Api) -> None:
    first = add_fault(api, path="/v1/*", kind="http", status=502)
    add_fault(api, path="/v1/*", kind="latency", seconds=0)
    assert [f["id"] for f in api.control("GET", "/_sim/faults").json()["faults"]][0] == first
    assert api.control("DELETE", f"/_sim/faults/{first}").json() == {"ok": True}
    assert api.control("DELETE", f"/_sim/faults/{first}").status_code == 404
    assert api.get("/v1/system/version")["scode"] == 0
    assert api.control("POST", "/_sim/faults", {"path": "/v1/*", "kind": "explode"}).status_code == 400
    api.reset()
    assert api.control("GET", "/_sim/faults").json()["faults"] == []


# --- request log ------------------------------------------------------------------------------------
def test_request_log_records_every_v1_call_with_secrets_masked(api: Api) -> None:
    api.get("/v1/cluster/list", filter_name="x", token="abc")
    api.post("/v1/system/mail_setting/update", {"smtp_server_ip": "192.0.2.25", "smtp_password": "hunter2"})
    api.get("/v1/cluster/get")
    settings = {"login_policy": {"token_expire_second": 3600}, "password_complexity_policy": {"min_length": 8}}
    api.post("/v1/system/setting/update", settings)
    log = api.control("GET", "/_sim/requests").json()["requests"]
    assert log.pop()["body"] == settings  # settings named like secrets are not secrets
    assert [(r["method"], r["path"], r["status"], r["code"]) for r in log] == [
        ("GET", "/v1/cluster/list", 200, 0),
        ("POST", "/v1/system/mail_setting/update", 200, 0),
        ("GET", "/v1/cluster/get", 200, 1002),
    ]
    assert log[0]["query"] == {"filter_name": "x", "token": "********"} and log[0]["body"] is None
    assert log[1]["body"] == {"smtp_server_ip": "192.0.2.25", "smtp_password": "********"}
    assert [r["seq"] for r in log] == sorted(r["seq"] for r in log) and isinstance(log[0]["time"], float)
    since = api.control("GET", f"/_sim/requests?since={log[1]['seq']}").json()["requests"]
    assert [r["path"] for r in since] == ["/v1/cluster/get", "/v1/system/setting/update"]
    last = api.control("GET", "/_sim/requests?since=999999999").json()
    assert last == {"requests": [], "last": log[-1]["seq"] + 1}  # the settings update, popped above
    assert api.control("DELETE", "/_sim/requests").json() == {"ok": True}
    assert api.control("GET", "/_sim/requests").json() == {"requests": [], "last": last["last"]}  # seq keeps counting
    api.get("/v1/cluster/get")
    after = api.control("GET", "/_sim/requests?since=%d" % last["last"]).json()
    assert [r["path"] for r in after["requests"]] == ["/v1/cluster/get"] and after["last"] == last["last"] + 1


def test_stderr_log_has_one_line_per_request_and_no_secret(secured: SimulatorProcess) -> None:
    process = secured
    api = Api(process.base_url, token="t0k3n")
    api.ok_post("/v1/system/mail_setting/update", {"smtp_server_ip": "192.0.2.25", "smtp_password": "hunter2"})
    api.get("/v1/cluster/list", filter_name="x", token="abc123", password="p4ss")
    log = process.log()  # a request's line is written before its answer leaves
    assert "POST /v1/system/mail_setting/update -> 200 code=0" in log
    assert "GET /v1/cluster/list?filter_name=x" in log
    for secret in ("hunter2", "abc123", "p4ss"):
        assert secret not in log


# --- control API --------------------------------------------------------------------------------------
def test_reset_loads_another_fixture_and_refuses_a_bad_one(api: Api, tmp_path: Path) -> None:
    api.reset(FIXTURES / "rich.yml")
    assert [c["cluster_name"] for c in api.ok_get("/v1/cluster/list")["list"]] == ["rich"]
    bad = tmp_path / "bad.yml"
    bad.write_text("groups: [{hosts: [{name: h, management: 'not-an-ip'}]}]\n")
    response = api.control("POST", "/_sim/reset", {"fixture": str(bad)})
    assert response.status_code == 400 and "not an IPv4 address" in response.json()["error"]
    assert [c["cluster_name"] for c in api.ok_get("/v1/cluster/list")["list"]] == ["rich"]


def test_time_control_validates(api: Api) -> None:
    assert api.control("POST", "/_sim/time", {"advance": -1}).status_code == 400
    before = api.state()["now"]
    api.advance(3600)
    assert api.state()["now"] >= before + 3600


# --- load ---------------------------------------------------------------------------------------------------
def test_200_concurrent_requests(api: Api, cvm_cluster: str) -> None:
    center = {"cluster_uuid": cvm_cluster, "ip": "192.0.2.101"}
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=50))

    def one(i: int) -> dict[str, Any]:
        if i % 2:
            return session.post(api.base_url + "/v1/cluster/data/snapshot/save", json=center, timeout=30).json()
        return session.get(api.base_url + "/v1/cluster/get", params={"cluster_uuid": cvm_cluster}, timeout=30).json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(200)))
    assert all(r["scode"] == 0 for r in results)
    names = api.ok_get("/v1/cluster/data/snapshot/list", **center)["meta_data"]["Snapshot"]
    assert len(names) == len(set(names)) == 100
    assert len(api.control("GET", "/_sim/requests").json()["requests"]) >= 200


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_large_fixture_memory_stays_bounded(spawn: Any, tmp_path: Path) -> None:
    fixture = tmp_path / "big.json"  # JSON: the fast-loading form for large fixtures
    subprocess.run([sys.executable, "-m", "simulator.genfixture", "--clusters", "50", "--hosts-per-cluster", "20",
                    "--precreate", "-o", str(fixture)], cwd=REPO_ROOT, check=True)
    process = spawn(fixture=fixture, state_file=tmp_path / "state.json")
    api = Api(process.base_url)
    clusters = api.ok_get("/v1/cluster/list")
    assert clusters["total_count"] == 50
    session = requests.Session()
    for c in clusters["list"]:
        got = session.get(process.base_url + "/v1/cluster/get", params={"cluster_uuid": c["cluster_uuid"]},
                          timeout=30).json()["data"]
        assert len(got["TopoHostNode"]) == 21 and got["candidates"]
    api.ok_post("/v1/cluster/data/snapshot/save", {"cluster_uuid": clusters["list"][0]["cluster_uuid"],
                                                   "ip": clusters["list"][0]["candidates"][0]})
    assert rss_kib(process.pid) < 300 * 1024


def test_genfixture_addresses_stay_in_the_benchmark_range(tmp_path: Path) -> None:
    from simulator.genfixture import generate

    fixture = generate(3, 5, precreate=True)
    addresses = [h["management"] for g in fixture["groups"] for h in g["hosts"]]
    assert len(addresses) == 15 and all(a.startswith("198.18.") for a in addresses)
    assert len(fixture["clusters"]) == 3
    with pytest.raises(ValueError):
        generate(200, 5, precreate=False)


# --- robustness -----------------------------------------------------------------------------------------
def test_an_unexpected_error_becomes_an_envelope_not_a_500(tmp_path: Path) -> None:
    from aiohttp import web

    from simulator import handlers
    from simulator.app import ROUTES, make_app
    from simulator.core import Options, Simulator

    def broken(sim: Any, params: Any) -> None:
        raise RuntimeError("boom")

    route = ROUTES["/v1/system/version"]
    ROUTES["/v1/system/version"] = handlers.Route("GET", route.path, broken, False, route.summary)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(Simulator(Options(quiet=True))))
    try:
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port = runner.addresses[0][1]
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        response = requests.get(f"http://127.0.0.1:{port}/v1/system/version", timeout=10)
        assert response.status_code == 200
        body = response.json()
        assert body["scode"] == 9000 and body["stack"] is None and "boom" not in json.dumps(body)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    finally:
        ROUTES["/v1/system/version"] = route
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_put_state_replaces_the_state_without_a_v1_request(api: Api) -> None:
    cluster = api.add_cluster()
    api.control("DELETE", "/_sim/requests")
    state = api.state()
    state["clusters"][cluster]["drs"]["ThresholdLevel"] = 5
    state["mail"]["smtp_server_ip"] = "198.51.100.25"
    assert api.control("PUT", "/_sim/state", state).json() == {"ok": True}
    drs = api.ok_get("/v1/cluster/compute/service/drsconfig/get", cluster_uuid=cluster)
    assert drs["config"]["DRS"]["ThresholdLevel"] == 5
    assert api.state()["mail"]["smtp_server_ip"] == "198.51.100.25"
    logged = api.control("GET", "/_sim/requests").json()["requests"]
    assert [r["method"] for r in logged] == ["GET"]


def test_put_state_refuses_what_does_not_load_and_changes_nothing(api: Api) -> None:
    api.add_cluster()
    before = api.state()
    refused = api.control("PUT", "/_sim/state", {"format": 1, "hosts": {}})
    assert refused.status_code == 400 and not refused.json()["ok"]
    after = api.state()
    assert after["clusters"] == before["clusters"] and after["mail"] == before["mail"]
