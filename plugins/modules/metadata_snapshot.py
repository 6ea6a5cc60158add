#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: metadata_snapshot
short_description: Take, delete and prune metadata snapshots of a cluster
version_added: 0.1.0
description:
  - Takes a snapshot of a cluster's metadata now (C(/v1/cluster/data/snapshot/save)), deletes one by file name or
    the oldest beyond a number to keep (C(/v1/cluster/data/snapshot/delete)), and returns the snapshots left
    (C(/v1/cluster/data/snapshot/list)).
  - O(state=present) takes a new snapshot on B(every) run, so it always reports a change; that is its purpose
    (for example before an upgrade). Use O(state=absent) with O(retain) alone for an idempotent clean-up.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
  - tos.cloud.cluster.CENTER_IP
attributes:
  check_mode:
    support: full
    details:
      - In check mode no snapshot is taken or deleted; O(state=present) reports a change.
  diff_mode:
    support: full
options:
  state:
    description:
      - V(present) takes a snapshot now, then prunes to O(retain) if set.
      - V(absent) deletes the snapshot O(name) (nothing to do if it is not there) and/or prunes to O(retain).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - File name of the snapshot to delete, as listed, for example V(snapshot1572936234.db).
      - Only with O(state=absent).
    type: str
  retain:
    description:
      - Keep this many snapshots, deleting the oldest beyond it (oldest by the time in the file name).
      - With O(state=present) the new snapshot counts, so it must be at least V(1).
      - A snapshot taken while the module runs (the one it took, identified by the manager's answer, or one another
        run took at the same time) is never pruned, even when that leaves more than O(retain).
      - Nothing to prune means no change and no request that changes anything.
    type: int
"""

EXAMPLES = r"""
- name: Take a metadata snapshot before an upgrade, keeping the last five
  tos.cloud.metadata_snapshot:
    api_url: http://127.0.0.1:9990
    cluster: prod
    retain: 5
  register: snap

- name: Show the new snapshot
  ansible.builtin.debug:
    msg: "took {{ snap.created }}"

- name: Keep only the last ten snapshots (no snapshot taken)
  tos.cloud.metadata_snapshot:
    api_url: http://127.0.0.1:9990
    cluster: prod
    state: absent
    retain: 10

- name: Delete one snapshot
  tos.cloud.metadata_snapshot:
    api_url: http://127.0.0.1:9990
    cluster: prod
    state: absent
    name: "{{ snap.created }}"
"""

RETURN = r"""
snapshots:
  description:
    - The snapshots' file names after the operation, oldest first.
    - In check mode, the snapshots that would be left, without the one O(state=present) would take.
  returned: success
  type: list
  elements: str
  sample: ["snapshot1572928633.db", "snapshot1572930374.db"]
created:
  description: The file name of the snapshot taken; null when none was (O(state=absent), check mode).
  returned: success
  type: str
  sample: snapshot1572936234.db
deleted:
  description: The file names deleted (in check mode, that would be deleted), oldest first.
  returned: success
  type: list
  elements: str
  sample: ["snapshot1572928633.db"]
center_ip:
  description: The center node the requests went to.
  returned: success
  type: str
  sample: 192.0.2.50
cluster:
  description: The cluster.
  returned: success
  type: dict
  sample: {"name": "prod", "uuid": "3afdbbfc-e45a-430e-abba-842074a8b035"}
"""

import re

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, meta_data
from ansible_collections.tos.cloud.plugins.module_utils._checks import check_at_least, check_ip, first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import SNAPSHOT_LIST, snapshot_names
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CENTER_IP_ARGSPEC,
    CLUSTER_ARGSPEC,
    require_center_ip,
    require_cluster,
)

SAVE = "/v1/cluster/data/snapshot/save"
DELETE = "/v1/cluster/data/snapshot/delete"
NEW = "(new snapshot)"
_STAMP_RE = re.compile(r"(\d+)")


def age_key(name):
    """Oldest first: by the number in the file name (its Unix time), then by name."""
    found = _STAMP_RE.search(name)
    return (int(found.group(1)) if found else float("inf"), name)


def names_of(data):
    return sorted(snapshot_names(data), key=age_key)


def to_prune(names, retain, keep=()):
    """The oldest names beyond ``retain``, never one of ``keep`` (the snapshots taken while this run ran:
    its own and any other run's), so fewer may go than ``retain`` asks for."""
    if retain is None or len(names) <= retain:
        return []
    candidates = [n for n in sorted(names, key=age_key) if n not in keep]
    return candidates[:len(names) - retain]


def saved_name(answer, before, names):
    """The file name of the snapshot this run's save took.

    The manager's answer tells it: its ``file_name`` (the simulator's, not in the documents), else the one
    snapshot of its ``meta_data.Snapshot`` list that was not there before.  Without either, the one name that
    appeared since ``before``; None when several did (another run saved at the same time) and none is known.
    """
    if isinstance(answer, dict):
        for source in (answer, meta_data(answer)):
            name = source.get("file_name") or source.get("FileName")
            if name:
                return str(name)
        new = [name for name in snapshot_names(answer) if name not in before]
        if len(new) == 1:
            return new[0]
    new = [n for n in names if n not in before]
    return new[0] if len(new) == 1 else None


def input_error(params):
    state, name, retain = params["state"], params["name"], params["retain"]
    errors = [check_ip("center_ip", params["center_ip"])]
    if state == "present" and name is not None:
        errors.append("name: only used with state=absent (the platform names new snapshots itself)")
    if state == "absent" and name is None and retain is None:
        errors.append("state=absent needs name or retain")
    if name is not None and (not name.strip() or "/" in name):
        errors.append("name: %r is not a snapshot file name" % name)
    errors.append(check_at_least("retain", retain, 1 if state == "present" else 0))
    return first_error(*errors)


def run(tm):
    error = input_error(tm.params)
    if error:
        tm.fail(error)
    params = tm.params
    cluster = require_cluster(tm, tm.params["cluster"])
    ip = require_center_ip(tm, cluster)
    query = {"cluster_uuid": cluster["uuid"], "ip": ip}

    def read():
        return names_of(tm.client.get(SNAPSHOT_LIST, query))

    listing = "list the metadata snapshots of cluster %r" % cluster["name"]
    with tm.scope(listing):
        before = read()
    created = None
    if tm.check_mode:
        names = before + ([NEW] if params["state"] == "present" else [])
        doomed = to_prune(names, params["retain"], keep={NEW})
        if params["name"] in names and params["name"] not in doomed:
            doomed.append(params["name"])
        after = [n for n in names if n not in doomed]
        tm.track({"snapshots": before}, {"snapshots": after})
        tm.exit(snapshots=[n for n in after if n != NEW], created=None, deleted=sorted(doomed, key=age_key),
                center_ip=ip, cluster={"name": cluster["name"], "uuid": cluster["uuid"]})
        return
    names = before
    if params["state"] == "present":

        def landed():
            return [n for n in read() if n not in before]

        with tm.scope("take a metadata snapshot of cluster %r" % cluster["name"]):
            answer = tm.client.post_verified(SAVE, dict(query), landed=landed)
            tm.changed = True
            names = read()
        created = saved_name(answer, before, names)
        if created is None:
            tm.warn("The manager's answer does not name the snapshot taken and several appeared at once (another "
                    "run?): created is not known; none of them is pruned.")
        elif created not in names:
            names.append(created)  # listed late: it exists, and must count (and be kept) in the pruning
    # never prune a snapshot taken while this run ran: the one it took, nor another run's
    doomed = to_prune(names, params["retain"], keep=set(names) - set(before) | {created})
    if params["name"] in names and params["name"] not in doomed:
        doomed.append(params["name"])
    for name in sorted(doomed, key=age_key):
        with tm.scope("delete metadata snapshot %r of cluster %r" % (name, cluster["name"])):
            try:
                tm.client.post_verified(DELETE, dict(query, file_name=name),
                                        landed=lambda name=name: name not in read())
            except TosApiError as exc:
                # refused because it is gone: another run pruning at the same time deleted it first (the goal holds)
                if exc.kind != "api" or name in read():
                    raise
    if doomed:
        with tm.scope(listing):
            names = read()
    tm.track({"snapshots": before}, {"snapshots": names})
    tm.exit(snapshots=names, created=created, deleted=sorted(doomed, key=age_key), center_ip=ip,
            cluster={"name": cluster["name"], "uuid": cluster["uuid"]})


def main():
    spec = dict(
        CLUSTER_ARGSPEC,
        **CENTER_IP_ARGSPEC,
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str"),
        retain=dict(type="int"),
    )
    TosModule(argument_spec=spec).execute(run)


if __name__ == "__main__":
    main()
