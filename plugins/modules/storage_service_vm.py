#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_service_vm
short_description: Deploy or delete a storage-service VM of a cluster
version_added: 0.1.0
description:
  - Deploys a storage-service VM (C(/v1/cluster/deploy/storage_service/vm)) and waits for the deploy to finish,
    or deletes it (C(/v1/cluster/storage_service/vm/delete)).
  - The VM is identified by its management address (O(manage_address)), looked up with
    C(/v1/cluster/storage_service/vm/list) and matched exactly (the list's C(filter_ip) is loose).
  - The platform chooses the host of a new VM among the cluster's storage hosts.
  - The API cannot change a deployed VM; when the VM at O(manage_address) differs from the other options, the
    module fails and names the differences instead of deleting and redeploying it.
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
  vm_type:
    description:
      - The service the VM provides; V(GST) is the access service.
    type: str
    choices: [GST]
    default: GST
  manage_address:
    description:
      - Management address of the VM in CIDR notation, for example V(192.0.2.121/24). It identifies the VM.
      - With O(state=absent) the address alone (V(192.0.2.121)) is enough.
    type: str
    required: true
    aliases: [manage_cidr]
  manage_gateway:
    description:
      - Gateway of the management network; inside the network of O(manage_address).
      - Required to deploy.
    type: str
  storage_address:
    description:
      - Storage address of the VM in CIDR notation, for example V(192.0.2.161/24).
      - Required to deploy.
    type: str
    aliases: [storage_cidr]
  storage_gateway:
    description:
      - Gateway of the storage network; inside the network of O(storage_address).
      - Required to deploy.
    type: str
  state:
    description:
      - V(present) deploys the VM if no VM has the management address.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), also delete a VM whose deploy is still running (the deploy is cancelled).
      - Without it, deleting a VM that is being deployed fails before any change is made.
    type: bool
    default: false
notes:
  - A deploy whose answer is lost is not sent again blindly; the module re-reads the VM list first.
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

- name: Deploy an access-service VM
  tos.cloud.storage_service_vm:
    api_url: http://127.0.0.1:9990
    cluster: prod
    vm_type: GST
    manage_address: 192.0.2.121/24
    manage_gateway: 192.0.2.1
    storage_address: 192.0.2.161/24
    storage_gateway: 192.0.2.1
  register: tos_gst

- name: Show where the platform put it
  ansible.builtin.debug:
    msg: "{{ tos_gst.storage_vm.name }} runs on {{ tos_gst.storage_vm.host_name }}"
"""

RETURN = r"""
started_by:
  description:
    - Which run started the VM's deploy, V(this_run) or V(another_run) (a running deploy this run joined,
      waited for with O(wait=true), never sent again); null when no deploy ran.
  returned: always
  type: str
  sample: this_run
storage_vm:
  description:
    - The VM after the module ran; with O(state=absent), the VM that was deleted. Empty when there is (was) none.
    - In check mode, a VM that would be deployed has no UUID, name or host yet.
  returned: always
  type: dict
  contains:
    uuid:
      description: UUID of the VM.
      type: str
    name:
      description: Name of the VM.
      type: str
      sample: GST1700000000
    vm_type:
      description: The service the VM provides.
      type: str
      sample: GST
    manage_address:
      description: Management address in CIDR notation.
      type: str
      sample: 192.0.2.121/24
    manage_ip:
      description: Management address without prefix.
      type: str
      sample: 192.0.2.121
    manage_gateway:
      description: Gateway of the management network.
      type: str
      sample: 192.0.2.1
    storage_address:
      description: Storage address in CIDR notation.
      type: str
      sample: 192.0.2.161/24
    storage_ip:
      description: Storage address without prefix.
      type: str
      sample: 192.0.2.161
    storage_gateway:
      description: Gateway of the storage network.
      type: str
      sample: 192.0.2.1
    host_uuid:
      description: UUID of the physical host the VM runs on.
      type: str
    host_ip:
      description: Management IP of that host.
      type: str
      sample: 192.0.2.12
    host_name:
      description: Name of that host.
      type: str
      sample: tos-a2
    status:
      description: The VM's status as the platform reports it (V(running) or V(deploying) on the simulator).
      type: str
      sample: running
    progress:
      description: Progress of the VM's deploy, 0 to 1.
      type: float
      sample: 1.0
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
    check_ipv4,
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
)
from ansible_collections.tos.cloud.plugins.module_utils._module import WAIT_ARGSPEC, TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import (
    STORAGE_VM_DELETE,
    STORAGE_VM_DEPLOY,
    list_storage_vms,
    storage_vm_by_manage_ip,
)
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CLUSTER_ARGSPEC,
    enabled_roles,
    get_cluster,
    host_addresses,
    physical_nodes,
    require_cluster,
    topology,
)

DEPLOY_OPTIONS = ("manage_gateway", "storage_address", "storage_gateway")
DEPLOYING = ("deploying", "running_task", "creating")


def validate(params):
    manage, storage = params.get("manage_address"), params.get("storage_address")
    same = None
    if manage and storage and not check_vm_cidr("manage_address", manage) and not check_vm_cidr("storage_address", storage) \
            and ip_of(manage) == ip_of(storage):
        same = "storage_address: %s is the same address as manage_address" % ip_of(storage)
    if params.get("state") == "absent" and manage is not None and "/" not in str(manage):
        # the IP alone identifies the VM to delete; the prefix only matters for a deploy
        manage_error = check_ipv4("manage_address", manage)
        manage = None
    else:
        manage_error = check_vm_cidr("manage_address", manage)
    return first_error(
        manage_error,
        check_vm_gateway("manage_gateway", params.get("manage_gateway"), "manage_address", manage),
        check_vm_cidr("storage_address", storage),
        check_vm_gateway("storage_gateway", params.get("storage_gateway"), "storage_address", storage),
        same,
        check_range("wait_timeout", params.get("wait_timeout"), 1, 86400),
    )


def desired_view(params):
    return {
        "vm_type": params["vm_type"],
        "manage_address": normalize_cidr(params["manage_address"]),
        "manage_gateway": params.get("manage_gateway"),
        "storage_address": normalize_cidr(params["storage_address"]) if params.get("storage_address") else None,
        "storage_gateway": params.get("storage_gateway"),
    }


def diff_view(vm):
    if not vm:
        return {}
    return {key: vm.get(key) for key in ("vm_type", "manage_address", "manage_gateway", "storage_address",
                                         "storage_gateway")}


def differences(current, params):
    """The options whose value differs from the existing VM's (unset options are left alone)."""
    desired = desired_view(params)
    found = []
    for key, want in desired.items():
        have = current.get(key)
        if want is None or have is None:
            continue
        if key.endswith("_address"):
            same = normalize_cidr(have) == want
        else:
            same = str(have) == str(want)
        if not same:
            found.append("%s is %s (not %s)" % (key, have, want))
    return found


def is_deploying(vm):
    status = str(vm.get("status") or "").lower()
    if status:
        return status in DEPLOYING
    progress = vm.get("progress")
    return isinstance(progress, (int, float)) and progress < 1


def address_owner(detail, vms, ip):
    """Who already uses ``ip`` in the cluster (a host, a system VM, another storage VM), or None."""
    for node in topology(detail):
        if ip in host_addresses(node).values():
            return "%s %s" % ("system VM" if node.get("IsSystemService") else "host", node.get("name"))
    for vm in vms:
        if ip in (vm["manage_ip"], vm["storage_ip"]):
            return "storage-service VM %s" % vm["name"]
    return None


class StorageVm:
    def __init__(self, tm, cluster):
        self.tm = tm
        self.client = tm.client
        self.cluster = cluster
        self.ip = ip_of(tm.params["manage_address"])
        self.label = "%s (cluster %r)" % (self.ip, cluster["name"])

    def current(self):
        self.tm.doing("look up the storage-service VM %s" % self.label)
        return storage_vm_by_manage_ip(self.client, self.cluster["uuid"], self.ip)

    def deployed(self):
        vm = self.current()
        return vm if vm is not None and not is_deploying(vm) else None

    def wait_deploy(self, vm):
        params = self.tm.params
        self.tm.doing("wait for the storage-service VM %s to deploy" % self.label)
        if vm.get("host_uuid"):
            failure = None
            try:
                join_host_task(self.client, self.cluster["uuid"], vm["host_uuid"],
                               "%s on host %s" % (self.ip, vm.get("host_name") or vm["host_uuid"]),
                               params["wait_timeout"])
            except HostTaskFailed as exc:
                failure = exc
            if failure is not None:  # outside the except block: a message, not a traceback
                self.tm.fail("The deploy of the storage-service VM %s did not finish: %s" % (
                    self.label, failure.reason), progress=failure.progress)
        else:
            self.tm.wait_for(self.deployed, params["wait_timeout"],
                             what="the deploy of the storage-service VM %s" % self.label)
        return self.current() or vm

    def deploy(self, params, predicted):
        body = {"cluster_uuid": self.cluster["uuid"], "vm_type": params["vm_type"],
                "manage_cidr": normalize_cidr(params["manage_address"]), "manage_gateway": params["manage_gateway"],
                "storage_cidr": normalize_cidr(params["storage_address"]), "storage_gateway": params["storage_gateway"]}
        self.tm.doing("deploy the storage-service VM %s" % self.label)
        self.client.post_verified(STORAGE_VM_DEPLOY, body, landed=self.current)
        self.tm.track({}, diff_view(predicted))  # after the request: a refused deploy changed nothing
        vm = self.current()
        if vm is None:
            self.tm.fail("The platform accepted the storage-service VM %s but does not list it." % self.label)
        if params["wait"] and is_deploying(vm):
            vm = self.wait_deploy(vm)
        return vm

    def delete(self, vm):
        body = {"cluster_uuid": self.cluster["uuid"], "uuid": vm["uuid"], "force": self.tm.params["force"]}
        if vm.get("name"):
            body["name"] = vm["name"]
        self.tm.doing("delete the storage-service VM %s" % self.label)
        self.client.post_verified(STORAGE_VM_DELETE, body, landed=lambda: self.current() is None)


def ensure_present(tm, svm, params):
    """The VM as it is (or will be) and which run started its deploy (None: nothing ran)."""
    current = svm.current()
    if current is not None:
        # a deploy already running is joined, never sent again (the list tells its addresses at once)
        started_by = ANOTHER_RUN if is_deploying(current) else None
        diffs = differences(current, params)
        if diffs:
            tm.fail("The storage-service VM %s exists but %s. The API cannot change a deployed VM: delete it first "
                    "(state: absent) and deploy it again, or change the options to match." % (
                        svm.label, "; ".join(diffs)), storage_vm=current, started_by=started_by)
        if started_by and params["wait"] and not tm.check_mode:
            current = svm.wait_deploy(current)
        tm.track(diff_view(current), diff_view(current))
        return current, started_by
    missing = [name for name in DEPLOY_OPTIONS if not params.get(name)]
    if missing:
        tm.fail("%s required to deploy the storage-service VM %s, which does not exist." % (
            " and ".join(missing) + (" are" if len(missing) > 1 else " is"), svm.label))
    tm.doing("read cluster %r" % svm.cluster["name"])
    detail = get_cluster(tm.client, svm.cluster["uuid"])
    if not any("usm" in enabled_roles(node) for node in physical_nodes(detail)):
        tm.fail("No host of cluster %r runs the storage service, so it cannot take a storage-service VM."
                % svm.cluster["name"])
    vms = list_storage_vms(tm.client, svm.cluster["uuid"])
    for option in ("manage_address", "storage_address"):
        owner = address_owner(detail, vms, ip_of(params[option]))
        if owner:
            tm.fail("%s: %s is already used by %s in cluster %r." % (option, ip_of(params[option]), owner,
                                                                     svm.cluster["name"]))
    predicted = dict.fromkeys(("uuid", "name", "host_uuid", "host_ip", "host_name"))
    predicted.update(desired_view(params), manage_ip=svm.ip, storage_ip=ip_of(params["storage_address"]),
                     status="running" if params["wait"] else "deploying", progress=1.0 if params["wait"] else 0.0)
    if tm.check_mode:
        tm.track({}, diff_view(predicted))
        return predicted, THIS_RUN
    return svm.deploy(params, predicted), THIS_RUN


def ensure_absent(tm, svm, params):
    current = svm.current()
    if current is None:
        tm.track({}, {})
        return {}
    if is_deploying(current) and not params["force"]:
        tm.fail("The storage-service VM %s is still being deployed: set force: true to cancel the deploy and delete "
                "it, or wait for the deploy to finish." % svm.label, storage_vm=current)
    if not tm.check_mode:
        svm.delete(current)
    tm.track(diff_view(current), {})
    return current


def run(tm):
    params = tm.params
    error = validate(params)
    if error:
        tm.fail(error)
    cluster = require_cluster(tm, params["cluster"])
    svm = StorageVm(tm, cluster)
    started_by = None
    if params["state"] == "present":
        vm, started_by = ensure_present(tm, svm, params)
    else:
        vm = ensure_absent(tm, svm, params)
    tm.exit(storage_vm=vm, started_by=started_by)


def main():
    spec = dict(
        CLUSTER_ARGSPEC,
        vm_type=dict(type="str", choices=["GST"], default="GST"),
        manage_address=dict(type="str", required=True, aliases=["manage_cidr"]),
        manage_gateway=dict(type="str"),
        storage_address=dict(type="str", aliases=["storage_cidr"]),
        storage_gateway=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force=dict(type="bool", default=False),
    )
    spec.update(WAIT_ARGSPEC)
    TosModule(argument_spec=spec).execute(run)


if __name__ == "__main__":
    main()
