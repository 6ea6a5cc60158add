"""System endpoints: version, manager members, mail settings and the real SMTP test, settings."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import Api


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"ops" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture()
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MAIL = {
    "enabled": True, "asynchronous_send_enabled": True, "sender_mail": "cloud@example.com", "sender_name": "天融信",
    "smtp_server_ip": "127.0.0.1", "smtp_server_port": 25, "smtp_tls_enabled": False, "smtp_account": "ops",
    "smtp_password": "s3cret",
}


def test_version_and_members(api: Api) -> None:
    version = api.ok_get("/v1/system/version")["version"]
    assert version.startswith("3.2.5.rc2 ") and "SRC#" in version
    members = api.ok_get("/v1/system/member/list")
    assert members == {"leader": "192.0.2.11", "candidates": ["192.0.2.11", "192.0.2.12", "192.0.2.13"],
                       "ready": True, "alias_source": ""}
    assert api.control("POST", "/_sim/manager", {"leader": "192.0.2.13", "ready": False}).json()["ok"]
    assert api.ok_get("/v1/system/member/list")["leader"] == "192.0.2.13"
    assert api.ok_get("/v1/system/member/list")["ready"] is False
    assert api.control("POST", "/_sim/manager", {"leader": None}).json()["ok"]
    assert api.ok_get("/v1/system/member/list")["leader"] == ""
    assert api.control("POST", "/_sim/manager", {"leader": "198.51.100.1"}).status_code == 400


def test_mail_settings_round_trip_with_the_password_in_clear(api: Api) -> None:
    assert api.ok_get("/v1/system/mail_setting/inspect")["enabled"] is False
    assert api.ok_post("/v1/system/mail_setting/update", MAIL) == MAIL
    assert api.ok_get("/v1/system/mail_setting/inspect") == MAIL
    partial = api.ok_post("/v1/system/mail_setting/update", {"smtp_server_port": 587, "smtp_password": None})
    assert partial == dict(MAIL, smtp_server_port=587)  # null = not sent: the password is kept
    refused = api.post("/v1/system/mail_setting/update", {"smtp_server_ip": ""})
    assert refused["scode"] == 1003 and "smtp_server_ip" in refused["message"]


def test_mail_test_really_sends_over_smtp(api: Api, smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    api.ok_post("/v1/system/mail_setting/update", dict(MAIL, smtp_server_port=port))
    assert api.ok_post("/v1/system/mail_setting/test", {"receiver_email": "admin@example.org"}) == {}
    assert len(sink.messages) == 1
    assert sink.messages[0].rcpt_tos == ["admin@example.org"] and sink.messages[0].mail_from == "cloud@example.com"
    assert b"test mail" in sink.messages[0].content


def test_mail_test_uses_the_settings_sent_without_saving_them(api: Api, smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    body = dict(MAIL, smtp_server_port=port, receiver_email="x@example.org")
    assert api.post("/v1/system/mail_setting/test", body)["scode"] == 0
    assert len(sink.messages) == 1
    assert api.ok_get("/v1/system/mail_setting/inspect")["smtp_server_ip"] == ""


def test_mail_test_reports_a_wrong_password(api: Api, smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    body = dict(MAIL, smtp_server_port=port, smtp_password="wrong", receiver_email="x@example.org")
    failed = api.post("/v1/system/mail_setting/test", body)
    assert failed["scode"] == 8002 and "authentication failed" in failed["message"]
    assert "wrong" not in failed["message"] and sink.messages == []


def test_mail_test_reports_connection_refused(api: Api) -> None:
    body = dict(MAIL, smtp_server_port=free_port(), receiver_email="x@example.org")
    failed = api.post("/v1/system/mail_setting/test", body)
    assert failed["scode"] == 8001 and "connection refused" in failed["message"]
    assert api.post("/v1/system/mail_setting/test", {"receiver_email": "x@example.org"})["scode"] == 1003  # no server


def test_system_settings_round_trip(api: Api, cluster: str) -> None:
    before = api.ok_get("/v1/system/setting/inspect", cluster_uuid=cluster)
    assert before["password_special_char"] and before["access_control_policy"]["time_access_control_policy"] is None
    update = {
        "cluster_uuid": cluster,
        "login_policy": {"login_fail_retry_times": 3},
        "password_complexity_policy": {"password_minimum_length": 12, "password_must_include_special_char": True},
        "access_control_policy": {
            "ip_access_control_policy": {"enabled": True, "whitelist": True,
                                         "ip_ranges": {"ranges": [{"start": "192.0.2.1", "end": "192.0.2.50"}]}},
            "time_access_control_policy": {"enabled": True, "ranges": [{"weekdays": [5, 1], "start": "08:00", "end": "18:00"}]},
        },
        "front_style_setting": {"navigate_color": "#003366"},
    }
    after = api.ok_post("/v1/system/setting/update", update)
    assert "password_special_char" not in after
    assert after["login_policy"] == dict(before["login_policy"], login_fail_retry_times=3)
    assert after["password_complexity_policy"]["password_minimum_length"] == 12
    assert after["password_complexity_policy"]["password_expired_warn_age"] == 0
    assert after["access_control_policy"] == {
        "ip_access_control_policy": {"ip_ranges": {"ranges": [{"start": "192.0.2.1", "end": "192.0.2.50"}]},
                                     "whitelist": True, "enabled": True},
        "time_access_control_policy": {"enabled": True, "whitelist": True,
                                       "ranges": [{"weekdays": [1, 5], "start": "08:00", "end": "18:00"}]},
    }
    assert after["front_style_setting"]["login_url"] == before["front_style_setting"]["login_url"]
    again = api.ok_get("/v1/system/setting/inspect", cluster_uuid=cluster)
    assert {k: v for k, v in again.items() if k != "password_special_char"} == after
    # a blacklist: the same ranges, refused instead of allowed
    api.ok_post("/v1/system/setting/update", {"cluster_uuid": cluster,
                                              "access_control_policy": {"ip_access_control_policy": {"whitelist": False}}})
    policy = api.ok_get("/v1/system/setting/inspect", cluster_uuid=cluster)["access_control_policy"]
    assert policy["ip_access_control_policy"]["whitelist"] is False and policy["ip_access_control_policy"]["ip_ranges"]["ranges"]


def test_system_settings_refuse_incoherent_policies(api: Api, cluster: str) -> None:
    lockout = api.post("/v1/system/setting/update", {
        "cluster_uuid": cluster,
        "access_control_policy": {"ip_access_control_policy": {"enabled": True, "whitelist": True}}})
    assert lockout["scode"] == 1003 and "lock every client out" in lockout["message"]
    backwards = api.post("/v1/system/setting/update", {
        "cluster_uuid": cluster, "access_control_policy": {"ip_access_control_policy": {
            "ip_ranges": {"ranges": [{"start": "192.0.2.9", "end": "192.0.2.1"}]}}}})
    assert backwards["scode"] == 1003
    assert "ranges[0].end" in backwards["message"]
    # nothing was stored by the refused updates
    assert api.ok_get("/v1/system/setting/inspect", cluster_uuid=cluster)["access_control_policy"]["ip_access_control_policy"] \
        == {"ip_ranges": {"ranges": []}, "whitelist": False, "enabled": False}


def test_settings_carry_the_mail_setting(api: Api, cluster: str) -> None:
    api.ok_post("/v1/system/mail_setting/update", MAIL)
    assert api.ok_get("/v1/system/setting/inspect", cluster_uuid=cluster)["mail_setting"] == MAIL
    api.ok_post("/v1/system/setting/update", {"cluster_uuid": cluster, "mail_setting": {"sender_name": "ops"}})
    assert api.ok_get("/v1/system/mail_setting/inspect")["sender_name"] == "ops"
