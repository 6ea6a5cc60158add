# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tos.cloud.events: an Event-Driven Ansible source that watches a tos manager through its /v1 reads.

Every ``interval`` seconds it reads the manager, compares what it sees with what it saw last (kept in a
state file, the cursor) and puts one event per change on the queue.  See DOCUMENTATION below and
docs/events.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
import types
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DOCUMENTATION = r"""
---
short_description: Events of a tos private cloud's manager, from its /v1 API
description:
  - Polls the manager's documented C(/v1) reads and emits one event per change, each with a stable
    C(type), a dedupe C(key), the cluster and host it concerns and C(before)/C(after) values.
  - "Event types: C(cluster_added), C(cluster_removed), C(cluster_status_changed),
    C(cluster_score_changed), C(alarm_raised), C(alarm_cleared), C(fault_raised), C(fault_cleared)
    (the findings of the latest finished inspection), C(member_down), C(member_up), C(leader_changed),
    C(manager_not_ready), C(manager_ready), C(host_task_started), C(host_task_finished),
    C(host_task_failed), C(host_version_changed), C(upgrade_available), C(upgrade_completed),
    C(snapshot_stale), C(snapshot_fresh), C(manager_unreachable), C(manager_recovered)."
  - The cursor is a state file written atomically after every poll, so a restart of the source
    neither loses nor repeats an event; a manager restart or a fail-over to another O(api_url) neither.
  - "Requests per poll: C(mode=full) sends 2 + 4 x clusters + the nodes of their topologies (host task
    progress, when O(host_tasks)) + 2 x clusters (when O(snapshot_max_age) is set); C(mode=cheap) sends 2
    (C(system/member/list) and C(cluster/list)) and reports only manager and cluster membership."
options:
  api_url:
    description: Manager URL(s); with several, the source fails over to the next on connection errors.
      Falls back to E(TOS_API_URL) (a comma-separated list).
    type: list
    elements: str
    required: true
  api_token:
    description: Bearer token. Falls back to E(TOS_API_TOKEN). Never appears in an event.
    type: str
  validate_certs:
    description: TLS verification. Falls back to E(TOS_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description: CA bundle for a private CA. Falls back to E(TOS_CA_PATH).
    type: path
  timeout:
    description: Seconds per request. Falls back to E(TOS_TIMEOUT).
    type: int
    default: 30
  interval:
    description: Seconds between two polls. Falls back to E(TOS_EVENTS_INTERVAL).
    type: float
    default: 10
  mode:
    description: C(full) watches everything; C(cheap) reads only the manager members and the cluster list.
    type: str
    choices: [full, cheap]
    default: full
  clusters:
    description: Names or UUIDs of the clusters to watch; all when unset.
    type: list
    elements: str
  host_tasks:
    description: Read every host's task progress each poll (one request per host).
    type: bool
    default: true
  task_stall_timeout:
    description: A host task whose progress stays below 1 and unchanged this many seconds counts as
      failed (the documents give only C(progress); a C(status) of C(failed), when the manager sends
      one, is used at once).
    type: float
    default: 600
  snapshot_max_age:
    description: Seconds (or C(6h), C(1d), C(1w)); when the newest metadata snapshot of a cluster is
      older, C(snapshot_stale) is emitted. Unset, snapshots are not read.
    type: str
  state_file:
    description: The cursor. Falls back to E(TOS_EVENTS_STATE_FILE), then C($XDG_STATE_HOME/tos.cloud/events.json)
      (C(~/.local/state/tos.cloud/events.json)).
    type: path
  initial_events:
    description: On the very first start (no state file), emit events for the conditions already
      present (active alarms and faults, cluster status, a pending upgrade, a stale snapshot).
    type: bool
    default: true
  max_polls:
    description: Stop after this many polls (for tests); unset, run until cancelled.
    type: int
"""

EXAMPLES = r"""
- name: Watch the tos manager
  hosts: localhost
  sources:
    - tos.cloud.events:
        api_url: https://192.0.2.10:9990,https://192.0.2.11:9990
        interval: 10
        state_file: /var/lib/eda/tos-events.json
  rules:
    - name: A fault was found
      condition: event.type == "fault_raised"
      action:
        run_playbook:
          name: tos.cloud.inspect
"""

STATE_VERSION = 1
MEMBER_LIST = "/v1/system/member/list"
CLUSTER_LIST = "/v1/cluster/list"
CLUSTER_GET = "/v1/cluster/get"
INSPECTION_PROGRESS = "/v1/cluster/inspection/progress"
PACKAGE_LIST = "/v1/system/upgrade_package/list"
PACKAGE_CURRENT = "/v1/system/upgrade_package/current/inspect"
TASK_PROGRESS = "/v1/cluster/host/task/progress"
CLOUD_MANAGE = "/v1/cluster/cloud/manage"
SNAPSHOT_LIST = "/v1/cluster/data/snapshot/list"
# event types a first start without a state file does not emit: they describe a change, not a condition
NOT_INITIAL = frozenset(("cluster_added", "member_up", "leader_changed", "host_task_started",
                         "host_task_finished", "host_version_changed", "manager_recovered", "cluster_score_changed"))
LEVEL_RANK = {"normal": 0, "alarm": 1, "fault": 2}
SNAPSHOT_TIME_RE = re.compile(r"(\d{9,})")
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _import_utils():
    """The collection's module_utils, as ansible_collections.tos.cloud: importable as such when the
    collection's parent is on sys.path; else bound to the tree this file is in (ansible-rulebook runs source
    files by path, without the collection on sys.path)."""
    try:
        from ansible_collections.tos.cloud.plugins.module_utils import _api, _inspection, _options, _topology, _upgrade
    except ImportError:
        root = Path(os.path.abspath(__file__)).parents[4]
        for name, path in (("ansible_collections", None), ("ansible_collections.tos", None),
                           ("ansible_collections.tos.cloud", root)):
            if name not in sys.modules or path is not None:
                module = types.ModuleType(name)
                module.__path__ = [str(path)] if path is not None else []
                sys.modules[name] = module
        from ansible_collections.tos.cloud.plugins.module_utils import _api, _inspection, _options, _topology, _upgrade
    return _api, _inspection, _options, _topology, _upgrade


_api, _inspection, _options, _topology, _upgrade = _import_utils()


# ---- settings ------------------------------------------------------------------------------------


class SettingsError(ValueError):
    pass


def _env_bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("0", "false", "no", "off", "n"):
        return False
    raise SettingsError("validate_certs must be a boolean, got %r" % value)


def parse_duration(value, name):
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = DURATION_RE.match(str(value).lower())
        if not match:
            raise SettingsError("%s must be seconds or a duration such as 6h, 1d, 1w (got %r)" % (name, value))
        seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds <= 0:
        raise SettingsError("%s must be more than 0 seconds" % name)
    return seconds


def _setting(args, env, name, variable, default=None):
    """``args[name]``, else the environment variable, else ``default``; a blank value counts as unset at each step
    (as for the modules' connection options: an AWX credential injects an empty field as "")."""
    for value in (args.get(name), env.get(variable)):
        if value is not None and not _options.blank(value):
            return value
    return default


def settings_from(args, environ=None):
    """The source's settings from the rulebook's ``args`` and the TOS_* environment variables.
    Raises SettingsError (before any request) on a bad value."""
    env = os.environ if environ is None else environ
    args = dict(args or {})
    api_url = _setting(args, env, "api_url", "TOS_API_URL")
    urls = _api.normalize_urls(api_url)
    if not urls:
        raise SettingsError("api_url is required: set it in the rulebook or TOS_API_URL")
    state_file = args.get("state_file") or env.get("TOS_EVENTS_STATE_FILE")
    if not state_file:
        base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        state_file = os.path.join(base, "tos.cloud", "events.json")
    mode = args.get("mode", "full")
    if mode not in ("full", "cheap"):
        raise SettingsError("mode must be full or cheap, got %r" % (mode,))
    clusters = args.get("clusters")
    if isinstance(clusters, str):
        clusters = [c.strip() for c in clusters.split(",") if c.strip()]
    try:
        timeout = int(_setting(args, env, "timeout", "TOS_TIMEOUT", 30))
        interval = float(_setting(args, env, "interval", "TOS_EVENTS_INTERVAL", 10))
        max_polls = args.get("max_polls")
        max_polls = int(max_polls) if max_polls is not None else None
    except (TypeError, ValueError) as exc:
        raise SettingsError("timeout, interval and max_polls must be numbers: %s" % exc) from None
    if interval <= 0 or timeout <= 0:
        raise SettingsError("interval and timeout must be more than 0")
    return {
        "api_url": urls,
        "api_token": _setting(args, env, "api_token", "TOS_API_TOKEN"),
        "validate_certs": _env_bool(_setting(args, env, "validate_certs", "TOS_VALIDATE_CERTS", True)),
        "ca_path": _setting(args, env, "ca_path", "TOS_CA_PATH"),
        "timeout": timeout,
        "interval": interval,
        "mode": mode,
        "clusters": clusters or None,
        "host_tasks": _env_bool(args.get("host_tasks", True)),
        "task_stall_timeout": parse_duration(args.get("task_stall_timeout", 600), "task_stall_timeout"),
        "snapshot_max_age": parse_duration(args.get("snapshot_max_age"), "snapshot_max_age"),
        "state_file": os.path.expanduser(str(state_file)),
        "initial_events": _env_bool(args.get("initial_events", True)),
        "max_polls": max_polls,
    }


def safe_url(url):
    """A URL without user:password."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts)


# ---- the cursor ------------------------------------------------------------------------------------


def load_state(path):
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as exc:  # empty, cut short, not UTF-8 (UnicodeDecodeError is a ValueError)
        raise SettingsError(_damaged(path, "not JSON: %s" % str(exc).split("\n", 1)[0][:120])) from None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise SettingsError("state_file %s is not a tos.cloud.events cursor (version %s)" % (path, STATE_VERSION))
    problem = _cursor_problem(state)
    if problem:
        raise SettingsError(_damaged(path, problem))
    return state


def _damaged(path, why):
    return ("state_file %s is damaged (%s): move it aside to start afresh (the conditions already present are then "
            "reported again, as on a first start)" % (path, why))


def _cursor_problem(state):
    """What a cursor of the right version lacks (hand-edited, written by another tool), or None."""
    for key, kinds in (("generation", int), ("seq", int), ("delivered", int), ("outbox", list),
                       ("reachable", bool), ("observed", (dict, type(None)))):
        if not isinstance(state.get(key), kinds) or (kinds is int and isinstance(state.get(key), bool)):
            return "%s is missing or of the wrong type" % key
    if any(not isinstance(event, dict) or not isinstance(event.get("seq"), int) for event in state["outbox"]):
        return "an event of the outbox is not an event"
    observed = state["observed"]
    if observed is not None:
        manager = observed.get("manager")
        if not isinstance(manager, dict) or not isinstance(manager.get("members"), list) or "leader" not in manager \
                or "ready" not in manager:
            return "observed.manager is missing or incomplete"
        clusters = observed.get("clusters")
        if not isinstance(clusters, dict) or any(not isinstance(c, dict) for c in clusters.values()):
            return "observed.clusters is missing or not a mapping"
    return None


def save_state(path, state):
    """Write the cursor atomically: a temporary file in the same directory, fsync, rename, fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_state():
    return {"version": STATE_VERSION, "generation": 0, "seq": 0, "delivered": 0, "observed": None,
            "reachable": True, "unreachable_since": None, "outbox": []}


# ---- reading the manager (synchronous: runs in a thread) -------------------------------------------


def _float(value, default=0.0):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def read_manager(client):
    data = client.get(MEMBER_LIST) or {}
    members = sorted({str(m) for m in (data.get("candidates") or []) if m})
    return {"leader": data.get("leader") or None, "members": members, "ready": bool(data.get("ready"))}


def read_inspection(client, cluster_uuid, previous):
    """The latest finished inspection as {id, status, score, findings}; ``previous`` while none finished
    since (a running inspection's partial result is not a new observation)."""
    data = client.get(INSPECTION_PROGRESS, {"cluster_uuid": cluster_uuid}) or {}
    if _inspection.state_name(data) != "finished":
        return previous
    result = _inspection.shape_result(data)
    ident = str(result["id"] or "")
    if previous and previous.get("id") == ident and ident:
        return previous
    findings = {}
    for category in _inspection.CATEGORIES:
        for item in result.get(category) or []:
            if not isinstance(item, dict):
                continue
            level = str(item.get("status") or "normal").lower()
            if level not in ("alarm", "fault"):
                continue
            fid = "/".join(str(item.get(k) or "") for k in ("item", "target")) if item.get("item") else \
                "/".join(str(item.get(k) or "") for k in ("name", "target"))
            findings["%s:%s" % (category, fid)] = {
                "level": level, "category": category, "name": item.get("name") or item.get("item") or "",
                "target": item.get("target") or "", "value": item.get("value"),
                "message": item.get("message") or "", "message_cn": item.get("message_cn") or "",
            }
    status = "fault" if result["fault"] else "alarm" if result["alarm"] else "healthy"
    return {"id": ident, "status": status, "score": result["score"], "findings": findings,
            "counts": {k: result[k] for k in ("normal", "alarm", "fault")}}


def read_package(client, cluster_uuid, previous=None):
    """The cluster's uploaded package, or None.  No package may be an error envelope (docs/api-notes.md), but so
    is any refusal (a token, a transient error): once a package was seen, an error envelope keeps it, so a
    refused read does not make the package vanish and then be announced again as a new upgrade."""
    try:
        data = client.get(PACKAGE_CURRENT, {"cluster_uuid": cluster_uuid}) or {}
    except _api.TosApiError as exc:
        if exc.kind == "api":
            return previous
        raise
    if not data.get("version"):
        return None
    return {k: data.get(k) for k in ("package_name", "version", "md5", "update_time")}


def read_versions(client, cluster_uuid):
    data = client.get(PACKAGE_LIST, {"cluster_uuid": cluster_uuid}) or {}
    out = {}
    for entry in data.get("list") or []:
        if isinstance(entry, dict) and entry.get("host_ip"):
            out[str(entry["host_ip"])] = {str(k): str(v) for k, v in (entry.get("type_version") or {}).items()}
    return out


def read_task(client, cluster_uuid, host_uuid):
    """(progress, failure reason or None) of a host's task; an error envelope: (None, its message), a failure
    of the task only when the host was seen running one (task_step)."""
    try:
        data = client.get(TASK_PROGRESS, {"cluster_uuid": cluster_uuid, "host_uuid": host_uuid}) or {}
    except _api.TosApiError as exc:
        if exc.kind == "api":
            return None, exc.message
        raise
    progress = _float(data.get("progress"))
    if progress > 1.0:
        progress /= 100.0
    state = str(data.get("status") or data.get("state") or "").lower()
    if state in ("failed", "error", "fail"):
        reason = data.get("message") or data.get("message_en") or "task failed"
        return progress, str(reason)
    return progress, None


def read_snapshot(client, cluster_uuid, centers):
    """{newest, time} of the cluster's metadata snapshots, or None when no center node answers."""
    manage = client.get(CLOUD_MANAGE, {"cluster_uuid": cluster_uuid}) or {}
    ips = [str(i.get("ip")).split("/", 1)[0] for i in manage.get("host_info") or [] if isinstance(i, dict) and i.get("ip")]
    for ip in ips or centers:
        try:
            data = client.get(SNAPSHOT_LIST, {"cluster_uuid": cluster_uuid, "ip": ip}) or {}
        except _api.TosApiError as exc:
            if exc.kind == "api":
                continue
            raise
        meta = data.get("meta_data") if isinstance(data.get("meta_data"), dict) else data
        names = [str(n) for n in meta.get("Snapshot") or []]
        stamps = [(int(m.group(1)), n) for n in names for m in [SNAPSHOT_TIME_RE.search(n)] if m]
        if not stamps:
            return {"newest": None, "time": None}
        when, name = max(stamps)
        return {"newest": name, "time": when}
    return None


def _host_nodes(detail):
    for node in _topology.topology(detail):
        if not isinstance(node, dict) or not node.get("UUID"):
            continue
        yield str(node["UUID"]), _topology.host_addresses(node)["management"], node.get("name") or node.get("Name")


def observe(client, settings, previous, now):
    """One poll: the observation (a plain dict, JSON-safe) and how many requests it sent.

    ``previous`` is the last committed observation (for carrying task timings and inspections across
    polls).  A transport failure raises; the caller then commits nothing.
    """
    previous = previous or {}
    prev_clusters = previous.get("clusters") or {}
    manager = read_manager(client)
    clusters = {}
    listed = [c for c in _topology.list_clusters(client) if c.get("uuid")]
    every = sorted(str(c["uuid"]) for c in listed)  # before the clusters filter: what cluster/list holds
    wanted = settings["clusters"]
    if wanted:
        listed = [c for c in listed if c["uuid"] in wanted or c["name"] in wanted]
    for cluster in listed:
        uuid = str(cluster["uuid"])
        prev = prev_clusters.get(uuid) or {}
        entry = {"name": cluster["name"]}
        if settings["mode"] == "full":
            try:
                entry.update(observe_cluster(client, settings, uuid, prev, now))
            except _api.TosApiError as exc:
                if exc.kind != "api":
                    raise
                # the cluster went away between the list and this read (or refuses one read): keep what
                # was seen; the next list tells
                entry = dict(prev, name=cluster["name"])
        clusters[uuid] = entry
    return {"manager": manager, "clusters": clusters, "listed": every}


def observe_cluster(client, settings, uuid, prev, now):
    out = {"inspection": read_inspection(client, uuid, prev.get("inspection"))}
    out["package"] = read_package(client, uuid, prev.get("package"))
    versions = read_versions(client, uuid)
    detail = client.get(CLUSTER_GET, {"cluster_uuid": uuid}) or {}
    prev_hosts = prev.get("hosts") or {}
    hosts = {}
    for host_uuid, ip, name in _host_nodes(detail):
        before = prev_hosts.get(host_uuid) or {}
        host = {"ip": ip, "name": name, "versions": versions.get(ip or "", before.get("versions") or {})}
        if settings["host_tasks"]:
            progress, failure = read_task(client, uuid, host_uuid)
            host.update(task_step(before, progress, failure, now, settings["task_stall_timeout"]))
        hosts[host_uuid] = host
    out["hosts"] = hosts
    if settings["snapshot_max_age"]:
        snap = read_snapshot(client, uuid, [])
        out["snapshot"] = snap if snap is not None else prev.get("snapshot")
    return out


def task_step(before, progress, failure, now, stall_timeout):
    """The task record of a host after one reading: {task, progress, changed_at, started_at, reason}.

    ``task`` is idle, running, finished or failed.  Derived from ``progress`` alone (0 idle, 0..1 running,
    1 finished; below 1 and unchanged for ``stall_timeout`` seconds: failed); a failure the manager reports
    (a ``status`` or an error envelope) is taken at once.
    """
    state = before.get("task") or "unknown"
    last = before.get("progress")
    rec = {"task": state, "progress": last, "changed_at": before.get("changed_at") or now,
           "started_at": before.get("started_at"), "reason": before.get("reason")}
    refused = progress is None
    if refused:  # the progress read was refused
        progress = last if last is not None else 0.0
        if state != "running":
            # an error envelope fails a task the host was seen running (reading (a) of a failed host task); on an
            # idle or finished host it is the manager refusing the read (a token, a transient error), no task
            # failing: every host would otherwise "fail" at once
            return rec
    if progress != last:
        rec["changed_at"] = now
    rec["progress"] = progress
    if failure:
        if state != "failed" or progress != last:
            if state != "running":
                rec["started_at"] = now
            rec.update(task="failed", reason=failure)
        return rec
    if state == "unknown":
        rec["task"] = "running" if 0 < progress < 1 else "finished" if progress >= 1 else "idle"
        rec["started_at"] = now if rec["task"] == "running" else None
        return rec
    if 0 < progress < 1:
        if state != "running" and progress != last:
            rec.update(task="running", started_at=now, reason=None)
        elif state == "running" and stall_timeout and now - rec["changed_at"] >= stall_timeout:
            rec.update(task="failed", reason="no progress for %ds (stuck at %.0f%%)" % (
                now - rec["changed_at"], progress * 100))
        return rec
    if progress >= 1:
        if state == "running" or (state in ("idle", "failed") and (last or 0) < 1):
            rec.update(task="finished", reason=None)
            if state != "running":
                rec["started_at"] = None  # started and finished between two polls
        return rec
    if state == "running":  # back to 0: the task is gone without reaching 1
        rec.update(task="failed", reason="the task disappeared at %.0f%%" % ((last or 0) * 100))
    return rec


# ---- comparing two observations ------------------------------------------------------------------


def _cluster_ref(uuid, entry):
    return {"uuid": uuid, "name": (entry or {}).get("name")}


def _host_ref(uuid, host):
    return {"uuid": uuid, "ip": host.get("ip"), "name": host.get("name")}


def diff(before, after, settings, now):
    """Yield (type, subject, cluster, host, before, after, extra) for every change from ``before`` to
    ``after`` (``before`` None: the first observation)."""
    first = before is None
    before = before or {"manager": {"leader": None, "members": [], "ready": True}, "clusters": {}}
    yield from _diff_manager(before["manager"], after["manager"])
    b_clusters, a_clusters = before["clusters"], after["clusters"]
    # what cluster/list held, before the clusters filter (a cursor written before 1.0.x: what it observed): a
    # cluster the filter now leaves out, or takes in, did not leave or join the list
    b_listed = set(before.get("listed") or b_clusters)
    a_listed = set(after.get("listed") or a_clusters)
    for uuid in sorted(set(b_clusters) - set(a_clusters)):
        if uuid in a_listed:
            continue  # left out by the clusters filter (a restart with another filter): still listed
        yield "cluster_removed", uuid, _cluster_ref(uuid, b_clusters[uuid]), None, b_clusters[uuid].get("name"), None, {}
    for uuid in sorted(a_clusters):
        a = a_clusters[uuid]
        b = b_clusters.get(uuid)
        if b is None and not first and uuid in b_listed:
            # taken in by the clusters filter, listed all along: its conditions as on a first start, not an addition
            for change in _diff_cluster(uuid, {}, a, settings, now, first=True):
                if change[0] not in NOT_INITIAL and settings["initial_events"]:
                    yield change
            continue
        if b is None:
            yield "cluster_added", uuid, _cluster_ref(uuid, a), None, None, a.get("name"), {}
        yield from _diff_cluster(uuid, b or {}, a, settings, now, first)


def _diff_cluster(uuid, b, a, settings, now, first):
    """The changes of one cluster's observation (mode full)."""
    if settings["mode"] != "full":
        return
    cluster = _cluster_ref(uuid, a)
    yield from _diff_inspection(cluster, b.get("inspection"), a.get("inspection"))
    yield from _diff_hosts(cluster, b.get("hosts") or {}, a.get("hosts") or {}, first)
    yield from _diff_package(cluster, b, a)
    if settings["snapshot_max_age"]:
        yield from _diff_snapshot(cluster, b.get("snapshot"), a.get("snapshot"), settings["snapshot_max_age"], now)


def _diff_manager(b, a):
    for ip in sorted(set(b["members"]) - set(a["members"])):
        yield "member_down", ip, None, None, "member", None, {"member": ip}
    for ip in sorted(set(a["members"]) - set(b["members"])):
        yield "member_up", ip, None, None, None, "member", {"member": ip}
    if a["leader"] != b["leader"]:
        yield "leader_changed", "manager", None, None, b["leader"], a["leader"], {}
    if a["ready"] != b["ready"]:
        yield ("manager_ready" if a["ready"] else "manager_not_ready"), "manager", None, None, b["ready"], a["ready"], {}


def _diff_inspection(cluster, b, a):
    # the same inspection read again has nothing new; without an id (the documents' answers carry
    # "UUID": "" and no start_time) two inspections are told apart by what they found, and the same
    # result read again differs in nothing, so it raises nothing either
    if not a or (b and a.get("id") and b.get("id") == a.get("id")):
        return
    b = b or {"status": None, "score": None, "findings": {}}
    ident = {"inspection_id": a.get("id") or None}
    if a["status"] != b["status"]:
        yield "cluster_status_changed", cluster["uuid"], cluster, None, b["status"], a["status"], dict(ident)
    if a["score"] != b["score"]:
        yield "cluster_score_changed", cluster["uuid"], cluster, None, b["score"], a["score"], dict(ident)
    bf, af = b["findings"], a["findings"]
    for fid in sorted(set(bf) | set(af)):
        old, new = bf.get(fid), af.get(fid)
        old_rank = LEVEL_RANK[old["level"]] if old else 0
        new_rank = LEVEL_RANK[new["level"]] if new else 0
        if new_rank > old_rank:
            kind = "%s_raised" % new["level"]
        elif new_rank < old_rank:
            kind = "%s_cleared" % old["level"]
        else:
            continue
        finding = dict(new or old, id=fid)
        yield kind, "%s/%s" % (cluster["uuid"], fid), cluster, None, old["level"] if old else "normal", \
            new["level"] if new else "normal", dict(ident, finding=finding)


def _diff_hosts(cluster, b_hosts, a_hosts, first):
    for uuid in sorted(a_hosts):
        a, b = a_hosts[uuid], b_hosts.get(uuid) or {}
        host = _host_ref(uuid, a)
        subject = "%s/%s" % (cluster["uuid"], uuid)
        if b.get("versions") and a.get("versions") and a["versions"] != b["versions"]:
            yield "host_version_changed", subject, cluster, host, b["versions"], a["versions"], {}
        bt, at = b.get("task") or "unknown", a.get("task")
        if at is None or (bt == at and b.get("started_at") == a.get("started_at")):
            continue
        timing = {"progress": a.get("progress"), "started_at": a.get("started_at")}
        if at == "running":
            yield "host_task_started", subject, cluster, host, b.get("progress"), a["progress"], timing
        elif at == "finished" and bt != "unknown":
            if bt != "running":
                yield "host_task_started", subject, cluster, host, b.get("progress"), a["progress"], timing
            duration = now_minus(a.get("changed_at"), a.get("started_at"))
            yield "host_task_finished", subject, cluster, host, b.get("progress"), a["progress"], \
                dict(timing, duration=duration)
        elif at == "failed" and (bt != "unknown" or first):
            yield "host_task_failed", subject, cluster, host, b.get("progress"), a["progress"], \
                dict(timing, reason=a.get("reason"))


def now_minus(end, start):
    if end is None or start is None:
        return None
    return round(end - start, 1)


def _behind(package, hosts):
    if not package:
        return []
    target = _upgrade.version_key(package["version"])
    return sorted(h.get("ip") or uuid for uuid, h in hosts.items()
                  if any(_upgrade.version_key(v) < target for v in (h.get("versions") or {}).values()))


def _diff_package(cluster, b, a):
    b_pkg, a_pkg = b.get("package"), a.get("package")
    b_behind, a_behind = _behind(b_pkg, b.get("hosts") or {}), _behind(a_pkg, a.get("hosts") or {})
    same = bool(b_pkg and a_pkg and (b_pkg.get("version"), b_pkg.get("md5")) == (a_pkg.get("version"), a_pkg.get("md5")))
    if a_behind and (not b_behind or not same):
        yield "upgrade_available", "%s/%s" % (cluster["uuid"], a_pkg["version"]), cluster, None, \
            (b_pkg or {}).get("version"), a_pkg["version"], {"package": a_pkg, "hosts_behind": a_behind}
    elif b_behind and not a_behind and a_pkg:
        yield "upgrade_completed", "%s/%s" % (cluster["uuid"], a_pkg["version"]), cluster, None, \
            b_behind, [], {"package": a_pkg}


def _diff_snapshot(cluster, b, a, max_age, now):
    if a is None:
        return
    b = b or {}
    was_stale = bool(b.get("stale"))
    age = None if a.get("time") is None else now - a["time"]
    stale = age is None or age > max_age
    a["stale"] = stale  # remembered in the observation, so the next poll compares against it
    if stale and not was_stale:
        yield "snapshot_stale", "%s/%s" % (cluster["uuid"], a.get("newest")), cluster, None, b.get("newest"), \
            a.get("newest"), {"age": None if age is None else round(age), "max_age": max_age}
    elif was_stale and not stale:
        yield "snapshot_fresh", "%s/%s" % (cluster["uuid"], a.get("newest")), cluster, None, b.get("newest"), \
            a.get("newest"), {"age": round(age), "max_age": max_age}


# ---- the source ----------------------------------------------------------------------------------


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class EventSource:
    """Polls, diffs against the cursor, commits the cursor, then delivers.  Events are first written to the
    state file's outbox with the new observation (one atomic write), then put on the queue one by one, each
    followed by a write of the delivered sequence number with no ``await`` in between: a restart delivers
    what the outbox still holds, and never what was put on the queue already."""

    def __init__(self, settings, queue, client=None, clock=time.time):
        self.settings = settings
        self.queue = queue
        self.clock = clock
        self.client = client or _api.TosClient(
            settings["api_url"], api_token=settings["api_token"], validate_certs=settings["validate_certs"],
            ca_path=settings["ca_path"], timeout=settings["timeout"], retries=1, backoff=0.2)
        self.state = load_state(settings["state_file"]) or new_state()
        self.requests_last_poll = 0
        self.requests_sent = 0
        self.polls = 0
        self._count_requests()

    # the one synchronous step run in a thread
    def _poll_sync(self, now):
        before = self.requests_sent
        try:
            return observe(self.client, self.settings, self.state["observed"], now), None, self.requests_sent - before
        except _api.TosApiError as exc:
            return None, exc, self.requests_sent - before

    def _count_requests(self):
        """Count every GET the client sends (paginate goes through get too); retries and fail-overs count once."""
        get = self.client.get

        def counting_get(path, params=None):
            self.requests_sent += 1
            return get(path, params)
        self.client.get = counting_get

    def commit(self, changes, observed=None, reachable=None, now=None):
        """Assign sequence numbers and keys, put the events in the outbox and write the cursor."""
        state = self.state
        state["generation"] += 1
        for kind, subject, cluster, host, before, after, extra in changes:
            state["seq"] += 1
            event = {
                "type": kind,
                "key": "%s/%s@%d" % (kind, subject, state["generation"]),
                "seq": state["seq"],
                "time": _iso(now),
                "cluster": cluster,
                "host": host,
                "before": before,
                "after": after,
                "manager_url": safe_url(self.client.base_url),
            }
            event.update(extra)
            state["outbox"].append(event)
        if observed is not None:
            state["observed"] = observed
        if reachable is not None:
            state["reachable"] = reachable
        save_state(self.settings["state_file"], state)

    async def deliver(self):
        state = self.state
        while state["outbox"]:
            event = state["outbox"][0]
            await self.queue.put(event)
            # no await between the put and the write: a cancellation lands before the put or after both
            state["outbox"].pop(0)
            state["delivered"] = event["seq"]
            save_state(self.settings["state_file"], state)

    async def poll(self):
        loop = asyncio.get_running_loop()
        now = self.clock()
        observed, error, count = await loop.run_in_executor(None, self._poll_sync, now)
        self.requests_last_poll = count
        self.polls += 1
        state = self.state
        if error is not None:
            if state["reachable"]:
                state["unreachable_since"] = now
                self.commit([("manager_unreachable", "manager", None, None, "reachable", "unreachable",
                              {"reason": error.kind, "message": _scrub(error.message, self.settings)})],
                            reachable=False, now=now)
        else:
            changes = []
            if not state["reachable"]:
                since = state.get("unreachable_since")
                changes.append(("manager_recovered", "manager", None, None, "unreachable", "reachable",
                                {"downtime": None if since is None else round(now - since, 1)}))
            first = state["observed"] is None
            for change in diff(state["observed"], observed, self.settings, now):
                if first and (change[0] in NOT_INITIAL or not self.settings["initial_events"]):
                    continue
                changes.append(change)
            self.commit(changes, observed=observed, reachable=True, now=now)
        await self.deliver()

    async def run(self):
        await self.deliver()  # what a previous run committed but did not hand over
        interval = self.settings["interval"]
        while self.settings["max_polls"] is None or self.polls < self.settings["max_polls"]:
            started = time.monotonic()
            await self.poll()
            if self.settings["max_polls"] is not None and self.polls >= self.settings["max_polls"]:
                break
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def _scrub(text, settings):
    """An error message with any secret (token, credentials in a URL) removed."""
    text = str(text or "")
    token = settings.get("api_token")
    if token:
        text = text.replace(token, "********")
    for url in settings["api_url"]:
        text = text.replace(url, safe_url(url))
    return text


async def main(queue: asyncio.Queue, args: dict):
    """The ansible-rulebook entry point."""
    settings = settings_from(args)
    await EventSource(settings, queue).run()


if __name__ == "__main__":
    # a quick look without ansible-rulebook: python events.py URL [interval]
    class _Printer:
        async def put(self, event):
            print(json.dumps(event, ensure_ascii=False), flush=True)

    asyncio.run(main(_Printer(), {"api_url": sys.argv[1] if len(sys.argv) > 1 else None,
                                  "interval": float(sys.argv[2]) if len(sys.argv) > 2 else 10}))
