#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_info
short_description: Read the manager's version and membership
version_added: 0.1.0
description:
  - Reads C(/v1/system/version) and C(/v1/system/member/list) and returns the version (raw and parsed)
    and the manager members (leader, candidates, readiness).
  - Optionally also returns the system settings (C(/v1/system/setting/inspect)).
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.attributes.INFO_MODULE
options:
  gather_settings:
    description:
      - Also read the system settings (login, password and access control policies).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the manager's version and members
  tos.cloud.system_info:
    api_url: http://127.0.0.1:9990
  register: tos_system

- name: Stop unless the manager is ready
  ansible.builtin.assert:
    that: tos_system.members.ready
    fail_msg: "manager not ready, leader {{ tos_system.members.leader }}"
"""

RETURN = r"""
version:
  description: The manager's version.
  returned: always
  type: dict
  contains:
    raw:
      description: The version string as the API returns it.
      type: str
      sample: "0.1  @go1.11.1 linux/amd64  SRC#a7b9ecf9  CMN#6a7e0432"
    version:
      description: The release number, the first word of the raw string.
      type: str
      sample: "0.1"
    go_version:
      description: The Go toolchain the manager was built with, if the string names it.
      type: str
      sample: go1.11.1
    platform:
      description: The build platform, if the string names it.
      type: str
      sample: linux/amd64
    commits:
      description: Source commits named in the string (C(SRC#...), C(CMN#...)), by label.
      type: dict
      sample: {"SRC": "a7b9ecf9f35bde6cf7d7b0ad2531e5d4d33073c5"}
members:
  description: The manager's members.
  returned: always
  type: dict
  contains:
    leader:
      description: Address of the leader member.
      type: str
      sample: 192.0.2.13
    candidates:
      description: Addresses of all members.
      type: list
      elements: str
      sample: ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
    ready:
      description: Whether the manager reports itself ready.
      type: bool
      sample: true
settings:
  description: The system settings as the API returns them.
  returned: when O(gather_settings=true)
  type: dict
"""

import re

from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule

_WORD_RE = re.compile(r"\S+")


def parse_version(raw):
    """Split ``"0.1  @go1.11.1 linux/amd64  SRC#abc  CMN#def"`` into its parts."""
    raw = raw or ""
    words = _WORD_RE.findall(raw)
    parsed = {"raw": raw, "version": words[0] if words else "", "go_version": None, "platform": None,
              "commits": {}}
    for word in words[1:]:
        if word.startswith("@"):
            parsed["go_version"] = word[1:]
        elif "#" in word:
            label, _sep, commit = word.partition("#")
            parsed["commits"][label] = commit
        elif "/" in word and parsed["platform"] is None:
            parsed["platform"] = word
    return parsed


def run(tm):
    tm.doing("read the manager version")
    version = tm.client.get("/v1/system/version") or {}
    tm.doing("read the manager members")
    members = tm.client.get("/v1/system/member/list") or {}
    result = {
        "version": parse_version(version.get("version")),
        "members": {
            "leader": members.get("leader"),
            "candidates": members.get("candidates") or [],
            "ready": bool(members.get("ready")),
        },
    }
    if tm.params["gather_settings"]:
        tm.doing("read the system settings")
        result["settings"] = tm.client.get("/v1/system/setting/inspect") or {}
    tm.exit(**result)


def main():
    TosModule(argument_spec=dict(gather_settings=dict(type="bool", default=False))).execute(run)


if __name__ == "__main__":
    main()
