# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The API client against real HTTP servers on 127.0.0.1 (pytest-httpserver and raw sockets)."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time

import pytest
from werkzeug import Response

from ansible_collections.tos.cloud.plugins.module_utils._api import (
    TosApiError,
    TosClient,
    backoff_delay,
    inner_status,
    meta_data,
    normalize_urls,
    parse_envelope,
    parse_retry_after,
    safe_url,
)

TOKEN = "s3cr3t-t0ken-value"
NEW_OK = {"scode": 0, "desc": "", "message": "success", "message_cn": "成功", "messageCn": "", "stack": None,
          "data": {"version": "0.1"}}
LEGACY_OK = {"status_code": 0, "message_en": "success", "message_cn": "成功", "data": {"version": "0.2"}}
NEW_ERR = {"scode": 1004, "desc": "", "message": "cluster not found", "message_cn": "集群不存在", "stack": None,
           "data": None}
LEGACY_ERR = {"status_code": 2001, "message_en": "name already exists", "message_cn": "名称已存在", "data": None}


class Sleeps(list):
    """Records the delays the client asks for instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


def make_client(urls, **kwargs):
    sleeps = Sleeps()
    kwargs.setdefault("timeout", 5)
    client = TosClient(urls, sleep=sleeps, **kwargs)
    return client, sleeps


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- envelopes -----------------------------------------------------------------------------


def test_new_envelope_returns_data(httpserver):
    httpserver.expect_request("/v1/system/version", method="GET").respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""))
    assert client.get("/v1/system/version") == {"version": "0.1"}


def test_legacy_envelope_returns_data(httpserver):
    httpserver.expect_request("/v1/system/version").respond_with_json(LEGACY_OK)
    client, dummy = make_client(httpserver.url_for(""))
    assert client.get("/v1/system/version") == {"version": "0.2"}


@pytest.mark.parametrize("payload,code,en,cn", [
    (NEW_ERR, 1004, "cluster not found", "集群不存在"),
    (LEGACY_ERR, 2001, "name already exists", "名称已存在"),
    ({"scode": 7, "desc": "desc only", "messageCn": "中文", "data": None}, 7, "desc only", "中文"),
])
def test_error_envelope_raises_with_both_messages(httpserver, payload, code, en, cn):
    httpserver.expect_request("/v1/cluster/get").respond_with_json(payload)
    client, sleeps = make_client(httpserver.url_for(""))
    with pytest.raises(TosApiError) as err:
        client.get("/v1/cluster/get", {"cluster_uuid": "x"})
    exc = err.value
    assert (exc.kind, exc.code, exc.message_en, exc.message_cn) == ("api", code, en, cn)
    assert en in exc.message and cn in exc.message and "GET /v1/cluster/get" in exc.message
    assert sleeps == []  # an error envelope is an answer: never retried


def test_inner_status_failure_is_an_error(httpserver):
    payload = dict(NEW_OK, data={"meta_data": {"status": {"code": 12, "message": "not a center node",
                                                          "messageCn": "不是中心节点"}}})
    httpserver.expect_request("/v1/cluster/data/snapshot/list").respond_with_json(payload)
    client, dummy = make_client(httpserver.url_for(""))
    with pytest.raises(TosApiError, match="not a center node / 不是中心节点"):
        client.get("/v1/cluster/data/snapshot/list", {"cluster_uuid": "x", "ip": "192.0.2.1"})


@pytest.mark.parametrize("payload, code, en", [
    ({"scode": None, "message": "success", "data": {}}, -1, "success"),          # null is not 0
    ({"status_code": None, "message_en": "", "data": {}}, -1, ""),
    ({"scode": "7", "message": "refused", "desc": "the reason", "data": None}, 7, "refused - the reason"),
    ({"scode": 7, "message": "same", "desc": "same", "data": None}, 7, "same"),
    ({"scode": True, "data": None}, -1, ""),
])
def test_envelope_codes_and_texts(payload, code, en):
    got = parse_envelope(payload)
    assert (got[0], got[1]) == (code, en)
    assert isinstance(got[0], int)


def test_inner_status_code_is_an_int():
    assert inner_status({"status": {"code": "12", "message": "m", "desc": "d"}}) == (12, "m - d", "")
    assert inner_status({"status": {"code": "0"}}) is None
    assert inner_status({"meta_data": {"status": {"code": 0, "message": ""}}}) is None


def test_non_envelope_answer_is_a_protocol_error(httpserver):
    httpserver.expect_request("/v1/system/version").respond_with_data("<html>hi</html>", content_type="text/html")
    client, dummy = make_client(httpserver.url_for(""))
    with pytest.raises(TosApiError) as err:
        client.get("/v1/system/version")
    assert err.value.kind == "protocol" and "not a /v1 API envelope" in err.value.message


def test_parse_envelope_rejects_other_json():
    assert parse_envelope({"foo": 1}) is None
    assert parse_envelope([1, 2]) is None
    assert parse_envelope({"scode": "0", "data": 3}) == (0, "", "", 3)


# -- auth and secrets ----------------------------------------------------------------------


def test_token_is_sent_as_bearer(httpserver):
    httpserver.expect_request("/v1/system/version", headers={"Authorization": "Bearer " + TOKEN}) \
        .respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""), api_token=TOKEN)
    assert client.get("/v1/system/version")["version"] == "0.1"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_option_and_hides_the_token(httpserver, status):
    body = {"scode": 401, "message": "invalid token " + TOKEN, "message_cn": "令牌无效", "data": None}
    httpserver.expect_request("/v1/system/version").respond_with_json(body, status=status)
    client, sleeps = make_client(httpserver.url_for(""), api_token="other-token")
    with pytest.raises(TosApiError) as err:
        client.get("/v1/system/version")
    exc = err.value
    assert exc.kind == "auth" and exc.http_status == status
    assert "api_token" in exc.message and "TOS_API_TOKEN" in exc.message
    assert "other-token" not in exc.message and "other-token" not in json.dumps(exc.to_dict())
    assert sleeps == []


@pytest.mark.parametrize("status", [400, 404, 500, 502, 503])
def test_token_never_in_error_messages(httpserver, status):
    httpserver.expect_request("/v1/cluster/add").respond_with_data("boom", status=status)
    client, dummy = make_client(httpserver.url_for(""), api_token=TOKEN)
    with pytest.raises(TosApiError) as err:
        client.post("/v1/cluster/add", {"name": "c1", "ip": "192.0.2.1"})
    assert TOKEN not in str(err.value) and TOKEN not in json.dumps(err.value.to_dict())


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_retries_transient_status_then_succeeds(httpserver, status):
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_data("busy", status=status)
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_data("busy", status=status)
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_json(NEW_OK)
    client, sleeps = make_client(httpserver.url_for(""))
    assert client.get("/v1/cluster/list") == {"version": "0.1"}
    assert len(httpserver.log) == 3
    assert len(sleeps) == 2


def test_get_gives_up_after_retries_with_clear_message(httpserver):
    httpserver.expect_request("/v1/cluster/list").respond_with_data("busy", status=503)
    client, sleeps = make_client(httpserver.url_for(""), retries=3)
    with pytest.raises(TosApiError) as err:
        client.get("/v1/cluster/list")
    assert len(httpserver.log) == 4 and len(sleeps) == 3
    assert "GET /v1/cluster/list failed with HTTP 503" in err.value.message


def test_backoff_grows_exponentially_with_jitter_bounds():
    for attempt in range(6):
        low = min(30.0, 0.5 * 2 ** attempt) / 2
        high = min(30.0, 0.5 * 2 ** attempt)
        assert backoff_delay(attempt, rand=lambda: 0.0) == pytest.approx(low)
        assert backoff_delay(attempt, rand=lambda: 1.0) == pytest.approx(high)
    assert backoff_delay(20) <= 30.0


def test_retry_sleeps_stay_within_backoff_bounds(httpserver):
    httpserver.expect_request("/v1/cluster/list").respond_with_data("busy", status=502)
    client, sleeps = make_client(httpserver.url_for(""), retries=4, backoff=0.5)
    with pytest.raises(TosApiError):
        client.get("/v1/cluster/list")
    for attempt, delay in enumerate(sleeps):
        ceiling = 0.5 * 2 ** attempt
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured(httpserver):
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_response(
        Response("slow down", status=503, headers={"Retry-After": "7"}))
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_json(NEW_OK)
    client, sleeps = make_client(httpserver.url_for(""))
    client.get("/v1/cluster/list")
    assert sleeps == [7.0]


def test_parse_retry_after_accepts_seconds_and_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


@pytest.fixture
def threaded_server():
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_read_timeout_is_retried_for_get(threaded_server):
    httpserver = threaded_server

    def slow(_request):
        time.sleep(1.5)
        return Response(json.dumps(NEW_OK), content_type="application/json")

    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_handler(slow)
    httpserver.expect_ordered_request("/v1/cluster/list").respond_with_json(NEW_OK)
    client, sleeps = make_client(httpserver.url_for(""), timeout=0.5)
    assert client.get("/v1/cluster/list") == {"version": "0.1"}
    assert len(sleeps) == 1


def test_dropped_connection_get_is_retried_then_reported():
    server = DroppingServer()
    try:
        client, sleeps = make_client("http://127.0.0.1:%d" % server.port, retries=2)
        with pytest.raises(TosApiError) as err:
            client.get("/v1/cluster/list")
        assert server.hits == 3 and len(sleeps) == 2
        assert err.value.kind == "connection" and "closed the connection" in err.value.message
    finally:
        server.close()


# -- POST is never blindly repeated --------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_not_repeated_after_an_ambiguous_status(httpserver, status):
    httpserver.expect_request("/v1/cluster/add", method="POST").respond_with_data("oops", status=status)
    client, sleeps = make_client(httpserver.url_for(""))
    with pytest.raises(TosApiError) as err:
        client.post("/v1/cluster/add", {"name": "c1", "ip": "192.0.2.1"})
    assert len(httpserver.log) == 1 and sleeps == []
    assert err.value.may_have_landed


def test_post_is_not_repeated_after_a_dropped_connection():
    server = DroppingServer()
    try:
        client, dummy = make_client("http://127.0.0.1:%d" % server.port)
        with pytest.raises(TosApiError) as err:
            client.post("/v1/cluster/add", {"name": "c1"})
        assert server.hits == 1 and err.value.may_have_landed
        assert "may have been applied" in err.value.message
    finally:
        server.close()


def test_post_read_timeout_is_not_repeated(threaded_server):
    httpserver = threaded_server
    arrived = []

    def slow(_request):
        arrived.append(time.monotonic())
        time.sleep(1.2)
        return Response(json.dumps(NEW_OK), content_type="application/json")

    httpserver.expect_request("/v1/cluster/add").respond_with_handler(slow)
    client, dummy = make_client(httpserver.url_for(""), timeout=0.4)
    with pytest.raises(TosApiError) as err:
        client.post("/v1/cluster/add", {"name": "c1"})
    # the server logs a request when its handler returns, 1.2 s after it arrived: wait for every request that
    # arrived to be logged (a fixed 1 s after the timeout was too short on a loaded machine), at most 10 s; a
    # repeat would have been sent before post() raised, 0.4 s or more before the first one is logged
    deadline = time.monotonic() + 10
    while (not arrived or len(httpserver.log) < len(arrived)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(httpserver.log) == 1 and err.value.may_have_landed and err.value.kind == "timeout"


def test_post_verified_rereads_state_instead_of_repeating(httpserver):
    httpserver.expect_request("/v1/cluster/add").respond_with_data("lost", status=502)
    client, dummy = make_client(httpserver.url_for(""))
    checks = []

    def landed():
        checks.append(1)
        return {"uuid": "u1"}

    assert client.post_verified("/v1/cluster/add", {"name": "c1"}, landed) == {"uuid": "u1"}
    assert len(httpserver.log) == 1 and checks == [1]


def test_post_verified_sends_again_only_when_state_shows_it_did_not_land(httpserver):
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_data("lost", status=502)
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""))
    assert client.post_verified("/v1/cluster/add", {"name": "c1"}, lambda: None) == {"version": "0.1"}
    assert len(httpserver.log) == 2


def test_post_verified_refused_again_asks_state_once_more(httpserver):
    # the first POST landed (its answer lost) but state showed it only after the re-read: the second POST
    # is refused as a duplicate, and the change is there: success, not the refusal
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_data("lost", status=502)
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_json(
        dict(NEW_ERR, scode=3001, message="already exists", message_cn="已存在"))
    client, dummy = make_client(httpserver.url_for(""))

    def landed():  # state shows the object only once the second POST was refused
        return {"uuid": "u1"} if len(httpserver.log) >= 2 else None

    assert client.post_verified("/v1/cluster/add", {"name": "c1"}, landed) == {"uuid": "u1"}
    assert len(httpserver.log) == 2


def test_post_verified_watches_state_before_sending_again(httpserver):
    # a deploy that has just started reads as nothing at first: state is watched, and the POST is not repeated
    httpserver.expect_request("/v1/cluster/add").respond_with_data("lost", status=502)
    client, sleeps = make_client(httpserver.url_for(""))
    answers = iter([None, None, {"uuid": "u1"}])
    assert client.post_verified("/v1/cluster/add", {"name": "c1"}, lambda: next(answers)) == {"uuid": "u1"}
    assert len(httpserver.log) == 1


def test_post_verified_refused_again_and_not_there_is_the_refusal(httpserver):
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_data("lost", status=502)
    httpserver.expect_ordered_request("/v1/cluster/add").respond_with_json(
        dict(NEW_ERR, scode=3001, message="bad name", message_cn="名称无效"))
    client, dummy = make_client(httpserver.url_for(""))
    with pytest.raises(TosApiError) as err:
        client.post_verified("/v1/cluster/add", {"name": "c1"}, lambda: None)
    assert err.value.kind == "api" and "bad name" in str(err.value.message)
    assert len(httpserver.log) == 2


def test_post_is_retried_when_the_connection_was_refused(httpserver):
    httpserver.expect_request("/v1/cluster/add").respond_with_json(NEW_OK)
    dead = "http://127.0.0.1:%d" % free_port()
    client, dummy = make_client([dead, httpserver.url_for("")])
    assert client.post("/v1/cluster/add", {"name": "c1"}) == {"version": "0.1"}
    assert len(httpserver.log) == 1


# -- fail-over -----------------------------------------------------------------------------


def test_failover_goes_to_next_url_in_order_and_sticks(httpserver):
    httpserver.expect_request("/v1/system/version").respond_with_json(NEW_OK)
    dead1, dead2 = "http://127.0.0.1:%d" % free_port(), "http://127.0.0.1:%d" % free_port()
    client, sleeps = make_client([dead1, dead2, httpserver.url_for("")])
    assert client.get("/v1/system/version")["version"] == "0.1"
    assert client.base_url == httpserver.url_for("").rstrip("/")
    assert sleeps == []
    client.get("/v1/system/version")
    assert len(httpserver.log) == 2


def test_all_urls_down_names_the_url():
    dead = "http://127.0.0.1:%d" % free_port()
    client, sleeps = make_client(dead, retries=1)
    with pytest.raises(TosApiError) as err:
        client.get("/v1/system/version")
    assert dead in err.value.message and "connection refused" in err.value.message
    assert "TOS_API_URL" in err.value.message and len(sleeps) == 1


def test_normalize_urls_accepts_comma_lists():
    assert normalize_urls("http://a:1/, http://b:2") == ["http://a:1", "http://b:2"]
    assert normalize_urls(["http://a:1,http://b:2", "http://c:3"]) == ["http://a:1", "http://b:2", "http://c:3"]


def test_bad_url_scheme_is_refused():
    with pytest.raises(TosApiError, match="must start with http:"):
        TosClient("ftp://192.0.2.1")


# -- pagination ----------------------------------------------------------------------------


def _paged_server(httpserver, items, base=1, zero="empty", cap=None, total=True, ignore_page=False):
    """A list endpoint under one reading of the paging parameters: pages counted from ``base``;
    a page number below the base read as the first page (``zero="first"``) or answered empty;
    ``cap`` the largest page it hands out; ``total`` whether it sends ``total_count``."""
    def page(request):
        num, size = int(request.args["page_num"]), int(request.args["page_size"])
        size = min(size, cap) if cap else size
        if ignore_page:
            num = base
        if num < base:
            num = base if zero == "first" else None
        chunk = [] if num is None else items[(num - base) * size: (num - base + 1) * size]
        data = {"list": chunk}
        if total:
            data["total_count"] = len(items)
        return Response(json.dumps(dict(NEW_OK, data=data)), content_type="application/json")

    httpserver.expect_request("/v1/cluster/list").respond_with_handler(page)


@pytest.mark.parametrize("reading, requests_at_most", [
    (dict(base=0), 3),
    (dict(base=1, zero="first"), 4),
    (dict(base=1, zero="empty"), 4),
    (dict(base=0, total=False), 3),
    (dict(base=1, zero="first", total=False), 4),
    (dict(base=0, cap=2), 4),
    (dict(base=1, zero="first", cap=2), 5),
    (dict(base=1, ignore_page=True, total=False), 3),
])
def test_paginate_yields_every_item_once_under_every_reading(httpserver, reading, requests_at_most):
    items = [{"cluster_uuid": str(i), "cluster_name": "c%d" % i} for i in range(7)]
    _paged_server(httpserver, items, **reading)
    client, dummy = make_client(httpserver.url_for(""))
    got = [i["cluster_uuid"] for i in client.paginate("/v1/cluster/list", page_size=3,
                                                      key=lambda i: i["cluster_uuid"])]
    expected = [str(i) for i in range(3 if reading.get("ignore_page") else 7)]
    assert got == expected
    assert [int(r.args["page_num"]) for r, _response in httpserver.log][0] == 0  # the documented first page
    assert len(httpserver.log) <= requests_at_most


@pytest.mark.parametrize("total", [0, None])
def test_paginate_empty_list_costs_at_most_two_requests(httpserver, total):
    _paged_server(httpserver, [], base=0, total=total is not None)
    client, dummy = make_client(httpserver.url_for(""))
    assert list(client.paginate("/v1/cluster/list")) == []
    assert len(httpserver.log) == (1 if total == 0 else 2)


def test_paginate_never_loops_on_a_server_that_repeats_itself(httpserver):
    def page(request):
        body = dict(NEW_OK, data={"list": [{"n": 1}, {"n": 2}], "total_count": 99})
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/cluster/list").respond_with_handler(page)
    client, dummy = make_client(httpserver.url_for(""))
    assert list(client.paginate("/v1/cluster/list", page_size=2)) == [{"n": 1}, {"n": 2}]
    assert len(httpserver.log) == 3


# -- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_ca():
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_server(tls_ca, tmp_path_factory):
    """One TLS server for the module's tests, which only read: stopping one takes werkzeug's 0.5 s poll."""
    from pytest_httpserver import HTTPServer

    cert = tls_ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    server.expect_request("/v1/system/version").respond_with_json(NEW_OK)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    yield server, str(ca_file)
    server.clear()
    server.stop()


def test_tls_verification_fails_without_the_ca(tls_server):
    server, _ca = tls_server
    client, sleeps = make_client(server.url_for(""))
    with pytest.raises(TosApiError) as err:
        client.get("/v1/system/version")
    assert err.value.kind == "tls" and "ca_path" in err.value.message and sleeps == []


def test_tls_verification_succeeds_with_ca_path(tls_server):
    server, ca = tls_server
    client, dummy = make_client(server.url_for(""), ca_path=ca)
    assert client.get("/v1/system/version")["version"] == "0.1"


def test_tls_verification_off(tls_server):
    server, _ca = tls_server
    client, dummy = make_client(server.url_for(""), validate_certs=False)
    assert client.get("/v1/system/version")["version"] == "0.1"


def test_ca_bundle_from_the_environment_is_honoured_as_requests_does(tls_server, monkeypatch):
    """REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) stands in for ca_path, read once when the client is made."""
    server, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    client, dummy = make_client(server.url_for(""))
    assert client.get("/v1/system/version")["version"] == "0.1"


# -- What the environment may add: ~/.netrc never, the proxies once --------------------------------------


def test_a_netrc_entry_for_the_manager_never_replaces_the_token(httpserver, tmp_path, monkeypatch):
    """requests (trust_env) would send the netrc entry's Basic credentials instead of the bearer token."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine localhost login ops password netrc-pass\nmachine 127.0.0.1 login ops password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    httpserver.expect_request("/v1/system/version").respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""), api_token=TOKEN)
    assert client.get("/v1/system/version")["version"] == "0.1"
    request = httpserver.log[-1][0]
    assert request.headers.get("Authorization") == "Bearer %s" % TOKEN


class RecordingProxy:
    """A plain-HTTP forward proxy on 127.0.0.1 that answers every request itself and records its request line."""

    def __init__(self):
        self.lines = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.lines.append(data.split(b"\r\n", 1)[0].decode())
                body = json.dumps(NEW_OK).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self):
        self.sock.close()


@pytest.fixture
def proxy():
    p = RecordingProxy()
    yield p
    p.close()


def test_the_proxy_from_the_environment_carries_the_requests(httpserver, proxy, monkeypatch):
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % proxy.port)
    url = httpserver.url_for("")
    client, dummy = make_client(url)
    assert client.get("/v1/system/version")["version"] == "0.1"
    assert proxy.lines == ["GET %s/v1/system/version HTTP/1.1" % url.rstrip("/")]
    assert len(httpserver.log) == 0


def test_no_proxy_sends_the_requests_straight_to_the_manager(httpserver, proxy, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % proxy.port)
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    httpserver.expect_request("/v1/system/version").respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""))
    assert client.get("/v1/system/version")["version"] == "0.1"
    assert proxy.lines == [] and len(httpserver.log) == 1


def test_a_proxy_that_cannot_be_reached_is_named_not_the_manager(monkeypatch):
    """The manager was never reached: the message says the proxy failed (without its password) and what to do."""
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    monkeypatch.setenv("http_proxy", "http://ops:pr0xy-pass@127.0.0.1:%d" % port)
    client, sleeps = make_client("http://192.0.2.10:9990", api_token=TOKEN, retries=1)
    with pytest.raises(TosApiError) as err:
        client.get("/v1/system/version")
    message = err.value.message
    assert err.value.kind == "connection" and not err.value.may_have_landed, message
    assert message.startswith("Cannot reach the manager at http://192.0.2.10:9990 through the proxy "
                              "http://127.0.0.1:%d (GET /v1/system/version): " % port), message
    assert "no_proxy" in message and "pr0xy-pass" not in message and TOKEN not in message
    assert "pr0xy-pass" in client.secrets  # masked wherever the client's secrets are (results, diffs, the run cache)
    assert len(sleeps) == 1  # a read is tried again, as after any connection failure


def test_a_proxy_that_refuses_the_tunnel_is_named_and_a_write_is_not_thought_landed(monkeypatch):
    """An https manager through a proxy answering CONNECT with 407: the write never left the proxy, so it may be
    sent again like a refused connection's (no re-read of what may have landed)."""
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))
    refusing.listen(4)

    def serve():
        while True:
            try:
                conn, _addr = refusing.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("https_proxy", "http://ops:pr0xy-pass@127.0.0.1:%d" % refusing.getsockname()[1])
        client, sleeps = make_client("https://192.0.2.10:9990", api_token=TOKEN)
        with pytest.raises(TosApiError) as err:
            client.post("/v1/cluster/create", {"name": "a"})
        message = err.value.message
        assert "through the proxy http://127.0.0.1:%d" % refusing.getsockname()[1] in message, message
        assert "407" in message and "pr0xy-pass" not in message
        assert not err.value.may_have_landed and len(sleeps) == 3
    finally:
        refusing.close()


def test_the_environment_is_read_once_per_manager_url_not_per_request(httpserver, monkeypatch):
    import requests

    reads = []
    real = requests.utils.get_environ_proxies

    def counting(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counting)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", lambda *a, **k: reads.append("netrc"))
    httpserver.expect_request("/v1/system/version").respond_with_json(NEW_OK)
    client, dummy = make_client(httpserver.url_for(""))
    client.get("/v1/system/version")
    client.get("/v1/system/version")
    client.get("/v1/system/version")
    clone = client.clone()
    clone.get("/v1/system/version")
    assert reads == [httpserver.url_for("").rstrip("/")]


def test_proxy_settings_that_cannot_be_applied_fail_with_a_message(monkeypatch):
    import requests

    def broken(url, no_proxy=None):
        raise ValueError("bad no_proxy entry")

    monkeypatch.setattr(requests.utils, "get_environ_proxies", broken)
    with pytest.raises(TosApiError) as err:
        make_client("http://127.0.0.1:9", api_token=TOKEN)
    assert err.value.kind == "config" and "no_proxy" in err.value.message and "bad no_proxy entry" in err.value.message
    assert TOKEN not in err.value.message


def test_meta_data_tolerates_both_shapes():
    assert meta_data({"meta_data": {"Snapshot": ["a"]}}) == {"Snapshot": ["a"]}
    assert meta_data({"Snapshot": ["a"]}) == {"Snapshot": ["a"]}
    assert meta_data(None) == {}


# ---- The client's error boundary: whatever a broken network, proxy or manager sends back, or whatever the ----

BOUNDARY_TOKEN = "tok-B0UNDARY-9f8e7d"


OK = {"scode": 0, "desc": "", "message": "success", "message_cn": "成功", "messageCn": "", "stack": None,
      "data": {"version": "0.1"}}


def envelope(data):
    return dict(OK, data=data)


class BoundarySleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


class RawServer:
    """Answers every connection with ``script(conn)``; counts the requests it read."""

    def __init__(self, script):
        self.script = script
        self.requests = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    head = conn.recv(65536)
                    self.requests.append(head.split(b"\r\n", 1)[0].decode())
                    self.script(conn)
                except OSError:
                    pass

    def stop(self):
        self._stop = True
        try:  # wakes the accept() at once (Linux), instead of at its next 0.2 s timeout
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(2)
        self.sock.close()

    def posts(self):
        return [r for r in self.requests if r.startswith("POST")]


class DroppingServer(RawServer):
    """Accepts connections, reads the request, then closes without answering."""

    def __init__(self):
        super().__init__(lambda conn: None)
        self.port = self.sock.getsockname()[1]

    @property
    def hits(self):
        return len(self.requests)

    def close(self):
        self.stop()


def head(status=200, length=None, extra=()):
    lines = ["HTTP/1.1 %s X" % status, "Content-Type: application/json", "Connection: close"]
    if length is not None:
        lines.append("Content-Length: %d" % length)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body, status=200, extra=()):
    def script(conn):
        conn.sendall(head(status, len(body), extra) + body)
    return script


@pytest.fixture()
def serve():
    servers = []

    def start(script):
        server = RawServer(script)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def client(url, **kwargs):
    kwargs.setdefault("timeout", 3)
    return TosClient(url, api_token=kwargs.pop("api_token", BOUNDARY_TOKEN), sleep=BoundarySleeps(), **kwargs)


def failure(call):
    with pytest.raises(TosApiError) as info:
        call()
    exc = info.value
    assert BOUNDARY_TOKEN not in str(exc.to_dict()) + exc.message
    return exc


BODY = json.dumps(OK).encode()


# answers that are not usable, each with the kind its error must have
MANGLED = {
    "truncated": (lambda conn: conn.sendall(head(200, len(BODY)) + BODY[:20]), "connection"),
    "truncated-chunked": (lambda conn: conn.sendall(head(200, extra=["Transfer-Encoding: chunked"])
                                                    + b"%x\r\n%s\r\n" % (len(BODY), BODY[:30])), "connection"),
    "bad-gzip": (answer(b"\x1f\x8b\x08\x00garbage-not-gzip", extra=["Content-Encoding: gzip"]), "protocol"),
    "gzip-cut-short": (answer(gzip.compress(BODY)[:25], extra=["Content-Encoding: gzip"]), "protocol"),
    "unknown-encoding": (answer(BODY, extra=["Content-Encoding: br"]), "protocol"),
    "redirect": (answer(b"", status=302, extra=["Location: http://user:pw@127.0.0.1:1/v1/x?token=%s" % BOUNDARY_TOKEN]),
                 "protocol"),
    "deep-json": (answer(b'{"scode": 0, "data": ' + b"[" * 100000 + b"]" * 100000 + b"}"), "protocol"),
    "deep-but-parseable": (answer(json.dumps(envelope({"x": json.loads("[" * 500 + "]" * 500)})).encode()), "protocol"),
    "data-string": (answer(json.dumps(envelope("a string")).encode()), "protocol"),
    "data-list": (answer(json.dumps(envelope([1, 2])).encode()), "protocol"),
    "not-utf8": (answer(b'{"scode": 0, "data": "\xff\xfe"}'), "protocol"),
}


@pytest.mark.parametrize("name", sorted(MANGLED))
def test_a_mangled_answer_to_a_read_is_a_typed_error_never_a_crash(serve, name):
    script, kind = MANGLED[name]
    server = serve(script)
    exc = failure(lambda: client(server.url, retries=1).get("/v1/system/version"))
    assert exc.kind == kind and exc.path == "/v1/system/version" and exc.method == "GET"
    assert not exc.may_have_landed
    assert exc.url == server.url + "/v1/system/version"
    assert "pw@" not in exc.message and "user:" not in exc.message


@pytest.mark.parametrize("name", sorted(MANGLED))
def test_a_mangled_answer_to_a_write_may_have_landed_and_is_not_sent_again(serve, name):
    script, _kind = MANGLED[name]
    server = serve(script)
    exc = failure(lambda: client(server.url).post("/v1/cluster/add", {"name": "c"}))
    assert len(server.posts()) == 1
    assert exc.may_have_landed is (name != "redirect"), exc.message
    if exc.may_have_landed:
        assert "may have been applied" in exc.message


@pytest.mark.parametrize("name", ["truncated", "bad-gzip", "data-string", "deep-json"])
def test_post_verified_rereads_state_after_a_mangled_answer_and_sends_nothing_again(serve, name):
    script, _kind = MANGLED[name]
    server = serve(script)
    reads = []
    outcome = client(server.url).post_verified("/v1/cluster/add", {"name": "c"}, landed=lambda: reads.append(1) or "there")
    assert outcome == "there" and reads == [1] and len(server.posts()) == 1


def test_gzip_answers_are_decoded(serve):
    server = serve(answer(gzip.compress(BODY), extra=["Content-Encoding: gzip"]))
    assert client(server.url).get("/v1/system/version") == {"version": "0.1"}


def test_an_empty_string_as_data_is_no_data(serve):
    server = serve(answer(json.dumps(envelope("")).encode()))
    assert client(server.url).post("/v1/cluster/delete", {}) is None


def trickle(delay):
    def script(conn):
        conn.sendall(head(200, len(BODY)))
        for byte in BODY:
            conn.sendall(bytes([byte]))
            time.sleep(delay)
    return script


def test_timeout_is_a_deadline_for_the_whole_answer_not_each_read(serve):
    server = serve(trickle(0.02))  # about 4 s for the body, each byte well within the timeout
    started = time.monotonic()
    exc = failure(lambda: client(server.url, timeout=1, retries=0).get("/v1/system/version"))
    elapsed = time.monotonic() - started
    assert exc.kind == "timeout" and "timeout=1s" in exc.message
    assert elapsed < 1.8, elapsed


def test_a_trickled_answer_within_the_timeout_is_read_whole(serve):
    server = serve(trickle(0.001))
    assert client(server.url, timeout=5).get("/v1/system/version") == {"version": "0.1"}


def test_a_post_that_runs_past_its_deadline_may_have_landed(serve):
    server = serve(trickle(0.02))
    exc = failure(lambda: client(server.url, timeout=1).post("/v1/cluster/add", {}))
    assert exc.kind == "timeout" and exc.may_have_landed and len(server.posts()) == 1


def test_the_manager_echoing_the_token_is_masked_even_escaped(serve):
    body = json.dumps({"scode": 1401, "message": "token %s is not valid (%r)" % (BOUNDARY_TOKEN, BOUNDARY_TOKEN + "\n"),
                       "message_cn": "令牌 %s 无效" % BOUNDARY_TOKEN, "data": None}).encode()
    server = serve(answer(body))
    exc = failure(lambda: client(server.url).get("/v1/system/version"))
    assert exc.kind == "api" and "********" in exc.message
    assert BOUNDARY_TOKEN not in exc.message_en + exc.message_cn


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1", "https://exa mple.com", "http://",
                                 "http://\u2603\u2603" + "x" * 70 + ".example"])
def test_a_url_requests_cannot_use_is_a_config_error_before_anything_is_sent(url):
    exc = failure(lambda: client(url).post("/v1/cluster/add", {}))
    assert exc.kind in ("config", "connection") and not exc.may_have_landed, exc.message
    assert "Traceback" not in exc.message


@pytest.mark.parametrize("timeout", [-3, 0, 10 ** 12, float("nan"), float("inf"), "x"])
def test_a_timeout_that_cannot_be_a_deadline_is_a_config_error(timeout):
    with pytest.raises(TosApiError) as info:
        TosClient("http://127.0.0.1:9", timeout=timeout)
    assert info.value.kind == "config" and "timeout" in info.value.message


@pytest.mark.parametrize("token", [BOUNDARY_TOKEN + "\r\nX-Evil: 1", BOUNDARY_TOKEN + "\x00", "\t" + BOUNDARY_TOKEN + "\nX: 1\n"])
def test_a_token_that_cannot_be_a_header_is_refused_without_printing_it(serve, token):
    server = serve(answer(BODY))
    exc = failure(lambda: TosClient(server.url, api_token=token, timeout=3).get("/v1/system/version"))
    assert exc.kind == "config" and "api_token" in exc.message
    assert BOUNDARY_TOKEN not in exc.message and repr(token)[1:-1] not in exc.message
    assert server.requests == []


@pytest.mark.parametrize("token", [BOUNDARY_TOKEN + "\n", BOUNDARY_TOKEN + "\r", " " + BOUNDARY_TOKEN + "\r\n"])
def test_a_token_with_surrounding_whitespace_is_sent_stripped(serve, token):
    # the `echo token | ansible-vault encrypt_string` newline: stripped (connection_problems), then sent
    server = serve(answer(BODY))
    TosClient(server.url, api_token=token, timeout=3).get("/v1/system/version")
    assert len(server.requests) == 1


def test_a_password_in_the_url_never_shows(serve):
    server = serve(lambda conn: conn.close())
    url = server.url.replace("http://", "http://admin:pa55w0rd-x@")
    exc = failure(lambda: client(url, retries=0).get("/v1/system/version"))
    assert "pa55w0rd-x" not in exc.message + str(exc.url) and "admin" not in str(exc.url)


def test_safe_url_drops_user_info_and_survives_unparseable_urls():
    assert safe_url("https://u:p@h:1/v1/x?a=1") == "https://h:1/v1/x?a=1"
    assert safe_url("https://u:p@h:1/v1/x?a=1", keep_query=False) == "https://h:1/v1/x"
    assert safe_url("http://u:p@[::1") == "[::1"
