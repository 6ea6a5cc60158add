# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Find clusters and hosts the way users name them (name, UUID, management IP).

"Not found" comes back as ``None``; callers decide whether that is a failure.
"""

from __future__ import annotations

import re

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CLUSTER_LIST = "/v1/cluster/list"
CLUSTER_GET = "/v1/cluster/get"


def list_clusters(client, filter_name=None):
    """Every cluster (all pages), as ``{"uuid", "name", "ctime"}`` dicts."""
    params = {"filter_name": filter_name} if filter_name else None
    return [
        {"uuid": item.get("cluster_uuid"), "name": item.get("cluster_name"), "ctime": item.get("ctime")}
        for item in client.paginate(CLUSTER_LIST, params, key=lambda item: item.get("cluster_uuid"))
    ]


def find_cluster(client, name_or_uuid):
    """The cluster whose name is exactly ``name_or_uuid``, or whose UUID it is; else None.

    The list endpoint filters names loosely (substring), so the exact match happens here.
    A name wins over a UUID when both could match.
    """
    if not name_or_uuid:
        return None
    if UUID_RE.match(name_or_uuid):
        # a UUID is not a name filter: one unfiltered listing answers both questions
        clusters = list_clusters(client)
        for key in ("name", "uuid"):
            for cluster in clusters:
                if cluster[key] == name_or_uuid:
                    return cluster
        return None
    for cluster in list_clusters(client, filter_name=name_or_uuid):
        if cluster["name"] == name_or_uuid:
            return cluster
    return None


def get_cluster(client, cluster_uuid):
    """``cluster/get`` for one cluster: name, desc, candidates and the topology (TopoHostNode)."""
    return client.get(CLUSTER_GET, {"cluster_uuid": cluster_uuid}) or {}


def host_addresses(node):
    """Management, storage and backup addresses (without prefix length) of a topology node."""
    out = {}
    for key, net in (("management", "managerNet"), ("storage", "storageNet"), ("backup", "backupNet"),
                     ("compute", "computeNet")):
        addrs = ((node.get(net) or {}).get("Addrs")) or []
        out[key] = addrs[0].split("/")[0] if addrs else None
    return out


def topology(cluster_detail):
    """The list of host nodes of a ``cluster/get`` answer (tolerates the key's spellings)."""
    for key in ("TopoHostNode", "topo_host_node", "hosts"):
        nodes = cluster_detail.get(key)
        if isinstance(nodes, list):
            return nodes
    return []


def find_host(cluster_detail, key):
    """The topology node whose UUID, name or management/storage IP is ``key``; else None."""
    if not key:
        return None
    for node in topology(cluster_detail):
        if key in (node.get("UUID"), node.get("name")):
            return node
    for node in topology(cluster_detail):
        if key in host_addresses(node).values():
            return node
    return None
