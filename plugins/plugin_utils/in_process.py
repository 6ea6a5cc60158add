# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action behind every API module of tos.cloud (``plugins/action/<module>.py`` imports it).

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
controller's Python, or ``tos_cloud_in_process: false`` (a host, group, play or extra variable).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import traceback

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: no in-process path (requires_ansible is >=2.19.0)
    patch_module_args = None

# Imported once in the controller (the strategy loads this class before forking the task's worker), so
# that each worker finds requests, AnsibleModule and the client already loaded.
from ansible_collections.tos.cloud.plugins.module_utils import (  # pylint: disable=unused-import
    _module,  # noqa: F401
    _progress,
)
from ansible_collections.tos.cloud.plugins.module_utils._api import HAS_REQUESTS

display = Display()

COLLECTION = "tos.cloud"
# The modules with an action plugin importing this one (plugins/action/); anything else runs as a process.
API_MODULES = frozenset((
    "cluster", "cluster_info", "cvm", "storage_service_vm", "drs_config", "global_config", "snapshot_policy",
    "metadata_snapshot", "mail_setting", "system_setting", "system_info", "inspection", "upgrade", "upgrade_info",
))
OPT_OUT_VAR = "tos_cloud_in_process"
# serialization profile of the module's JSON (what ansible-core uses for modules that do not declare one)
PROFILE = "legacy"


class ActionModule(NormalAction):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        name, why_not = self._in_process_module(task_vars)
        if name is None:
            display.vvvv("%s runs as a module process: %s" % (self._task.action, why_not))
            return super().run(tmp, task_vars)
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase.run: check mode/async support checks
        del tmp
        display.vvv("%s.%s: running the module in the worker process (connection local; %s=false for a module "
                    "process)" % (COLLECTION, name, OPT_OUT_VAR), host=self._play_context.remote_addr)
        result.update(self._run_in_process(name, task_vars))
        return result

    def _in_process_module(self, task_vars):
        """The short name of the module to run in-process, or ``(None, reason)`` to start a module process."""
        if patch_module_args is None:
            return None, "ansible-core has no ansible.module_utils.testing.patch_module_args"
        if not HAS_REQUESTS:
            return None, "the controller's Python has no requests library"
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
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        fqcn = getattr(context, "resolved_fqcn", None) or ""
        namespace, _dot, name = fqcn.rpartition(".")
        if not context.resolved or namespace != COLLECTION or name not in API_MODULES:
            return None, "%s is not an API module of %s" % (fqcn or self._task.action, COLLECTION)
        return name, None

    def _run_in_process(self, name, task_vars):
        module_args = dict(self._task.args)
        self._update_module_args("%s.%s" % (COLLECTION, name), module_args, task_vars)
        stdout, stderr = io.StringIO(), io.StringIO()
        rc = 0
        # the waits' progress lines go to the job output as they happen (a module process cannot print)
        host = task_vars.get("inventory_hostname") or "localhost"
        _progress.reset()
        _progress.EMIT = lambda line: display.display("[%s] %s" % (host, line))
        try:
            module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
            with patch_module_args(module_args), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                module.main()
        except SystemExit as exc:  # exit_json/fail_json end the module here, as they end its process
            rc = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        except Exception:  # a crash of the module: reported as a module process's crash would be
            return {"failed": True, "rc": 1, "module_stdout": stdout.getvalue(),
                    "module_stderr": stderr.getvalue() + traceback.format_exc(),
                    "msg": "MODULE FAILURE: %s.%s raised an exception; see module_stderr." % (COLLECTION, name)}
        finally:
            _progress.EMIT = None
        out = stdout.getvalue()
        err = stderr.getvalue()
        parsed = self._parse_returned_data({"rc": rc, "stdout": out, "stdout_lines": out.splitlines(),
                                            "stderr": err, "stderr_lines": err.splitlines()}, PROFILE)
        return _as_result_dict(parsed)


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
