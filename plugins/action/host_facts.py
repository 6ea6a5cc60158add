# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs tos.cloud.host_facts on the managed host without AnsiballZ.

The module (plugins/modules/host_facts.py) needs a few milliseconds of work; started the usual way, each
task packages it (AnsiballZ), makes a temporary directory on the host, copies the package there, starts a
Python that unpacks it and imports ``ansible.module_utils.basic`` (about 0.14 s of CPU alone), and cleans
up.  ``setup`` with ``gather_subset: min`` pays the same, so no AnsiballZ module can cost less than half of
it (docs/performance.md, scenario 5).

This action validates the options on the controller with the module's argument spec (the same validator,
the same messages), then pipes the collector - the source of ``module_utils/_facts.py`` (standard library
only; psutil) plus one ``collect({...})`` call - to the task's Python on the host in one command through
the connection: no temporary files, no ``ansible.module_utils``.  The facts are those of the module by
construction: the same ``gather()`` runs.  It honours ``become``, the task's ``environment``, check mode
(the module only reads), ``ansible_python_interpreter`` and its discovery (ansible-core's own helpers; the
discovered interpreter is returned as a fact, as a module's run returns it).

It runs the module the usual way (``ansible.builtin.normal``) when this path cannot: ``async``, a
connection that cannot pipe a script to a command (``has_pipelining``) or a Windows shell, a become
method that cannot pipe either (``su``), ``ANSIBLE_KEEP_REMOTE_FILES``, ansible-core internals that no longer
look as tested, or ``tos_cloud_in_process: false`` (a host, group, play or extra variable: run modules as
module processes).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

from ansible_collections.tos.cloud.plugins.module_utils import _facts
from ansible_collections.tos.cloud.plugins.module_utils._shapes import shape_problems

try:
    from ansible.executor.interpreter_discovery import InterpreterDiscoveryRequiredError, discover_interpreter
    from ansible.executor.module_common import _get_shebang
except ImportError:  # another ansible-core: the module runs the usual way
    _get_shebang = None

display = Display()

MODULE = "tos.cloud.host_facts"
OPT_OUT_VAR = "tos_cloud_in_process"
PROFILE = "legacy"
DEFAULT_INTERPRETER = "/usr/bin/python"


def collector_source():
    """The collector's code: ``module_utils/_facts.py`` as it is on disk (the controller's copy)."""
    return Path(_facts.__file__).read_text(encoding="utf-8")


def collector_script(params):
    """The whole program piped to the host's Python for validated ``params``."""
    args = {"gather": list(params["gather"]), "sample_seconds": float(params["sample_seconds"])}
    return "%s\n\ncollect(%s)\n" % (collector_source(), json.dumps(args, sort_keys=True))


class _FallBack(Exception):
    """This path cannot run the task: run the module the usual way."""


class ActionModule(NormalAction):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        why_not = self._why_module(task_vars)
        if why_not:
            display.vvv("%s runs as a module: %s" % (MODULE, why_not))
            return super().run(tmp, task_vars)
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase.run: check mode/async support checks
        # the module's shape checks first: gather: "cpu, memory" (a survey's text) is the list it names
        problems, spec = shape_problems(_facts.ARGUMENT_SPEC, self._task.args)
        if problems:
            result.update(failed=True, msg="Invalid input: %s." % "; ".join(problems))
            return result
        _validation, params = self.validate_argument_spec(argument_spec=spec)
        problem = _facts.check_params(params)
        if problem:
            result.update(failed=True, msg=problem)
            return result
        try:
            interpreter = self._interpreter(task_vars)
        except _FallBack as exc:
            display.vvv("%s runs as a module: %s" % (MODULE, exc))
            return super().run(tmp, task_vars)
        cmd = self._connection._shell.build_module_command(self._compute_environment_string(), "#!" + interpreter, "")
        display.vvv("%s: piping the collector to %s (no AnsiballZ; %s=false for the module)" % (
            MODULE, interpreter, OPT_OUT_VAR), host=self._play_context.remote_addr)
        self._used_interpreter = "#!" + interpreter  # names a missing interpreter in the decoding's failure
        res = self._low_level_execute_command(cmd, sudoable=True, in_data=collector_script(params).encode("utf-8"))
        data = _result_dict(self._parse_returned_data(res, PROFILE))
        if self._discovered_interpreter_key:
            data.setdefault("ansible_facts", {})[self._discovered_interpreter_key] = self._discovered_interpreter
        if not data.get("failed"):
            data["invocation"] = {"module_args": params}
        result.update(data)
        return result

    def _why_module(self, task_vars):
        """Why the module must run the usual way, or None."""
        if _get_shebang is None:
            return "ansible-core has no module_common._get_shebang"
        for method, params in (("_parse_returned_data", ("res", "profile")),
                               ("_low_level_execute_command", ("cmd", "sudoable", "in_data"))):
            found = tuple(_parameters(getattr(self, method, None)))
            if found[:len(params)] != params:
                return "ansible-core's %s takes (%s), not (%s)" % (method, ", ".join(found), ", ".join(params))
        if self._task.async_val:
            return "the task is async"
        connection = self._connection
        if not getattr(connection, "has_pipelining", False):
            return "the connection (%s) cannot pipe a script to a command" % getattr(connection, "transport", "?")
        if getattr(connection._shell, "_IS_WINDOWS", False) or ".ps1" in getattr(connection, "module_implementation_preferences", ()):
            return "the host's shell is Windows"
        if connection.become and not getattr(connection.become, "pipelining", False):
            return "the become method (%s) cannot pipe a script" % getattr(connection.become, "name", "?")
        if C.DEFAULT_KEEP_REMOTE_FILES:
            return "ANSIBLE_KEEP_REMOTE_FILES is set"
        wanted = task_vars.get(OPT_OUT_VAR, True)
        try:
            if not boolean(self._templar.template(wanted), strict=True):
                return "%s is false" % OPT_OUT_VAR
        except TypeError:
            return "%s is not a boolean (%r)" % (OPT_OUT_VAR, wanted)
        return None

    def _interpreter(self, task_vars):
        """The task's Python on the host, discovered as ansible-core discovers it for a module
        (``ActionBase._configure_module``); the discovery's answer is returned as a fact like a module's."""
        use_vars = task_vars
        if self._task.delegate_to:
            use_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to) or task_vars
        use_vars.setdefault("ansible_facts", {})
        remote_is_local = bool(getattr(self._connection, "_remote_is_local", False))
        for _dummy in (1, 2):
            try:
                shebang, interpreter = _get_shebang(DEFAULT_INTERPRETER, use_vars, self._templar,
                                                    remote_is_local=remote_is_local)
                break
            except InterpreterDiscoveryRequiredError as idre:
                self._discovered_interpreter = discover_interpreter(
                    action=self, interpreter_name=idre.interpreter_name, discovery_mode=idre.discovery_mode,
                    task_vars=use_vars)
                key = "discovered_interpreter_%s" % idre.interpreter_name
                use_vars["ansible_facts"][key] = self._discovered_interpreter
                if not self._task.delegate_to or self._task.delegate_facts:
                    self._discovered_interpreter_key = key
            except (TypeError, ValueError) as exc:  # a changed internal
                raise _FallBack("ansible-core's _get_shebang changed (%s: %s)" % (type(exc).__name__, exc)) from None
        else:
            raise _FallBack("interpreter discovery did not settle")
        interpreter = str(interpreter or "").strip()
        if not interpreter or not shebang:
            raise _FallBack("no Python interpreter for the host")
        return interpreter


def _result_dict(parsed):
    """The decoded result as ``_execute_module`` returns it: ansible-core 2.19 decodes to a dict, 2.21 to a result
    object; internal keys removed either way."""
    if isinstance(parsed, dict):
        from ansible.vars.clean import remove_internal_keys  # ansible-core 2.19 (gone in 2.21)

        remove_internal_keys(parsed)
        return parsed
    parsed.remove_internal_keys()
    return parsed.as_result_dict(for_round_trip=True)


def _parameters(function):
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return ()
