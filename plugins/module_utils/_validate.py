# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input checks run before any API request. Each returns an error message naming the option, or None.

Modules collect the messages of every check and fail once with all of them (``first_error``)
so a user fixes every mistake in one round.
"""

from __future__ import annotations

import ipaddress


def check_ip(option, value):
    """``value`` must be an IPv4/IPv6 address without prefix."""
    if value is None:
        return None
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return "%s: %r is not an IP address" % (option, value)
    return None


def check_cidr(option, value):
    """``value`` must be ``address/prefix`` (a host address inside its network, e.g. 192.0.2.10/24)."""
    if value is None:
        return None
    text = str(value)
    if "/" not in text:
        return "%s: %r is not an address in CIDR notation (expected e.g. 192.0.2.10/24)" % (option, value)
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return "%s: %r is not a valid address in CIDR notation (expected e.g. 192.0.2.10/24)" % (option, value)
    return None


def check_gateway(option, gateway, cidr_option, cidr):
    """``gateway`` must be an IP address inside the network of ``cidr`` and not the address itself."""
    if gateway is None:
        return None
    error = check_ip(option, gateway)
    if error:
        return error
    if cidr is None or check_cidr(cidr_option, cidr):
        return None
    iface = ipaddress.ip_interface(str(cidr))
    gw = ipaddress.ip_address(str(gateway))
    if gw not in iface.network:
        return "%s: %s is not inside the network %s of %s" % (option, gateway, iface.network, cidr_option)
    if gw == iface.ip:
        return "%s: %s is the same address as %s" % (option, gateway, cidr_option)
    return None


def check_range(option, value, low, high, low_open=False, high_open=False):
    """``low <= value <= high`` (or strict at an open end)."""
    if value is None:
        return None
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        return "%s: %s is outside the allowed range %s%s, %s%s" % (
            option, value, "(" if low_open else "[", low, high, ")" if high_open else "]")
    return None


def check_name(option, value, max_length=64):
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


def first_error(*messages):
    """Join the messages that are not None into one, or return None."""
    found = [m for m in messages if m]
    if not found:
        return None
    return "Invalid input: " + "; ".join(found) + "."
