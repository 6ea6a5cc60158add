# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every input check, run before any API request.

Checks return an error message naming the option, or None; parsers return ``(value, message)``.
Modules collect the messages of every check and fail once with all of them (``first_error``)
so a user fixes every mistake in one round.  Nothing here sends a request.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any, Iterable, Optional

from ansible.module_utils.parsing.convert_bool import boolean

Message = Optional[str]


def first_error(*messages: Message) -> Message:
    """Join the messages that are not None into one, or return None."""
    found = [m for m in messages if m]
    if not found:
        return None
    return "Invalid input: " + "; ".join(found) + "."


# ---- names and numbers ---------------------------------------------------------------------------

def check_name(option: str, value: Any, max_length: int = 64) -> str | None:
    """A non-empty name of at most ``max_length`` characters, without control characters.

    Unicode (e.g. Chinese) names are accepted: the platform is used in Chinese.
    """
    if value is None:
        return None
    text = str(value)
    if not text.strip():
        return "%s: must not be empty" % option
    if len(text) > max_length:
        return "%s: %d characters is longer than the %d allowed" % (option, len(text), max_length)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return "%s: must not contain control characters" % option
    if text != text.strip():
        return "%s: must not start or end with spaces" % option
    return None


def check_range(
        option: str,
        value: Any,
        low: float,
        high: float,
        low_open: bool = False,
        high_open: bool = False,
) -> str | None:
    """``low <= value <= high`` (or strict at an open end)."""
    if value is None:
        return None
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        return "%s: %s is outside the allowed range %s%s, %s%s" % (
            option, value, "(" if low_open else "[", low, high, ")" if high_open else "]")
    return None


def check_positive(option: str, value: Any, maximum: float | None = None) -> str | None:
    """``0 < value`` (and ``<= maximum`` when given)."""
    if value is None:
        return None
    if not finite(value):
        return "%s: %s is not a finite number" % (option, value)
    if value <= 0:
        return "%s: %s must be greater than 0" % (option, value)
    if maximum is not None and value > maximum:
        return "%s: %s is greater than the allowed maximum %s" % (option, value, maximum)
    return None


# The largest value of a field the documents type as int32 (e.g. cluster-api.md, DRS object: MaxStep|int32).
INT32_MAX = 2 ** 31 - 1


def check_at_least(option: str, value: Any, minimum: float | None, maximum: float | None = None) -> str | None:
    """``minimum <= value`` (and ``<= maximum`` when given, e.g. ``INT32_MAX`` for an int32 field)."""
    if value is None:
        return None
    if not finite(value):
        return "%s: %s is not a finite number" % (option, value)
    if value < minimum:
        return "%s: %s must be at least %s" % (option, value, minimum)
    if maximum is not None and value > maximum:
        return "%s: %s is greater than the largest allowed value %s" % (option, value, maximum)
    return None


def check_fraction(option: str, value: Any) -> str | None:
    """A DPM usage threshold: the table says "0~100%", the example sends 0.8 and 0.45, so both a
    fraction (0.8) and a percentage (80) are accepted and sent as written; only what neither reading
    allows (below 0, above 100) is refused."""
    if value is None:
        return None
    if not finite(value) or not 0 <= value <= 100:
        return "%s: %s is not a usage threshold between 0 and 100 %% (or a fraction such as 0.8)" % (option, value)
    return None


def check_low_below_high(
        low_option: str,
        low: float,
        high_option: str,
        high: float,
        set_by_user: Iterable[str] = (),
) -> str | None:
    """``low < high`` for the merged values; names which of the two the user set, so a user who
    only set one of them learns that the other is the server's current value."""
    if low is None or high is None or not (finite(low) and finite(high)):
        return None
    if low < high:
        return None
    low_note = "" if low_option in set_by_user else " (current value)"
    high_note = "" if high_option in set_by_user else " (current value)"
    return "%s: %s%s must be lower than %s %s%s" % (low_option, low, low_note, high_option, high, high_note)


def as_kind(option: str, value: Any, kind: str) -> tuple[Any, str | None]:
    """``(value, error)``: ``value`` converted to ``kind`` (``int``, ``float``, ``bool``; anything else as it is), as an
    argument spec would, for callers that have none (a role's variables).  None stays None."""
    if kind == "bool" and value is not None:
        try:
            return boolean(value, strict=True), None
        except TypeError:
            return None, "%s: %r is not a boolean (true or false)" % (option, value)
    if value is None or isinstance(value, bool) or kind not in ("int", "float"):
        return value, None
    try:
        return (int(str(value).strip()), None) if kind == "int" else (float(value), None)
    except (TypeError, ValueError):
        return None, "%s: %r is not %s" % (option, value, "an integer" if kind == "int" else "a number")


def finite(value: Any) -> bool:
    """A real number (not a bool, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (``3``, ``3.0``), else None (a bool is no number here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


# ---- DRS levels ----------------------------------------------------------------------------------

#: level names in the API's order: 1 = most conservative ... 5 = most aggressive
LEVEL_NAMES = ("most_conservative", "conservative", "normal", "aggressive", "most_aggressive")


def parse_level(option: str, value: Any) -> tuple[Any, str | None]:
    """A DRS level given as 1-5 (int or digit string) or by name; returns ``(int, error)``.

    Names are case-insensitive and accept ``-`` or a space for ``_`` (``Most-Aggressive``).
    """
    if value is None:
        return None, None
    allowed = "an integer 1-5 or one of %s" % ", ".join(LEVEL_NAMES)
    whole = _whole(value)
    if isinstance(whole, int):
        number = whole
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


# ---- intervals -----------------------------------------------------------------------------------

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MIN_INTERVAL = 1


_INTERVAL_RE = re.compile(r"^(?:\d+[smhdw])+$")


_PART_RE = re.compile(r"(\d+)([smhdw])")


def parse_interval(option: str, value: Any, minimum: float | None = MIN_INTERVAL) -> tuple[Any, str | None]:
    """An interval as seconds (int or digit string) or with units: ``90s``, ``30m``, ``6h``, ``1d``,
    ``1w`` or combined (``1h30m``).  Returns ``(seconds, error)``."""
    if value is None:
        return None, None
    expected = "seconds, or a number with a unit s/m/h/d/w such as 30m, 6h, 1d, 1w"
    whole = _whole(value)
    if isinstance(whole, int):
        seconds = whole
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


def check_multiple(option: str, seconds: float, step: int, text: str) -> str | None:
    """``seconds`` must be a positive multiple of ``step`` (``text`` names the step: "hour")."""
    if seconds is None:
        return None
    if seconds < step or seconds % step:
        return "%s: %s (%s seconds) is not a whole number of %ss" % (
            option, format_interval(seconds) or seconds, seconds, text)
    return None


def format_interval(seconds: float) -> str | None:
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


# ---- addresses -----------------------------------------------------------------------------------

def check_ip(option: str, value: Any) -> str | None:
    """``value`` must be an IPv4/IPv6 address without prefix."""
    if value is None:
        return None
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return "%s: %r is not an IP address" % (option, value)
    return None


def check_ipv4(option: str, value: Any) -> str | None:
    try:
        ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return "%s: %r is neither an IPv4 address nor an address in CIDR notation (e.g. 192.0.2.101/24)" % (
            option, value)
    return None


def check_vm_cidr(option: str, value: Any) -> str | None:
    """A system VM address: IPv4 ``address/prefix`` with a prefix of 8..30, not the network's
    network or broadcast address (what the platform accepts)."""
    if value is None:
        return None
    text = str(value).strip()
    if "/" not in text:
        return "%s: %r is not an address in CIDR notation (expected e.g. 192.0.2.101/24)" % (option, value)
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        return "%s: %r is not a valid IPv4 address in CIDR notation (expected e.g. 192.0.2.101/24)" % (option, value)
    net = iface.network
    if not 8 <= net.prefixlen <= 30:
        return "%s: the prefix length of %s must be between 8 and 30" % (option, value)
    if iface.ip in (net.network_address, net.broadcast_address):
        return "%s: %s is the network or broadcast address of %s" % (option, iface.ip, net)
    return None


def check_vm_gateway(option: str, gateway: str, cidr_option: str, cidr: str) -> str | None:
    """The gateway: an IPv4 host address inside ``cidr``'s network, other than the address itself."""
    if gateway is None:
        return None
    try:
        gw = ipaddress.IPv4Address(str(gateway).strip())
    except ValueError:
        return "%s: %r is not an IPv4 address" % (option, gateway)
    if cidr is None or check_vm_cidr(cidr_option, cidr):
        return None
    iface = ipaddress.IPv4Interface(str(cidr).strip())
    net = iface.network
    if gw not in net or gw in (net.network_address, net.broadcast_address):
        return "%s: %s is not a host address inside the network %s of %s" % (option, gateway, net, cidr_option)
    if gw == iface.ip:
        return "%s: %s is the same address as %s" % (option, gateway, cidr_option)
    return None


def normalize_cidr(value: Any) -> Any:
    """``192.0.2.101/24`` in canonical form (strips spaces), or the input when it is not a CIDR."""
    try:
        return str(ipaddress.IPv4Interface(str(value).strip()))
    except ValueError:
        return value


def ip_of(cidr: str) -> str | None:
    return str(cidr).strip().split("/", maxsplit=1)[0] if cidr else None


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(option: str, value: Any) -> str | None:
    """An address ``local@domain.tld`` (the platform wants a dot in the domain); empty is allowed."""
    if value is None or value == "":
        return None
    if not _EMAIL_RE.match(str(value)):
        return "%s: %r is not an e-mail address" % (option, value)
    return None


def check_port(option: str, value: Any) -> str | None:
    if value is None:
        return None
    if not 1 <= value <= 65535:
        return "%s: %s is not a TCP port (1-65535)" % (option, value)
    return None


def parse_ip_range(option: str, value: Any) -> tuple[Any, str | None]:
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


# ---- options and API fields (here, not in _module: the role's input filter uses them without the client) ----

def pick(params: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The subset of ``params`` named in ``names`` that the user set (not None)."""
    return {name: params[name] for name in names if params.get(name) is not None}


def to_api(values: Any, mapping: dict[str, str]) -> dict[str, Any]:
    """Rename option names to API field names with ``mapping`` (option -> field)."""
    return {mapping[key]: value for key, value in values.items() if key in mapping}


def from_api(fields: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Rename API field names to option names (inverse of ``to_api``), keeping only mapped ones."""
    return {option: fields.get(field) for option, field in mapping.items() if field in (fields or {})}


def meta_data(data: Any) -> dict[str, Any]:
    """The ``meta_data`` object of the snapshot/daemon endpoints (tolerates its absence)."""
    if isinstance(data, dict) and isinstance(data.get("meta_data"), dict):
        return data["meta_data"]
    return data if isinstance(data, dict) else {}
