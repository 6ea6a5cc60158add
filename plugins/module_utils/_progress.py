# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Live progress of the waits (host tasks, the inspection): a line while waiting, and the same as data.

The wait loops call ``report()`` at each reading.  Every reading is recorded (``records()``, returned by
TosModule as ``wait_progress``); a line - what is awaited, the percentage, the time so far and an estimate
of the time left - goes to ``EMIT`` at the first reading, then at least every ``every()`` seconds, and at the
end.  ``EMIT`` is None in a module process (modules cannot print while they run); the in-process action
(plugins/plugin_utils/in_process.py) sets it to Ansible's Display, so the lines stream in the job output as
they happen.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    pass

# Set by the in-process action: a callable taking one line.
EMIT = None
# Set by whoever runs several waits as a series (the upgrade's batches): {"batch": n, "batches": m}.
CONTEXT = {}
DEFAULT_EVERY = 10.0
_RECORDS = {}


def every() -> float:
    """Seconds between two lines (TOS_PROGRESS_INTERVAL, default 10)."""
    try:
        value = float(os.environ.get("TOS_PROGRESS_INTERVAL") or DEFAULT_EVERY)
    except ValueError:
        value = DEFAULT_EVERY
    return value if value > 0 else DEFAULT_EVERY


def _duration(seconds: float) -> str:
    seconds = int(round(max(0.0, seconds)))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    hours, rest = divmod(seconds, 3600)
    return "%dh%02dm" % (hours, rest // 60)


def eta(record: dict[str, Any]) -> float | None:
    """Seconds left at the rate seen since the first reading, or None when the progress did not move."""
    p0, p1 = record["first_progress"], record["progress"]
    spent = record["last_at"] - record["first_at"]
    if p1 >= 1.0:
        return 0.0
    if p1 <= p0 or spent <= 0:
        return None
    return (1.0 - p1) * spent / (p1 - p0)


def line(record: dict[str, Any]) -> str:
    pct = "%3.0f%%" % (record["progress"] * 100)
    spent = _duration(record["last_at"] - record["started_at"])
    batch = " (batch %d of %d)" % (record["batch"], record["batches"]) if record.get("batches", 0) > 1 else ""
    if record["status"] != "running":
        return "tos.cloud: %s%s: %s, %s after %s" % (record["what"], batch, record["status"], pct.strip(), spent)
    left = eta(record)
    left = "about %s left" % _duration(left) if left is not None else "time left unknown"
    return "tos.cloud: waiting for %s%s: %s after %s, %s" % (record["what"], batch, pct.strip(), spent, left)


def report(
        key: str,
        what: str,
        progress: float,
        status: str = "running",
        clock: Callable[..., Any] = time.monotonic,
        wall: Any = time.time,
) -> None:
    """One reading of a wait: ``key`` names it (a host, a cluster), ``what`` says what is awaited, ``progress``
    is 0..1, ``status`` running, finished, failed or timed_out."""
    now = clock()
    progress = max(0.0, min(1.0, float(progress or 0.0)))
    record = _RECORDS.get(key)
    if record is None or (record["status"] != "running" and status == "running"):
        record = _RECORDS[key] = {
            "key": key, "what": what, "status": status, "progress": progress, "first_progress": progress,
            "started_at": now, "first_at": now, "last_at": now, "emitted_at": None, "readings": 0,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall())), "lines": 0,
        }
        record.update(CONTEXT)
    record.update(what=what, progress=progress, last_at=now, status=status)
    record["readings"] += 1
    due = record["emitted_at"] is None or now - record["emitted_at"] >= every() or status != "running"
    if due:
        record["emitted_at"] = now
        record["lines"] += 1
        if EMIT is not None:
            EMIT(line(record))
    return record


def records() -> list[dict[str, Any]]:
    """The waits of this run as data: what, status, progress, when it started, seconds spent, the estimate
    left at the last reading, the batch, how many readings and lines."""
    out = []
    for record in _RECORDS.values():
        left = eta(record) if record["status"] == "running" else None
        item = {
            "key": record["key"], "what": record["what"], "status": record["status"],
            "progress": round(record["progress"], 4), "started": record["started"],
            "elapsed": round(record["last_at"] - record["started_at"], 1),
            "eta": None if left is None else round(left, 1), "readings": record["readings"], "lines": record["lines"],
        }
        if record.get("batches", 0) > 1:
            item.update(batch=record["batch"], batches=record["batches"])
        out.append(item)
    return out


def reset() -> None:
    _RECORDS.clear()
    CONTEXT.clear()
