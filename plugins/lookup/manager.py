# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: manager
short_description: The tos manager's version and members
version_added: 1.0.0
author:
  - tos.cloud maintainers (@tos-cloud)
description:
  - Returns the manager's version (parsed as M(tos.cloud.system_info) parses it) and its members - the leader,
    the candidates and whether it is ready.
  - Asks C(system/version) and C(system/member/list), each at most once per play (see O(cache)).
  - Takes no term; C(lookup('tos.cloud.manager')) returns one dictionary.
extends_documentation_fragment:
  - tos.cloud.connection.LOOKUP
"""

EXAMPLES = r"""
- name: Stop unless the manager is ready
  ansible.builtin.assert:
    that: lookup('tos.cloud.manager').members.ready
    fail_msg: "The manager is not ready (leader {{ lookup('tos.cloud.manager').members.leader }})"

- name: Name a file after the platform version
  ansible.builtin.debug:
    msg: "backup-{{ lookup('tos.cloud.manager').version.version }}.tar"
"""

RETURN = r"""
_list:
  description: One dictionary.
  type: list
  elements: dict
  contains:
    version:
      description: The version string and its parts.
      type: dict
      contains:
        raw: {description: "The version string as the manager gives it.", type: str}
        version: {description: "The version, for example V(3.2.5.rc2).", type: str}
        go_version: {description: The Go version it was built with., type: str}
        platform: {description: "The build platform, for example V(linux/amd64).", type: str}
        commits: {description: Source commits by label., type: dict}
    members:
      description: The manager's members.
      type: dict
      contains:
        leader: {description: The leader's address., type: str}
        candidates: {description: Every member's address., type: list, elements: str}
        ready: {description: Whether the manager is ready., type: bool}
"""

from ansible.errors import AnsibleLookupError

from ansible_collections.tos.cloud.plugins.modules.system_info import parse_version
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import TosLookup

VERSION = "/v1/system/version"
MEMBERS = "/v1/system/member/list"


class LookupModule(TosLookup):

    def ask(self, client, terms):
        if terms:  # the manager is one: a term would be ignored, so it is a mistake (a cluster or host lookup meant?)
            raise AnsibleLookupError("tos.cloud.manager takes no term (given: %d); use tos.cloud.cluster or "
                                     "tos.cloud.host to look up a cluster or a host." % len(terms))
        return [describe(client)]


def describe(client):
    version = client.get(VERSION) or {}
    members = client.get(MEMBERS) or {}
    return {
        "version": parse_version(version.get("version")),
        "members": {
            "leader": members.get("leader"),
            "candidates": list(members.get("candidates") or []),
            "ready": bool(members.get("ready")),
        },
    }
