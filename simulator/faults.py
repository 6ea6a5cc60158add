"""Injected faults (POST /_sim/faults): latency, HTTP errors, dropped connections, error envelopes,
and the protocol-mangling faults of a broken network or proxy (see "Mangled answers" below)."""
from __future__ import annotations

import asyncio
import fnmatch
import gzip
import itertools
import json
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

BASE_KINDS = ("latency", "http", "drop", "envelope")
# What a broken proxy or network does to an answer: see mangle() below.
MANGLE_KINDS = ("truncate", "gzip_corrupt", "redirect_loop", "trickle", "deep_json", "data_type", "echo_token")
KINDS = BASE_KINDS + MANGLE_KINDS
# mangling kinds that let the manager process the request and mangle its real answer (apply is implied)
PROCESSED_FIRST = ("truncate", "gzip_corrupt", "trickle", "deep_json", "data_type")


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: str
    path: str  # fnmatch glob on the request path
    method: str | None
    kind: str
    seconds: float = 0.0
    status: int = 503
    retry_after: int | None = None
    code: int = 5000
    message_en: str = "injected fault"
    message_cn: str = "注入的故障"
    count: int | None = None  # remaining applications; None = until cleared
    skip: int = 0  # matching requests still to let through
    apply: bool = False  # process the request first, then deliver the fault
    hits: int = 0
    depth: int = 100000  # deep_json: how deep the data nests
    data: str = "string"  # data_type: "string" or "list"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(spec: dict[str, Any], key: str, default: Any, kind: type, minimum: float) -> Any:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise FaultSpecError(f"'{key}' must be a number >= {minimum}")
    if kind is int and not float(value).is_integer():
        raise FaultSpecError(f"'{key}' must be an integer")
    return kind(value)


class FaultTable:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise FaultSpecError("the body must be a JSON object")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"'kind' must be one of {', '.join(KINDS)}")
        path = spec.get("path", "*")
        if not isinstance(path, str) or not path:
            raise FaultSpecError("'path' must be a non-empty glob string")
        method = spec.get("method")
        if method is not None and (not isinstance(method, str) or not method):
            raise FaultSpecError("'method' must be GET, POST or null")
        apply = spec.get("apply", False)
        if not isinstance(apply, bool):
            raise FaultSpecError("'apply' must be a boolean")
        fault = Fault(
            id=f"f{next(self._ids)}",
            path=path,
            method=method.upper() if method else None,
            kind=kind,
            seconds=_number(spec, "seconds", 1.0, float, 0),
            status=_number(spec, "status", 503, int, 100),
            retry_after=_number(spec, "retry_after", None, int, 0),
            code=_number(spec, "code", 5000, int, 1),
            message_en=str(spec.get("message_en") or "injected fault"),
            message_cn=str(spec.get("message_cn") or "注入的故障"),
            count=_number(spec, "count", None, int, 1),
            skip=_number(spec, "skip", 0, int, 0),
            apply=apply,
        )
        if fault.status > 599:
            raise FaultSpecError("'status' must be an HTTP status (100-599)")
        if kind in MANGLE_KINDS:
            _mangle_options(fault, spec)
        self.faults.append(fault)
        return fault

    def match(self, method: str, path: str) -> Fault | None:
        """The first fault that applies to this request, counting it (skip, then count)."""
        for fault in self.faults:
            if fault.method is not None and fault.method != method:
                continue
            if not fnmatch.fnmatchcase(path, fault.path):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.hits += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def remove(self, fault_id: str) -> bool:
        for fault in self.faults:
            if fault.id == fault_id:
                self.faults.remove(fault)
                return True
        return False

    def clear(self) -> None:
        self.faults.clear()


# ---- Mangled answers ---------------------------------------------------------------------------
# What a broken proxy or network does to the manager's answer, for tests of the client's error boundary:
#   truncate       the answer's headers promise the whole body; half of it arrives, then the connection closes
#   gzip_corrupt   the body claims Content-Encoding: gzip and is a cut-short, corrupted gzip stream
#   redirect_loop  HTTP 307 to the same path, for ever (the request is not processed)
#   trickle        the whole valid answer, one byte every `seconds`
#   deep_json      a success envelope whose data nests `depth` lists deep
#   data_type      a success envelope whose data is a string or a list (`data`)
#   echo_token     an error envelope (`code`) whose message repeats the Authorization header, plain and repr()'d
#                  (the request is not processed)
# The first five let the manager process the request (`apply` is implied): the change is made, the answer lost.


def _mangle_options(fault: Fault, spec: dict[str, Any]) -> None:
    if fault.kind in PROCESSED_FIRST:
        fault.apply = True
    if fault.kind == "trickle":
        fault.seconds = _number(spec, "seconds", 0.01, float, 0)
    fault.depth = _number(spec, "depth", 100000, int, 1)
    data = spec.get("data", "string")
    if data not in ("string", "list"):
        raise FaultSpecError("'data' must be string or list")
    fault.data = data


def _body_of(response: web.StreamResponse | None) -> bytes:
    body = getattr(response, "body", None)
    return body if isinstance(body, bytes) else b"{}"


def _envelope_like(answer: bytes, data: Any) -> dict[str, Any]:
    """The processed answer's envelope (either style, its code kept) with ``data`` replaced."""
    try:
        payload = json.loads(answer)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not ("scode" in payload or "status_code" in payload):
        payload = {"scode": 0, "desc": "", "message": "success", "message_cn": "成功", "messageCn": "", "stack": None}
    return dict(payload, data=data)


async def mangle(fault: Fault, request: web.Request, response: web.StreamResponse | None) -> web.StreamResponse:
    """The mangled answer to ``request``; ``response`` is the manager's real answer (None when not processed)."""
    answer = _body_of(response)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if fault.kind == "truncate":
        stream = web.StreamResponse(status=200, headers=headers)
        stream.content_length = len(answer)
        await stream.prepare(request)
        await stream.write(answer[: max(1, len(answer) // 2)])
        if request.transport is not None:
            request.transport.close()
        return stream
    if fault.kind == "gzip_corrupt":
        packed = bytearray(gzip.compress(answer))
        packed[12:20] = b"\xff" * 8  # damage the deflate stream, then cut the trailer
        return web.Response(status=200, body=bytes(packed[:-6]), headers=dict(headers, **{"Content-Encoding": "gzip"}))
    if fault.kind == "redirect_loop":
        return web.Response(status=307, headers={"Location": request.path_qs})
    if fault.kind == "trickle":
        stream = web.StreamResponse(status=200, headers=headers)
        stream.content_length = len(answer)
        await stream.prepare(request)
        for index in range(len(answer)):
            await stream.write(answer[index:index + 1])
            await asyncio.sleep(fault.seconds)
        await stream.write_eof()
        return stream
    if fault.kind == "deep_json":
        deep = "[" * fault.depth + "]" * fault.depth
        body = json.dumps(_envelope_like(answer, "@@")).replace('"data": "@@"', '"data": {"nested": %s}' % deep)
        return web.Response(status=200, text=body, headers=headers)
    if fault.kind == "data_type":
        data: Any = "ok" if fault.data == "string" else [{"ok": True}]
        return web.json_response(_envelope_like(answer, data))
    # echo_token
    given = request.headers.get("Authorization", "")
    token = given.partition(" ")[2] or given
    message = f"token {token} is not valid (header {given!r})"
    payload = {"scode": fault.code, "desc": "", "message": message, "message_cn": f"令牌 {token} 无效",
               "messageCn": f"令牌 {token} 无效", "stack": f"auth.check({given!r})", "data": None}
    return web.json_response(payload)
