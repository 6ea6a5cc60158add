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
  - The documents' host task progress does not say which operation runs on a host. A host without a listed CVM
    whose task runs is taken to be deploying one. With O(state=present) a deploy is sent only once that task has
    ended without a CVM (it was another operation, such as an upgrade). With O(state=absent) the task is waited
    for (read-only, also in check mode and with O(wait=false)) and the CVM it deployed, if any, is then removed.
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
from ansible_collections.tos.cloud.plugins.module_utils._checks import check_range, check_vm_cidr, check_vm_gateway, first_error
from ansible_collections.tos.cloud.plugins.module_utils._module import WAIT_ARGSPEC, TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import Cvm, manage
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC


def validate(params):
    return first_error(
        check_vm_cidr("address", params.get("address")),
        check_vm_gateway("gateway", params.get("gateway"), "address", params.get("address")),
        check_range("wait_timeout", params.get("wait_timeout"), 1, 86400),
    )


def run(tm):
    manage(tm, validate, Cvm)


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
