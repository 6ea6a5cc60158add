"""playbooks/inspect.yml mailing the report (tos.cloud.report_mail) through a local SMTP sink."""
from __future__ import annotations

import email
import json
import socket
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import Sim


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture()
def smtp() -> Any:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def cluster(sim: Sim) -> str:
    sim.reset()
    run = sim.playbook("bringup.yml", extra_vars={
        "cluster_bringup_clusters": [{"name": "mail-c", "seed_ip": "203.0.113.11"}],
        "cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}})
    assert run.rc == 0, run
    return "mail-c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_report_is_mailed_with_html_body_and_the_three_files(sim: Sim, cluster: str, smtp: Any) -> None:
    port, sink = smtp
    report = sim.tmp / "mailed"
    run = sim.playbook("inspect.yml", extra_vars={
        "inspection_report_clusters": [cluster], "inspection_report_dir": str(report),
        "inspection_report_mail_to": ["ops@example.com", "oncall@example.com"],
        "inspection_report_mail_from": "tos-report@example.com",
        "inspection_report_smtp_host": "127.0.0.1", "inspection_report_smtp_port": port})
    assert run.rc == 0, run
    assert len(sink.messages) == 1
    rcpts, msg = sink.messages[0]
    model = json.loads((report / "report.json").read_text())
    assert sorted(rcpts) == ["oncall@example.com", "ops@example.com"]
    assert msg["From"] == "tos-report@example.com"
    assert msg["Subject"] == (f"{model['title']}: {model['summary']['status']}, lowest score "
                              f"{model['summary']['score']}, {model['summary']['fault']} fault(s), "
                              f"{model['summary']['alarm']} alarm(s)")
    assert msg.get_body(("plain",)).get_content().startswith(f"# {model['title']}")
    assert "<svg" in msg.get_body(("html",)).get_content()
    attachments = {part.get_filename(): part for part in msg.iter_attachments()}
    assert sorted(attachments) == ["index.html", "report.json", "report.md"]
    assert json.loads(attachments["report.json"].get_content())["clusters"][0]["name"] == cluster


def test_unreachable_smtp_server_fails_with_where_and_why(sim: Sim, cluster: str) -> None:
    port = free_port()
    run = sim.playbook("inspect.yml", extra_vars={
        "inspection_report_clusters": [cluster], "inspection_report_inspect": False,
        "inspection_report_dir": str(sim.tmp / "unsent"), "inspection_report_mail_to": ["ops@example.com"],
        "inspection_report_smtp_host": "127.0.0.1", "inspection_report_smtp_port": port,
        "inspection_report_smtp_username": "reporter", "inspection_report_smtp_password": "s3cret-pw"})
    assert run.rc != 0, run
    assert f"Could not send the mail through 127.0.0.1:{port}" in run.out, run
    assert "s3cret-pw" not in run.out


def test_check_mode_sends_no_mail(sim: Sim, cluster: str, smtp: Any) -> None:
    port, sink = smtp
    run = sim.playbook("inspect.yml", "--check", extra_vars={
        "inspection_report_clusters": [cluster], "inspection_report_dir": str(sim.tmp / "checked"),
        "inspection_report_mail_to": ["ops@example.com"],
        "inspection_report_smtp_host": "127.0.0.1", "inspection_report_smtp_port": port})
    assert run.rc == 0, run
    assert sink.messages == []
    assert not (sim.tmp / "checked").exists()


def test_formats_given_as_a_comma_separated_string_are_written_and_attached(sim: Sim, cluster: str, smtp: Any) -> None:
    """An AWX survey's text answer, or -e inspection_report_formats=json,markdown: a list of two formats."""
    port, sink = smtp
    report = sim.tmp / "as-string"
    run = sim.playbook("inspect.yml", "-e", "inspection_report_formats=json,markdown", extra_vars={
        "inspection_report_clusters": [cluster], "inspection_report_inspect": False,
        "inspection_report_dir": str(report), "inspection_report_mail_to": ["ops@example.com"],
        "inspection_report_smtp_host": "127.0.0.1", "inspection_report_smtp_port": port})
    assert run.rc == 0, str(run)
    assert sorted(p.name for p in report.iterdir() if not p.name.startswith(".")) == ["report.json", "report.md"]
    attachments = sorted(part.get_filename() for part in sink.messages[0][1].iter_attachments())
    assert attachments == ["report.json", "report.md"]


def test_drift_formats_given_as_a_comma_separated_string_are_written_and_attached(
        sim: Sim, cluster: str, smtp: Any) -> None:
    port, sink = smtp
    report = sim.tmp / "drift-as-string"
    run = sim.playbook("drift.yml", "-e", "drift_report_formats=json,junit", extra_vars={
        "cluster_bringup_clusters": [{"name": cluster, "seed_ip": "203.0.113.11"}], "cluster_bringup_mail": {},
        "cluster_bringup_system_settings": {}, "drift_report_dir": str(report), "drift_report_mail_to": "ops@example.com",
        "drift_report_mail_only_on_drift": False, "drift_report_smtp_host": "127.0.0.1", "drift_report_smtp_port": port})
    assert run.rc == 0, str(run)
    assert sorted(p.name for p in report.iterdir() if not p.name.startswith(".")) == ["junit.xml", "report.json"]
    attachments = sorted(part.get_filename() for part in sink.messages[0][1].iter_attachments())
    assert attachments == ["junit.xml", "report.json"]
