#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cvm
short_description: Deploy or remove a cloud-management VM on a host of a cluster
version_added: 0.1.0
description:
  - Deploys a cloud-management VM (CVM, a "center" node of the cluster) on a physical host
    (C(/v1/cluster/deploy/cvm)) and waits for the deploy to finish, or removes it (C(/v1/cluster/delete/cvm)).
  - A host runs at most one CVM; the module identifies the CVM by its O(host), read from
    C(/v1/cluster/cloud/manage) and the cluster topology (and the host's task while a deploy is running).
  - The API cannot change the address of a CVM. When the host already runs a CVM at another address than
    O(address), the module fails and says so; it never removes and redeploys a center node on its own.
  - The module refuses to remove the last center node of a cluster.
  - A deploy already running on the host (started by another run, or by this task with O(wait=false)) is
    joined, never sent again; RV(started_by) says which run started it. The platform reports a CVM's address
    only once it is deployed, so when O(address) is set such a deploy is waited for (read-only, also in check
    mode and with O(wait=false)) and a different address fails exactly as it would after the deploy.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
  - tos.cloud.cluster.WAIT
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  host:
    description:
      - The physical host that runs the CVM, by name, management IP or UUID (from the cluster topology).
    type: str
    required: true
  address:
    description:
      - Address of the CVM in CIDR notation, for example V(192.0.2.101/24).
      - Required, with O(gateway), to deploy a CVM. When the host already runs a CVM, it must be the CVM's
        address (else the module fails); leave it unset to accept whatever address the CVM has.
    type: str
  gateway:
    description:
      - Gateway of the CVM's network; must be inside the network of O(address).
      - The platform does not report a CVM's gateway, so it is only used to deploy.
    type: str
  state:
    description:
      - V(present) deploys the CVM if the host has none.
      - V(absent) removes the host's CVM, unless it is the last center node of the cluster.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the deploy has finished (the host task reaches 100%), or until a removed CVM is gone.
      - With V(false), the module returns as soon as the platform accepted the request; a later run with
        V(true) waits for a deploy still running.
notes:
  - A deploy whose answer is lost is not sent again blindly; the module re-reads the host's CVM and task first.
seealso:
  - module: tos.cloud.cluster
  - module: tos.cloud.cluster_info
"""

EXAMPLES = r"""
- name: Create the cluster
  tos.cloud.cluster:
    api_url: http://127.0.0.1:9990
    name: prod
    ip: 192.0.2.11

- name: Deploy a cloud-management VM on tos-a1
  tos.cloud.cvm:
    api_url: http://127.0.0.1:9990
    cluster: prod
    host: tos-a1
    address: 192.0.2.101/24
    gateway: 192.0.2.1
  register: tos_cvm

- name: Show the new center node
  ansible.builtin.debug:
    msg: "{{ tos_cvm.cvm.ip }} runs on {{ tos_cvm.cvm.host_name }}"
"""

RETURN = r"""
started_by:
  description:
    - Which run started the deploy of the host's CVM, V(this_run) or V(another_run) (a running deploy this run
      joined); null when no deploy ran (the CVM existed, or O(state=absent)).
  returned: always
  type: str
  sample: this_run
cvm:
  description:
    - The host's cloud-management VM after the module ran; with O(state=absent), the CVM that was removed.
    - Empty when the host has (had) none.
  returned: always
  type: dict
  contains:
    uuid:
      description: UUID of the CVM (null in check mode before a deploy).
      type: str
    name:
      description: Name of the CVM.
      type: str
      sample: LCM48d37075-2961-4dd2-8719-a33e371447ae
    ip:
      description: Address of the CVM, without prefix.
      type: str
      sample: 192.0.2.101
    address:
      description: Address of the CVM in CIDR notation, when the platform reports it.
      type: str
      sample: 192.0.2.101/24
    host_uuid:
      description: UUID of the physical host the CVM runs on.
      type: str
    host_name:
      description: Name of that host.
      type: str
      sample: tos-a1
    host_ip:
      description: Management IP of that host.
      type: str
      sample: 192.0.2.11
    is_leader:
      description: Whether the CVM is the cluster's leader center node.
      type: bool
    status:
      description: The center node's status as C(/v1/cluster/cloud/manage) reports it (1 is up).
      type: int
    state:
      description: V(running), or V(deploying) while the deploy task runs.
      type: str
      sample: running
wait_progress:
  description:
    - The progress of each wait of this run (per host task, or the inspection), as read while waiting.
    - While the module waits, the same progress is printed as it happens, at least every 10 seconds
      (E(TOS_PROGRESS_INTERVAL)), when the module runs in the task's worker (a local connection, the default).
  returned: when the module waited
  type: list
  elements: dict
  contains:
    key:
      description: What was waited for (the host, or V(inspection:<cluster>)).
      type: str
    what:
      description: The same, as a phrase.
      type: str
    status:
      description: V(running), V(finished), V(failed), V(timed out) or V(stalled) at the last reading.
      type: str
    progress:
      description: Progress at the last reading, 0 to 1.
      type: float
    started:
      description: When the wait started (UTC, ISO 8601).
      type: str
    elapsed:
      description: Seconds from the first to the last reading.
      type: float
    eta:
      description: Estimated seconds left at the last reading (running only), or null.
      type: float
    readings:
      description: How many times the progress was read.
      type: int
    lines:
      description: How many progress lines were printed (or would have been, in a module process).
      type: int
    batch:
      description: The batch of the upgrade this host was in (O(tos.cloud.upgrade#module:batch_size)).
      type: int
      returned: upgrade with several batches
    batches:
      description: How many batches the upgrade had.
      type: int
      returned: upgrade with several batches
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    check_range,
    check_vm_cidr,
    check_vm_gateway,
    first_error,
    ip_of,
    normalize_cidr,
)
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import (
    ANOTHER_RUN,
    THIS_RUN,
    HostTaskFailed,
    join_host_task,
    read_host_task,
    task_is,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import WAIT_ARGSPEC, TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import CVM_DELETE, CVM_DEPLOY, cvm_on_host, list_cvms
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CLUSTER_ARGSPEC,
    describe_physical_hosts,
    find_physical_host,
    get_cluster,
    host_addresses,
    read_cloud_manage,
    require_cluster,
    topology,
)


def validate(params):
    return first_error(
        check_vm_cidr("address", params.get("address")),
        check_vm_gateway("gateway", params.get("gateway"), "address", params.get("address")),
        check_range("wait_timeout", params.get("wait_timeout"), 1, 86400),
    )


def host_view(node):
    return {"host_uuid": node.get("UUID"), "host_name": node.get("name"), "host_ip": host_addresses(node)["management"]}


def cvm_view(cvm, node, state="running"):
    view = {"uuid": cvm.get("uuid"), "name": cvm.get("name"), "ip": cvm.get("ip"), "address": cvm.get("address"),
            "is_leader": bool(cvm.get("is_leader")), "status": cvm.get("status"), "state": state}
    view.update(host_view(node))
    return view


def diff_view(view):
    if not view:
        return {}
    return {"host": view["host_name"], "address": view["address"] or view["ip"]}


def address_mismatch(current, address):
    """True when the CVM's known address differs from the requested one."""
    if address is None:
        return False
    if current.get("address"):
        return normalize_cidr(current["address"]) != normalize_cidr(address)
    return current.get("ip") not in (None, ip_of(address))


def address_taken(detail, cvms, host_uuid, address):
    """Who else already uses the requested address in this cluster, or None."""
    ip = ip_of(address)
    for cvm in cvms:
        if cvm["ip"] == ip and cvm["host_uuid"] != host_uuid:
            return "the cloud-management VM %s" % (cvm["name"] or cvm["uuid"])
    for node in topology(detail):
        if ip in host_addresses(node).values():
            return "%s %s" % ("system VM" if node.get("IsSystemService") else "host", node.get("name"))
    return None


class Cvm:
    """The CVM of one host of one cluster: reads, and the two changes."""

    def __init__(self, tm, cluster, detail, node):
        self.tm = tm
        self.client = tm.client
        self.cluster = cluster
        self.detail = detail
        self.node = node
        self.host_uuid = node.get("UUID")
        self.label = "%s (%s)" % (node.get("name"), host_addresses(node)["management"])
        self.all_cvms = []

    def cvms(self, refresh=True):
        """The cluster's CVMs; ``refresh`` re-reads the topology (else the one read at start is used)."""
        self.tm.doing("read the cloud-management VMs of cluster %r" % self.cluster["name"])
        if refresh:
            self.detail = get_cluster(self.client, self.cluster["uuid"])
        self.all_cvms = list_cvms(self.detail, read_cloud_manage(self.client, self.cluster["uuid"]))
        return self.all_cvms

    def deploy_task(self):
        """The host's running deploy of a CVM (not yet listed as a center node), or None.

        With the documented ``progress`` alone a running task cannot be told from an upgrade: on a host
        without a listed CVM, any running task counts as the deploy (waiting for it is safe, deploying a
        second time is refused by the platform); a ``task_type`` naming another task rules it out."""
        self.tm.doing("read the task of host %s" % self.label)
        task = read_host_task(self.client, self.cluster["uuid"], self.host_uuid)
        return task if task_is(task, "deploy_cvm") else None

    def current(self, refresh=True):
        """This host's CVM (running or deploying) or None; ``self.all_cvms`` keeps the cluster's CVMs."""
        found = cvm_on_host(self.cvms(refresh), self.host_uuid)
        if found is not None:
            return cvm_view(found, self.node)
        if self.deploy_task() is not None:
            return cvm_view({"uuid": None}, self.node, state="deploying")
        return None

    def wait_deploy(self, started_by=THIS_RUN):
        params = self.tm.params
        self.tm.doing("wait for the cloud-management VM on host %s to deploy" % self.label)
        failure = None
        try:
            join_host_task(self.client, self.cluster["uuid"], self.host_uuid, self.label, params["wait_timeout"])
        except HostTaskFailed as exc:
            failure = exc
        if failure is not None:  # outside the except block: a message, not a traceback
            self.tm.fail("The deploy of the cloud-management VM on host %s (started by %s) did not finish: %s%s" % (
                self.label, started_by.replace("_", " "), failure.reason,
                "; nothing was sent" if started_by == ANOTHER_RUN else ""),
                progress=failure.progress, started_by=started_by)
        return self.current()

    def deploy(self, params, predicted):
        body = {"cluster_uuid": self.cluster["uuid"], "MachineUUID": self.host_uuid,
                "Networks": [{"Addr": normalize_cidr(params["address"]), "Gateway": params["gateway"]}]}

        self.tm.doing("deploy a cloud-management VM on host %s" % self.label)
        answer = self.client.post_verified(CVM_DEPLOY, body, landed=self.current) or {}
        self.tm.track({}, diff_view(predicted))  # after the request: a refused deploy changed nothing
        if params["wait"]:
            return self.wait_deploy()
        view = cvm_view({"uuid": answer.get("uuid"), "name": answer.get("name"), "ip": ip_of(params["address"]),
                         "address": normalize_cidr(params["address"]), "is_leader": predicted["is_leader"]},
                        self.node, state="deploying")
        return view

    def remove(self, current):
        body = {"cluster_uuid": self.cluster["uuid"], "MachineUUID": self.host_uuid}
        if current.get("ip"):
            body["center_candidate_ip"] = current["ip"]

        def gone():
            return self.current() is None

        self.tm.doing("remove the cloud-management VM on host %s" % self.label)
        self.client.post_verified(CVM_DELETE, body, landed=gone)
        self.tm.track(diff_view(current), {})
        if self.tm.params["wait"]:
            self.tm.doing("wait for the cloud-management VM on host %s to be gone" % self.label)
            self.tm.wait_for(gone, self.tm.params["wait_timeout"], what="the removal of the CVM on host %s" % self.label)


def ensure_present(tm, vm, params):
    """The host's CVM as it is (or will be) and which run started its deploy (None: nothing ran)."""
    current = vm.current(refresh=False)
    cvms = vm.all_cvms
    if current is not None:
        started_by = None
        if current["state"] == "deploying":
            # A deploy already running is joined, never sent again.  The platform tells a CVM's address only
            # once it is deployed, so with an address to compare the deploy is waited for (read-only, in check
            # mode and with wait=false too) and a different address fails exactly as it would afterwards.
            started_by = ANOTHER_RUN
            if params["address"] is not None or (params["wait"] and not tm.check_mode):
                current = vm.wait_deploy(ANOTHER_RUN) or current
        if address_mismatch(current, params["address"]):
            tm.fail("Host %s already runs the cloud-management VM %s, not %s. The API cannot change a CVM's "
                    "address: to move it, remove it first (state: absent) and deploy it again, or set address "
                    "to %s." % (vm.label, current["address"] or current["ip"], params["address"],
                                current["address"] or current["ip"]), cvm=current, started_by=started_by)
        tm.track(diff_view(current), diff_view(current))
        return current, started_by
    if params["address"] is None:
        tm.fail("address and gateway are required to deploy a cloud-management VM on host %s, which has none."
                % vm.label)
    taken = address_taken(vm.detail, cvms, vm.host_uuid, params["address"])
    if taken:
        tm.fail("address: %s is already used by %s in cluster %r." % (ip_of(params["address"]), taken,
                                                                      vm.cluster["name"]))
    # the first CVM of the cluster becomes its leader
    predicted = cvm_view({"uuid": None, "name": None, "ip": ip_of(params["address"]),
                          "address": normalize_cidr(params["address"]), "is_leader": not cvms}, vm.node,
                         state="running" if params["wait"] else "deploying")
    if tm.check_mode:
        tm.track({}, diff_view(predicted))
        return predicted, THIS_RUN
    return vm.deploy(params, predicted), THIS_RUN


def ensure_absent(tm, vm):
    current = vm.current(refresh=False)
    cvms = vm.all_cvms
    if current is None:
        tm.track({}, {})
        return {}
    others = [c for c in cvms if c["host_uuid"] != vm.host_uuid]
    if current["state"] == "running" and not others:
        tm.fail("Refusing to remove the cloud-management VM %s on host %s: it is the last center node of cluster "
                "%r, which would lose its cloud management. Deploy another CVM first, or delete the whole cluster "
                "(tos.cloud.cluster with state: absent and force: true)." % (
                    current["ip"], vm.label, vm.cluster["name"]), cvm=current)
    if tm.check_mode:
        tm.track(diff_view(current), {})
    else:
        vm.remove(current)
    return current


def run(tm):
    params = tm.params
    error = validate(params)
    if error:
        tm.fail(error)
    cluster = require_cluster(tm, params["cluster"])
    tm.doing("read cluster %r" % cluster["name"])
    detail = get_cluster(tm.client, cluster["uuid"])
    node = find_physical_host(detail, params["host"])
    if node is None:
        tm.fail("host: no physical host %r in cluster %r (hosts: %s)." % (
            params["host"], cluster["name"], describe_physical_hosts(detail)))
    vm = Cvm(tm, cluster, detail, node)
    started_by = None
    if params["state"] == "present":
        cvm, started_by = ensure_present(tm, vm, params)
    else:
        cvm = ensure_absent(tm, vm)
    tm.exit(cvm=cvm, started_by=started_by)


def main():
    spec = dict(
        CLUSTER_ARGSPEC,
        host=dict(type="str", required=True),
        address=dict(type="str"),
        gateway=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    spec.update(WAIT_ARGSPEC)
    TosModule(argument_spec=spec, required_together=[("address", "gateway")]).execute(run)


if __name__ == "__main__":
    main()
