"""The protocol-mangling faults (simulator/faults.py, "Mangled answers"): what arrives on the wire, and
that the faults that let the manager process the request really apply it."""
from __future__ import annotations

import gzip
import http.client
import json
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import Api


def add_fault(api: Api, **spec: Any) -> str:
    response = api.control("POST", "/_sim/faults", spec)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def raw(api: Api, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, dict[str, str], bytes]:
    """One request over a plain http.client connection: the status, headers and as much body as came."""
    parts = urlsplit(api.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    try:
        data = resp.read()
    except http.client.IncompleteRead as exc:
        data = b"INCOMPLETE:" + exc.partial
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def clusters(api: Api) -> list[str]:
    return [c["cluster_name"] for c in api.ok_get("/v1/cluster/list")["list"]]


ADD = {"ip": "192.0.2.11", "name": "mangled"}


def test_truncate_sends_half_the_promised_body_after_applying_the_request(api: Api) -> None:
    add_fault(api, path="/v1/cluster/add", kind="truncate", count=1)
    _status, headers, data = raw(api, "POST", "/v1/cluster/add", ADD)
    assert data.startswith(b"INCOMPLETE:") and len(data) - 11 < int(headers["Content-Length"])
    assert clusters(api) == ["mangled"]


def test_gzip_corrupt_is_not_a_valid_gzip_stream(api: Api) -> None:
    add_fault(api, path="/v1/system/version", kind="gzip_corrupt", count=1)
    _status, headers, data = raw(api, "GET", "/v1/system/version")
    assert headers["Content-Encoding"] == "gzip"
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(data)


def test_redirect_loop_points_back_at_itself_without_processing(api: Api) -> None:
    add_fault(api, path="/v1/cluster/add", kind="redirect_loop")
    status, headers, _data = raw(api, "POST", "/v1/cluster/add", ADD)
    assert status == 307 and headers["Location"] == "/v1/cluster/add"
    api.control("DELETE", "/_sim/faults")
    assert clusters(api) == []


def test_trickle_delivers_the_whole_answer_slowly(api: Api) -> None:
    add_fault(api, path="/v1/system/version", kind="trickle", seconds=0.005, count=1)
    started = time.monotonic()
    status, _headers, data = raw(api, "GET", "/v1/system/version")
    assert status == 200 and json.loads(data)["scode"] == 0
    assert time.monotonic() - started >= 0.005 * len(data) * 0.8


def test_deep_json_nests_the_data(api: Api) -> None:
    add_fault(api, path="/v1/system/version", kind="deep_json", depth=5000, count=1)
    _status, _headers, data = raw(api, "GET", "/v1/system/version")
    assert b'"data": {"nested": ' + b"[" * 5000 in data


@pytest.mark.parametrize("shape, expected", [("string", str), ("list", list)])
def test_data_type_keeps_the_envelope_with_data_of_another_type(api: Api, shape: str, expected: type) -> None:
    add_fault(api, path="/v1/cluster/add", kind="data_type", data=shape, count=1)
    _status, _headers, data = raw(api, "POST", "/v1/cluster/add", ADD)
    envelope = json.loads(data)
    assert envelope["scode"] == 0 and isinstance(envelope["data"], expected)
    assert clusters(api) == ["mangled"]


def test_echo_token_repeats_the_authorization_header(api: Api) -> None:
    add_fault(api, path="/v1/*", kind="echo_token", code=1401, count=1)
    _status, _headers, data = raw(api, "GET", "/v1/system/version", token="tok-echo-1234")
    envelope = json.loads(data)
    assert envelope["scode"] == 1401 and "tok-echo-1234" in envelope["message"]


def test_mangling_options_are_checked(api: Api) -> None:
    assert api.control("POST", "/_sim/faults", {"kind": "data_type", "data": "tuple"}).status_code == 400
    assert api.control("POST", "/_sim/faults", {"kind": "deep_json", "depth": 0}).status_code == 400
