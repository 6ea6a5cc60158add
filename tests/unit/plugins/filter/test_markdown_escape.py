# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""report.md (also the text body of the report mail) carries no HTML and no link from the manager's data."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from ansible_collections.tos.cloud.plugins.filter.inspection_report_model import inspection_report_model
from ansible_collections.tos.cloud.plugins.filter.markdown_escape import FilterModule, markdown_escape

TEMPLATES = Path(__file__).resolve().parents[4] / "roles" / "inspection_report" / "templates"
HOSTILE = "rp-r<svg onload=alert(1)>"


def test_every_string_is_escaped_at_any_depth_keys_too():
    value = {"<b>": ["[x](javascript:y)", {"n": "a\\<b"}], "n": 3, "none": None}
    assert markdown_escape(value) == {"\\<b\\>": ["\\[x\\](javascript:y)", {"n": "a\\\\\\<b"}], "n": 3, "none": None}
    assert FilterModule().filters()["markdown_escape"] is markdown_escape


def test_report_md_shows_a_hostile_cluster_name_as_text_not_html():
    hosts = [{"uuid": "u1", "name": "h<img src=x onerror=y>", "ip": "192.0.2.11", "roles": ["hyper"],
              "maintenance": False}]
    finding = {"item": "x", "name": "<script>", "name_cn": "", "target": HOSTILE, "status": "fault", "value": "1",
               "threshold": "", "message": "<a href=x>see</a>", "message_cn": ""}
    inspection = {"state": 2, "state_name": "finished", "finishedPercent": 100, "score": 50, "normal": 0, "alarm": 0,
                  "fault": 1, "start_time": 1700000000, "end_time": 1700000060, "system": [finding], "network": [],
                  "hardware": []}
    model = inspection_report_model([{"cluster": {"name": HOSTILE, "uuid": "c1", "desc": "", "hosts": hosts},
                                      "inspection": inspection, "upgrade": None}], generated="now")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    env.filters["tos.cloud.markdown_escape"] = markdown_escape
    text = env.get_template("report.md.j2").render(inspection_report_model=model)
    assert "## Cluster rp-r\\<svg onload=alert(1)\\>" in text
    # no raw tag left: every '<' is backslash-escaped
    assert not re.search(r"(?<!\\)<[a-zA-Z/]", text), text
