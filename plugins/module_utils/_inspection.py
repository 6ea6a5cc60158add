# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one-click cluster inspection: request bodies and the reading of its progress/result.

The documents give the result object (normal, alarm, fault, score, system, network, hardware, state,
finishedPercent, checking) but not the meaning of ``state``.  It is read as 0 idle, 1 running,
2 finished, 3 stopped (the simulator's reading); names (``running``...) are accepted too, and an answer
without a usable state counts as running while ``checking`` names an item or the percentage is
between 0 and 100.
"""

from __future__ import annotations

from typing import Any, Iterable

INSPECTION = "/v1/cluster/inspection"
PROGRESS = "/v1/cluster/inspection/progress"
STOP = "/v1/cluster/inspection/stop"

CHECKS = ("system", "network", "hardware")
CATEGORIES = CHECKS
STATE_NAMES = {0: "idle", 1: "running", 2: "finished", 3: "stopped"}
_NAME_ALIASES = {"checking": "running", "inspecting": "running", "done": "finished", "completed": "finished",
                 "complete": "finished", "success": "finished", "cancelled": "stopped", "canceled": "stopped",
                 "none": "idle", "": "idle"}


def start_body(cluster_uuid: str, cluster_name: str, checks: Iterable[str]) -> dict[str, Any]:
    """The ``cluster/inspection`` body: every documented flag, true for the checks asked for."""
    body = {"cluster_uuid": cluster_uuid, "cluster_name": cluster_name}
    for check in CHECKS:
        body["check_%s" % check] = check in checks
    return body


def stop_body(cluster_uuid: str, cluster_name: str) -> dict[str, Any]:
    return {"cluster_uuid": cluster_uuid, "cluster_name": cluster_name}


def _number(value: Any, kind: str = float) -> Any:
    """``value`` as ``kind`` (float or int); 0 for what is not a number."""
    try:
        return kind(value or 0)
    except (TypeError, ValueError):
        return kind(0)


def state_name(data: Any) -> str:
    """``idle``, ``running``, ``finished`` or ``stopped`` for a progress answer.

    An "idle" state (0) that checks an item or is part-way is running: the documents show state 0 only in the
    answer to a start (cluster-api.md, ``/v1/cluster/inspection``), so 0 may as well mean "under way"."""
    data = data or {}
    percent = _number(data.get("finishedPercent"))
    under_way = bool(data.get("checking")) or 0 < percent < 100
    name = _named_state(data.get("state"))
    if name is not None:
        return "running" if name == "idle" and under_way else name
    # no usable state: judge by what is being checked and how far it got
    if under_way:
        return "running"
    return "finished" if percent >= 100 else "idle"


def _named_state(state: Any) -> str | None:
    if isinstance(state, bool):
        return None
    if isinstance(state, (int, float)) and int(state) in STATE_NAMES:
        return STATE_NAMES[int(state)]
    if isinstance(state, str):
        text = state.strip().lower()
        if text.isdigit() and int(text) in STATE_NAMES:
            return STATE_NAMES[int(text)]
        text = _NAME_ALIASES.get(text, text)
        if text in STATE_NAMES.values():
            return text
    return None


def just_started(data: Any) -> bool:
    """Whether an answer reads like cluster-api.md's answer to a start: idle, 0 % and nothing checked yet (its
    ``system``, ``network`` and ``hardware`` null).  For an inspection this run has just started, that is one not
    under way yet.  An idle answer with results is one that ended (a platform that reads idle again once an
    inspection is over), not one to wait for until ``wait_timeout``."""
    if state_name(data) != "idle":
        return False
    data = data if isinstance(data, dict) else {}
    return not _number(data.get("finishedPercent")) and not any(data.get(section) for section in CATEGORIES)


def is_running(data: Any) -> bool:
    return state_name(data) == "running"


def inspection_id(data: Any) -> Any:
    """An identity for one inspection run: the status UUID when given, else its start time."""
    data = data or {}
    status = data.get("status") if isinstance(data.get("status"), dict) else {}
    return status.get("UUID") or data.get("uuid") or data.get("start_time") or None


def _items(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):  # tolerate a category given as {"items": [...]}
        value = value.get("items") or value.get("list") or []
    return [dict(item) if isinstance(item, dict) else item for item in value]


def shape_result(data: Any) -> dict[str, Any]:
    """The result users get: the documented fields, plus ``state_name``, ``running`` and identity.

    Categories that were not checked stay ``None``; a checked category without items is ``[]``.
    """
    data = data or {}
    name = state_name(data)
    result = {
        "normal": _number(data.get("normal"), int),
        "alarm": _number(data.get("alarm"), int),
        "fault": _number(data.get("fault"), int),
        "score": data.get("score") if isinstance(data.get("score"), (int, float)) else _number(data.get("score"), int),
        "state": data.get("state"),
        "state_name": name,
        "running": name == "running",
        "finishedPercent": data.get("finishedPercent") if data.get("finishedPercent") is not None else 0,
        "checking": data.get("checking") or "",
        "id": inspection_id(data),
    }
    for category in CATEGORIES:
        result[category] = _items(data.get(category))
    for key in ("cluster_uuid", "cluster_name", "start_time", "end_time"):
        if key in data:
            result[key] = data[key]
    return result
