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

What the cache cannot see: a write made during the run by something else than tos.cloud's API modules
(``ansible.builtin.uri``, a script, another user). Leave ``tos_cloud_run_cache`` unset (false) for plays that
mix such writes with the modules' reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import RunCache

ENABLE_VAR = "tos_cloud_run_cache"
CACHE_ROOT_ENV = "TOS_RUN_CACHE_DIR"
CACHED_PATHS = frozenset((
    "/v1/cluster/list", "/v1/cluster/get", "/v1/cluster/cloud/manage", "/v1/cluster/storage_service/vm/list",
))
LOOSE_FILTERS = {"/v1/cluster/list": "filter_name", "/v1/cluster/storage_service/vm/list": "filter_ip"}
GENERATION = "generation"


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


class TaskCache:
    """One task's view of the run's cache: ``_api.RUN_CACHE`` while the module runs in the worker."""

    def __init__(self, store, reading=True):
        self.store = store
        self.reading = reading
        self.asked = set()
        self.wrote = False

    def request(self, client, send, method, path, params=None, body=None):
        if method != "GET":
            self.wrote = True
            self.store.invalidate()
            try:
                return send(method, path, params, body)
            finally:
                self.store.invalidate()
        if not self.reading or self.wrote or path not in CACHED_PATHS:
            return send(method, path, params, body)
        params = dict(params or {})
        identity = _identity(client)
        key = _digest(identity, path, params)
        if key in self.asked:  # asked again within the task: a poll
            return send(method, path, params, body)
        self.asked.add(key)

        def keep(answer):
            text = json.dumps(answer, default=str)
            return not any(secret and str(secret) in text for secret in client.secrets)

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


def for_task(task_vars, templar=None):
    """The ``TaskCache`` for an in-process task: reading when ``tos_cloud_run_cache`` is true, else only clearing
    the run's answers when the task writes (None when the run has cached nothing: nothing to clear)."""
    on, _why = wanted(task_vars, templar)
    store = RunStore()
    if not on and not os.path.isdir(store.directory):
        return None
    return TaskCache(store, reading=on)


def invalidate_run():
    """After a module process of an API module (it may have written): forget the run's answers."""
    try:
        RunStore().invalidate()
    except OSError:
        pass
