# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import socket

from ansible_collections.tos.cloud.plugins.modules import report_mail
from ansible_collections.tos.cloud.plugins.modules.report_mail import build_message
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_plain_module


def params(**kw):
    base = dict(to=["ops@example.com", "oncall@example.com"], sender="tos@example.com", subject="tos: warning, 85",
                body="# report", html_body=None, attachments=[])
    base.update(kw)
    return base


def test_message_has_headers_and_plain_body():
    msg = build_message(params())
    assert msg["To"] == "ops@example.com, oncall@example.com"
    assert msg["From"] == "tos@example.com"
    assert msg["Subject"] == "tos: warning, 85"
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg.get_body(("plain",)).get_content().strip() == "# report"
    assert msg.get_body(("html",)) is None


def test_html_body_is_the_preferred_alternative_and_files_are_attached(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("<html><body>85</body></html>")
    data = tmp_path / "report.json"
    data.write_text('{"score": 85}')
    msg = build_message(params(html_body="<p>85</p>", attachments=[str(page), str(data)]))
    assert msg.get_body().get_content_type() == "text/html"
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert sorted(parts) == ["index.html", "report.json"]
    assert parts["report.json"].get_content_type() == "application/json"
    assert parts["index.html"].get_content().strip() == "<html><body>85</body></html>"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_module(args, capsys, check_mode=False):
    """report_mail.main() with ``args`` (no API client: it talks SMTP); the parsed result."""
    return json.loads(run_plain_module(report_mail.main, args, capsys, check_mode=check_mode))


def test_a_failed_send_is_not_a_change(capsys):
    args = dict(params(), smtp_host="127.0.0.1", smtp_port=_free_port(), timeout=5)
    result = run_module(args, capsys)
    assert result["failed"] and result["changed"] is False
    assert "Could not send the mail through 127.0.0.1" in result["msg"]
    check = run_module(args, capsys, check_mode=True)
    assert not check.get("failed") and check["changed"] is True
