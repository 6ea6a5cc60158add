# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets out of text, in every form a secret takes on its way into a message.

ansible-core's ``no_log`` masks the literal value of a secret option.  A secret also reaches text
escaped: requests quotes the ``repr()`` of a header value (``'Bearer tok\\n'``), JSON doubles the
backslashes again, a URL percent-encodes it.  Masking the secret's core (without surrounding
whitespace) and its escaped forms catches all of these.  Used by the client (manager text that echoes
the token), TosModule (results and unexpected failures), the in-process action and the inventory plugin;
and the comparison of secrets the API returns (constant time, masks read as "not revealed").
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover
    pass

MASK = "********"
# Shorter values are not masked: masking "a" or "1" everywhere would destroy every message.
MIN_LENGTH = 4


def secret_forms(secret: str) -> list[str]:
    """Every form of ``secret`` that can appear in text, longest first."""
    if not isinstance(secret, str):
        secret = "" if secret is None else str(secret)
    forms = set()
    for value in (secret, secret.strip()):
        if len(value) < MIN_LENGTH:
            continue
        forms.add(value)
        escaped = repr(value)[1:-1]
        forms.add(escaped)
        forms.add(repr(escaped)[1:-1])  # repr() of a repr(): a traceback quoting an exception message
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(json.dumps(json.dumps(value))[2:-2])  # JSON inside JSON (-vvv prints results as JSON)
        forms.add(quote(value, safe=""))
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True)


def all_forms(secrets: Iterable[str]) -> list[str]:
    forms = set()
    for secret in secrets or ():
        forms.update(secret_forms(secret))
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by the mask."""
    if not isinstance(text, str) or not secrets:
        return text
    for form in all_forms(secrets):
        if form in text:
            text = text.replace(form, MASK)
    return text


def redact_value(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (dicts, lists, strings at any depth, keys too) with every secret masked."""
    if not secrets:
        return value
    forms = all_forms(secrets)
    if not forms:
        return value
    return _walk(value, forms)


def _walk(value: Any, forms: Iterable[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            if form in value:
                value = value.replace(form, MASK)
        return value
    if isinstance(value, dict):
        return {_walk(k, forms): _walk(v, forms) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(item, forms) for item in value]
    if isinstance(value, tuple):
        return tuple(_walk(item, forms) for item in value)
    return value


# ---- comparing secrets the API returns -----------------------------------------------------------

def same_secret(current: Any, desired: Any) -> Any:
    """Compare two secrets in constant time; never returns or logs either of them."""
    current = "" if current is None else str(current)
    desired = "" if desired is None else str(desired)
    return hmac.compare_digest(current.encode("utf-8"), desired.encode("utf-8"))


def secret_hidden(value: Any) -> Any:
    """True when the API did not reveal a secret (absent, or a mask such as ``******``)."""
    if value is None:
        return True
    text = str(value)
    return bool(text) and set(text) <= {"*"}
