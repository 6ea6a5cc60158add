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
  - Optionally also returns the system settings (C(/v1/system/setting/inspect)), with the SMTP password masked.
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
      - Also read the system settings (login, password and access control policies, mail settings).
      - The settings API is addressed through a cluster although the settings are system-wide; see O(cluster).
      - Without any cluster on the manager, RV(settings) is null and the module warns.
    type: bool
    default: false
  cluster:
    description:
      - Name (exact) or UUID of the cluster to read the system settings through, with O(gather_settings=true).
      - Defaults to the first cluster of the cluster list.
    type: str
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
  description:
    - The system settings as the API returns them, with C(mail_setting.smtp_password) masked.
    - Null when the manager has no cluster yet.
  returned: when O(gather_settings=true)
  type: dict
"""

import re

from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._topology import list_clusters, require_cluster

_WORD_RE = re.compile(r"\S+")
SECRETS = ("smtp_password",)


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
    with tm.scope("read the manager version"):
        version = tm.client.get("/v1/system/version") or {}
    with tm.scope("read the manager members"):
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
        result["settings"] = read_settings(tm)
    tm.exit(**result)


def read_settings(tm):
    """The system settings, asked through the cluster named by ``cluster`` or else the first one."""
    if tm.params["cluster"]:
        cluster = require_cluster(tm, tm.params["cluster"])
    else:
        with tm.scope("find a cluster to read the system settings through"):
            cluster = next(iter(list_clusters(tm.client)), None)
        if cluster is None:
            tm.warn("The manager has no cluster yet and the system settings API needs one: settings are not returned.")
            return None
    with tm.scope("read the system settings"):
        return tm.client.get("/v1/system/setting/inspect", {"cluster_uuid": cluster["uuid"]}) or {}


def main():
    TosModule(argument_spec=dict(
        gather_settings=dict(type="bool", default=False),
        cluster=dict(type="str"),
    ), secrets=SECRETS).execute(run)


if __name__ == "__main__":
    main()
