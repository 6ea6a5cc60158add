# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the lookups of tos.cloud share: the connection options, a read-only client whose answers are
cached for the run, and the turn of API failures into lookup errors.

Where a lookup runs: ansible-core templates a task's arguments, loop, conditions and ``vars`` in the worker
process it forks for that task and host (checked with ansible-core 2.19: every lookup of a play, from
``vars``, a task argument, ``set_fact``, a ``loop`` or a ``run_once`` task, ran in a worker whose parent is
the ``ansible-playbook`` process). A worker dies with its task, so a dict in this module lives for one task
only. The cache is therefore kept on disk, in a directory of the run (the ``ansible-playbook`` process,
told apart from a later process with the same pid by its start time), one file per distinct GET, written
under an exclusive lock: forks asking the same question at once send one request, the others read its
answer. Within a worker a dict in front of the files saves re-reading them.

The cache is scoped to the run and the play (its name): a later play, or the same play in another
``ansible-playbook`` run, asks again. ``refresh=true`` asks again within a play (after a task changed the
answer); ``cache=false`` neither reads nor writes it. Answers hold no secret (cluster topology, versions,
members); the files are readable by their owner only, and the directories of finished runs are removed by
the next run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient, normalize_urls
from ansible_collections.tos.cloud.plugins.module_utils._redact import redact
from ansible_collections.tos.cloud.plugins.module_utils._topology import READ_ONLY_POSTS
from ansible_collections.tos.cloud.plugins.plugin_utils.connection import blank_environment_unset, connection_options, without_blank_inputs

try:
    import fcntl
except ImportError:  # not on the controllers ansible-core supports (POSIX only); no lock then
    fcntl = None

display = Display()

CACHE_ROOT_ENV = "TOS_LOOKUP_CACHE_DIR"
STALE_SECONDS = 86400
# a dict per worker process in front of the files; keyed by the same digest as the file
_MEMORY = {}


def _start_time(pid):
    """The start time of ``pid`` in clock ticks since boot (Linux), else None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count from the last ")"
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def run_id():
    """The ``ansible-playbook`` process this code runs for: the parent of a task's worker, else this process."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent is not None and parent.pid else os.getpid()
    started = _start_time(pid)
    return "%d-%s" % (pid, started) if started else str(pid)


def _alive(name):
    pid, _sep, started = name.partition("-")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return False
    return not started or _start_time(int(pid)) == started


class RunCache:
    """Answers keyed by a digest of the question, in a directory of the run."""

    def __init__(self, root=None, run=None):
        self.root = root or os.environ.get(CACHE_ROOT_ENV) or os.path.join(
            tempfile.gettempdir(), "tos-cloud-lookup-%d" % os.getuid())
        self.run = run or run_id()
        self.directory = os.path.join(self.root, self.run)

    def _prepare(self):
        if os.path.isdir(self.directory):
            return
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        info = os.stat(self.root)
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            # in a shared temporary directory someone else may have made it first: never use such a directory
            raise AnsibleLookupError(
                "The lookup cache directory %s is not private to this user (owner uid %d, mode %o, writable by "
                "others): remove it, or set TOS_LOOKUP_CACHE_DIR." % (self.root, info.st_uid, info.st_mode & 0o777))
        try:
            os.mkdir(self.directory, 0o700)
        except FileExistsError:
            return
        self._remove_stale()

    def _remove_stale(self):
        """Remove the directories of runs that ended (or, when that cannot be told, are a day old)."""
        now = time.time()
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            if name == self.run or not os.path.isdir(path):
                continue
            try:
                old = now - os.stat(path).st_mtime > STALE_SECONDS
            except OSError:
                continue
            if old or not _alive(name):
                shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def digest(question):
        return hashlib.sha256(json.dumps(question, sort_keys=True, default=str).encode("utf-8")).hexdigest()

    def fetch(self, question, ask, refresh=False):
        """The cached answer to ``question`` (JSON-able), else ``ask()``'s, stored for the run."""
        key = self.digest(question)
        if not refresh and key in _MEMORY:
            return _MEMORY[key]
        self._prepare()
        path = os.path.join(self.directory, key + ".json")
        with self._lock(path + ".lock"):
            if not refresh:
                try:
                    with open(path, encoding="utf-8") as fh:
                        _MEMORY[key] = json.load(fh)["answer"]
                        return _MEMORY[key]
                except (OSError, ValueError, KeyError):
                    pass
            answer = ask()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".%s." % key)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"answer": answer}, fh)
            os.replace(tmp, path)
        _MEMORY[key] = answer
        return answer

    @contextlib.contextmanager
    def _lock(self, path):
        if fcntl is None:
            yield
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class NoCache:
    """``cache=false``: every question goes to the manager."""

    @staticmethod
    def fetch(question, ask, refresh=False):
        del question, refresh
        return ask()


class CachedReader:
    """A read-only stand-in for ``TosClient`` (``get`` and ``paginate``) whose answers come from the run's
    cache; the module_utils readers take it as their client. The client is built on the first miss."""

    def __init__(self, options, cache, scope, refresh=False):
        self.options = options
        self.cache = cache
        self.scope = scope
        self.refresh = refresh
        self._client = None
        token = options.get("api_token")
        # which manager, as whom: the token only as a digest (the question is a file name's source, not a secret)
        self.identity = {
            "urls": normalize_urls(options.get("api_url")),
            "token": hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None,
            "validate_certs": bool(options.get("validate_certs", True)),
            "ca_path": options.get("ca_path"),
        }

    @property
    def client(self):
        if self._client is None:
            self._client = TosClient(
                api_url=self.options.get("api_url"),
                api_token=self.options.get("api_token"),
                validate_certs=self.options.get("validate_certs", True),
                ca_path=self.options.get("ca_path"),
                # unset: 30 s; 0 or less is refused as in the modules, not read as "unset"
                timeout=30 if self.options.get("timeout") is None else self.options.get("timeout"),
            )
        return self._client

    def get(self, path, params=None):
        question = {"connection": self.identity, "scope": self.scope, "path": path, "params": params or {}}
        return self.cache.fetch(question, lambda: self.client.get(path, params), refresh=self.refresh)

    def post(self, path, body=None):
        """A read the API sends as a POST (``READ_ONLY_POSTS``: the network topology map), cached like a GET; a
        lookup never writes, so any other POST is refused before it is sent."""
        if path not in READ_ONLY_POSTS:
            raise TosApiError("A lookup does not send POST %s: lookups only read." % path, method="POST", path=path,
                              kind="config")
        question = {"connection": self.identity, "scope": self.scope, "path": path, "method": "POST",
                    "body": body or {}}
        return self.cache.fetch(question, lambda: self.client.post(path, body), refresh=self.refresh)

    def paginate(self, path, params=None, **kwargs):
        """``TosClient.paginate`` over the cached ``get``: each page is a question of its own."""
        return TosClient.paginate(self, path, params, **kwargs)


class TosLookup(LookupBase):
    """The plumbing every lookup of the collection shares: options, the connection and the run cache
    (``reader``), an API failure as a lookup error naming the lookup (``guarded``), the result as data
    (``unsafe``), and the ``missing`` option for a term that names nothing.  A lookup implements ``ask``."""

    def run(self, terms, variables=None, **kwargs):
        client = reader(self, variables, **kwargs)
        return unsafe(guarded(self.ansible_name, self.ask, client, terms))

    def ask(self, client, terms):
        """The lookup's list of answers for ``terms``."""
        raise NotImplementedError

    def not_found(self, message):
        """None for a term that names nothing, after the ``missing`` option's action (error, warn or skip)."""
        missing = self.get_option("missing")
        if missing == "error":
            raise AnsibleLookupError(message)
        if missing == "warn":
            display.warning(message)


def _strings_in(value):
    """Every string in ``value`` (a dict's keys and values, a list's items, nested): what a message quoting the
    value could show of it."""
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in _strings_in(key) + _strings_in(item)]
    if isinstance(value, (list, tuple, set)):
        return [text for item in value for text in _strings_in(item)]
    return [str(value)] if value is not None and not isinstance(value, (bool, int, float)) else []


def set_options(plugin, variables, kwargs):
    """``plugin.set_options``; ansible-core's message for an option of the wrong type quotes the value (a token
    given as a list or a dict would show whole), so the token's strings are masked in that message, and it is
    raised without the chained traceback."""
    variables, kwargs = without_blank_inputs(variables, kwargs)
    try:
        with blank_environment_unset():
            plugin.set_options(var_options=variables, direct=kwargs)
        return
    except AnsibleError as exc:
        if "'api_url'" in str(exc) and "not provided" in str(exc):  # required, and no source gave it
            raise AnsibleLookupError(NO_URL % plugin.ansible_name) from None
        given = [kwargs.get("api_token"), (variables or {}).get("tos_api_token"), os.environ.get("TOS_API_TOKEN")]
        message = redact(str(exc), [text for value in given for text in _strings_in(value) if text.strip()])
    raise AnsibleLookupError("%s: %s" % (plugin.ansible_name, message))


NO_URL = "%s: no manager URL: set api_url, the variable tos_api_url or the environment variable TOS_API_URL."


def reader(plugin, variables, **kwargs):
    """Set the lookup's options and return a ``CachedReader`` for them."""
    set_options(plugin, variables, kwargs)
    options = connection_options(plugin)
    if not options.get("api_url"):
        raise AnsibleLookupError(NO_URL % plugin.ansible_name)
    cache = RunCache() if plugin.get_option("cache") else NoCache()
    scope = {"play": (variables or {}).get("ansible_play_name")}
    return CachedReader(options, cache, scope, refresh=plugin.get_option("refresh"))


def guarded(name, ask, *args):
    """``ask(*args)``, with an API failure turned into a lookup error naming the lookup (raised outside the
    ``except`` block, so no traceback of the client is chained to it; the client's messages carry no secret)."""
    try:
        return ask(*args)
    except TosApiError as exc:
        message = exc.message
    raise AnsibleLookupError("%s: %s" % (name, message))


def unsafe(value):
    """Everything a lookup returns is data, never a template."""
    return wrap_var(value)
