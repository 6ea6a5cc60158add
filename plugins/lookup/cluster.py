# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster
short_description: A tos cluster by name - its UUID, hosts, center nodes and leader
version_added: 1.0.0
author:
  - tos.cloud maintainers (@tos-cloud)
description:
  - Returns, for each cluster name (or UUID) given, the cluster as the manager describes it - its UUID, its
    physical hosts with their addresses and roles, its center nodes (cloud-management VMs) and the leader
    among them.
  - A lookup, not the module of the same name (M(tos.cloud.cluster) creates and deletes clusters; this only
    reads). It asks C(cluster/list), C(cluster/get) and C(cluster/cloud/manage), each at most once per play
    however many tasks, hosts and forks ask (see O(cache)).
options:
  _terms:
    description: Cluster names (exact match) or UUIDs.
    type: list
    elements: str
    required: true
  missing:
    description:
      - What to do with a name no cluster has - V(error) fails, naming the known clusters; V(warn) warns
        and returns V(null) for it; V(ignore) returns V(null) silently.
    type: str
    default: error
    choices: [error, warn, ignore]
extends_documentation_fragment:
  - tos.cloud.connection.LOOKUP
"""

EXAMPLES = r"""
- name: Show the leader center node of demo-a
  ansible.builtin.debug:
    msg: "{{ lookup('tos.cloud.cluster', 'demo-a').leader }}"

- name: Run something on every host of demo-b (names from the platform, not the inventory)
  ansible.builtin.debug:
    msg: "{{ item.name }} at {{ item.ip }} runs {{ item.roles | join(', ') }}"
  loop: "{{ lookup('tos.cloud.cluster', 'demo-b').hosts }}"

- name: Several clusters at once, with an explicit manager
  ansible.builtin.set_fact:
    tos_clusters: "{{ query('tos.cloud.cluster', 'demo-a', 'demo-c', api_url='http://127.0.0.1:9990') }}"

- name: A cluster that may not exist yet
  ansible.builtin.debug:
    msg: "{{ lookup('tos.cloud.cluster', 'demo-x', missing='ignore') | default('not created yet', true) }}"
"""

RETURN = r"""
_list:
  description: One entry per term, in order (V(null) for an unknown cluster with O(missing) other than V(error)).
  type: list
  elements: dict
  contains:
    name:
      description: The cluster's name.
      type: str
    uuid:
      description: The cluster's UUID.
      type: str
    desc:
      description: Its description.
      type: str
    hosts:
      description: The physical hosts, in the manager's order.
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
    center_nodes:
      description: The cloud-management VMs (center nodes), the leader first.
      type: list
      elements: dict
      contains:
        ip: {description: The VM's address., type: str}
        name: {description: The VM's name., type: str}
        uuid: {description: The VM's UUID., type: str}
        host_uuid: {description: The physical host it runs on., type: str}
        host_name: {description: That host's name., type: str}
        leader: {description: Whether it is the leader., type: bool}
    leader:
      description: The address of the leader center node; V(null) when the cluster has none.
      type: str
    candidates:
      description: The candidate center addresses the manager lists.
      type: list
      elements: str
"""

from ansible_collections.tos.cloud.plugins.module_utils._system_vm import read_cvms
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    describe_cluster,
    get_cluster,
    list_clusters,
    match_cluster,
    unknown_cluster_message,
)
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import TosLookup


def describe(client, entry):
    """The cluster as this lookup returns it, from its list entry."""
    detail = get_cluster(client, entry["uuid"])
    view = describe_cluster(entry, detail)
    hosts = dict((h["uuid"], h["name"]) for h in view["hosts"])
    centers = [
        {"ip": cvm["ip"], "name": cvm["name"], "uuid": cvm["uuid"], "host_uuid": cvm["host_uuid"],
         "host_name": hosts.get(cvm["host_uuid"]), "leader": cvm["is_leader"]}
        for cvm in read_cvms(client, entry["uuid"], detail)
    ]
    centers.sort(key=lambda c: not c["leader"])
    return {
        "name": view["name"],
        "uuid": view["uuid"],
        "desc": view["desc"],
        "hosts": [dict((k, h[k]) for k in ("name", "uuid", "ip", "storage_ip", "backup_ip", "roles", "maintenance"))
                  for h in view["hosts"]],
        "center_nodes": centers,
        "leader": next((c["ip"] for c in centers if c["leader"]), None),
        "candidates": view["candidates"],
    }


class LookupModule(TosLookup):

    def ask(self, client, terms):
        clusters = list_clusters(client)
        names = [c["name"] for c in clusters]
        out = []
        for term in terms:
            entry = match_cluster(clusters, str(term))
            out.append(describe(client, entry) if entry is not None else
                       self.not_found(unknown_cluster_message(names, term, self.ansible_name, hint="")))
        return out
