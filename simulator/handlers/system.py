"""system/version, member/list, mail settings (inspect, update, test) and system settings."""
from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..mail import send_test_mail
from ..params import Params, parse_ip
from . import route

if TYPE_CHECKING:
    from ..core import Simulator

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PASSWORD_SPECIAL_CHAR = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ~!@#$%^&*_+-="

Reader = Callable[[Params, str], Any]


def _int(low: int, high: int) -> Reader:
    return lambda p, key: p.int(key, minimum=low, maximum=high)


def _bool(p: Params, key: str) -> bool:
    return p.bool(key)


def _text(max_len: int) -> Reader:
    def read(p: Params, key: str) -> str:
        value = p.source.get(key)
        if value == "":
            return ""
        return p.req_str(key, max_len=max_len)

    return read


def _email(p: Params, key: str) -> str:
    value = _text(254)(p, key)
    if value and not EMAIL.match(value):
        raise invalid(p.name(key), f"'{value}' is not an e-mail address", f"'{value}' 不是邮箱地址")
    return value


MAIL_FIELDS: dict[str, Reader] = {
    "enabled": _bool,
    "asynchronous_send_enabled": _bool,
    "sender_mail": _email,
    "sender_name": _text(128),
    "smtp_server_ip": _text(253),
    "smtp_server_port": _int(1, 65535),
    "smtp_tls_enabled": _bool,
    "smtp_account": _text(254),
    "smtp_password": _text(256),
}


# fields where null is a value (no policy, no SNMP target); elsewhere null means "not sent"
NULLABLE = {"time_access_control_policy", "snmps"}


def read_fields(p: Params, fields: dict[str, Reader]) -> dict[str, Any]:
    """The fields present in the request, validated (fields not sent are left out)."""
    return {
        key: reader(p, key)
        for key, reader in fields.items()
        if key in p.source and (p.source[key] is not None or key in NULLABLE)
    }


def merged_mail(sim: Simulator, p: Params) -> dict[str, Any]:
    mail = dict(sim.world.mail)
    mail.update(read_fields(p, MAIL_FIELDS))
    if mail["enabled"] and not mail["smtp_server_ip"]:
        raise invalid(p.name("smtp_server_ip"), "required when the mail setting is enabled", "启用邮箱配置时必须填写")
    return mail


@route("GET", "/v1/system/version", "the platform version string")
def version(sim: Simulator, p: Params) -> dict[str, Any]:
    return {"version": sim.world.platform_version}


@route("GET", "/v1/system/member/list", "manager service members: leader, candidates, ready")
def member_list(sim: Simulator, p: Params) -> dict[str, Any]:
    manager = sim.world.manager
    return {
        "leader": manager["leader"] or "",
        "candidates": list(manager["members"]),
        "ready": bool(manager["ready"]),
        "alias_source": "",
    }


@route("GET", "/v1/system/mail_setting/inspect", "the mail settings (password in clear, like the platform)")
def mail_inspect(sim: Simulator, p: Params) -> dict[str, Any]:
    if p.has("cluster_uuid"):
        sim.world.cluster(p.req_str("cluster_uuid"))
    return dict(sim.world.mail)


@route("POST", "/v1/system/mail_setting/update", "update the mail settings (fields not sent are kept)")
def mail_update(sim: Simulator, p: Params) -> dict[str, Any]:
    sim.world.mail = merged_mail(sim, p)
    return dict(sim.world.mail)


@route("POST", "/v1/system/mail_setting/test", "send a test mail over SMTP", mutating=False)
async def mail_test(sim: Simulator, p: Params) -> dict[str, Any]:
    receiver = p.req_str("receiver_email", max_len=254)
    if not EMAIL.match(receiver):
        raise invalid("receiver_email", f"'{receiver}' is not an e-mail address", f"'{receiver}' 不是邮箱地址")
    cfg = dict(sim.world.mail)
    cfg.update(read_fields(p, MAIL_FIELDS))  # the settings sent are tested, not saved
    if not cfg["smtp_server_ip"]:
        raise invalid("smtp_server_ip", "no SMTP server is configured", "尚未配置 SMTP 服务器")
    await asyncio.to_thread(send_test_mail, cfg, receiver)
    return {}


# --- system settings -----------------------------------------------------------------------------
def _ip_ranges(p: Params, key: str) -> dict[str, Any]:
    container = p.obj(key)
    assert container is not None
    ranges = []
    for i, raw in enumerate(container.list("ranges", required=False)):
        item = container.item("ranges", i, raw)
        start, end = item.req_ip("start"), item.req_ip("end")
        if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise invalid(item.name("end"), f"{end} is lower than start {start}", f"{end} 小于起始地址 {start}")
        ranges.append({"start": start, "end": end})
    return {"ranges": ranges}


def _weekdays(p: Params, key: str) -> list[int]:
    days = p.list(key)
    if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days):
        raise invalid(p.name(key), "must be a list of weekdays 1 (Monday) to 7 (Sunday)", "必须是 1（周一）到 7（周日）的列表")
    return sorted(set(days))


def _hhmm(p: Params, key: str) -> str:
    value = p.req_str(key, max_len=5)
    if not HHMM.match(value):
        raise invalid(p.name(key), f"'{value}' is not a time HH:MM", f"'{value}' 不是 HH:MM 格式的时间")
    return value


def _time_ranges(p: Params, key: str) -> list[dict[str, Any]]:
    ranges = []
    for i, raw in enumerate(p.list(key, required=False)):
        item = p.item(key, i, raw)
        start, end = _hhmm(item, "start"), _hhmm(item, "end")
        if start >= end:
            raise invalid(item.name("end"), f"{end} is not after start {start}", f"{end} 不晚于开始时间 {start}")
        ranges.append({"weekdays": _weekdays(item, "weekdays"), "start": start, "end": end})
    return ranges


IP_POLICY_FIELDS: dict[str, Reader] = {"ip_ranges": _ip_ranges, "whitelist": _bool, "enabled": _bool}
TIME_POLICY_FIELDS: dict[str, Reader] = {"enabled": _bool, "whitelist": _bool, "ranges": _time_ranges}


def _sub(fields: dict[str, Reader], nullable: bool = False) -> Reader:
    """A nested object merged field by field with its current value."""

    def read(p: Params, key: str) -> Any:
        if nullable and p.source.get(key) is None:
            return None
        sub = p.obj(key)
        assert sub is not None
        return read_fields(sub, fields)

    return read


def _snmps(p: Params, key: str) -> list[dict[str, Any]] | None:
    if p.source.get(key) is None:
        return None
    entries = p.list(key, required=False)
    for i, raw in enumerate(entries):
        item = p.item(key, i, raw)
        parse_ip(item.name("ip"), item.req_str("ip"))
    return entries


SETTING_SECTIONS: dict[str, dict[str, Reader]] = {
    "login_policy": {
        "login_fail_retry_times": _int(0, 100),
        "login_fail_punish_seconds": _int(0, 30 * 86400),
        "token_expire_second": _int(60, 10 * 365 * 86400),
    },
    "password_complexity_policy": {
        "password_expire_force_modify": _bool,
        "password_max_expired_age": _int(0, 3650),
        "password_expired_warn_age": _int(0, 3650),
        "password_expired_warn_windows_popup": _bool,
        "password_expired_warn_email_notify": _bool,
        "password_must_include_special_char": _bool,
        "password_minimum_length": _int(1, 128),
        "notify_user_password_when_create": _bool,
    },
    "multi_authentication_setting": {"enabled": _bool, "authentication_type": _text(64)},
    "access_control_policy": {
        "ip_access_control_policy": _sub(IP_POLICY_FIELDS),
        "time_access_control_policy": _sub(TIME_POLICY_FIELDS, nullable=True),
    },
    "front_style_setting": {
        "login_image": _text(100_000),
        "navigate_color": _text(32),
        "main_body_color": _text(32),
        "login_url": _text(2048),
    },
    "storage_setting": {"hop_hc": _int(0, 16)},
    "snmp_settings": {"snmps": _snmps},
}
TIME_POLICY_DEFAULT: dict[str, Any] = {"enabled": False, "whitelist": True, "ranges": []}


def settings_view(sim: Simulator, with_special_chars: bool) -> dict[str, Any]:
    s = sim.world.settings
    view: dict[str, Any] = {
        "login_policy": s["login_policy"],
        "password_complexity_policy": s["password_complexity_policy"],
        "mail_setting": sim.world.mail,
        "multi_authentication_setting": s["multi_authentication_setting"],
        "access_control_policy": s["access_control_policy"],
        "front_style_setting": s["front_style_setting"],
        "storage_setting": s["storage_setting"],
        "snmp_settings": s["snmp_settings"],
    }
    if with_special_chars:
        view["password_special_char"] = PASSWORD_SPECIAL_CHAR
    return view


def _merge(current: Any, update: Any) -> Any:
    if isinstance(current, dict) and isinstance(update, dict):
        out = dict(current)
        for key, value in update.items():
            out[key] = _merge(current.get(key), value)
        return out
    return update


@route("GET", "/v1/system/setting/inspect", "system settings (system-wide; cluster_uuid checked)")
def setting_inspect(sim: Simulator, p: Params) -> dict[str, Any]:
    sim.world.cluster(p.req_str("cluster_uuid"))
    return settings_view(sim, with_special_chars=True)


@route("POST", "/v1/system/setting/update", "update the sections sent, field by field")
def setting_update(sim: Simulator, p: Params) -> dict[str, Any]:
    sim.world.cluster(p.req_str("cluster_uuid"))
    updates: dict[str, Any] = {}
    for section, fields in SETTING_SECTIONS.items():
        sub = p.obj(section, required=False)
        if sub is not None:
            updates[section] = read_fields(sub, fields)
    mail_in = p.obj("mail_setting", required=False)
    mail = merged_mail(sim, mail_in) if mail_in is not None else sim.world.mail
    settings = _merge(sim.world.settings, updates)
    access = settings["access_control_policy"]
    if access.get("time_access_control_policy") is not None:
        access["time_access_control_policy"] = _merge(TIME_POLICY_DEFAULT, access["time_access_control_policy"])
    ip_policy = access["ip_access_control_policy"]
    if ip_policy["enabled"] and ip_policy["whitelist"] and not ip_policy["ip_ranges"]["ranges"]:
        raise invalid(
            "access_control_policy.ip_access_control_policy",
            "an enabled whitelist without any IP range would lock every client out",
            "启用白名单但没有任何 IP 段会拒绝所有客户端",
        )
    policy = settings["password_complexity_policy"]
    if 0 < policy["password_max_expired_age"] < policy["password_expired_warn_age"]:
        raise invalid(
            "password_complexity_policy.password_expired_warn_age",
            "must not exceed password_max_expired_age",
            "不能大于 password_max_expired_age",
        )
    sim.world.settings = settings
    sim.world.mail = mail
    return settings_view(sim, with_special_chars=False)
