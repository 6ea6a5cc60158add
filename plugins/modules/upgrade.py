#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: upgrade
short_description: Upgrade a cluster's hosts to the uploaded package, host by host
version_added: 0.1.0
description:
  - Upgrades the service types (compute, storage, cloud) of a cluster's hosts to the version of the
    upgrade package currently uploaded to the manager (C(/v1/system/upgrade_package/current/inspect)).
  - Hosts are upgraded one after the other, in the order given in O(hosts), or O(batch_size) at a time;
    the host that runs the leader cloud-management VM goes last (its upgrade moves the leadership once, at
    the end). The batches are returned in RV(batches).
    For each host the module sends C(/v1/system/compute/version/upgrade) for the host's service types,
    waits for the host task (C(/v1/cluster/host/task/progress)) and then checks that the host reports the
    new version (C(/v1/system/upgrade_package/list)).
  - Idempotent. Service types already at the target version are not upgraded again; a host with
    nothing to upgrade is reported as V(skipped). An upgrade never downgrades a service type that
    runs a newer version than the package.
  - The first host that fails (the task reports an error, stops progressing, or the host does not
    report the new version afterwards) stops the run; the module fails naming that host and the
    server's reason, and the hosts after it are not touched (reported as V(not_started)). With
    O(batch_size) above 1 the other hosts of that batch, already started, are waited for and reported.
  - A re-run resumes, skipping the hosts already upgraded. An upgrade already running on a host (started
    by an earlier run that timed out, or by another run) is joined, never sent again; with O(wait=true) the
    module waits for it, and when that wait times out the host fails without anything being sent. The
    host's result says V(another_run) in RV(hosts[].started_by).
  - In check mode the module returns the plan, the hosts and service types that would be upgraded
    from which version, in order, and its batches (RV(batches)), without sending anything. The
    C(tos.cloud.rolling_upgrade) role runs these batches as they are.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
attributes:
  check_mode:
    support: full
    details:
      - Returns the plan the real run follows.
  diff_mode:
    support: full
    details:
      - Per host, the versions of the service types before and after.
options:
  hosts:
    description:
      - The hosts to upgrade, in this order (the leader cloud-management VM's host last), each by name,
        management IP or UUID as the cluster's topology shows it.
      - Default is every host of the cluster, in topology order.
    type: list
    elements: str
  service_types:
    description:
      - The service types to upgrade on each host.
      - A host that does not run a listed type is upgraded for the types it does run; a host that runs
        none of them is skipped.
      - Default is every service type each host runs.
    type: list
    elements: str
    choices: [compute, storage, cloud]
  version:
    description:
      - The version to upgrade to. It must be the version of the package currently uploaded to the
        manager; the module fails before any change otherwise.
      - Default is the version of the uploaded package.
      - Set it to make a playbook refuse to run against an unexpected package.
    type: str
  wait:
    description:
      - Wait for each host's upgrade before starting the next one, and check the new version.
      - With V(false) the module starts the upgrade of the first host that needs one (the first
        O(batch_size) hosts) and returns at once (status V(started)); run it again to wait for that host
        and continue with the next.
    type: bool
    default: true
  batch_size:
    description:
      - How many hosts are upgraded at the same time. The module starts the upgrades of the next
        O(batch_size) hosts that need one, in order, waits for all of them and checks their versions, then
        goes on with the next batch.
      - A host whose upgrade cannot be started ends the starts of its batch; a failed host stops the run
        after its batch.
      - The cluster's health is checked between batches (and after the last) only with O(health_retries).
    type: int
    default: 1
    version_added: 1.0.0
  health_retries:
    description:
      - The health gate. After each batch whose hosts are upgraded and verified, wait for the cluster to be
        healthy before the next batch starts (and before the module returns, after the last batch) - first
        the manager's members ready (C(/v1/system/member/list)), then every center node of the cluster
        with status 1 and its etcd healthy (C(/v1/cluster/cloud/manage)) and no section of the overall
        status in fault (C(/v1/cluster/overall_status/inspect)).
      - Each is read once and then up to this many more times, O(health_delay) seconds apart; when it still
        does not hold the module fails naming what is not healthy (the manager's leader, the sections in
        fault, or the center nodes), and the hosts after the batch are not started.
      - Not checked in check mode (nothing is upgraded, nothing is waited for), nor with O(wait=false).
      - Default is no health gate.
    type: int
    version_added: 1.0.0
  health_delay:
    description:
      - Seconds between two readings of the health gate (O(health_retries)).
    type: int
    default: 3
    version_added: 1.0.0
  halt_file:
    description:
      - While this file exists (on the host the module runs on, the controller with a local connection), the
        module starts no host and fails saying so, in check mode too (after reading the plan; nothing is changed).
      - It is looked for again before each later batch (O(batch_size)). A file that appears while a batch runs lets
        that batch finish (its hosts waited for, checked and gated), then the module starts no further host and
        fails naming the hosts upgraded and those not started. Writing the file is a way to stop a long run after
        the current batch.
      - The rulebook C(tos.cloud.upgrade_failed) (extensions/eda) writes such a file when a host task fails;
        the C(tos.cloud.rolling_upgrade) role passes its C(rolling_upgrade_halt_file).
    type: path
    version_added: 1.0.0
  wait_timeout:
    description:
      - Seconds to wait for the upgrade of each host, counted from its start.
    type: int
    default: 1800
  stall_timeout:
    description:
      - Fail a host whose upgrade task reports no progress for this many seconds.
      - V(0) disables the check (O(wait_timeout) still applies).
    type: int
    default: 600
seealso:
  - module: tos.cloud.upgrade_info
"""

EXAMPLES = r"""
- name: Upgrade two hosts first (canaries)
  tos.cloud.upgrade:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    hosts: [tos-a1, 192.0.2.12]
  register: canaries

- name: Show what would be upgraded on the rest, without changing anything
  tos.cloud.upgrade:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
  check_mode: true
  register: plan

- name: Upgrade the remaining hosts' storage service, refusing any package but 3.2.5.rc2
  tos.cloud.upgrade:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    service_types: [storage]
    version: 3.2.5.rc2
    wait_timeout: 3600

- name: Upgrade two hosts at a time, waiting up to 30 s after each pair for the cluster to be healthy
  tos.cloud.upgrade:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    hosts: [tos-a3, tos-a4, tos-a2, tos-a1]
    batch_size: 2
    health_retries: 10
    health_delay: 3
"""

RETURN = r"""
cluster:
  description: The cluster.
  returned: success
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
      sample: demo
    uuid:
      description: Cluster UUID.
      type: str
      sample: 3afdbbfc-e45a-430e-abba-842074a8b035
package:
  description: The upgrade package currently uploaded (the target).
  returned: success
  type: dict
  contains:
    name:
      description: Package file name.
      type: str
      sample: updatepackage_3.2.5.rc2.tar.gz
    version:
      description: Package version.
      type: str
      sample: 3.2.5.rc2
    md5:
      description: MD5 of the package.
      type: str
    size:
      description: Size in bytes.
      type: int
    update_time:
      description: When the package was uploaded (Unix time).
      type: int
to_version:
  description: The version the hosts are upgraded to.
  returned: success
  type: str
  sample: 3.2.5.rc2
plan:
  description:
    - The hosts that need an upgrade, in order, with their service types and current versions.
    - The same in check mode and in the real run that follows it.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: Host name.
      type: str
    ip:
      description: Management IP.
      type: str
    uuid:
      description: Host UUID.
      type: str
    service_types:
      description: The service types to upgrade.
      type: list
      elements: str
    from_versions:
      description: Current version of each service type to upgrade.
      type: dict
    to_version:
      description: Target version.
      type: str
    leader_cvm:
      description: Whether the host runs the leader cloud-management VM, or is that VM (listed by the upgrade
        service); upgraded last.
      type: bool
    batch:
      description: The number of the host's batch (RV(batches)), from 1.
      type: int
batches:
  description:
    - The entries of RV(plan) (the same keys) cut into batches of O(batch_size), in upgrade order (the leader
      cloud-management VM's host in the last batch); each batch is started together and waited for before
      the next.
    - The same in check mode and in the real run that follows it.
  returned: success
  type: list
  elements: list
  sample: [[{"host": "tos-a1", "ip": "192.0.2.11", "uuid": "u1", "service_types": ["compute"],
             "from_versions": {"compute": "3.2.4"}, "to_version": "3.2.5.rc2", "leader_cvm": false,
             "batch": 1}]]
hosts:
  description:
    - The outcome of every selected host, in order.
  returned: always (also when the module fails after a host failed)
  type: list
  elements: dict
  contains:
    host:
      description: Host name.
      type: str
      sample: tos-a1
    ip:
      description: Management IP.
      type: str
      sample: 192.0.2.11
    uuid:
      description: Host UUID.
      type: str
    service_types:
      description: The service types upgraded (or to upgrade).
      type: list
      elements: str
      sample: [compute, storage]
    from_versions:
      description: Versions before the upgrade, per service type upgraded.
      type: dict
      sample: {"compute": "3.2.4", "storage": "3.2.4"}
    to_version:
      description: Target version.
      type: str
      sample: 3.2.5.rc2
    status:
      description:
        - V(upgraded), V(skipped) (nothing to do), V(failed), V(not_started) (after an earlier host failed,
          or with O(wait=false)), V(started) (O(wait=false)), V(pending) (check mode, would be upgraded), or
          V(running) (an upgrade started by another run is running and was joined, in check mode, or with
          O(wait=false); nothing is sent for it).
      type: str
      sample: upgraded
    started_by:
      description:
        - Which run started the host's upgrade task, V(this_run) or V(another_run) (a running upgrade that this
          run joined); null when no task ran.
      type: str
      sample: this_run
    reason:
      description: Why a host was skipped, failed or not started; empty otherwise.
      type: str
      sample: already at 3.2.5.rc2 (compute, storage)
failed_host:
  description: Name of the host whose upgrade failed.
  returned: when a host failed
  type: str
  sample: tos-b2
unhealthy:
  description:
    - "Why the health gate (O(health_retries)) failed after the last batch upgraded, for example
      V(center nodes or etcd not healthy: 192.0.2.101)."
  returned: when the health gate failed
  type: str
  version_added: 1.0.0
upgraded_hosts:
  description: Names of the hosts upgraded by this run.
  returned: success
  type: list
  elements: str
skipped_hosts:
  description: Names of the hosts with nothing to upgrade.
  returned: success
  type: list
  elements: str
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

import os

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._checks import check_range, first_error
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import read_cvms, unplaced_cvms
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CLUSTER_ARGSPEC,
    get_cluster,
    require_cluster,
)
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import (
    FAILED,
    NOT_STARTED,
    SERVICE_TYPES,
    SKIPPED,
    UPGRADED,
    leader_host_uuids,
    mark_running,
    plan_batches,
    plan_diff,
    plan_upgrade,
    read_current_package,
    read_package_list,
    require_hosts,
    run_plan,
    same_version,
    strip_internal,
    summarize,
    to_do,
    wait_healthy,
)

PLAN_KEYS = ("host", "ip", "uuid", "service_types", "from_versions", "to_version", "leader_cvm")


def validate(params):
    hosts = params["hosts"]
    return first_error(
        "hosts: must not be an empty list (leave it unset for every host)" if hosts == [] else None,
        "hosts: host names must not be empty" if hosts and any(not (h or "").strip() for h in hosts) else None,
        "service_types: must not be an empty list (leave it unset for every type)"
        if params["service_types"] == [] else None,
        "version: must not be empty" if params["version"] is not None and not params["version"].strip() else None,
        check_range("wait_timeout", params["wait_timeout"], 0, 10 ** 7, low_open=True),
        check_range("batch_size", params["batch_size"], 1, 1000),
        check_range("stall_timeout", params["stall_timeout"], 0, 10 ** 7),
        check_range("health_retries", params["health_retries"], 0, 10 ** 4)
        if params["health_retries"] is not None else None,
        check_range("health_delay", params["health_delay"], 0, 3600),
        "halt_file: must not be empty" if params["halt_file"] is not None and not params["halt_file"].strip() else None,
    )


def read_target(tm, cluster):
    """The uploaded package (the target) of the cluster; fails the module when there is none or when
    ``version`` names another one."""
    params = tm.params
    tm.doing("read the upgrade package of cluster '%s'" % cluster["name"])
    refused = None
    try:
        package = read_current_package(tm.client, cluster["uuid"])
    except TosApiError as exc:
        if exc.kind != "api":
            raise
        package, refused = None, exc.message
    if package is None or not package["version"]:
        # failed outside the except block: an API refusal here is a message, not a traceback
        tm.fail("Cluster '%s' has no upgrade package to upgrade to%s. Upload one to the manager first." % (
            cluster["name"], " (%s)" % refused if refused else ""))
    target = package["version"]
    if params["version"] is not None and not same_version(params["version"], target):
        tm.fail("version: %s is not the version of the uploaded package %s (%s); upload the package of %s "
                "or set version to %s." % (params["version"], package["name"], target, params["version"], target))
    return package


def make_plan(tm, cluster, detail, target):
    """The one plan (``_upgrade.plan_upgrade``): the selected hosts behind ``target``, the host of the leader
    cloud-management VM last; a running upgrade of another run is joined.  The center nodes are read only
    when the order can matter (two hosts or more to upgrade)."""
    params, uuid = tm.params, cluster["uuid"]
    tm.doing("read the hosts' versions in cluster '%s'" % cluster["name"])
    versions = {ip: entry["type_version"] for ip, entry in read_package_list(tm.client, uuid)["hosts"].items()}
    hosts = require_hosts(tm, cluster, detail, versions, params["hosts"])
    plan = plan_upgrade(hosts, versions, target, params["service_types"])
    if len(to_do(plan)) > 1:
        tm.doing("read the center nodes of cluster '%s'" % cluster["name"])
        cvms = read_cvms(tm.client, uuid, detail)
        leaders = leader_host_uuids(cvms)
        for cvm in unplaced_cvms(cvms):
            if cvm["is_leader"]:
                tm.warn("The manager does not say which host runs the leader cloud-management VM %s (%s), so the plan "
                        "cannot put that host last: its upgrade may move the leadership once more." % (
                            cvm["name"] or cvm["uuid"], cvm["ip"]))
        plan = plan_upgrade(hosts, versions, target, params["service_types"], leader_hosts=leaders)
    # an upgrade already running on a host (another run's) is joined, in check mode as in a real run
    tm.doing("read the running tasks of the hosts to upgrade in cluster '%s'" % cluster["name"])
    return mark_running(tm.client, uuid, plan, wait=params["wait"])


def fail_host(tm, outcomes, summary, target, result):
    bad = next(o for o in outcomes if o["status"] == FAILED)
    msg = "Upgrade of host %s (%s) to %s failed: %s." % (bad["host"], bad["ip"], target, bad["reason"])
    if summary[UPGRADED]:
        msg += " Upgraded%s: %s." % (" before it" if tm.params["batch_size"] == 1 else "", ", ".join(summary[UPGRADED]))
    if summary[NOT_STARTED]:
        msg += " Not started: %s." % ", ".join(summary[NOT_STARTED])
    tm.fail(msg, changed=tm.changed, hosts=outcomes, upgraded_hosts=summary[UPGRADED], skipped_hosts=summary[SKIPPED],
            failed_host=bad["host"], **result)


def check_halt(tm, plan):
    """Fail, before anything is sent, while the halt file exists."""
    halt = tm.params["halt_file"]
    if halt and os.path.exists(halt):
        names = [entry["host"] for entry in to_do(plan)]
        tm.fail("The rolling upgrade is halted: %s exists (written when a host task failed); no host (%s) was "
                "started. Delete the file to resume." % (halt, ", ".join(names) or "none to upgrade"))


def health_gate(tm, uuid, gate):
    """The ``after_batch`` of ``run_plan`` with O(health_retries): None, or why the next batch does not start
    (``gate`` keeps the message)."""
    params = tm.params
    if params["health_retries"] is None:
        return None
    attempts = params["health_retries"] + 1

    def after_batch(upgraded):
        names = ", ".join(o["host"] for o in upgraded)
        tm.doing("wait for the cluster to be healthy after upgrading %s" % names)
        reason = wait_healthy(tm.client, uuid, attempts, params["health_delay"])
        if reason is None:
            return None
        gate.update(unhealthy=reason, msg="Health gate failed after upgrading %s: %s (checked %d times, %d s apart)."
                    % (names, reason, attempts, params["health_delay"]))
        return "not started because the cluster was not healthy after upgrading %s" % names
    return after_batch


def halt_between_batches(tm, after_batch, halted):
    """``after_batch`` (the health gate, or None) followed by a look for the halt file: why the next batch does not
    start, or None; ``halted`` keeps the message when the halt file stopped the run."""
    halt = tm.params["halt_file"]
    if not halt:
        return after_batch

    def check(upgraded):
        reason = after_batch(upgraded) if after_batch is not None else None
        if reason is None and os.path.exists(halt):
            halted["msg"] = ("The rolling upgrade is halted: %s appeared while it ran (written when a host task failed);"
                             " no later host was started. Delete the file to resume." % halt)
            return "not started because %s appeared" % halt
        return reason
    return check


def run(tm):
    params = tm.params
    error = validate(params)
    if error:
        tm.fail(error)

    cluster = require_cluster(tm, params["cluster"])
    uuid = cluster["uuid"]
    detail = get_cluster(tm.client, uuid)
    package = read_target(tm, cluster)
    target = package["version"]
    plan = make_plan(tm, cluster, detail, target)
    check_halt(tm, plan)
    before, after = plan_diff(plan, joined=params["wait"], first=None if params["wait"] else params["batch_size"])
    tm.track(before, after)

    batches = [[dict({k: entry[k] for k in PLAN_KEYS}, batch=number) for entry in batch]
               for number, batch in enumerate(plan_batches(plan, params["batch_size"]), 1)]
    result = dict(
        cluster={"name": cluster["name"], "uuid": uuid},
        package=package,
        to_version=target,
        plan=[entry for batch in batches for entry in batch],
        batches=batches,
    )
    if tm.check_mode or not tm.changed:
        summary = summarize(plan)
        tm.exit(hosts=plan, upgraded_hosts=[], skipped_hosts=summary[SKIPPED], **result)

    def on_host(entry):
        tm.doing("upgrade host %s (%s) to %s" % (entry["host"], entry["ip"], target))

    gate: dict = {}
    halted: dict = {}
    outcomes = run_plan(tm.client, uuid, plan, params["wait_timeout"], stall_timeout=params["stall_timeout"] or None,
                        wait=params["wait"], on_host=on_host, batch_size=params["batch_size"],
                        after_batch=halt_between_batches(tm, health_gate(tm, uuid, gate), halted))
    tm.changed = strip_internal(outcomes)
    summary = summarize(outcomes)
    if summary[FAILED]:
        fail_host(tm, outcomes, summary, target, result)
    if halted and summary[NOT_STARTED]:  # stopped between batches as the gate stops it (never both: see check)
        gate["msg"] = halted["msg"] + " Upgraded: %s." % (", ".join(summary[UPGRADED]) or "none")
    if gate:
        msg = gate.pop("msg") + (" Not started: %s." % ", ".join(summary[NOT_STARTED]) if summary[NOT_STARTED] else "")
        tm.fail(msg, changed=tm.changed, hosts=outcomes, upgraded_hosts=summary[UPGRADED],
                skipped_hosts=summary[SKIPPED], **dict(result, **gate))
    tm.exit(hosts=outcomes, upgraded_hosts=summary[UPGRADED], skipped_hosts=summary[SKIPPED], **result)


def main():
    TosModule(
        argument_spec=dict(
            CLUSTER_ARGSPEC,
            hosts=dict(type="list", elements="str"),
            service_types=dict(type="list", elements="str", choices=list(SERVICE_TYPES)),
            version=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
            batch_size=dict(type="int", default=1),
            stall_timeout=dict(type="int", default=600),
            health_retries=dict(type="int"),
            health_delay=dict(type="int", default=3),
            halt_file=dict(type="path"),
        ),
    ).execute(run)


if __name__ == "__main__":
    main()
