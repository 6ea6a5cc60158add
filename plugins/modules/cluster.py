#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster
short_description: Create or delete a cluster
version_added: 0.1.0
description:
  - Creates a cluster from one of its hosts (C(/v1/cluster/add)) or deletes it (C(/v1/cluster/delete)).
  - A cluster is identified by its exact O(name). The platform's list filters names loosely (by substring);
    the module matches the name exactly, so V(prod) never finds V(prod-2).
  - A cluster that already exists is left as it is. Its description cannot be changed through the API, so
    a different O(desc) gives a warning, never a delete and re-create.
  - Deleting a cluster that still holds cloud-management VMs or storage-service VMs needs O(force=true);
    without it the module fails before sending any change, and says what to do.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description:
      - Name of the cluster, matched exactly (case and spaces count). Chinese names work.
      - With O(state=absent) the cluster's UUID is accepted too.
    type: str
    required: true
  ip:
    description:
      - Management IP address of one host of the cluster (the seed).
      - The platform adds the seed and the free hosts reachable from it to the new cluster.
      - Required to create the cluster; ignored (with a warning when it is not a host of the cluster)
        when the cluster exists.
    type: str
  desc:
    description:
      - Description of the cluster, set when it is created.
      - The API cannot change the description of an existing cluster; a different value only warns.
    type: str
  state:
    description:
      - V(present) creates the cluster if no cluster has this name.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), also delete the cloud-management VMs and storage-service VMs the cluster holds
        (and cancel its running tasks).
      - Without it, deleting a cluster that still holds such VMs fails before any change is made.
    type: bool
    default: false
notes:
  - A creation whose answer is lost (timeout, dropped connection) is not sent again blindly; the module reads
    the cluster list to learn whether it was created, so a retried creation never makes a second cluster.
seealso:
  - module: tos.cloud.cluster_info
  - module: tos.cloud.cvm
  - module: tos.cloud.storage_service_vm
"""

EXAMPLES = r"""
- name: Create the cluster from one of its hosts
  tos.cloud.cluster:
    api_url: http://127.0.0.1:9990
    name: 生产集群
    ip: 192.0.2.11
    desc: rack A
  register: tos_cluster

- name: Show the hosts that joined
  ansible.builtin.debug:
    msg: "{{ tos_cluster.cluster.hosts | map(attribute='name') | list }}"

- name: Delete the cluster with everything it holds
  tos.cloud.cluster:
    api_url: http://127.0.0.1:9990
    name: 生产集群
    state: absent
    force: true
"""

RETURN = r"""
cluster:
  description:
    - The cluster after the module ran; with O(state=absent), the cluster that was deleted (empty when there
      was none).
    - In check mode, a cluster that would be created has no UUID and no hosts yet.
  returned: always
  type: dict
  contains:
    uuid:
      description: UUID of the cluster.
      type: str
      sample: 9505d119-0fa8-4a57-b693-5e8ab7b64466
    name:
      description: Name of the cluster.
      type: str
      sample: 生产集群
    desc:
      description: Description of the cluster.
      type: str
      sample: rack A
    ctime:
      description: Creation time (Unix seconds) as the platform reports it.
      type: int
      sample: 1700000000
    candidates:
      description: Addresses of the cluster's center nodes (running cloud-management VMs).
      type: list
      elements: str
      sample: ["192.0.2.101"]
    tenants:
      description: UUIDs of the cluster's tenants.
      type: list
      elements: str
      sample: []
    hosts:
      description: The physical hosts of the cluster topology.
      type: list
      elements: dict
      contains:
        uuid:
          description: UUID of the host.
          type: str
        name:
          description: Name of the host.
          type: str
          sample: tos-a1
        ip:
          description: Management IP address.
          type: str
          sample: 192.0.2.11
        storage_ip:
          description: Storage network address.
          type: str
          sample: 192.0.2.51
        backup_ip:
          description: Backup network address.
          type: str
          sample: 192.0.2.91
        roles:
          description: Services enabled on the host (V(manager), V(center), V(usm), V(vsm), V(network), V(hyper)).
          type: list
          elements: str
          sample: ["manager", "usm", "network", "hyper"]
        agent_status:
          description: The host agent's status (1 is up).
          type: int
          sample: 1
        maintenance:
          description: Whether the host is in maintenance mode.
          type: bool
          sample: false
    system_vms:
      description:
        - The running system VMs of the topology (cloud-management VMs have role V(center), storage-service
          VMs role V(vsm)); same keys as RV(cluster.hosts) plus C(host_uuid), the physical host they run on.
      type: list
      elements: dict
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import check_ip, check_name, first_error
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import busy_hosts
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import list_cvms, list_storage_vms
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CLUSTER_ADD,
    CLUSTER_DELETE,
    cluster_by_name,
    describe_cluster,
    find_cluster,
    get_cluster,
    host_addresses,
    list_clusters,
    read_cloud_manage,
    topology,
)

DESC_MAX = 256


def validate(params):
    desc = params.get("desc")
    return first_error(
        check_name("name", params["name"]),
        check_ip("ip", params.get("ip")),
        "desc: %d characters is longer than the %d allowed" % (len(desc), DESC_MAX)
        if desc is not None and len(desc) > DESC_MAX else None,
    )


def diff_view(cluster):
    """What --diff shows of a cluster: the user-facing identity, not the volatile details."""
    if not cluster:
        return {}
    return {"name": cluster["name"], "desc": cluster["desc"]}


def seed_is_member(detail, ip):
    return any(ip in host_addresses(node).values() for node in topology(detail))


def read(tm, entry):
    with tm.scope("read cluster %r" % entry["name"]):
        return get_cluster(tm.client, entry["uuid"])


def ensure_present(tm, params):
    name = params["name"]
    client = tm.client
    with tm.scope("find cluster %r" % name):
        entry = cluster_by_name(client, name)
    if entry is not None:
        detail = read(tm, entry)
        cluster = describe_cluster(entry, detail)
        if params["desc"] is not None and params["desc"] != cluster["desc"]:
            tm.warn("Cluster %r exists with desc %r; the API cannot change a cluster's description, so desc %r "
                    "was not applied." % (name, cluster["desc"], params["desc"]))
        if params["ip"] and not seed_is_member(detail, params["ip"]):
            tm.warn("ip %s is not a host of the existing cluster %r; ip is only used to create a cluster."
                    % (params["ip"], name))
        tm.track(diff_view(cluster), diff_view(cluster))
        return cluster

    if not params["ip"]:
        tm.fail("ip is required to create cluster %r: give the management IP of one of its hosts." % name)
    body = {"ip": params["ip"], "name": name}
    if params["desc"] is not None:
        body["desc"] = params["desc"]
    predicted = {"uuid": None, "name": name, "desc": params["desc"] or "", "ctime": None, "candidates": [],
                 "tenants": [], "hosts": [], "system_vms": []}
    if tm.check_mode:
        # the manager refuses a seed host that is in a cluster already (a host is in one cluster only): check mode
        # reads every cluster's hosts to predict that refusal; a real run lets the manager say it (one request,
        # where reading every cluster for each new one would grow with the square of the clusters created)
        with tm.scope("find which cluster host %s is in" % params["ip"]):
            holder = next((other for other in list_clusters(client)
                           if seed_is_member(get_cluster(client, other["uuid"]), params["ip"])), None)
        if holder is not None:
            tm.fail("ip: host %s is already in cluster %r, and a host can be in one cluster only: give a host that "
                    "is in no cluster to create %r." % (params["ip"], holder["name"], name))
        tm.track({}, diff_view(predicted))
        return predicted

    with tm.scope("create cluster %r from host %s" % (name, params["ip"])):
        client.post_verified(CLUSTER_ADD, body, landed=lambda: cluster_by_name(client, name))
    tm.track({}, diff_view(predicted))  # after the request: a refused create changed nothing
    with tm.scope("read the new cluster %r" % name):
        entry = cluster_by_name(client, name)
    if entry is None:
        tm.fail("Cluster %r was created but does not appear in the cluster list." % name)
    cluster = describe_cluster(entry, read(tm, entry))
    tm.track({}, diff_view(cluster))
    return cluster


def holdings_message(name, cvms, storage_vms, busy):
    parts = []
    if cvms:
        parts.append("%d cloud-management VM(s) (%s)" % (len(cvms), ", ".join(str(c["ip"]) for c in cvms)))
    if storage_vms:
        parts.append("%d storage-service VM(s) (%s)" % (
            len(storage_vms), ", ".join(str(v["manage_ip"] or v["name"]) for v in storage_vms)))
    if busy:
        parts.append("running tasks on %s" % ", ".join(busy))
    if cvms or storage_vms:
        way_out = "remove them first (tos.cloud.cvm and tos.cloud.storage_service_vm with state: absent)"
    else:  # a task (an upgrade, a deploy not listed yet) is nothing to remove
        way_out = ("wait for them to finish and run again (a cloud-management VM still deploying can also be removed "
                   "with tos.cloud.cvm, state: absent)")
    return ("Cluster %r still holds %s, so it was not deleted. Set force: true to delete the cluster with them, or %s."
            % (name, " and ".join(parts), way_out))


def ensure_absent(tm, params):
    client = tm.client
    with tm.scope("find cluster %r" % params["name"]):
        entry = find_cluster(client, params["name"])
    if entry is None:
        tm.track({}, {})
        return {}
    name = entry["name"]
    detail = read(tm, entry)
    cluster = describe_cluster(entry, detail)
    if not params["force"]:
        with tm.scope("read what cluster %r holds" % name):
            cvms = list_cvms(detail, read_cloud_manage(client, entry["uuid"]))
            storage_vms = list_storage_vms(client, entry["uuid"])
            busy = [] if cvms or storage_vms else busy_hosts(client, entry["uuid"], detail)
        if cvms or storage_vms or busy:
            tm.fail(holdings_message(name, cvms, storage_vms, busy), cluster=cluster)
    if not tm.check_mode:
        with tm.scope("delete cluster %r" % name):
            client.post_verified(CLUSTER_DELETE, {"cluster_uuid": entry["uuid"], "force": params["force"]},
                                 landed=lambda: find_cluster(client, entry["uuid"]) is None)
    tm.track(diff_view(cluster), {})
    return cluster


def run(tm):
    tm.run_state(validate, lambda tm: tm.params,
                 lambda tm, params: {"cluster": ensure_present(tm, params)},
                 lambda tm, params: {"cluster": ensure_absent(tm, params)})


def main():
    TosModule(argument_spec=dict(
        name=dict(type="str", required=True),
        ip=dict(type="str"),
        desc=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force=dict(type="bool", default=False),
    )).execute(run)


if __name__ == "__main__":
    main()
