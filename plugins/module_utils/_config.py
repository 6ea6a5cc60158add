# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cluster settings as the modules and the API name them: option <-> field tables, comparison of
a configuration up to the API's float noise, and the readers that more than one plugin shares (the
metadata snapshot policy: ``snapshot_policy`` and ``cluster_info``).
"""

from __future__ import annotations

import math
from typing import Any

from ansible_collections.tos.cloud.plugins.module_utils._api import meta_data
from ansible_collections.tos.cloud.plugins.module_utils._checks import UNITS, finite

# ---- comparing a configuration ---------------------------------------------------------------------

def same_number(a, b, rel_tol=1e-6, abs_tol=1e-9):
    """Numbers equal up to float32 noise (the API stores some thresholds as float32: 0.7 may
    come back as 0.699999988079071)."""
    if finite(a) and finite(b):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def settle(current, desired):
    """``desired`` with every number that equals the current one up to float noise replaced by
    the current value, at any depth, so comparing the two tells only real changes."""
    if isinstance(current, dict) and isinstance(desired, dict):
        return {key: settle(current.get(key), value) if key in current else value for key, value in desired.items()}
    if same_number(current, desired) and finite(current):
        return current
    return desired


def same_config(current, wanted):
    """Whether ``current`` already holds ``wanted`` (numbers compared up to float noise)."""
    return settle(current, wanted) == current


def same_ranges(current, desired):
    """Two lists of ``{"start", "end"}`` hold the same ranges, in any order."""
    def key(items):
        return sorted((str(r.get("start")), str(r.get("end"))) for r in items or [] if isinstance(r, dict))
    return key(current) == key(desired)


def display_option(seconds):
    """The API's ``display_option`` for an interval: the largest of week/day/hour that divides it
    evenly; ``hour`` for anything else (sub-hour or odd intervals: ``duration`` carries the exact
    value, ``hour`` is the smallest unit the API knows)."""
    if seconds and seconds % UNITS["w"] == 0:
        return "week"
    if seconds and seconds % UNITS["d"] == 0:
        return "day"
    return "hour"


# ---- the metadata snapshot policy ------------------------------------------------------------------

SNAPSHOT_CONFIG = "/v1/cluster/data/snapshot/config/inspect"
SNAPSHOT_CONFIG_UPDATE = "/v1/cluster/data/snapshot/config/update"
SNAPSHOT_LIST = "/v1/cluster/data/snapshot/list"
DAEMON_STATE = "/v1/cluster/data/daemon/state"
DAEMON = {"started": "/v1/cluster/data/daemon/start", "stopped": "/v1/cluster/data/daemon/stop"}
# The words of ``DaemonState`` that mean the daemon runs (anything else: stopped).
RUNNING_WORDS = ("running", "started", "active", "run")


def snapshot_config_of(data: Any) -> dict[str, Any]:
    """``{interval, display_option, mtime}`` of a ``data/snapshot/config/inspect`` answer (``duration``:
    seconds; the documents spell it ``duration`` and ``DisplayOption``, both spellings are read)."""
    config = meta_data(data).get("SnapshotConfig") or {}
    duration = config.get("duration", config.get("Duration"))
    return {"interval": int(duration) if isinstance(duration, (int, float)) else duration,
            "display_option": config.get("DisplayOption", config.get("display_option")),
            "mtime": config.get("MTime")}


def daemon_state_of(data: Any) -> str | None:
    """The ``DaemonState`` word of a ``data/daemon/state`` answer as the server wrote it, or None."""
    return meta_data(data).get("DaemonState") or None


def daemon_of(data: Any) -> str:
    """``started`` or ``stopped`` (the module's vocabulary) from a ``data/daemon/state`` answer."""
    state = str(daemon_state_of(data) or "").strip().lower()
    return "started" if state in RUNNING_WORDS else "stopped"


def read_snapshot_policy(client: Any, query: dict[str, Any]) -> dict[str, Any]:
    """The snapshot policy of one center node (``query``: ``cluster_uuid`` and ``ip``), in one shape:
    ``{interval, display_option, mtime, daemon_state}`` (``daemon_state``: the server's word)."""
    policy = snapshot_config_of(client.get(SNAPSHOT_CONFIG, query))
    policy["daemon_state"] = daemon_state_of(client.get(DAEMON_STATE, query))
    return policy


def snapshot_names(data: Any) -> list[str]:
    """The snapshot names of a ``data/snapshot/list`` (or snapshot create) answer."""
    return [str(name) for name in meta_data(data).get("Snapshot") or []]
