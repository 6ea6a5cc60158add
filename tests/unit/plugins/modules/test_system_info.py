# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.modules.system_info import parse_version


def test_parse_version_of_the_documented_string():
    raw = ("0.1  @go1.11.1 linux/amd64  SRC#a7b9ecf9f35bde6cf7d7b0ad2531e5d4d33073c5  "
           "CMN#6a7e043276b14099b653b06c31e9df90630d4be3")
    parsed = parse_version(raw)
    assert parsed["version"] == "0.1"
    assert parsed["go_version"] == "go1.11.1"
    assert parsed["platform"] == "linux/amd64"
    assert parsed["commits"] == {"SRC": "a7b9ecf9f35bde6cf7d7b0ad2531e5d4d33073c5",
                                 "CMN": "6a7e043276b14099b653b06c31e9df90630d4be3"}
    assert parsed["raw"] == raw


def test_parse_version_of_a_bare_number():
    assert parse_version("3.2.5")["version"] == "3.2.5"
    assert parse_version("")["version"] == ""
    assert parse_version(None)["commits"] == {}
