"""The two response envelopes of the platform.

Default (the newer one, most examples of the documents)::

    {"scode", "desc", "message", "message_cn", "messageCn", "stack", "data"}

Legacy (``--legacy-envelope``, the older examples)::

    {"status_code", "message_en", "message_cn", "data"}
"""
from __future__ import annotations

from typing import Any

from . import readings
from .errors import DESCRIPTIONS, ApiError, Code


def success(data: Any, legacy: bool) -> dict[str, Any]:
    answer = build(0, "success", "成功", data, legacy)
    if not legacy and not readings.current().has("messagecn"):
        answer["messageCn"] = ""  # every success example of the documents
    return answer


def failure(error: ApiError, legacy: bool) -> dict[str, Any]:
    desc = DESCRIPTIONS.get(error.code, "") if isinstance(error.code, Code) else ""
    return build(int(error.code), error.message_en, error.message_cn, None, legacy, desc)


def build(
    code: int,
    message_en: str,
    message_cn: str,
    data: Any,
    legacy: bool,
    desc: str = "",
) -> dict[str, Any]:
    if legacy:
        return {"status_code": code, "message_en": message_en, "message_cn": message_cn, "data": data}
    return {
        "scode": code,
        "desc": desc,
        "message": message_en,
        "message_cn": message_cn,
        "messageCn": message_cn,
        "stack": None,
        "data": data,
    }
