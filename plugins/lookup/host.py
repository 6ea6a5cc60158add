# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: host
short_description: A tos host by name or address - its cluster, roles and installed versions
version_added: 1.0.0
author:
  - tos.cloud maintainers (@tos-cloud)
description:
  - Returns, for each host name, management or storage address or UUID given, the physical host as its
    cluster's topology describes it - its addresses, the cluster it belongs to, its enabled services
    (roles), whether it is in maintenance, and the installed version of each service type.
  - Looks through the clusters in the manager's order; only hosts that belong to a cluster are known to the
    API. Each C(cluster/list), C(cluster/get) and C(upgrade_package/list) is asked at most once per play,
    shared with P(tos.cloud.cluster#lookup) (see O(cache)).
options:
  _terms:
    description: Host names, management or storage addresses, or UUIDs.
    type: list
    elements: str
    required: true
  versions:
    description:
      - Also read the installed version of each service type (C(upgrade_package/list), one request per
        cluster looked through). V(false) returns RV(_list[].versions) as V(null).
    type: bool
    default: true
  missing:
    description:
      - What to do with a host no cluster has - V(error) fails; V(warn) warns and returns V(null) for it;
        V(ignore) returns V(null) silently.
    type: str
    default: error
    choices: [error, warn, ignore]
extends_documentation_fragment:
  - tos.cloud.connection.LOOKUP
"""

EXAMPLES = r"""
- name: Which cluster does 192.0.2.12 belong to, and what does it run
  ansible.builtin.debug:
    msg: >-
      {{ h.name }} is in {{ h.cluster.name }}, runs {{ h.roles | join(', ') }},
      compute {{ h.versions.compute | default('-') }}
  vars:
    h: "{{ lookup('tos.cloud.host', '192.0.2.12') }}"

- name: Skip hosts in maintenance (inventory hosts named after the platform's host names)
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is in maintenance"
  when: lookup('tos.cloud.host', inventory_hostname, versions=false).maintenance
"""

RETURN = r"""
_list:
  description: One entry per term, in order (V(null) for an unknown host with O(missing) other than V(error)).
  type: list
  elements: dict
  contains:
    name: {description: Host name., type: str}
    uuid: {description: Host UUID., type: str}
    ip: {description: Management address., type: str}
    storage_ip: {description: Storage address., type: str}
    backup_ip: {description: Backup address., type: str}
    roles: {description: "Enabled services: V(manager), V(center), V(usm), V(vsm), V(network), V(hyper).", type: list, elements: str}
    maintenance: {description: Whether the host is in maintenance mode., type: bool}
    cluster:
      description: The cluster the host belongs to.
      type: dict
      contains:
        name: {description: Its name., type: str}
        uuid: {description: Its UUID., type: str}
    versions:
      description: Installed version by service type (V(compute), V(storage), V(cloud)), V(null) with O(versions=false).
      type: dict
"""

from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    describe_node,
    find_physical_host,
    get_cluster,
    list_clusters,
)
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import read_package_list
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import TosLookup


def locate(client, clusters, key):
    """``(cluster entry, topology node)`` of the physical host ``key``, or ``(None, None)``."""
    for cluster in clusters:
        node = find_physical_host(get_cluster(client, cluster["uuid"]), key)
        if node is not None:
            return cluster, node
    return None, None


def describe(client, cluster, node, versions):
    view = describe_node(node)
    view.pop("agent_status", None)
    view["cluster"] = {"name": cluster["name"], "uuid": cluster["uuid"]}
    view["versions"] = None
    if versions:
        entry = read_package_list(client, cluster["uuid"])["hosts"].get(view["ip"]) or {}
        view["versions"] = entry.get("type_version") or {}
    return view


class LookupModule(TosLookup):

    def ask(self, client, terms):
        versions = self.get_option("versions")
        clusters = list_clusters(client)
        out = []
        for term in terms:
            cluster, node = locate(client, clusters, str(term))
            out.append(describe(client, cluster, node, versions) if node is not None else self.not_found(
                "%s: no host of the %d cluster(s) is named %r or has that address or UUID." % (
                    self.ansible_name, len(clusters), term)))
        return out
