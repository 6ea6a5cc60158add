"""Injected faults (POST /_sim/faults): latency, HTTP errors, dropped connections, error envelopes."""
from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("latency", "http", "drop", "envelope")


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
