# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parsing and checks shared by the configuration modules (DRS/DPM, global config, snapshot
policy, metadata snapshots, mail and system settings).

Checks follow ``_validate``: they return a message naming the option, or None; parsers return
``(value, message)``.  Nothing here sends a request except the center-node lookup.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import re

from ansible_collections.tos.cloud.plugins.module_utils._resolve import (
    get_cluster,
    host_addresses,
    topology,
)

# ---- DRS levels -------------------------------------------------------------------------------

#: level names in the API's order: 1 = most conservative ... 5 = most aggressive
LEVEL_NAMES = ("most_conservative", "conservative", "normal", "aggressive", "most_aggressive")


def parse_level(option, value):
    """A DRS level given as 1-5 (int or digit string) or by name; returns ``(int, error)``.

    Names are case-insensitive and accept ``-`` or a space for ``_`` (``Most-Aggressive``).
    """
    if value is None:
        return None, None
    allowed = "an integer 1-5 or one of %s" % ", ".join(LEVEL_NAMES)
    if isinstance(value, bool):
        return None, "%s: %r is not a level (expected %s)" % (option, value, allowed)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower().replace("-", "_").replace(" ", "_")
        if text in LEVEL_NAMES:
            return LEVEL_NAMES.index(text) + 1, None
        if not text.isdigit():
            return None, "%s: %r is not a level (expected %s)" % (option, value, allowed)
        number = int(text)
    else:
        return None, "%s: %r is not a level (expected %s)" % (option, value, allowed)
    if not 1 <= number <= len(LEVEL_NAMES):
        return None, "%s: %s is outside the levels 1-5 (expected %s)" % (option, number, allowed)
    return number, None


def level_name(number):
    """The name of a level 1-5, or None for anything else."""
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= len(LEVEL_NAMES):
        return LEVEL_NAMES[number - 1]
    return None


# ---- thresholds --------------------------------------------------------------------------------

def check_fraction(option, value):
    """A DPM usage threshold: the table says "0~100%", the example sends 0.8 and 0.45, so both a
    fraction (0.8) and a percentage (80) are accepted and sent as written; only what neither reading
    allows (below 0, above 100) is refused."""
    if value is None:
        return None
    if not _finite(value) or not 0 <= value <= 100:
        return "%s: %s is not a usage threshold between 0 and 100 %% (or a fraction such as 0.8)" % (option, value)
    return None


def check_low_below_high(low_option, low, high_option, high, set_by_user=()):
    """``low < high`` for the merged values; names which of the two the user set, so a user who
    only set one of them learns that the other is the server's current value."""
    if low is None or high is None or not (_finite(low) and _finite(high)):
        return None
    if low < high:
        return None
    low_note = "" if low_option in set_by_user else " (current value)"
    high_note = "" if high_option in set_by_user else " (current value)"
    return "%s: %s%s must be lower than %s %s%s" % (low_option, low, low_note, high_option, high, high_note)


def check_positive(option, value, maximum=None):
    """``0 < value`` (and ``<= maximum`` when given)."""
    if value is None:
        return None
    if not _finite(value):
        return "%s: %s is not a finite number" % (option, value)
    if value <= 0:
        return "%s: %s must be greater than 0" % (option, value)
    if maximum is not None and value > maximum:
        return "%s: %s is greater than the allowed maximum %s" % (option, value, maximum)
    return None


# The largest value of a field the documents type as int32 (e.g. cluster-api.md, DRS object: MaxStep|int32).
INT32_MAX = 2 ** 31 - 1


def check_at_least(option, value, minimum, maximum=None):
    """``minimum <= value`` (and ``<= maximum`` when given, e.g. ``INT32_MAX`` for an int32 field)."""
    if value is None:
        return None
    if not _finite(value):
        return "%s: %s is not a finite number" % (option, value)
    if value < minimum:
        return "%s: %s must be at least %s" % (option, value, minimum)
    if maximum is not None and value > maximum:
        return "%s: %s is greater than the largest allowed value %s" % (option, value, maximum)
    return None


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def same_number(a, b, rel_tol=1e-6, abs_tol=1e-9):
    """Numbers equal up to float32 noise (the API stores some thresholds as float32: 0.7 may
    come back as 0.699999988079071)."""
    if _finite(a) and _finite(b):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def settle(current, desired):
    """``desired`` with every number that equals the current one up to float noise replaced by
    the current value, at any depth, so comparing the two tells only real changes."""
    if isinstance(current, dict) and isinstance(desired, dict):
        return {key: settle(current.get(key), value) if key in current else value for key, value in desired.items()}
    if same_number(current, desired) and _finite(current):
        return current
    return desired


def same_config(current, wanted):
    """Whether ``current`` already holds ``wanted`` (numbers compared up to float noise)."""
    return settle(current, wanted) == current


# ---- intervals -------------------------------------------------------------------------------

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_INTERVAL = 1
_INTERVAL_RE = re.compile(r"^(?:\d+[smhdw])+$")
_PART_RE = re.compile(r"(\d+)([smhdw])")


def parse_interval(option, value, minimum=MIN_INTERVAL):
    """An interval as seconds (int or digit string) or with units: ``90s``, ``30m``, ``6h``, ``1d``,
    ``1w`` or combined (``1h30m``).  Returns ``(seconds, error)``."""
    if value is None:
        return None, None
    expected = "seconds, or a number with a unit s/m/h/d/w such as 30m, 6h, 1d, 1w"
    if isinstance(value, bool):
        return None, "%s: %r is not an interval (expected %s)" % (option, value, expected)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text.isdigit():
            seconds = int(text)
        elif _INTERVAL_RE.match(text):
            seconds = sum(int(n) * UNITS[unit] for n, unit in _PART_RE.findall(text))
        else:
            return None, "%s: %r is not an interval (expected %s)" % (option, value, expected)
    else:
        return None, "%s: %r is not an interval (expected %s)" % (option, value, expected)
    if seconds <= 0:
        return None, "%s: %r is not a length of time (give more than 0 seconds, e.g. 6h)" % (option, value)
    if seconds < minimum:
        return None, "%s: %s seconds is shorter than the minimum of %s seconds" % (option, seconds, minimum)
    return seconds, None


def check_multiple(option, seconds, step, text):
    """``seconds`` must be a positive multiple of ``step`` (``text`` names the step: "hour")."""
    if seconds is None:
        return None
    if seconds < step or seconds % step:
        return "%s: %s (%s seconds) is not a whole number of %ss" % (
            option, format_interval(seconds) or seconds, seconds, text)
    return None


def display_option(seconds):
    """The API's ``display_option`` for an interval: the largest of week/day/hour that divides it
    evenly; ``hour`` for anything else (sub-hour or odd intervals: ``duration`` carries the exact
    value, ``hour`` is the smallest unit the API knows)."""
    if seconds and seconds % UNITS["w"] == 0:
        return "week"
    if seconds and seconds % UNITS["d"] == 0:
        return "day"
    return "hour"


def format_interval(seconds):
    """``86400`` -> ``1d``; ``5400`` -> ``1h30m``: the shortest form ``parse_interval`` reads back."""
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return None
    parts = []
    rest = seconds
    for unit in ("w", "d", "h", "m", "s"):
        count, rest = divmod(rest, UNITS[unit])
        if count:
            parts.append("%d%s" % (count, unit))
    return "".join(parts)


# ---- secrets ---------------------------------------------------------------------------------

def same_secret(current, desired):
    """Compare two secrets in constant time; never returns or logs either of them."""
    current = "" if current is None else str(current)
    desired = "" if desired is None else str(desired)
    return hmac.compare_digest(current.encode("utf-8"), desired.encode("utf-8"))


def secret_hidden(value):
    """True when the API did not reveal a secret (absent, or a mask such as ``******``)."""
    if value is None:
        return True
    text = str(value)
    return bool(text) and set(text) <= {"*"}


# ---- addresses -------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(option, value):
    """An address ``local@domain.tld`` (the platform wants a dot in the domain); empty is allowed."""
    if value is None or value == "":
        return None
    if not _EMAIL_RE.match(str(value)):
        return "%s: %r is not an e-mail address" % (option, value)
    return None


def check_port(option, value):
    if value is None:
        return None
    if not 1 <= value <= 65535:
        return "%s: %s is not a TCP port (1-65535)" % (option, value)
    return None


def parse_ip_range(option, value):
    """An address range as ``{"start", "end"}`` from ``192.0.2.10-192.0.2.20``, a network
    ``192.0.2.0/24`` (its first to last address) or one address.  Returns ``(range, error)``."""
    text = str(value).strip() if value is not None else ""
    try:
        if "-" in text:
            first, last = (part.strip() for part in text.split("-", 1))
            start, end = ipaddress.ip_address(first), ipaddress.ip_address(last)
        elif "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            start, end = network[0], network[-1]
        else:
            start = end = ipaddress.ip_address(text)
    except ValueError:
        return None, "%s: %r is not an address, a network (192.0.2.0/24) or a range (192.0.2.10-192.0.2.20)" % (
            option, value)
    if start.version != end.version:
        return None, "%s: %r mixes IPv4 and IPv6" % (option, value)
    if start.version != 4:
        # The platform's addresses are IPv4: every address the documents show is (e.g. system-api.md,
        # /v1/system/member/list: "candidates": ["192.168.201.212", ...]); none is IPv6.
        return None, "%s: %r is an IPv6 range; the platform takes IPv4 addresses only" % (option, value)
    if start > end:
        return None, "%s: %r ends before it starts" % (option, value)
    return {"start": str(start), "end": str(end)}, None


def same_ranges(current, desired):
    """Two lists of ``{"start", "end"}`` hold the same ranges, in any order."""
    def key(items):
        return sorted((str(r.get("start")), str(r.get("end"))) for r in items or [] if isinstance(r, dict))
    return key(current) == key(desired)


# ---- center nodes ----------------------------------------------------------------------------

CLOUD_MANAGE = "/v1/cluster/cloud/manage"


def center_nodes(manage, cluster_detail=None):
    """The center nodes of a cluster as ``[{"ip", "leader"}]``, leader first.

    From ``cluster/cloud/manage`` (``host_info[].ip``/``is_leader``); when that lists none, from the
    topology of ``cluster/get`` (nodes whose ``services.center`` is enabled).
    """
    nodes = []
    for info in (manage or {}).get("host_info") or []:
        if isinstance(info, dict) and info.get("ip"):
            nodes.append({"ip": str(info["ip"]).split("/", maxsplit=1)[0], "leader": bool(info.get("is_leader"))})
    if not nodes and cluster_detail:
        for node in topology(cluster_detail):
            center = (node.get("services") or {}).get("center")
            address = host_addresses(node)["management"]
            if isinstance(center, dict) and center.get("enabled") and address:
                nodes.append({"ip": address, "leader": False})
    nodes.sort(key=lambda n: not n["leader"])
    return nodes


def read_center_nodes(client, cluster_uuid, get_detail=None):
    """The cluster's center nodes (see ``center_nodes``), leader first.  ``get_detail()`` returns
    ``cluster/get`` for the topology fallback; it is only called when ``cloud/manage`` lists no node."""
    manage = client.get(CLOUD_MANAGE, {"cluster_uuid": cluster_uuid}) or {}
    nodes = center_nodes(manage)
    if not nodes and get_detail is not None:
        nodes = center_nodes(manage, get_detail())
    return nodes


# ---- the metadata envelope -------------------------------------------------------------------

def meta_data(data):
    """The ``meta_data`` object of the snapshot/daemon endpoints (tolerates its absence)."""
    if isinstance(data, dict) and isinstance(data.get("meta_data"), dict):
        return data["meta_data"]
    return data if isinstance(data, dict) else {}


# ---- module steps shared by the cluster-scoped settings modules ------------------------------

# The center node option of the metadata snapshot modules (doc fragment tos.cloud.cluster.CENTER_IP).
CENTER_IP_ARGSPEC = dict(center_ip=dict(type="str"))


def require_center_ip(tm, cluster, option="center_ip"):
    """``tm.params[option]`` when set and one of the cluster's center nodes, else the cluster's leader
    center node; fails the module, naming ``option``, when the given IP is not a center node of the
    cluster or when the cluster has none."""
    tm.doing("find the center nodes of cluster %r" % cluster["name"])
    nodes = read_center_nodes(tm.client, cluster["uuid"], get_detail=lambda: get_cluster(tm.client, cluster["uuid"]))
    given = tm.params.get(option)
    if not nodes and given:
        tm.fail("%s: cluster %r has no center node (cloud-management VM) to send the request to; deploy one with "
                "tos.cloud.cvm." % (option, cluster["name"]))
    if not nodes:
        tm.fail("%s: cluster %r has no center node (cloud-management VM) to find it from; deploy one with "
                "tos.cloud.cvm or set %s." % (option, cluster["name"], option))
    if not given:
        return nodes[0]["ip"]
    if given not in [n["ip"] for n in nodes]:
        tm.fail("%s: %s is not a center node of cluster %r (its center nodes: %s); set %s to one of them, or "
                "leave it unset to use the leader." % (option, given, cluster["name"],
                                                       ", ".join(n["ip"] for n in nodes), option))
    return given


def hide_secret(tm, value):
    """Treat ``value`` (a secret read from the API, not given as a no_log option) like a no_log
    value: Ansible then replaces it in every string the module returns, errors included."""
    if isinstance(value, str) and value and not secret_hidden(value):
        tm.module.no_log_values.add(value)


def without(data, keys):
    """A copy of a dict without ``keys`` (to compare objects apart from their secrets)."""
    return {k: v for k, v in (data or {}).items() if k not in keys}
