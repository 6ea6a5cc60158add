# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rolling upgrades: version comparison, reading the upgrade state, planning and running host upgrades.

Shared by ``upgrade``, ``upgrade_info`` and (through the ``upgrade`` module) the ``rolling_upgrade`` role.
The planning functions are pure; the ``read_*`` functions, ``start_host`` and ``finish_host`` talk to the manager.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterable

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import (
    ANOTHER_RUN,
    THIS_RUN,
    HostTaskFailed,
    join_host_task,
    read_host_task,
    task_is,
    wait_host_task,
)
from ansible_collections.tos.cloud.plugins.module_utils._topology import host_addresses, read_cloud_manage, topology

Entry = dict  # one host of a plan, or its outcome: {host, ip, uuid, service_types, from_versions, status...}

SERVICE_TYPES = ("compute", "storage", "cloud")

PACKAGE_LIST = "/v1/system/upgrade_package/list"
CURRENT_PACKAGE = "/v1/system/upgrade_package/current/inspect"
BACKUP_LIST = "/v1/system/compute/version/list"
UPGRADE = "/v1/system/compute/version/upgrade"
MEMBERS = "/v1/system/member/list"
OVERALL_STATUS = "/v1/cluster/overall_status/inspect"
# the sections of the overall status the health gate reads (those of tos.cloud.cluster_info's overall_status)
OVERALL_STATUS_FLAGS = ("manager_cloud_status", "compute_status", "storage_status", "network_status",
                        "cloud_manage_status")
ETCD_HEALTHY = ("health", "healthy")

# Outcome of one host in a plan or a run.
PENDING = "pending"          # check mode: would be upgraded
UPGRADED = "upgraded"
SKIPPED = "skipped"
FAILED = "failed"
NOT_STARTED = "not_started"  # after an earlier host failed
STARTED = "started"          # wait=false: upgrade started, not waited for
RUNNING = "running"          # an upgrade another run started is under way: joined, never sent again

# -- versions ---------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\d+|[a-z]+")
# Words that mark a pre-release: 3.2.5.rc2 < 3.2.5 < 3.2.5.1.
_PRERELEASE = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 3, "preview": 3, "rc": 4, "c": 4}
_END = (1, 0, "")


def version_key(version: Any) -> tuple:
    """A sort key for platform versions such as ``3.2.5``, ``3.2.5.rc2``, ``1.4.rc2``, ``v3.3-beta1``.

    Numbers compare numerically; ``dev``/``alpha``/``beta``/``rc`` mark a pre-release (lower than the
    release itself); other words sort after the release they follow (``3.2.5.hotfix1 > 3.2.5``).
    Trailing zero components do not count (``3.2.5 == 3.2.5.0``).
    """
    text = str(version or "").strip().lower()
    if text.startswith("v") and text[1:2].isdigit():
        text = text[1:]
    key = []
    for token in _TOKEN_RE.findall(text):
        if token.isdigit():
            key.append((3, int(token), ""))
        elif token in _PRERELEASE:
            key.append((0, _PRERELEASE[token], token))
        else:
            key.append((2, 0, token))
    while key and key[-1] == (3, 0, ""):
        key.pop()
    key.append(_END)
    return tuple(key)


def compare_versions(left: Any, right: Any) -> int:
    """-1, 0 or 1 as ``left`` is older than, the same as or newer than ``right``."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


def same_version(left: Any, right: Any) -> bool:
    return compare_versions(left, right) == 0


# -- reading the upgrade state ------------------------------------------------------------------


def read_current_package(client: Any, cluster_uuid: str, missing_ok: bool = False) -> dict | None:
    """``upgrade_package/current/inspect``: ``{name, version, md5, size, update_time}``, or None when
    no package has been uploaded (an empty answer, one without a version or, with ``missing_ok``,
    an error envelope: the simulator refuses the request when there is no package)."""
    try:
        data = client.get(CURRENT_PACKAGE, {"cluster_uuid": cluster_uuid}) or {}
    except TosApiError as exc:
        if missing_ok and exc.kind == "api":
            return None
        raise
    if not data.get("version") and not data.get("package_name"):
        return None
    return {
        "name": data.get("package_name") or data.get("name"),
        "version": str(data.get("version") or ""),
        "md5": data.get("md5"),
        "size": data.get("size"),
        "update_time": data.get("update_time"),
    }


def read_package_list(client: Any, cluster_uuid: str) -> dict:
    """``upgrade_package/list``: ``{"packages": [...], "host_list": [...], "hosts": {ip: entry}}``.

    Each entry is ``{"host_ip", "type_version", "upgrade_package_list"}``; the documents leave every
    list possibly ``null``, read here as empty.
    """
    data = client.get(PACKAGE_LIST, {"cluster_uuid": cluster_uuid}) or {}
    hosts = {}
    for item in data.get("list") or []:
        if not isinstance(item, dict) or not item.get("host_ip"):
            continue
        hosts[item["host_ip"]] = {
            "host_ip": item["host_ip"],
            "type_version": {str(k): str(v) for k, v in (item.get("type_version") or {}).items()},
            "upgrade_package_list": item.get("upgrade_package_list") or [],
        }
    return {
        "packages": data.get("package_list") or [],
        "host_list": data.get("host_list") or [],
        "hosts": hosts,
    }


def read_backups(client: Any, cluster_uuid: str, host_ip: str) -> list:
    """``compute/version/list``: the host's backup versions, oldest first as the server lists them."""
    data = client.get(BACKUP_LIST, {"cluster_uuid": cluster_uuid, "host_ip": host_ip}) or {}
    items = data.get("list") if isinstance(data, dict) else data
    return [dict(item) for item in (items or []) if isinstance(item, dict)]


# -- hosts ----------------------------------------------------------------------------------------


def host_entry(node: dict) -> Entry:
    """``{host, ip, uuid}`` of a topology node."""
    addrs = host_addresses(node)
    return {"host": node.get("name") or addrs["management"] or node.get("UUID"),
            "ip": addrs["management"], "uuid": node.get("UUID")}


def cluster_hosts(cluster_detail: dict, known_ips: Iterable[str] | None = None) -> list:
    """The hosts of a ``cluster/get`` answer as ``{host, ip, uuid}``, in topology order.

    The topology also lists the system-service VMs (``IsSystemService``: cloud-management and
    storage-service VMs); they are left out unless the upgrade service lists their IP in ``known_ips``.
    """
    hosts = []
    for node in topology(cluster_detail):
        entry = host_entry(node)
        if node.get("IsSystemService") and entry["ip"] not in (known_ips or ()):
            continue
        hosts.append(entry)
    return hosts


def describe(hosts: Iterable[Entry]) -> str:
    """``tos-a1 (192.0.2.11), tos-a2 (192.0.2.12)`` for messages."""
    return ", ".join("%s (%s)" % (h["host"], h["ip"]) if h["ip"] and h["ip"] != h["host"] else str(h["host"])
                     for h in hosts) or "none"


def select_hosts(all_hosts: list, wanted: list | None) -> tuple:
    """The hosts named in ``wanted`` (name, management IP or UUID), in the order given, without
    duplicates; returns ``(hosts, unknown_names)``.  ``wanted`` empty or None means every host."""
    if not wanted:
        return list(all_hosts), []
    selected, unknown, seen = [], [], set()
    for key in wanted:
        match = None
        for field in ("uuid", "host", "ip"):
            match = next((h for h in all_hosts if h.get(field) == key), None)
            if match:
                break
        if match is None:
            unknown.append(key)
        elif match["uuid"] not in seen:
            seen.add(match["uuid"])
            selected.append(match)
    return selected, unknown


def require_hosts(tm: Any, cluster: dict, detail: dict, known_ips: Iterable[str], wanted: list | None) -> list:
    """The hosts of the cluster (``detail`` from get_cluster) named in ``wanted``, as select_hosts
    gives them; fails the module, naming the unknown ones and the cluster's hosts, when some are not
    in the cluster."""
    candidates = cluster_hosts(detail, known_ips=known_ips)
    hosts, unknown = select_hosts(candidates, wanted)
    if unknown:
        tm.fail("hosts: %s not in cluster '%s' (hosts: %s)." % (
            ", ".join("'%s'" % h for h in unknown), cluster["name"], describe(candidates)))
    return hosts


# -- planning ---------------------------------------------------------------------------------------
#
# The one plan of a rolling upgrade: the hosts behind the target version, in the order given (else the
# topology's), the host of the leader cloud-management VM last (upgrading it moves the leadership once,
# at the end), cut into batches of ``batch_size`` in that order.  ``tos.cloud.upgrade`` returns it in
# check mode; the rolling_upgrade role and playbooks/rolling_upgrade.yml run those batches as they are.


def plan_host(host: Entry, type_version: dict | None, target: str,
              service_types: list | None = None) -> Entry:
    """What to do on one host: an outcome dict with ``status`` ``pending`` or ``skipped``.

    ``service_types`` (None = every type the host has) limits the types considered; a type the host
    does not run is ignored.  A type already at ``target`` is skipped; so is a type running a newer
    version (an upgrade never downgrades).
    """
    installed = list(type_version or {})
    considered = [t for t in (service_types or installed) if t in installed]
    entry = dict(host, service_types=[], from_versions={}, to_version=target, status=SKIPPED, reason="",
                 started_by=None)
    entry.setdefault("leader_cvm", False)
    if not considered:
        wanted = ", ".join(service_types or []) or "any"
        has = ", ".join(installed) or "none reported"
        entry["reason"] = "runs none of the service types requested (%s); installed: %s" % (wanted, has)
        return entry
    newer = []
    for service_type in considered:
        current = (type_version or {})[service_type]
        order = compare_versions(current, target)
        if order < 0:
            entry["service_types"].append(service_type)
            entry["from_versions"][service_type] = current
        elif order > 0:
            newer.append("%s %s" % (service_type, current))
    if entry["service_types"]:
        entry["status"] = PENDING
        if newer:
            entry["reason"] = "not downgraded: %s newer than %s" % (", ".join(newer), target)
        return entry
    if newer:
        entry["reason"] = "already newer than %s (%s); not downgraded" % (target, ", ".join(newer))
    else:
        entry["reason"] = "already at %s (%s)" % (target, ", ".join(considered))
    return entry


def plan_upgrade(hosts: list, versions: dict, target: str, service_types: list | None = None,
                 leader_hosts: Iterable[str] = ()) -> list:
    """The ordered plan for ``hosts`` (``{host, ip, uuid}`` dicts, in the order wanted).

    ``versions`` maps a management IP to the host's ``type_version``; ``leader_hosts`` are the UUIDs of
    the physical hosts that run the leader cloud-management VM, and that VM's UUID and IP
    (``leader_host_uuids``): the hosts (or the CVM's own node) they name go last (``leader_cvm``), the
    others keep their order.
    """
    leaders = set(leader_hosts or ())
    plan = [plan_host(dict(h, leader_cvm=h["uuid"] in leaders or h["ip"] in leaders), versions.get(h["ip"]) or {},
                      target, service_types)
            for h in hosts]
    return [e for e in plan if not e["leader_cvm"]] + [e for e in plan if e["leader_cvm"]]


def to_do(plan: list) -> list:
    """The entries of ``plan`` that a run upgrades or joins (``pending``, ``running``), in plan order."""
    return [entry for entry in plan if entry["status"] in (PENDING, RUNNING)]


def plan_batches(plan: list, batch_size: int) -> list:
    """The hosts to upgrade or join, ``batch_size`` at a time, in plan order (the leader's host last)."""
    size = max(1, int(batch_size or 1))
    todo = to_do(plan)
    return [todo[first:first + size] for first in range(0, len(todo), size)]


def leader_host_uuids(cvms: Iterable[dict]) -> list:
    """The physical hosts (UUIDs) that run the leader cloud-management VM (``_system_vm.list_cvms``), and that
    VM's own UUID and IP: ``upgrade_package/list`` may list the CVM itself (system-api.md's example lists a host
    with only a ``cloud`` version), and its topology node is then planned like a host."""
    keys = []
    for cvm in cvms:
        if cvm.get("is_leader"):
            keys += [key for key in (cvm.get("host_uuid"), cvm.get("uuid"), cvm.get("ip")) if key]
    return keys


def mark_running(client: Any, cluster_uuid: str, plan: list, wait: bool = True) -> list:
    """Read the task of every pending host of ``plan``: a host whose upgrade is already running (started by
    another run) becomes ``running`` (joined, not started again); check mode and real runs both plan with it.
    A host running another task (a server that names it, e.g. a CVM deploy) is upgraded after it with ``wait``;
    without, it is joined and not waited for, as ``start_host`` does then (nothing is sent to it in this run)."""
    for entry in plan:
        if entry["status"] != PENDING:
            continue
        task = read_host_task(client, cluster_uuid, entry["uuid"])
        if task_is(task, "upgrade"):
            entry.update(status=RUNNING, started_by=ANOTHER_RUN, progress=task["progress"],
                         reason="an upgrade started by another run is running (%.0f%%): joined, not started again" % (
                             task["progress"] * 100))
        elif task["running"] and wait:
            entry["reason"] = "waits for the %s task running on the host, then upgrades" % task["kind"]
        elif task["running"]:
            entry.update(status=RUNNING, started_by=ANOTHER_RUN, progress=task["progress"],
                         reason=_joined_not_waited("%s task" % task["kind"], task["progress"]))
    return plan


def plan_diff(plan: list, joined: bool = True, first: int | None = None) -> tuple:
    """``(before, after)`` for ``--diff``: per host to upgrade (and, with ``joined``, per host whose running
    upgrade this run joins), its service types' versions.  ``first``: only the first that many hosts to
    upgrade or join count (``wait=false`` starts one batch per run)."""
    before, after = {}, {}
    todo = to_do(plan)
    for entry in todo[:first] if first else todo:
        if entry["status"] != PENDING and not joined:
            continue
        before[entry["host"]] = dict(entry["from_versions"])
        after[entry["host"]] = {t: entry["to_version"] for t in entry["service_types"]}
    return before, after


def upgrade_body(cluster_uuid: str, entry: Entry) -> dict:
    return {"cluster_uuid": cluster_uuid,
            "list": [{"host_ip": entry["ip"], "service_type": t} for t in entry["service_types"]]}


def types_not_at(type_version: dict | None, service_types: Iterable[str], target: str) -> list:
    """The service types of ``service_types`` that do not run ``target`` yet according to ``type_version``
    (empty: the host is there)."""
    return [t for t in service_types if not same_version((type_version or {}).get(t), target)]


# -- running the hosts' upgrades ----------------------------------------------------------------------


def _label(entry: Entry) -> str:
    ip = entry["ip"]
    return "%s (%s)" % (entry["host"], ip) if ip and ip != entry["host"] else entry["host"]


def _host_versions(client: Any, cluster_uuid: str, ip: str) -> dict:
    return (read_package_list(client, cluster_uuid)["hosts"].get(ip) or {}).get("type_version") or {}


def _failed(outcome: Entry, reason: Any) -> Entry:
    outcome.update(status=FAILED, reason=str(reason).rstrip(". "))
    return outcome


def _at_target(client: Any, cluster_uuid: str, entry: Entry) -> bool:
    return not types_not_at(_host_versions(client, cluster_uuid, entry["ip"]), entry["service_types"],
                            entry["to_version"])


def _joined_not_waited(what: str, progress: float) -> str:
    return "the %s started by another run is running (%.0f%%): joined, not waited for (wait=false)" % (
        what, progress * 100)


def _join_running(client: Any, cluster_uuid: str, outcome: Entry, baseline: dict, timeout: float,
                  wait: bool, **kwargs: Any) -> Entry | None:
    """A task found running on the host before the upgrade is sent: joined (``_tasks`` rule), never sent
    again.  Returns the host's final outcome (``running`` with ``wait=false``, ``upgraded`` when the task
    brought the host to the target, ``failed`` when it did not finish), or None: the host still needs
    the upgrade, to be sent now."""
    what = "upgrade" if task_is(baseline, "upgrade") else "%s task" % baseline["kind"]
    outcome["started_by"] = ANOTHER_RUN
    if not wait:
        outcome.update(status=RUNNING, reason=_joined_not_waited(what, baseline["progress"]))
        return outcome
    try:
        join_host_task(client, cluster_uuid, outcome["uuid"], _label(outcome), timeout, **kwargs)
    except HostTaskFailed as exc:
        return _failed(outcome, "the %s already running on the host (started by another run) did not finish: "
                       "%s; nothing was sent" % (what, exc.reason))
    if _at_target(client, cluster_uuid, outcome):
        outcome.update(status=UPGRADED, reason="joined the %s already running on the host (started by "
                       "another run)" % what)
        return outcome
    return None


def _joined_outcome(client: Any, cluster_uuid: str, outcome: Entry, baseline: dict) -> Entry | None:
    """For a host planned as ``running`` (another run's upgrade): its outcome when that upgrade already
    ended between the plan and now (``upgraded`` or ``failed``), else None."""
    if outcome["status"] != RUNNING:
        return None
    if baseline["failed"]:
        return _failed(outcome, "the upgrade started by another run failed: %s; nothing was sent" % baseline["reason"])
    if not baseline["running"] and _at_target(client, cluster_uuid, outcome):
        outcome.update(status=UPGRADED, reason="joined the upgrade already running on the host (started by "
                       "another run)")
        return outcome
    return None


def _send_upgrade(client: Any, cluster_uuid: str, outcome: Entry, baseline: dict) -> None:
    """POST the upgrade through ``post_verified``: an answer lost on the way is followed by a re-read of the
    host's versions and task before anything is sent again."""
    def landed() -> dict | None:
        if _at_target(client, cluster_uuid, outcome):
            return {"landed": "finished"}
        now = read_host_task(client, cluster_uuid, outcome["uuid"])
        if now["running"] or (now["status"] is None and now["progress"] != baseline["progress"]):
            return {"landed": "running"}
        return None

    outcome["started_by"] = THIS_RUN
    client.post_verified(UPGRADE, upgrade_body(cluster_uuid, outcome), landed)


def start_host(client: Any, cluster_uuid: str, entry: Entry, timeout: float, stall_timeout: float | None = None,
               interval: float = 2.0, sleep: Callable = time.sleep, clock: Callable = time.monotonic,
               wait: bool = True) -> tuple:
    """Start the upgrade of one planned host; return ``(outcome, started)``.

    The outcome's status is ``started`` (the upgrade was sent; ``started`` is the ``clock()`` reading
    just before), ``upgraded`` (a task already running on the host brought it to the target version:
    nothing was sent), ``running`` (with ``wait=false``, a task already running on the host: joined,
    not waited for, nothing sent) or ``failed``.

    - A task already running on the host (an earlier run that timed out, another run) is joined
      (``_tasks`` rule): waited for, never started again; if it brought the host to the target version,
      nothing is sent.  When that wait times out or the task fails, the host fails and nothing is sent.
    - The POST goes through ``post_verified`` (``_send_upgrade``).
    """
    outcome = dict(entry)
    wait_args = dict(interval=interval, stall_timeout=stall_timeout, clock=clock, sleep=sleep)
    # a host planned ``running`` (another run's upgrade, joined): its progress read by the plan, so that a failure
    # shown as a progress falling back (to 0.0) since then reads as one, not as an idle host to upgrade again
    joined_at = entry.get("progress") if entry["status"] == RUNNING else None
    try:
        baseline = read_host_task(client, cluster_uuid, entry["uuid"], previous=joined_at)
        done = _joined_outcome(client, cluster_uuid, outcome, baseline)
        if done is None and baseline["running"]:
            done = _join_running(client, cluster_uuid, outcome, baseline, timeout, wait, **wait_args)
            baseline = read_host_task(client, cluster_uuid, entry["uuid"]) if done is None else baseline
        if done is not None:
            return done, None
        started = clock()
        _send_upgrade(client, cluster_uuid, outcome, baseline)
    except TosApiError as exc:
        return _failed(outcome, exc.message), None
    outcome["_sent"] = True  # the host may have changed from here on, whatever follows
    outcome.update(status=STARTED, reason="upgrade started; not waited for (wait=false)")
    return outcome, started


def finish_host(client: Any, cluster_uuid: str, outcome: Entry, timeout: float, started: float | None = None,
                stall_timeout: float | None = None, interval: float = 2.0, sleep: Callable = time.sleep,
                clock: Callable = time.monotonic) -> Entry:
    """Wait for the upgrade task of a host that ``start_host`` started, then check that the host reports
    the target version for every upgraded service type; the outcome becomes ``upgraded`` or ``failed``.

    ``timeout`` counts from ``started`` (default: now)."""
    ip, types, target = outcome["ip"], outcome["service_types"], outcome["to_version"]
    confirmed = {}  # the versions that confirmed a finish read at once: the wait returns on them, no need to ask again

    def at_target():
        versions = _host_versions(client, cluster_uuid, ip)
        if types_not_at(versions, types, target):
            return False
        confirmed["versions"] = versions
        return True

    try:
        try:
            # confirm: a progress of 1.0 read at once may be the host's previous task's (wait_host_task)
            wait_host_task(client, cluster_uuid, outcome["uuid"], _label(outcome), timeout, interval=interval,
                           stall_timeout=stall_timeout, clock=clock, sleep=sleep, started=started, confirm=at_target)
        except HostTaskFailed as exc:
            return _failed(outcome, exc.reason)
        now = confirmed["versions"] if "versions" in confirmed else _host_versions(client, cluster_uuid, ip)
        missing = types_not_at(now, types, target)
        if missing:
            return _failed(outcome, "the upgrade task finished but the host reports %s instead of %s" % (
                ", ".join("%s %s" % (t, now.get(t, "not installed")) for t in missing), target))
    except TosApiError as exc:
        return _failed(outcome, exc.message)
    outcome.update(status=UPGRADED, reason="")
    return outcome


def _run_batch(client: Any, cluster_uuid: str, batch: list, timeout: float, stop: str | None,
               on_host: Callable | None, stall_timeout: float | None, wait: bool, **kwargs: Any) -> tuple:
    """Start every host of one batch, then (``wait``) wait for each; returns ``(outcomes by id() of
    the plan entry, stop, started)``: ``stop`` is set from the first host whose upgrade could not be
    started; ``started``: whether any host was started or joined."""
    outcomes, running, joined = {}, [], False
    for entry in batch:
        if stop is not None:
            outcomes[id(entry)] = dict(entry, status=NOT_STARTED, reason=stop)
            continue
        if on_host is not None:
            on_host(entry)
        outcome, started = start_host(client, cluster_uuid, entry, timeout, stall_timeout=stall_timeout,
                                      wait=wait, **kwargs)
        outcomes[id(entry)] = outcome
        joined = joined or outcome["status"] == RUNNING
        if outcome["status"] == FAILED:
            stop = "not started because the upgrade of %s failed" % outcome["host"]
        elif outcome["status"] == STARTED:
            running.append((id(entry), started))
    if wait:
        for key, started in running:
            outcomes[key] = finish_host(client, cluster_uuid, outcomes[key], timeout, started=started,
                                        stall_timeout=stall_timeout, **kwargs)
    return outcomes, stop, joined or bool(running)


def run_plan(client: Any, cluster_uuid: str, plan: list, timeout: float, stall_timeout: float | None = None,
             wait: bool = True, on_host: Callable | None = None, batch_size: int = 1,
             after_batch: Callable | None = None, **kwargs: Any) -> list:
    """Upgrade the pending hosts of ``plan`` batch by batch (``plan_batches``), in plan order.

    The upgrades of a batch are all started, then waited for (``timeout`` per host, counted from its
    start) and their versions checked; the next batch starts when every host of the batch is upgraded.
    Stops at the first failure: a host whose upgrade cannot be started ends the starts of its batch (the
    hosts of the batch already started are still waited for), and a failed batch ends the run; the hosts
    not started are ``not_started``.  With ``wait=false`` only the first batch is started and the other
    hosts are ``not_started``.  ``after_batch(upgraded outcomes)``, called after each batch that upgraded
    its hosts (``wait``), returns None to go on or why the next hosts are not started (the health gate).
    Returns the list of outcomes (plan order).
    """
    batch_size = max(1, int(batch_size or 1))
    batches = plan_batches(plan, batch_size)
    done: dict = {}
    stop = None
    for number, batch in enumerate(batches, 1):
        _progress.CONTEXT.update(batch=number, batches=len(batches))
        outcomes, stop, started = _run_batch(client, cluster_uuid, batch, timeout, stop, on_host, stall_timeout,
                                             wait, **kwargs)
        done.update(outcomes)
        if stop is None:
            bad = next((o for o in outcomes.values() if o["status"] == FAILED), None)
            if bad is not None:
                stop = "not started because the upgrade of %s failed" % bad["host"]
            elif started and not wait:
                stop = ("not started: wait=false starts one host per run" if batch_size == 1
                        else "not started: wait=false starts one batch of %d hosts per run" % batch_size)
            elif started and after_batch is not None:
                stop = after_batch([o for o in outcomes.values() if o["status"] == UPGRADED])
    return [done.get(id(entry)) or dict(entry) for entry in plan]


# -- the health gate between batches -----------------------------------------------------------

def cluster_unhealthy(manage: list, overall: dict) -> str | None:
    """Why the cluster is not healthy, or None: a section of the overall status in fault, no running center
    node, or a center node whose status is not 1 or whose etcd is not healthy (the rules of the
    tos.cloud.rolling_upgrade role's gate)."""
    faults = [key for key, section in (overall or {}).items()
              if isinstance(section, dict) and section.get("status") == "fault"]
    if faults:
        return "overall status in fault: %s" % ", ".join(faults)
    bad = [node.get("ip") or "?" for node in manage
           if node.get("status") != 1
           or (node.get("etcd_base_info") or {}).get("etcd_cluter_health") not in ETCD_HEALTHY]
    if not manage or bad:
        return "center nodes or etcd not healthy: %s" % (", ".join(bad) or "none")
    return None


def read_health(client: Any, cluster_uuid: str) -> str | None:
    """One reading of the cluster's health (center nodes, etcd, overall status): None when healthy, else why."""
    try:
        manage = read_cloud_manage(client, cluster_uuid)
        overall = client.get(OVERALL_STATUS, dict(dict.fromkeys(OVERALL_STATUS_FLAGS, "true"),
                                                  cluster_uuid=cluster_uuid)) or {}
    except TosApiError as exc:
        if exc.kind != "api":
            raise
        return "the cluster could not be read: %s" % exc.message
    return cluster_unhealthy(manage, overall)


def wait_healthy(client: Any, cluster_uuid: str, attempts: int, delay: float,
                 sleep: Callable = time.sleep) -> str | None:
    """The health gate: the manager's members ready, then the cluster healthy (``read_health``), each read
    up to ``attempts`` times ``delay`` seconds apart.  None when both hold, else why not (the last reading)."""
    members: dict = {}
    for attempt in range(attempts):
        if attempt:
            sleep(delay)
        members = client.get(MEMBERS) or {}
        if members.get("ready"):
            break
    else:
        return "the manager is not ready (leader %s)" % (members.get("leader") or "none")
    reason = None
    for attempt in range(attempts):
        if attempt:
            sleep(delay)
        reason = read_health(client, cluster_uuid)
        if reason is None:
            break
    return reason


def strip_internal(outcomes: list) -> bool:
    """Remove the internal markers from outcomes; return whether any host may have changed."""
    touched = False
    for outcome in outcomes:
        touched = outcome.pop("_sent", False) or touched or outcome["status"] in (UPGRADED, STARTED)
    return touched


def summarize(outcomes: list) -> dict:
    """Host names by status, for a short result and messages."""
    summary: dict = {UPGRADED: [], SKIPPED: [], FAILED: [], NOT_STARTED: [], PENDING: [], STARTED: [], RUNNING: []}
    for outcome in outcomes:
        summary.setdefault(outcome["status"], []).append(outcome["host"])
    return summary
