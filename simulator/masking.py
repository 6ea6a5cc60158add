"""Masking of secrets before anything is logged."""
from __future__ import annotations

import re
from typing import Any

MASK = "********"
# Whole field names only: "smtp_password" and "api_token" are secrets, "token_expire_second" and
# "password_complexity_policy" are settings whose values tests need to read.
SECRET_KEY = re.compile(r"(^|_)(pass|password|passwd|pwd|token|secret)$", re.IGNORECASE)


def mask(value: Any) -> Any:
    """A copy of a JSON-like value with every field named like a secret replaced by MASK."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and SECRET_KEY.search(k) else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value
