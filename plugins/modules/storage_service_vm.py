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
      (E(TOS_PROGRESS_INTERVAL)), when the module runs in the task's worker (a local connection, the default); not for
      a task with C(no_log).
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
)
from ansible_collections.tos.cloud.plugins.module_utils._module import WAIT_ARGSPEC, TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import StorageVm, manage
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC


def validate(params):
    manage_address, storage = params.get("manage_address"), params.get("storage_address")
    same = None
    if manage_address and storage and not check_vm_cidr("manage_address", manage_address) \
            and not check_vm_cidr("storage_address", storage) and ip_of(manage_address) == ip_of(storage):
        same = "storage_address: %s is the same address as manage_address" % ip_of(storage)
    if params.get("state") == "absent" and manage_address is not None and "/" not in str(manage_address):
        # the IP alone identifies the VM to delete; the prefix only matters for a deploy
        manage_error = check_ipv4("manage_address", manage_address)
        manage_address = None
    else:
        manage_error = check_vm_cidr("manage_address", manage_address)
    return first_error(
        manage_error,
        check_vm_gateway("manage_gateway", params.get("manage_gateway"), "manage_address", manage_address),
        check_vm_cidr("storage_address", storage),
        check_vm_gateway("storage_gateway", params.get("storage_gateway"), "storage_address", storage),
        same,
        check_range("wait_timeout", params.get("wait_timeout"), 1, 86400),
    )


def run(tm):
    manage(tm, validate, StorageVm)


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
