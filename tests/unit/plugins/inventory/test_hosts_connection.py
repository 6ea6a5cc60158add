# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin's connection options go through the client's own checks, and a fail-over is
shown with the plugin's display (the real client, a local HTTP server or no request at all)."""

from __future__ import annotations

import socket

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.tos.cloud.plugins.inventory import hosts as plugin_module


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(plugin_module.display, "warning", lambda msg, *a, **kw: seen.append(msg))
    for name in ("TOS_API_URL", "TOS_API_TOKEN", "TOS_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return seen


def parse(tmp_path, text):
    path = tmp_path / "conn.tos.yml"
    path.write_text("plugin: tos.cloud.hosts\nfetch_workers: 1\n" + text, encoding="utf-8")
    inventory = InventoryData()
    inventory_loader.get("tos.cloud.hosts").parse(inventory, DataLoader(), str(path), cache=False)
    return inventory


@pytest.mark.parametrize("text, says", [
    ("api_url: 'http://'\n", "api_url (TOS_API_URL) entry 'http://' has no host name"),
    ("api_url: 'http://127.0.0.1:99999'\n", "port that is not a number from 1 to 65535"),
    ("api_url: 'http://192.0.2.10:9990'\ntimeout: 0\n", "timeout (TOS_TIMEOUT): 0"),
    ("api_url: 'http://192.0.2.10:9990'\napi_token: 'very secret'\n", "api_token (TOS_API_TOKEN)"),
])
def test_bad_connection_options_fail_the_parse_before_any_request(tmp_path, warnings, text, says):
    with pytest.raises(AnsibleParserError) as caught:
        parse(tmp_path, text)
    assert says in str(caught.value) and "very secret" not in str(caught.value)


def test_timeout_from_the_environment_is_checked(tmp_path, warnings, monkeypatch):
    monkeypatch.setenv("TOS_TIMEOUT", "-3")
    with pytest.raises(AnsibleParserError, match=r"timeout \(TOS_TIMEOUT\): -3"):
        parse(tmp_path, "api_url: 'http://192.0.2.10:9990'\n")


def test_failover_is_a_warning_naming_both_urls(tmp_path, warnings, httpserver):
    httpserver.expect_request("/v1/cluster/list").respond_with_json(
        {"status_code": 0, "message_en": "success", "message_cn": "成功", "data": {"list": [], "total_count": 0}})
    alive = httpserver.url_for("/").rstrip("/")
    dead = "http://127.0.0.1:%d" % free_port()  # nothing listens there
    parse(tmp_path, "api_url: ['%s', '%s/v1']\n" % (dead, alive))
    failovers = [w for w in warnings if "failed over" in w]
    assert len(failovers) == 1, warnings
    assert dead in failovers[0] and alive in failovers[0]


def free_port():
    """A port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
