# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action behind every API module of tos.cloud (``plugins/action/<module>.py`` imports it), and behind
``report_files`` and ``report_mail``, which write and mail the roles' reports from the controller (LOCAL_MODULES:
no manager, no run cache).

The API modules talk HTTP to the manager; they run on the controller (``delegate_to: localhost``)
and change nothing on the host they run on.  Started the usual way, each task packages the module
(AnsiballZ), makes a temporary directory, copies the package there, starts a new Python that
imports ``ansible.module_utils.basic`` and ``requests``, and cleans up: about 25 times the cost of
an empty task, for a module that itself needs a few milliseconds and one HTTP request
(docs/performance.md, scenario 1).

When the task's connection is ``local``, this action runs the same module code - the same
``main()``, the same ``AnsibleModule``, the same argument validation, check mode, diff and
``no_log`` handling - inside the task's worker process, which Ansible forks for each task: the
module's globals and the process die with the task, as with a module process.  The result is
decoded by ansible-core exactly as a module's output would be.

It falls back to the usual module process (``ansible.builtin.normal``) whenever running in-process
could differ from it: another connection (the module must run on that host), ``become``, ``async``,
a task ``environment`` (the module process would see it), ``requests`` not importable in the
controller's Python (for an API module: the report modules do not use it), a localhost
``ansible_python_interpreter`` (the delegated host's with ``delegate_to``) that is not the controller's Python,
an ansible-core version it was not tested with (``TESTED_CORE``), ansible-core internals that no longer look as
expected, a module the controller cannot import (a module_util missing: the module process names it), or
``tos_cloud_in_process: false`` (a host, group, play or extra variable).

In the worker the module's client answers the reads that repeat within a run from the run's cache when
``tos_cloud_run_cache`` is true (plugins/plugin_utils/run_cache.py); any write clears it, and so does a module
run as a process (which the cache cannot see).

A module that ends with ``sys.exit("text")`` prints the text to stderr as its process would; a crash is
reported as a module process's crash would be, with secrets masked in the traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import sys
import traceback

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible.utils.display import Display

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: no in-process path (requires_ansible is >=2.19.0)
    patch_module_args = None

# Imported once in the controller (the strategy loads this class before forking the task's worker), so
# that each worker finds requests, AnsibleModule and the client already loaded.
from ansible_collections.tos.cloud.plugins.module_utils import (  # pylint: disable=unused-import
    _api,
    _module,  # noqa: F401
    _progress,
)
from ansible_collections.tos.cloud.plugins.module_utils._api import HAS_REQUESTS
from ansible_collections.tos.cloud.plugins.module_utils._options import without_blank
from ansible_collections.tos.cloud.plugins.module_utils._redact import redact, redact_value
from ansible_collections.tos.cloud.plugins.plugin_utils import run_cache

display = Display()

COLLECTION = "tos.cloud"
# The modules with an action plugin importing this one (plugins/action/); anything else runs as a process.
API_MODULES = frozenset((
    "cluster", "cluster_info", "cvm", "storage_service_vm", "drs_config", "global_config", "snapshot_policy",
    "metadata_snapshot", "mail_setting", "system_setting", "system_info", "inspection", "upgrade", "upgrade_info",
))
# Modules that run on the controller without the manager (the roles' report files and mail): in-process the same
# way, with no run cache (they read and write nothing of the manager's, so they neither use nor clear its answers).
LOCAL_MODULES = frozenset(("report_files", "report_mail"))
IN_PROCESS_MODULES = API_MODULES | LOCAL_MODULES
OPT_OUT_VAR = "tos_cloud_in_process"
# serialization profile of the module's JSON (what ansible-core uses for modules that do not declare one)
PROFILE = "legacy"
# The ansible-core lines the in-process path was tested with (make compat, the in_process integration target);
# any other runs the module as a process.
TESTED_CORE = ("2.19", "2.20", "2.21")
# Module arguments whose values are secrets, for masking a crash's traceback (no AnsibleModule is left to ask).
SECRET_ARG_WORDS = ("token", "password", "secret", "passphrase")
# seconds a task waits at its end for the reads it started ahead for the next tasks (run_cache.ReadAhead)
READ_AHEAD_WAIT = 120


def preload(action_module_name):
    """Import, in the controller, the API module behind the action plugin ``action_module_name`` (its ``__name__``).

    ansible-core's strategy loads a task's action plugin in the controller before it forks the task's worker, so
    a module imported here is already in every worker's memory: the worker does not read, compile and execute the
    module and its module_utils again for each task (about 20 ms a task, bench scenario 6). The module's code only
    defines things at import; its ``main()`` runs in the worker as before, with globals fresh from the fork. A
    module that cannot be imported here is left to the worker, which reports why as it always did."""
    name = action_module_name.rpartition(".")[2]
    warm_template_plugins()
    if name not in IN_PROCESS_MODULES or (name in API_MODULES and not HAS_REQUESTS):
        return
    try:
        importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
    except Exception:  # noqa: BLE001  pylint: disable=broad-except
        # the worker imports it again and reports why it cannot
        display.vvv("%s.%s: not imported ahead in the controller" % (COLLECTION, name))


def warm_template_plugins():
    """Load, once in the controller, the filter and test plugins that the tasks' templates look up in the workers.

    ansible-core's Jinja2 plugin loader, asked for a filter in a worker process, first loads every built-in filter
    file (``ansible.builtin``'s core, mathstuff, urls, encryption, ...), and for a collection's filter such as
    ``tos.cloud.name_list`` every filter file of that collection; a worker does it again for each task, since it
    starts from the controller's state (about 10-20 ms a task that templates a filter: bench scenario 6, each
    rolling-upgrade batch). Loaded here, before the strategy forks the task's worker, they are already in every
    worker's memory. Loading them changes nothing else: the same files are loaded, by the same loader, only
    earlier; one that cannot be loaded is left to the worker, which reports it as it always did."""
    if _WARMED:
        return
    _WARMED.append(True)
    try:
        from ansible.plugins.loader import filter_loader, test_loader

        filter_loader.get("%s.name_list" % COLLECTION)  # the built-in filters, then every tos.cloud filter file
        test_loader.get("ansible.builtin.truthy")  # the built-in test files
    except Exception:  # noqa: BLE001  pylint: disable=broad-except
        display.vvv("%s: the template plugins were not loaded ahead in the controller" % COLLECTION)


_WARMED = []


def core_line(version=None):
    """``"2.19"`` for ``"2.19.14"`` (the running ansible-core by default)."""
    return ".".join(str(ANSIBLE_CORE_VERSION if version is None else version).split(".")[:2])


class _FallBack(Exception):
    """Before the module ran: use a module process instead (ansible-core's internals differ)."""


class ActionModule(NormalAction):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        # a connection option given blank (module_defaults from an unanswered survey) is unset: the module's
        # environment fallback and default apply, on either path
        if getattr(self._task, "args", None):
            self._task.args = without_blank(self._task.args)
        name, why_not = self._in_process_module(task_vars)
        if name is None:
            display.vvv("%s runs as a module process: %s" % (self._task.action, why_not))
            return self._run_process(tmp, task_vars)
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase.run: check mode/async support checks
        try:
            outcome = self._run_in_process(name, task_vars)
            display.vvv("%s.%s: running the module in the worker process (connection local; %s=false for a module "
                        "process)" % (COLLECTION, name, OPT_OUT_VAR), host=self._play_context.remote_addr)
        except _FallBack as exc:
            display.vvv("%s runs as a module process: %s" % (self._task.action, exc))
            return self._run_process(tmp, task_vars)
        result.update(outcome)
        return result

    def _checking(self):
        """Whether the task runs in check mode (``--check`` or the task's ``check_mode: true``)."""
        return bool(getattr(getattr(self, "_play_context", None), "check_mode", False))

    def _run_process(self, tmp, task_vars):
        """The module as a process; it may write, and the run's cache cannot see it: forget the cache after it
        (not after a module that never talks to the manager)."""
        try:
            return super().run(tmp, task_vars)
        finally:
            if self._task.action.rpartition(".")[2] not in LOCAL_MODULES:
                if _leaves_running(getattr(self._task, "args", None) or {}, self._checking()):
                    run_cache.unsettle_run()
                else:
                    run_cache.invalidate_run()

    def _in_process_module(self, task_vars):
        """The short name of the module to run in-process, or ``(None, reason)`` to start a module process."""
        if core_line() not in TESTED_CORE:
            return None, "the in-process path was tested with ansible-core %s, not %s" % (
                ", ".join(TESTED_CORE), ANSIBLE_CORE_VERSION)
        if patch_module_args is None:
            return None, "ansible-core has no ansible.module_utils.testing.patch_module_args"
        changed = self._changed_internals()
        if changed:
            return None, changed
        if getattr(self._connection, "transport", None) != "local":
            return None, "the connection is not local"
        if self._task.async_val:
            return None, "the task is async"
        if self._play_context.become:
            return None, "the task uses become"
        if any(self._task.environment or ()):  # ansible-core keeps [{}] when none is set
            return None, "the task sets an environment"
        wanted = task_vars.get(OPT_OUT_VAR, True)
        try:
            if not boolean(self._templar.template(wanted), strict=True):
                return None, "%s is false" % OPT_OUT_VAR
        except TypeError:
            return None, "%s is not a boolean (%r)" % (OPT_OUT_VAR, wanted)
        interpreter = self._other_interpreter(task_vars)
        if interpreter:
            return None, "ansible_python_interpreter (%s) is not the controller's Python (%s)" % (
                interpreter, sys.executable)
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        fqcn = getattr(context, "resolved_fqcn", None) or ""
        namespace, _dot, name = fqcn.rpartition(".")
        if not context.resolved or namespace != COLLECTION or name not in IN_PROCESS_MODULES:
            return None, "%s is not an API module of %s" % (fqcn or self._task.action, COLLECTION)
        if name in API_MODULES and not HAS_REQUESTS:  # the local modules do not use it
            return None, "the controller's Python has no requests library"
        return name, None

    def _changed_internals(self):
        """Why ansible-core's internals this path calls do not look as tested, or None."""
        expected = (("_update_module_args", ("module_name", "module_args", "task_vars")),
                    ("_parse_returned_data", ("res", "profile")))
        for method, params in expected:
            try:
                found = tuple(inspect.signature(getattr(self, method)).parameters)
            except (AttributeError, TypeError, ValueError):
                return "ansible-core has no %s" % method
            if found[:len(params)] != params:
                return "ansible-core's %s takes (%s), not (%s)" % (method, ", ".join(found), ", ".join(params))
        return None

    def _other_interpreter(self, task_vars):
        """The task's ``ansible_python_interpreter`` when it names another Python than the controller's: the
        delegated host's on a delegated task (whose Python a module process would run, as ``_configure_module``
        picks it), not the play host's."""
        delegate = getattr(self._task, "delegate_to", None)
        if delegate:
            task_vars = (task_vars.get("ansible_delegated_vars") or {}).get(delegate) or {}
        wanted = task_vars.get("ansible_python_interpreter")
        if wanted is None:
            return None
        try:
            wanted = self._templar.template(wanted)
        except Exception:  # noqa: BLE001 - a variable that does not template: let a module process report it
            return str(wanted)
        wanted = str(wanted).strip()
        if not wanted or wanted.startswith("auto"):  # discovery: ansible-core's own choice for localhost
            return None
        return None if _same_python(wanted, sys.executable) else wanted

    def _run_in_process(self, name, task_vars):
        module_args = dict(self._task.args)
        try:
            self._update_module_args("%s.%s" % (COLLECTION, name), module_args, task_vars)
            patched = patch_module_args(module_args)
        except (TypeError, AttributeError) as exc:  # a changed internal: nothing has run yet
            raise _FallBack("ansible-core's internals changed (%s: %s)" % (type(exc).__name__, exc)) from None
        try:
            module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
        except ImportError as exc:  # nothing has run: a module process names what it cannot import (AnsiballZ)
            raise _FallBack("the module cannot be imported in the controller (%s)" % exc) from None
        stdout, stderr = io.StringIO(), io.StringIO()
        secrets = _secret_args(module_args)
        rc = 0
        # the waits' progress lines go to the job output as they happen (a module process cannot print), without
        # a secret, and not at all for a no_log task (which shows nothing of what it does)
        host = task_vars.get("inventory_hostname") or "localhost"
        _progress.reset()
        hidden = any(bool(getattr(owner, "no_log", False)) for owner in (self._task, getattr(self, "_play_context", None)))
        _progress.EMIT = None if hidden else (lambda line: display.display("[%s] %s" % (host, redact(line, secrets))))
        cache = None
        if name in API_MODULES:
            cache = _api.RUN_CACHE = run_cache.for_task(task_vars, getattr(self, "_templar", None),
                                                        check_mode=self._checking())
        try:
            with patched, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                module.main()
        except SystemExit as exc:  # exit_json/fail_json end the module here, as they end its process
            if exc.code is None or isinstance(exc.code, int):
                rc = exc.code or 0
            else:  # sys.exit("text"): Python prints the text to stderr and exits with 1
                stderr.write("%s\n" % (exc.code,))
                rc = 1
        except Exception:  # a crash of the module: reported as a module process's crash would be
            return redact_value({"failed": True, "rc": 1, "module_stdout": stdout.getvalue(),
                                 "module_stderr": stderr.getvalue() + traceback.format_exc(),
                                 "msg": "MODULE FAILURE: %s.%s raised an exception; see module_stderr." % (
                                     COLLECTION, name)}, secrets)
        finally:
            _progress.EMIT = None
            _api.RUN_CACHE = None
            if cache is not None:  # the reads this task started for the next ones (tos_cloud_read_ahead)
                cache.finish(READ_AHEAD_WAIT)
        if _leaves_running(module_args, self._checking()):
            run_cache.unsettle_run()
        out = stdout.getvalue()
        err = redact(stderr.getvalue(), secrets)
        res = {"rc": rc, "stdout": out, "stdout_lines": out.splitlines(), "stderr": err, "stderr_lines": err.splitlines()}
        try:
            return _as_result_dict(self._parse_returned_data(res, PROFILE))
        except (TypeError, AttributeError) as exc:
            # the module has run (it may have changed the manager): never fail on our side of the decoding
            display.vvv("%s.%s: ansible-core's result decoding changed (%s); decoding the module's JSON directly"
                        % (COLLECTION, name, exc))
            return _decode_plainly(res)


def _leaves_running(module_args, check_mode=False):
    """Whether the task may have left an operation running: ``wait: false`` (cvm, storage_service_vm,
    inspection, upgrade), started or joined. The run's cache then stops answering (run_cache.unsettle_run):
    what it read would go stale when the operation ends. A task in check mode starts nothing (drift_report's
    comparisons run with ``wait: false`` and ``check_mode: true``: each one used to end the cache's use)."""
    if check_mode:
        return False
    try:
        return "wait" in module_args and not boolean(module_args["wait"], strict=False)
    except TypeError:
        return False


def _same_python(one, other):
    """Whether two interpreter paths are the same Python (a venv's python and python3 are; two venvs are not)."""
    if os.sep not in one:
        return False
    if os.path.abspath(one) == os.path.abspath(other):
        return True
    # the same bin directory (through links: a linked .venv is the same venv) and the same executable in the end
    return os.path.realpath(os.path.dirname(os.path.abspath(one))) == \
        os.path.realpath(os.path.dirname(os.path.abspath(other))) and os.path.realpath(one) == os.path.realpath(other)


def _secret_args(module_args):
    """The values of module arguments that are secrets, and the token from the environment."""
    found = [value for key, value in module_args.items()
             if isinstance(value, str) and any(word in key.lower() for word in SECRET_ARG_WORDS)]
    if os.environ.get("TOS_API_TOKEN"):
        found.append(os.environ["TOS_API_TOKEN"])
    return found


def _decode_plainly(res):
    """The module's JSON result as a dict, or a module failure as ansible-core would make it."""
    try:
        result = json.loads(res["stdout"])
    except ValueError:
        result = None
    if not isinstance(result, dict):
        return {"failed": True, "rc": res["rc"], "module_stdout": res["stdout"], "module_stderr": res["stderr"],
                "msg": "MODULE FAILURE: the module did not return JSON; see module_stdout and module_stderr."}
    if res["rc"] and not result.get("failed"):
        result["failed"] = True
    return {key: value for key, value in result.items() if not key.startswith("_ansible")}


def _as_result_dict(parsed):
    """The decoded module result with ansible-core's internal keys removed, as a result dict.

    ansible-core 2.19 returns a dict here; later versions a result object with the same steps as methods.
    """
    if isinstance(parsed, dict):
        from ansible.vars.clean import remove_internal_keys

        remove_internal_keys(parsed)
        return parsed
    parsed.remove_internal_keys()
    return parsed.as_result_dict(for_round_trip=True)
