"""The /v1 endpoint handlers, one module per area, registered in ROUTES by the @route decorator.

A handler takes the simulator and the request parameters (query string for GET, JSON body for
POST) and returns the envelope's ``data``; it raises ApiError for an error envelope.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import Simulator
    from ..params import Params

HandlerResult = Any  # the data, or an awaitable of it
Handler = Callable[["Simulator", "Params"], HandlerResult]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    mutating: bool
    summary: str


ROUTES: dict[str, Route] = {}

MODULES = ("clusters", "vms", "metadata", "configs", "statistics", "inspections", "system", "upgrades")


def route(method: str, path: str, summary: str, mutating: bool | None = None) -> Callable[[Handler], Handler]:
    """Register a handler; POST endpoints count as mutating (state saved) unless told otherwise."""

    def register(handler: Handler) -> Handler:
        if path in ROUTES:
            raise RuntimeError(f"duplicate route {path}")
        ROUTES[path] = Route(method, path, handler, method == "POST" if mutating is None else mutating, summary)
        return handler

    return register


def load_all() -> dict[str, Route]:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return ROUTES
