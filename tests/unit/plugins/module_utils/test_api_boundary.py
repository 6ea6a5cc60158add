# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client's error boundary: whatever a broken network, proxy or manager sends back, or whatever the
options make of a request, ends in a ``TosApiError`` with a kind, the path, a token-free URL and whether
a write may have landed; and ``timeout`` bounds the whole answer, not each read.

A raw socket server on 127.0.0.1 answers each connection with bytes a test scripts.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient, safe_url

TOKEN = "tok-B0UNDARY-9f8e7d"
OK = {"scode": 0, "desc": "", "message": "success", "message_cn": "成功", "messageCn": "", "stack": None,
      "data": {"version": "0.1"}}


def envelope(data):
    return dict(OK, data=data)


class Sleeps(list):
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
        self.thread.join(2)
        self.sock.close()

    def posts(self):
        return [r for r in self.requests if r.startswith("POST")]


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
    return TosClient(url, api_token=kwargs.pop("api_token", TOKEN), sleep=Sleeps(), **kwargs)


def failure(call):
    with pytest.raises(TosApiError) as info:
        call()
    exc = info.value
    assert TOKEN not in str(exc.to_dict()) + exc.message
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
    "redirect": (answer(b"", status=302, extra=["Location: http://user:pw@127.0.0.1:1/v1/x?token=%s" % TOKEN]),
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
    body = json.dumps({"scode": 1401, "message": "token %s is not valid (%r)" % (TOKEN, TOKEN + "\n"),
                       "message_cn": "令牌 %s 无效" % TOKEN, "data": None}).encode()
    server = serve(answer(body))
    exc = failure(lambda: client(server.url).get("/v1/system/version"))
    assert exc.kind == "api" and "********" in exc.message
    assert TOKEN not in exc.message_en + exc.message_cn


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


@pytest.mark.parametrize("token", [TOKEN + "\r\nX-Evil: 1", TOKEN + "\x00", "\t" + TOKEN + "\nX: 1\n"])
def test_a_token_that_cannot_be_a_header_is_refused_without_printing_it(serve, token):
    server = serve(answer(BODY))
    exc = failure(lambda: TosClient(server.url, api_token=token, timeout=3).get("/v1/system/version"))
    assert exc.kind == "config" and "api_token" in exc.message
    assert TOKEN not in exc.message and repr(token)[1:-1] not in exc.message
    assert server.requests == []


@pytest.mark.parametrize("token", [TOKEN + "\n", TOKEN + "\r", " " + TOKEN + "\r\n"])
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
