"""The log of /v1 requests served by GET /_sim/requests (secrets masked, bounded)."""
from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Any

from .masking import mask

MAX_ENTRIES = 10_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self.last = 0  # the seq of the latest request, cleared or not: "since" it, a reader sees only what follows

    def start(self, method: str, path: str, query: dict[str, Any], body: Any) -> dict[str, Any]:
        """Record a request on arrival; status and code are filled in when it is answered."""
        self.last = next(self._seq)
        entry: dict[str, Any] = {
            "seq": self.last,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": mask(query),
            "body": mask(body),
            "status": None,
            "code": None,
        }
        self.entries.append(entry)
        return entry

    def since(self, seq: int) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["seq"] > seq]

    def clear(self) -> None:
        self.entries.clear()
