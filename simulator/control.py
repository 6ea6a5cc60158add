"""The control API under /_sim/ (never needs the token): reset, request log, state, faults,
upgrade failures, manager membership and the clock. Answers are plain JSON, not envelopes;
a bad request gets HTTP 400 with {"ok": false, "error": "..."}."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import ops, readings
from .core import Simulator
from .errors import ApiError
from .faults import FaultSpecError
from .fixture import FixtureError
from .params import parse_ip
from .state import World


class ControlError(ValueError):
    pass


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra})


async def _body(request: web.Request, required: bool = True) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ControlError("a JSON object body is required")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ControlError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/_sim/"):
        return await handler(request)
    try:
        return await handler(request)
    except (ControlError, FaultSpecError, FixtureError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)


def add_routes(app: web.Application, key: web.AppKey[Simulator]) -> None:
    def sim_of(request: web.Request) -> Simulator:
        return request.app[key]

    async def reset(request: web.Request) -> web.Response:
        body = await _body(request, required=False)
        path = body.get("fixture")
        if path is not None and not isinstance(path, str):
            raise ControlError("'fixture' must be a file path")
        sim_of(request).reset(path)
        return _ok()

    async def get_requests(request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            raise ControlError("'since' must be an integer") from None
        log = sim_of(request).requests
        return web.json_response({"requests": log.since(since), "last": log.last})

    async def clear_requests(request: web.Request) -> web.Response:
        sim_of(request).requests.clear()
        return _ok()

    async def get_state(request: web.Request) -> web.Response:
        sim = sim_of(request)
        sim.tick()
        state = sim.world.to_json()
        state["now"] = sim.world.now()
        state["speed"] = sim.speed
        return web.json_response(state, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    async def put_state(request: web.Request) -> web.Response:
        """Replace the whole state with a (possibly edited) GET /_sim/state answer: tests inject drift
        (a setting changed, a VM gone) without a /v1 request. A state that does not load changes nothing."""
        body = await _body(request)
        body.pop("now", None)
        body.pop("speed", None)
        try:
            world = World.from_json(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise ControlError(f"not a state as GET /_sim/state answers it: {exc!r}") from None
        sim = sim_of(request)
        sim.world = world
        sim.save()
        return _ok()

    async def add_fault(request: web.Request) -> web.Response:
        fault = sim_of(request).faults.add(await _body(request))
        return web.json_response({"id": fault.id})

    async def list_faults(request: web.Request) -> web.Response:
        return web.json_response({"faults": [f.to_json() for f in sim_of(request).faults.faults]})

    async def clear_faults(request: web.Request) -> web.Response:
        sim_of(request).faults.clear()
        return _ok()

    async def delete_fault(request: web.Request) -> web.Response:
        if not sim_of(request).faults.remove(request.match_info["id"]):
            return web.json_response({"ok": False, "error": "no such fault"}, status=404)
        return _ok()

    async def set_upgrade_failure(request: web.Request) -> web.Response:
        sim = sim_of(request)
        body = await _body(request)
        key = body.get("host")
        host = sim.world.find_host(str(key)) if key else None
        if host is None:
            raise ControlError(f"'host' must be the IP, name or uuid of a known host (got {key!r})")
        at = body.get("at", 0.5)
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not 0 <= at < 1:
            raise ControlError("'at' must be a number in [0, 1)")
        failure = {
            "at": float(at),
            "message_en": str(body.get("message_en") or f"upgrade failed on host {host.ip} ({host.name})"),
            "message_cn": str(body.get("message_cn") or f"主机 {host.ip}（{host.name}）升级失败"),
        }
        sim.world.upgrade_failures[host.uuid] = failure
        sim.save()
        return _ok(host_uuid=host.uuid, **failure)

    async def list_upgrade_failures(request: web.Request) -> web.Response:
        return web.json_response({"failures": sim_of(request).world.upgrade_failures})

    async def clear_upgrade_failures(request: web.Request) -> web.Response:
        sim = sim_of(request)
        sim.world.upgrade_failures.clear()
        sim.save()
        return _ok()

    async def set_manager(request: web.Request) -> web.Response:
        sim = sim_of(request)
        body = await _body(request)
        manager = dict(sim.world.manager)
        if "members" in body:
            members = body["members"]
            if not isinstance(members, list) or not members:
                raise ControlError("'members' must be a non-empty list of IPs")
            try:
                manager["members"] = [parse_ip("members", str(m)) for m in members]
            except ApiError as exc:
                raise ControlError(exc.message_en) from None
        if "leader" in body:
            leader = body["leader"]
            if leader is not None and leader not in manager["members"]:
                raise ControlError(f"'leader' must be one of the members {manager['members']} or null")
            manager["leader"] = leader
        if "ready" in body:
            if not isinstance(body["ready"], bool):
                raise ControlError("'ready' must be a boolean")
            manager["ready"] = body["ready"]
        if manager["leader"] is not None and manager["leader"] not in manager["members"]:
            raise ControlError("the current leader is not among the new members: set 'leader' too")
        sim.world.manager = manager
        sim.save()
        return _ok(manager=manager)

    async def set_upgrade_package(request: web.Request) -> web.Response:
        """{"package": {package_name, md5, version, update_time, size} or null}: the uploaded package."""
        sim = sim_of(request)
        package = (await _body(request)).get("package")
        if package is not None and not (isinstance(package, dict) and package.get("version")):
            raise ControlError("'package' must be null or an object with at least 'version'")
        sim.world.upgrade_package = dict(package) if package else None
        sim.save()
        return _ok(package=sim.world.upgrade_package)

    async def advance_time(request: web.Request) -> web.Response:
        sim = sim_of(request)
        body = await _body(request)
        seconds = body.get("advance")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ControlError("'advance' must be a number of seconds >= 0")
        sim.advance(float(seconds))
        return _ok(now=sim.world.now(), clock_offset=sim.world.clock_offset)

    async def set_durations(request: web.Request) -> web.Response:
        """How long operations started from now on take, in seconds at speed 1.0
        (e.g. {"inspection": 600} keeps an inspection running long enough to attach to it).
        A reset restores the start-up durations."""
        body = await _body(request)
        for kind, seconds in body.items():
            if kind not in ops.DURATIONS:
                raise ControlError(f"unknown operation {kind!r}: one of {sorted(ops.DURATIONS)}")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
                raise ControlError(f"'{kind}' must be a number of seconds > 0")
        ops.DURATIONS.update({kind: float(seconds) for kind, seconds in body.items()})
        return _ok(durations=dict(ops.DURATIONS))

    async def health(request: web.Request) -> web.Response:
        sim = sim_of(request)
        reading = readings.current()
        return _ok(now=sim.world.now(), speed=sim.speed, hosts=len(sim.world.hosts), clusters=len(sim.world.clusters),
                   readings={"extensions": sorted(reading.extensions), "page_base": reading.page_base,
                             "page_size_zero": reading.page_size_zero, "task_failure": reading.task_failure,
                             "cvm_host": reading.cvm_host, "progress_lag": reading.progress_lag})

    app.middlewares.append(_errors)
    r = app.router
    r.add_post("/_sim/reset", reset)
    r.add_get("/_sim/requests", get_requests)
    r.add_delete("/_sim/requests", clear_requests)
    r.add_get("/_sim/state", get_state)
    r.add_put("/_sim/state", put_state)
    r.add_post("/_sim/faults", add_fault)
    r.add_get("/_sim/faults", list_faults)
    r.add_delete("/_sim/faults", clear_faults)
    r.add_delete("/_sim/faults/{id}", delete_fault)
    r.add_post("/_sim/upgrade_failure", set_upgrade_failure)
    r.add_get("/_sim/upgrade_failure", list_upgrade_failures)
    r.add_delete("/_sim/upgrade_failure", clear_upgrade_failures)
    r.add_post("/_sim/manager", set_manager)
    r.add_post("/_sim/time", advance_time)
    r.add_post("/_sim/upgrade_package", set_upgrade_package)
    r.add_get("/_sim/health", health)
    r.add_post("/_sim/durations", set_durations)
