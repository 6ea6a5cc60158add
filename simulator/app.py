"""The aiohttp application: the /v1 dispatcher (log, faults, auth, envelopes) and the /_sim API."""
from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import control, documented, envelope, readings
from .core import Simulator
from .errors import ApiError, Code
from .faults import MANGLE_KINDS, Fault, mangle
from .handlers import Route, load_all
from .masking import mask
from .params import Params

log = logging.getLogger("simulator")

SIM_KEY = web.AppKey("simulator", Simulator)
ROUTES = load_all()
TICK_INTERVAL = 0.2


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers, dumps=dumps)


class Exchange:
    """One /v1 request on its way through the dispatcher."""

    def __init__(self, sim: Simulator, request: web.Request) -> None:
        self.sim = sim
        self.request = request
        self.started = time.perf_counter()
        # a repeated query parameter: the last one wins
        self.query: dict[str, Any] = {key: request.query.getall(key)[-1] for key in request.query}
        self.body: Any = None
        self.body_error: str | None = None
        self.entry: dict[str, Any] = {}

    async def read_body(self) -> None:
        if self.request.method != "POST":
            return
        raw = await self.request.read()
        if not raw.strip():
            self.body = {}
            return
        try:
            self.body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self.body_error = str(exc)

    def envelope(self, error: ApiError | None, data: Any = None) -> web.Response:
        legacy = self.sim.legacy
        payload = envelope.success(data, legacy) if error is None else envelope.failure(error, legacy)
        self.entry["code"] = 0 if error is None else int(error.code)
        return _json(payload, status=200 if error is None else error.http_status)

    def deliver_fault(self, fault: Fault) -> web.StreamResponse:
        self.entry["fault"] = fault.id
        if fault.kind == "drop":
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            self.entry["code"] = None
            return web.Response(status=499)
        if fault.kind == "http":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            self.entry["code"] = None
            return web.Response(
                status=fault.status,
                text=f"{fault.status} {fault.message_en} (simulated fault)\n",
                headers=headers,
            )
        return self.envelope(ApiError(fault.code, fault.message_en, fault.message_cn))  # type: ignore[arg-type]

    def authorized(self) -> bool:
        token = self.sim.options.token
        if not token:
            return True
        header = self.request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    async def call(self, route: Route) -> web.Response:
        sim = self.sim
        if not self.authorized():
            return self.envelope(
                ApiError(
                    Code.UNAUTHORIZED,
                    "authentication failed: send the header 'Authorization: Bearer <token>' with the right token",
                    "认证失败：请在请求头 'Authorization: Bearer <token>' 中提供正确的令牌",
                    http_status=401,
                )
            )
        if self.body_error is not None:
            return self.envelope(
                ApiError(
                    Code.INVALID_JSON,
                    f"the request body is not valid JSON: {self.body_error}",
                    f"请求体不是有效的 JSON：{self.body_error}",
                    http_status=400,
                )
            )
        if route.method == "POST" and not isinstance(self.body, dict):
            return self.envelope(
                ApiError(Code.INVALID_PARAMETER, "the request body must be a JSON object", "请求体必须是 JSON 对象")
            )
        params = Params(self.body, prefix="") if route.method == "POST" else Params(self.query, from_query=True)
        try:
            result = route.handler(sim, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            return self.envelope(error)  # validation happens before any change: nothing to save
        except Exception:  # noqa: BLE001 - never a 500, never a stack trace to the client
            log.exception("unexpected error in %s %s", route.method, route.path)
            sim.save()
            return self.envelope(
                ApiError(
                    Code.INTERNAL_ERROR,
                    f"internal simulator error while handling {route.path} (see the simulator log)",
                    f"处理 {route.path} 时模拟器内部错误（见模拟器日志）",
                )
            )
        if route.mutating:
            sim.save()  # before the answer leaves: a kill -9 right after loses nothing
        if not readings.current().has("fields"):
            result = documented.prune(route.path, result)
        return self.envelope(None, result)

    def log_line(self, status: int) -> None:
        if self.sim.options.quiet:
            return
        query = f"?{urlencode(mask(self.query))}" if self.query else ""
        code = self.entry.get("code")
        fault = f" fault={self.entry['fault']}" if "fault" in self.entry else ""
        elapsed = (time.perf_counter() - self.started) * 1000
        log.info("%s %s%s -> %s code=%s%s %.1fms", self.request.method, self.request.path, query, status, code, fault, elapsed)


async def dispatch(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    ex = Exchange(sim, request)
    await ex.read_body()
    ex.entry = sim.requests.start(request.method, request.path, ex.query, ex.body)
    sim.tick()
    fault = sim.faults.match(request.method, request.path)
    response: web.StreamResponse
    if fault is not None and fault.kind == "latency":
        ex.entry["fault"] = fault.id
        await asyncio.sleep(fault.seconds)
        fault = None
    if fault is not None and not fault.apply:
        if fault.kind in MANGLE_KINDS:
            ex.entry["fault"] = fault.id
            response = await mangle(fault, request, None)
        else:
            response = ex.deliver_fault(fault)
    else:
        route = ROUTES.get(request.path)
        if route is None:
            response = ex.envelope(
                ApiError(
                    Code.UNKNOWN_ENDPOINT,
                    f"unknown endpoint {request.path}",
                    f"未知接口 {request.path}",
                    http_status=404,
                )
            )
        elif route.method != request.method:
            response = ex.envelope(
                ApiError(
                    Code.METHOD_NOT_ALLOWED,
                    f"{request.path} takes {route.method}, not {request.method}",
                    f"{request.path} 应使用 {route.method} 请求，而不是 {request.method}",
                    http_status=405,
                )
            )
        else:
            response = await ex.call(route)
        if fault is not None and fault.kind in MANGLE_KINDS:  # processed; its answer mangled on the way back
            ex.entry["fault"] = fault.id
            response = await mangle(fault, request, response)
        elif fault is not None:  # apply=True: the request was processed, its answer is lost
            response = ex.deliver_fault(fault)
    ex.entry["status"] = 0 if fault is not None and fault.kind == "drop" else response.status
    ex.log_line(ex.entry["status"])
    return response


async def _ticker(app: web.Application) -> Any:
    sim = app[SIM_KEY]

    async def loop() -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL)
            try:
                sim.tick()
            except Exception:  # noqa: BLE001 - keep ticking whatever happens
                log.exception("tick failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    sim.save()


def make_app(sim: Simulator) -> web.Application:
    app = web.Application(client_max_size=16 * 1024**2)
    app[SIM_KEY] = sim
    app.router.add_route("*", "/v1/{tail:.*}", dispatch)
    control.add_routes(app, SIM_KEY)
    app.cleanup_ctx.append(_ticker)
    return app
