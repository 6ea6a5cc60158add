# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The run's cache of the API modules' reads, for tasks that run in-process (plugins/plugin_utils/in_process.py).

Every cluster-scoped module resolves its cluster's name with ``cluster/list`` and most read the cluster's
topology again: a role converging three clusters in eight steps sends the same few reads dozens of times.
With ``tos_cloud_run_cache: true`` (a host, group, play, block or extra variable; the ``cluster_bringup``
role sets it for its own tasks) these reads are answered once per ``ansible-playbook`` run:

- Only the reads in ``CACHED_PATHS`` are kept: cluster names and UUIDs, a cluster's hosts and system VMs,
  its cloud-management and storage-service VMs (topology, no secret; an answer holding the client's token
  or a URL password is never stored). Everything else is asked every time.
- Any request that is not a GET, from any in-process task of the run whether the cache is on for it or
  not, clears the run's cache (before it is sent and after its answer), and the task that sent it asks the
  manager for everything after it: nothing the run wrote itself is ever answered from before the write.
  A module run as a process (the fallback) cannot tell: the action clears the cache after it.
- A question asked a second time within one task is a poll (a wait for a deployment, an inspection): it
  goes to the manager.
- The API's name and address filters are loose (substring); their callers match exactly. A filtered
  ``cluster/list`` or ``storage_service/vm/list`` question is answered with the unfiltered list of the same
  scope when that fits one page, so one listing resolves every name.
- The files live where the lookups keep theirs (``lookup_api.RunCache``: a directory per run, mode 0700,
  owned by the user, removed by a later run), under their own root: ``TOS_RUN_CACHE_DIR``, else
  ``<tmp>/tos-cloud-run-<uid>``.

Read-ahead (``tos_cloud_read_ahead``, set by ``cluster_bringup`` on its first API task): a list of clusters in the
role's description format (``name``, ``cvms``, ``storage_vms``, ``drs``/``dpm``, ``global_config``,
``snapshot_policy``). From the task's first request on, the reads the role's converge tasks will make of those
clusters are sent at once, a few at a time (``READ_AHEAD_WORKERS`` threads), while the task runs; the task ends
when they are answered. The later tasks find them in the cache: the same requests, sent in three rounds instead
of one after the other, which is what a manager far away makes slow. The read-ahead sends only what those tasks
will read (each question through the same code the modules use, so the same question): each cluster's
topology, its center nodes when it has cloud-management VMs or a snapshot policy, its storage-service VMs, and
the DRS, global config and snapshot policy settings the description sets (``READ_AHEAD_PATHS``, answered from
the cache only when read ahead, and only once). Nothing holding a secret (mail, system settings) is read
ahead. In a real run where a described cluster does not exist yet, only the cluster list is read ahead (the
cluster's creation will forget the rest); a write later in the run forgets every answer read ahead, as any.
A read-ahead that fails is silent: each task then asks the manager itself and reports what it finds.

A task that waited for an operation (asked the same ``.../progress`` twice: a deploy, an upgrade or an
inspection joined or started) forgets the run's answers when it ends: the platform changed while it waited.
A task that may leave an operation running (``wait: false`` on cvm, storage_service_vm, inspection, upgrade)
ends the cache's use for the rest of the run: the platform keeps changing after the write that started the
operation (a CVM appears, a storage VM stops deploying), so an answer read while it runs would go stale.

What the cache cannot see: a write made during the run by something else than tos.cloud's API modules
(``ansible.builtin.uri``, a script, another user). Leave ``tos_cloud_run_cache`` unset (false) for plays that
mix such writes with the modules' reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.tos.cloud.plugins.module_utils._redact import all_forms
from ansible_collections.tos.cloud.plugins.module_utils._topology import READ_ONLY_POSTS
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import RunCache

ENABLE_VAR = "tos_cloud_run_cache"
CACHE_ROOT_ENV = "TOS_RUN_CACHE_DIR"
CACHED_PATHS = frozenset((
    "/v1/cluster/list", "/v1/cluster/get", "/v1/cluster/cloud/manage", "/v1/cluster/storage_service/vm/list",
))
LOOSE_FILTERS = {"/v1/cluster/list": "filter_name", "/v1/cluster/storage_service/vm/list": "filter_ip"}
GENERATION = "generation"
# written when a task of the run left an operation running (wait: false): the platform keeps changing after the
# write that started it, so from then on no answer of the run is kept or reused
UNSETTLED = "unsettled"
READ_AHEAD_VAR = "tos_cloud_read_ahead"
# settings read ahead for the tasks that will read them: answered from the cache only when read ahead, and once
READ_AHEAD_PATHS = frozenset((
    "/v1/cluster/compute/service/drsconfig/get", "/v1/cluster/get/global/config",
    "/v1/cluster/data/snapshot/config/inspect", "/v1/cluster/data/daemon/state",
))
READ_AHEAD_WORKERS = 8
_MISSING = object()


def default_root():
    return os.environ.get(CACHE_ROOT_ENV) or os.path.join(tempfile.gettempdir(), "tos-cloud-run-%d" % os.getuid())


class RunStore(RunCache):
    """The run's answers on disk, each stamped with the run's write generation: a write bumps it, and an
    answer of another generation is not an answer."""

    def __init__(self, root=None, run=None):
        super().__init__(root=root or default_root(), run=run)

    def _generation_path(self):
        return os.path.join(self.directory, GENERATION)

    def generation(self):
        try:
            with open(self._generation_path(), encoding="ascii") as fh:
                return int(fh.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def invalidate(self):
        """Forget every answer of the run (nothing to do when the run has cached nothing)."""
        if not os.path.isdir(self.directory):
            return
        with self._lock(self._generation_path() + ".lock"):
            self._write(GENERATION, str(self.generation() + 1))

    def unsettle(self):
        """A task left an operation running: forget every answer, and keep none from now on in this run."""
        self._prepare()
        self._write(UNSETTLED, "1")
        self.invalidate()

    def unsettled(self):
        return os.path.exists(os.path.join(self.directory, UNSETTLED))

    def _write(self, name, text):
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".%s." % name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, os.path.join(self.directory, name))

    def answer(self, key, ask, keep):
        """The stored answer to ``key`` of the current generation, else ``ask()``'s, stored when ``keep(answer)``
        and no write happened meanwhile."""
        self._prepare()
        generation = self.generation()
        try:
            with open(os.path.join(self.directory, key + ".json"), encoding="utf-8") as fh:
                entry = json.load(fh)
            if entry.get("generation") == generation:
                return entry["answer"]
        except (OSError, ValueError, KeyError, AttributeError):
            pass
        answer = ask()
        if keep(answer):
            with self._lock(self._generation_path() + ".lock"):
                if self.generation() == generation:
                    self._write(key + ".json", json.dumps({"generation": generation, "answer": answer}))
        return answer

    def take(self, key):
        """The answer read ahead for ``key`` in the current generation, removed (used once); else ``_MISSING``."""
        path = os.path.join(self.directory, key + ".json")
        try:
            with open(path, encoding="utf-8") as fh:
                entry = json.load(fh)
        except (OSError, ValueError):
            return _MISSING
        try:
            os.remove(path)
        except OSError:
            pass
        if isinstance(entry, dict) and entry.get("generation") == self.generation() and "answer" in entry:
            return entry["answer"]
        return _MISSING


class TaskCache:
    """One task's view of the run's cache: ``_api.RUN_CACHE`` while the module runs in the worker.

    ``plan``: clusters to read ahead for the later tasks (``tos_cloud_read_ahead``), from the first request on;
    ``ahead``: this view is the read-ahead's own (it stores the ``READ_AHEAD_PATHS`` answers, asks nothing twice)."""

    def __init__(self, store, reading=True, plan=None, check_mode=False, ahead=False):
        self.store = store
        self.reading = reading
        self.asked = set()
        self.wrote = False
        self.waited = False  # polled an operation's progress: the platform changed while this task ran
        self.progress_asked = set()
        self.plan = plan
        self.check_mode = check_mode
        self.ahead = ahead
        self.reader = None

    def finish(self, timeout=None):
        """Wait for the read-ahead this task started (at most ``timeout`` seconds); after a task that waited for an
        operation, forget the run's answers (read before or while it ran, they may no longer hold)."""
        if self.reader is not None:
            self.reader.join(timeout)
        if self.waited:
            try:
                self.store.invalidate()
            except (OSError, AnsibleError):
                pass

    def request(self, client, send, method, path, params=None, body=None):
        if method == "GET" and path.endswith("/progress"):
            # the same progress asked again is a wait for an operation (joined or started by another run): the
            # platform changes under it, so the run's answers are forgotten when the task ends (finish)
            question = (path, tuple(sorted((str(k), str(v)) for k, v in (params or {}).items())))
            self.waited = self.waited or question in self.progress_asked
            self.progress_asked.add(question)
        if method != "GET" and path in READ_ONLY_POSTS:  # a read sent as a POST: not cached, and no write
            return send(method, path, params, body)
        if method != "GET":
            self.wrote = True
            self.store.invalidate()
            try:
                return send(method, path, params, body)
            finally:
                self.store.invalidate()
        if self.plan and self.reader is None and self.reading and not self.wrote:
            self.reader = ReadAhead(self.store, client, self.plan, self.check_mode)
            self.reader.start()
        if not self.reading or self.wrote or (path not in CACHED_PATHS and path not in READ_AHEAD_PATHS):
            return send(method, path, params, body)
        params = dict(params or {})
        identity = _identity(client)
        key = _digest(identity, path, params)
        if key in self.asked and not self.ahead:  # asked again within the task: a poll
            return send(method, path, params, body)
        self.asked.add(key)
        if path in READ_AHEAD_PATHS and not self.ahead:
            try:
                answer = self.store.take(key)
            except (OSError, AnsibleError):
                answer = _MISSING
            return send(method, path, params, body) if answer is _MISSING else answer

        def keep(answer):
            # the JSON text holds a secret escaped (a token with a quote or a backslash): look for every form
            text = json.dumps(answer, default=str)
            return not any(form in text for form in all_forms(client.secrets))

        try:
            loose = LOOSE_FILTERS.get(path)
            if loose and params.get(loose) not in (None, "") and params.get("page_num") in (0, "0"):
                unfiltered = dict((k, v) for k, v in params.items() if k != loose)
                whole = self.store.answer(_digest(identity, path, unfiltered),
                                          lambda: send(method, path, unfiltered, body), keep)
                if _complete(whole):
                    return whole
            return self.store.answer(key, lambda: send(method, path, params, body), keep)
        except (OSError, AnsibleError):  # the cache's directory cannot be used: ask the manager
            self.reading = False
            return send(method, path, params, body)


class ReadAhead:
    """The reads the cluster_bringup converge tasks will make of ``plan``'s clusters, sent in a few threads (on
    clones of the task's client) into the run's store, while the task that started it runs."""

    def __init__(self, store, client, plan, check_mode=False, workers=READ_AHEAD_WORKERS):
        self.store = store
        self.client = client
        self.plan = [c for c in plan if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"]]
        self.check_mode = check_mode
        self.workers = max(1, int(workers))
        self.thread = None
        self._local = threading.local()

    def start(self):
        self.thread = threading.Thread(target=self._run, name="tos-cloud-read-ahead", daemon=True)
        self.thread.start()

    def join(self, timeout=None):
        if self.thread is not None:
            self.thread.join(timeout)

    def _view(self):
        """This thread's client, through a read-ahead view of the store (a question is asked once per run anyway)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client.clone(TaskCache(self.store, ahead=True), retries=0)
        return client

    def _run(self):
        try:
            self._read()
        except Exception:  # noqa: BLE001 - a read-ahead is only a head start: the tasks ask for themselves
            pass

    def _read(self):
        # the modules' own functions, so that each question is the one the tasks will ask (same path and query)
        from ansible_collections.tos.cloud.plugins.module_utils import _config, _topology
        from ansible_collections.tos.cloud.plugins.module_utils._checks import ip_of
        from ansible_collections.tos.cloud.plugins.module_utils._system_vm import storage_vm_by_manage_ip

        found = {}
        for want in self.plan:  # one listing (from the cache after the first name): the tasks' own resolution
            found[want["name"]] = _topology.cluster_by_name(self._view(), want["name"])
        if not self.check_mode and any(entry is None for entry in found.values()):
            return  # a cluster will be created: that write forgets every answer read ahead
        wanted = {}  # by UUID: a cluster described twice is read once, as the tasks read it once
        for want in self.plan:
            entry = found[want["name"]]
            if entry is not None and entry.get("uuid"):
                wanted.setdefault(entry["uuid"], {}).update(want)

        def get(path, query):
            return lambda: self._view().get(path, query)

        def snapshot(uuid):
            # the snapshot task's reads, through its center node (from the topology read in the first round)
            client = self._view()
            nodes = _topology.read_center_nodes(client, uuid, get_detail=lambda: _topology.get_cluster(client, uuid))
            if not nodes:
                return []
            query = {"cluster_uuid": uuid, "ip": nodes[0]["ip"]}
            return [get(_config.SNAPSHOT_CONFIG, query), get(_config.DAEMON_STATE, query)]

        first, then = [], []  # the reads of the first round; the clusters whose snapshot policy follows
        for uuid, want in wanted.items():
            first.append(get(_topology.CLUSTER_GET, {"cluster_uuid": uuid}))  # the cluster task's read
            if want.get("cvms") or "snapshot_policy" in want:  # the cvm and snapshot_policy tasks' center nodes
                first.append(get(_topology.CLOUD_MANAGE, {"cluster_uuid": uuid}))
            svms = want.get("storage_vms")
            if svms and isinstance(svms, list) and isinstance(svms[0], dict):
                ip = ip_of(str(svms[0].get("manage_cidr") or ""))
                if ip:
                    first.append(lambda uuid=uuid, ip=ip: storage_vm_by_manage_ip(self._view(), uuid, ip))
            if "drs" in want or "dpm" in want:
                first.append(get(_config.DRS_GET, {"cluster_uuid": uuid}))
            if "global_config" in want:
                first.append(get(_config.GLOBAL_CONFIG_GET, {"cluster_uuid": uuid}))
            if "snapshot_policy" in want:
                then.append(uuid)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tos-cloud-read-ahead") as pool:
            _each(pool, first)
            # the center nodes come from the answers just stored: no request
            _each(pool, [job for uuid in then for job in _quietly(snapshot, uuid)])


def _quietly(function, *args):
    try:
        return function(*args)
    except Exception:  # noqa: BLE001 - a read-ahead is only a head start
        return []


def _each(pool, jobs):
    """Run ``jobs`` in ``pool`` and wait for all; a read that fails is the task's to make."""
    for future in [pool.submit(job) for job in jobs]:
        try:
            future.result()
        except Exception:  # noqa: BLE001 - that read is the task's to make
            pass


def _complete(page):
    """Whether a first page holds the whole list (its total is known and reached)."""
    if not isinstance(page, dict):
        return False
    items, total = page.get("list"), page.get("total_count")
    return isinstance(items, list) and isinstance(total, int) and not isinstance(total, bool) and len(items) >= total


def _identity(client):
    """Which manager, as whom: the URLs and a digest of the credentials (never the token itself)."""
    secrets = "\0".join(str(s) for s in client.secrets)
    return {"urls": list(client.urls), "verify": str(client.verify),
            "auth": hashlib.sha256(secrets.encode("utf-8")).hexdigest() if secrets else None}


def _digest(identity, path, params):
    return RunCache.digest({"connection": identity, "path": path, "params": params})


def wanted(task_vars, templar=None):
    """``(on, why_not)``: whether the task's variables turn the run's cache on."""
    value = task_vars.get(ENABLE_VAR, False)
    try:
        return boolean(templar.template(value) if templar is not None else value, strict=True), None
    except Exception:  # noqa: BLE001 - not a boolean, or a template that fails: the cache stays off
        return False, "%s is not a boolean (%r)" % (ENABLE_VAR, value)


def read_ahead_plan(task_vars, templar=None):
    """The clusters ``tos_cloud_read_ahead`` asks to read ahead (a list of dicts with a ``name``), or None."""
    value = task_vars.get(READ_AHEAD_VAR)
    if not value:
        return None
    try:
        value = templar.template(value) if templar is not None else value
    except Exception:  # noqa: BLE001 - a template that fails: no read-ahead, the tasks ask for themselves
        return None
    if not isinstance(value, (list, tuple)):
        return None
    return [dict(item) for item in value if isinstance(item, dict)] or None


def for_task(task_vars, templar=None, check_mode=False):
    """The ``TaskCache`` for an in-process task: reading when ``tos_cloud_run_cache`` is true, else only clearing
    the run's answers when the task writes (None when the run has cached nothing: nothing to clear)."""
    on, _why = wanted(task_vars, templar)
    store = RunStore()
    if not on and not os.path.isdir(store.directory):
        return None
    on = on and not store.unsettled()  # an operation left running: the platform changes under any answer
    return TaskCache(store, reading=on, plan=read_ahead_plan(task_vars, templar) if on else None,
                     check_mode=check_mode)


def unsettle_run():
    """After a task that left an operation running (``wait: false``): no answer of the run is reused any more."""
    try:
        RunStore().unsettle()
    except (OSError, AnsibleError):
        pass


def invalidate_run():
    """After a module process of an API module (it may have written): forget the run's answers."""
    try:
        RunStore().invalidate()
    except OSError:
        pass
