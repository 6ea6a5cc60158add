# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When plugins/plugin_utils/in_process.py (the action of every API module) runs a module in the worker process, and when it starts a module
process (the real runs of both paths are compared by tests/integration/targets/in_process)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.tos.cloud.plugins.plugin_utils import in_process

ROOT = Path(__file__).resolve().parents[4]


class Templar:
    def template(self, value):
        return {"{{ off }}": "no"}.get(value, value)


class ModuleLoader:
    def find_plugin_with_context(self, name, collection_list=None):
        fqcn = name if "." in name else "%s.%s" % ((collection_list or ["ansible.builtin"])[0], name)
        return SimpleNamespace(resolved=not fqcn.endswith("missing"), resolved_fqcn=fqcn)


def action(transport="local", async_val=0, become=False, environment=None, name="tos.cloud.cluster", collections=None,
           delegate_to=None):
    plugin = object.__new__(in_process.ActionModule)
    plugin._connection = SimpleNamespace(transport=transport)
    environment = [{}] if environment is None else list(environment)
    plugin._task = SimpleNamespace(action=name, async_val=async_val, environment=environment,
                                   collections=collections, delegate_to=delegate_to)
    plugin._play_context = SimpleNamespace(become=become)
    plugin._templar = Templar()
    plugin._shared_loader_obj = SimpleNamespace(module_loader=ModuleLoader())
    return plugin


def test_an_api_module_on_a_local_connection_runs_in_process():
    assert action()._in_process_module({}) == ("cluster", None)
    assert action(name="cluster_info", collections=["tos.cloud"])._in_process_module({}) == ("cluster_info", None)
    assert action()._in_process_module({"tos_cloud_in_process": "yes"}) == ("cluster", None)


@pytest.mark.parametrize("kwargs, task_vars, reason", [
    ({"transport": "ssh"}, {}, "the connection is not local"),
    ({"async_val": 30}, {}, "the task is async"),
    ({"become": True}, {}, "the task uses become"),
    ({"environment": [{}, {"HTTPS_PROXY": "http://192.0.2.1:3128"}]}, {}, "the task sets an environment"),
    ({"environment": ["{{ proxy_env }}"]}, {}, "the task sets an environment"),
    ({}, {"tos_cloud_in_process": False}, "tos_cloud_in_process is false"),
    ({}, {"tos_cloud_in_process": "{{ off }}"}, "tos_cloud_in_process is false"),
    ({}, {"tos_cloud_in_process": "maybe"}, "tos_cloud_in_process is not a boolean ('maybe')"),
    ({"name": "tos.cloud.host_facts"}, {}, "tos.cloud.host_facts is not an API module of tos.cloud"),
    ({"name": "tos.cloud.missing"}, {}, "tos.cloud.missing is not an API module of tos.cloud"),
    ({"name": "other.coll.cluster"}, {}, "other.coll.cluster is not an API module of tos.cloud"),
])
def test_a_module_process_whenever_in_process_could_differ(kwargs, task_vars, reason):
    assert action(**kwargs)._in_process_module(task_vars) == (None, reason)


def test_without_requests_only_the_api_modules_start_a_module_process(monkeypatch):
    """The report modules write files and send mail: a controller without requests still runs them in-process,
    and an API module names requests as the reason it starts a module process."""
    monkeypatch.setattr(in_process, "HAS_REQUESTS", False)
    assert action()._in_process_module({}) == (None, "the controller's Python has no requests library")
    for name in sorted(in_process.LOCAL_MODULES):
        assert action(name="tos.cloud." + name)._in_process_module({}) == (name, None)
    # what starts a module process for any module still says so first
    assert action(transport="ssh")._in_process_module({}) == (None, "the connection is not local")


def test_every_api_module_and_only_those_has_the_in_process_action():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    # host_facts has its own action (it runs on the managed host: tests/unit/plugins/modules/test_host_facts_action.py)
    actions = {p.stem for p in (ROOT / "plugins" / "action").glob("*.py") if p.stem not in ("__init__", "host_facts")}
    assert actions == set(in_process.IN_PROCESS_MODULES)
    assert set(in_process.API_MODULES) == set(runtime["action_groups"]["api"])
    assert set(in_process.LOCAL_MODULES) == {"report_files", "report_mail"}  # no connection option: not in the api group
    for name in actions:
        module = importlib.import_module("ansible_collections.tos.cloud.plugins.action.%s" % name)
        assert module.ActionModule is in_process.ActionModule


def test_each_action_plugin_imports_its_module_in_the_controller(monkeypatch):
    """The strategy loads an action plugin in the controller before it forks the worker: the action's import
    loads the module there, so no worker imports it again."""
    modules = "ansible_collections.tos.cloud.plugins.modules."
    for name in ("upgrade", "cluster_info"):
        monkeypatch.delitem(sys.modules, modules + name, raising=False)
        monkeypatch.delitem(sys.modules, "ansible_collections.tos.cloud.plugins.action." + name, raising=False)
        importlib.import_module("ansible_collections.tos.cloud.plugins.action." + name)
        assert modules + name in sys.modules
        assert callable(sys.modules[modules + name].main)


def test_preload_skips_what_is_not_an_api_module_and_is_silent_when_the_import_fails(monkeypatch):
    imported = []

    def fake_import(name):
        imported.append(name)
        raise ImportError("broken module")

    monkeypatch.setattr(in_process.importlib, "import_module", fake_import)
    in_process.preload("ansible_collections.tos.cloud.plugins.action.host_facts")
    in_process.preload("ansible_collections.tos.cloud.plugins.action.nothing")
    assert imported == []
    in_process.preload("ansible_collections.tos.cloud.plugins.action.upgrade")  # no exception: the worker reports it
    assert imported == ["ansible_collections.tos.cloud.plugins.modules.upgrade"]


class Decoding(in_process.ActionModule):
    """_run_in_process with ansible-core's argument and decoding steps replaced by their simplest form."""

    def _update_module_args(self, module_name, module_args, task_vars, ignore_unknown_opts=False):
        module_args["_ansible_module_name"] = module_name

    def _parse_returned_data(self, res, profile):
        data = json.loads(res["stdout"])
        data["_rc"] = res["rc"]
        return data


def run_with_main(monkeypatch, main):
    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    # the decoded result's clean-up differs by ansible-core version (a dict in 2.19, a result object after)
    monkeypatch.setattr(in_process, "_as_result_dict", lambda parsed: parsed)
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={"cluster": "prod"})
    return plugin._run_in_process("cluster_info", {})


def test_the_module_output_is_captured_and_decoded(monkeypatch):
    def main():
        print('{"changed": false, "cluster": {"name": "prod"}}')
        sys.exit(0)

    assert run_with_main(monkeypatch, main) == {"changed": False, "cluster": {"name": "prod"}, "_rc": 0}


@pytest.mark.parametrize("code, rc", [(None, 0), (0, 0), (1, 1), ("message", 1)])
def test_the_exit_code_is_the_one_a_process_would_have(monkeypatch, code, rc):
    def main():
        print('{"failed": true}')
        sys.exit(code)

    assert run_with_main(monkeypatch, main)["_rc"] == rc


@pytest.mark.parametrize("no_log", [False, True])
def test_progress_lines_show_no_secret_and_nothing_for_a_no_log_task(monkeypatch, no_log):
    from ansible_collections.tos.cloud.plugins.module_utils import _progress

    shown = []
    monkeypatch.setattr(in_process.display, "display", lambda text, *args, **kwargs: shown.append(text))

    def main():
        _progress.report("h1", "the task of host tos-a1 (token S3cr3t-T0ken-zz9 echoed)", 1.0, "finished")
        print('{"changed": false}')
        sys.exit(0)

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    monkeypatch.setattr(in_process, "_as_result_dict", lambda parsed: parsed)
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={"cluster": "prod", "api_token": "S3cr3t-T0ken-zz9"}, no_log=no_log)
    assert plugin._run_in_process("cluster_info", {"inventory_hostname": "localhost"})["_rc"] == 0
    if no_log:
        assert shown == []
    else:
        assert len(shown) == 1 and "tos-a1" in shown[0] and "S3cr3t" not in shown[0], shown


def test_a_crash_is_a_module_failure_with_its_traceback(monkeypatch):
    def main():
        print("partial")
        raise KeyError("boom")

    result = run_with_main(monkeypatch, main)
    assert result["failed"] and result["rc"] == 1 and result["module_stdout"] == "partial\n"
    assert "KeyError: 'boom'" in result["module_stderr"] and "tos.cloud.cluster_info" in result["msg"]


# ---- versions, interpreters and ansible-core internals (issue 20 item 4) --------------------------------


@pytest.mark.parametrize("version, runs", [("2.19.14", True), ("2.20.3", True), ("2.21.0", True), ("2.22.0", False),
                                           ("2.18.9", False)])
def test_only_the_tested_ansible_core_lines_run_in_process(monkeypatch, version, runs):
    monkeypatch.setattr(in_process, "ANSIBLE_CORE_VERSION", version)
    name, why_not = action()._in_process_module({})
    assert (name == "cluster") is runs
    if not runs:
        assert why_not == "the in-process path was tested with ansible-core 2.19, 2.20, 2.21, not %s" % version


def test_another_python_for_localhost_starts_a_module_process(tmp_path):
    other = tmp_path / "venv" / "bin" / "python"
    other.parent.mkdir(parents=True)
    other.symlink_to(sys.executable)
    assert action()._in_process_module({"ansible_python_interpreter": str(other)}) == (
        None, "ansible_python_interpreter (%s) is not the controller's Python (%s)" % (other, sys.executable))
    assert action()._in_process_module({"ansible_python_interpreter": "python3"})[0] is None


@pytest.mark.parametrize("interpreter", [sys.executable, "auto", "auto_silent", None])
def test_the_controllers_python_or_discovery_runs_in_process(interpreter):
    task_vars = {} if interpreter is None else {"ansible_python_interpreter": interpreter}
    assert action()._in_process_module(task_vars) == ("cluster", None)


def test_a_delegated_task_is_judged_by_the_delegated_hosts_python():
    """A module process of a delegated task runs the delegated host's ansible_python_interpreter (ansible-core's
    _configure_module): a play on the platform's hosts (their own Python set) delegating to localhost runs
    in-process, and a task delegated to a local host with another Python starts a module process there."""
    platform_host = {"ansible_python_interpreter": "/usr/bin/python3",
                     "ansible_delegated_vars": {"localhost": {"ansible_python_interpreter": sys.executable}}}
    assert action(delegate_to="localhost")._in_process_module(platform_host) == ("cluster", None)
    other = "/opt/jump/bin/python3.12"
    jump = {"ansible_python_interpreter": sys.executable,
            "ansible_delegated_vars": {"jump": {"ansible_python_interpreter": other}}}
    assert action(delegate_to="jump")._in_process_module(jump) == (
        None, "ansible_python_interpreter (%s) is not the controller's Python (%s)" % (other, sys.executable))


def test_a_changed_internal_signature_starts_a_module_process():
    plugin = action()
    plugin._parse_returned_data = lambda result: result
    name, why_not = plugin._in_process_module({})
    assert name is None and why_not == "ansible-core's _parse_returned_data takes (result), not (res, profile)"


def test_a_changed_internal_that_fails_before_the_module_runs_falls_back(monkeypatch):
    ran = []
    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(
        main=lambda: ran.append(1))))
    monkeypatch.setattr(in_process, "patch_module_args", lambda args, extra: None)  # a new required argument
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={})
    with pytest.raises(in_process._FallBack, match="internals changed"):
        plugin._run_in_process("cluster_info", {})
    assert ran == []


def test_a_module_that_cannot_be_imported_falls_back_to_a_module_process(monkeypatch):
    """A module_util missing from the installed collection: nothing has run, and the module process fails with
    ansible-core's own message naming what it could not find, not with "MODULE FAILURE ... raised an exception"."""
    def broken(name):
        raise ModuleNotFoundError("No module named 'ansible_collections.tos.cloud.plugins.module_utils._inspection'")

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=broken))
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={"cluster": "prod"})
    with pytest.raises(in_process._FallBack, match="cannot be imported in the controller .*_inspection"):
        plugin._run_in_process("inspection", {})


def test_a_changed_result_decoding_after_the_module_ran_decodes_its_json(monkeypatch):
    class OldDecoding(Decoding):
        def _parse_returned_data(self, res, profile):
            raise TypeError("unexpected keyword")

    def main():
        print('{"changed": true, "_ansible_no_log": false}')
        sys.exit(0)

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    plugin = object.__new__(OldDecoding)
    plugin._task = SimpleNamespace(args={})
    assert plugin._run_in_process("cluster_info", {}) == {"changed": True}


def test_sys_exit_text_reaches_stderr_as_in_a_module_process(monkeypatch):
    def main():
        sys.exit("the module gave up: reason")

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    monkeypatch.setattr(in_process, "_as_result_dict", lambda parsed: parsed)

    class Keep(Decoding):
        def _parse_returned_data(self, res, profile):
            return res

    plugin = object.__new__(Keep)
    plugin._task = SimpleNamespace(args={})
    res = plugin._run_in_process("cluster_info", {})
    assert res["rc"] == 1 and res["stderr"] == "the module gave up: reason\n"


def test_a_crash_traceback_holds_no_secret(monkeypatch):
    token = "tok-INPROC-7c6b5a"

    def main():
        raise ValueError("Invalid header value %r" % ("Bearer %s\n" % token))

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={"api_token": token + "\n"})
    result = plugin._run_in_process("cluster_info", {})
    assert result["failed"] and "ValueError" in result["module_stderr"]
    assert token not in json.dumps(result)


def test_a_linked_venv_directory_is_the_same_python(tmp_path):
    venv = tmp_path / "real-venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    (venv / "python3").symlink_to(sys.executable)
    (tmp_path / "link").symlink_to(tmp_path / "real-venv")
    assert in_process._same_python(str(tmp_path / "link" / "bin" / "python"), str(venv / "python3"))
    other = tmp_path / "other-venv" / "bin"
    other.mkdir(parents=True)
    (other / "python").symlink_to(sys.executable)
    assert not in_process._same_python(str(other / "python"), str(venv / "python3"))


def test_the_run_cache_is_the_clients_hook_while_the_module_runs_and_only_then(monkeypatch, tmp_path):
    from ansible_collections.tos.cloud.plugins.module_utils import _api

    monkeypatch.setenv("TOS_RUN_CACHE_DIR", str(tmp_path))
    seen = []

    def main():
        seen.append(_api.RUN_CACHE)
        print('{"changed": false}')

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    monkeypatch.setattr(in_process, "_as_result_dict", lambda parsed: parsed)
    plugin = object.__new__(Decoding)
    plugin._task = SimpleNamespace(args={})
    plugin._templar = Templar()
    plugin._run_in_process("cluster_info", {})  # off, and the run has cached nothing: no hook
    plugin._run_in_process("cluster_info", {"tos_cloud_run_cache": True})
    in_process.run_cache.RunStore()._prepare()  # what the first cached answer does
    plugin._run_in_process("cluster_info", {})
    assert seen[0] is None
    assert seen[1] is not None and seen[1].reading
    assert seen[2] is not None and not seen[2].reading  # off, but the run has a cache: a write would clear it
    assert _api.RUN_CACHE is None


def test_a_module_process_clears_the_run_cache(monkeypatch):
    cleared = []
    monkeypatch.setattr(in_process.run_cache, "invalidate_run", lambda: cleared.append(1))
    monkeypatch.setattr(in_process.NormalAction, "run", lambda self, tmp=None, task_vars=None: {"changed": True})
    assert action(transport="ssh").run(task_vars={}) == {"changed": True}
    assert cleared == [1]


@pytest.mark.parametrize("args, check_mode, unsettled", [
    ({"wait": False}, False, True), ({"wait": "no"}, False, True), ({"wait": True}, False, False), ({}, False, False),
    # drift_report compares with wait: false in check mode: nothing is started, so the run's cache stays in use (it
    # used to stop at the first comparison: 601 requests instead of 303 for 50 clusters, bench scenario 9)
    ({"wait": False}, True, False), ({"wait": "no"}, True, False),
])
def test_a_task_that_may_leave_an_operation_running_unsettles_the_run_cache(monkeypatch, args, check_mode, unsettled):
    marks = []
    monkeypatch.setattr(in_process.run_cache, "invalidate_run", lambda: marks.append("invalidated"))
    monkeypatch.setattr(in_process.run_cache, "unsettle_run", lambda: marks.append("unsettled"))
    monkeypatch.setattr(in_process.NormalAction, "run", lambda self, tmp=None, task_vars=None: {"changed": True})
    plugin = action(transport="ssh")
    plugin._play_context.check_mode = check_mode
    plugin._task.args = args
    plugin.run(task_vars={})  # the module process path

    def main():
        print('{"changed": true}')
        sys.exit(0)

    monkeypatch.setattr(in_process, "importlib", SimpleNamespace(import_module=lambda name: SimpleNamespace(main=main)))
    monkeypatch.setattr(in_process, "_as_result_dict", lambda parsed: parsed)
    inproc = object.__new__(Decoding)
    inproc._task = SimpleNamespace(args=dict(args, cluster="prod"))
    inproc._play_context = SimpleNamespace(check_mode=check_mode)
    inproc._run_in_process("cvm", {})  # the in-process path
    assert marks == (["unsettled", "unsettled"] if unsettled else ["invalidated"])


WARM_SCRIPT = r"""
import json, sys
from ansible.plugins.loader import filter_loader, init_plugin_loader, test_loader
init_plugin_loader([sys.argv[1]])
from ansible_collections.tos.cloud.plugins.plugin_utils import in_process
if sys.argv[2] == "preload":
    in_process.preload("ansible_collections.tos.cloud.plugins.action.upgrade")
loaded = []
for loader in (filter_loader, test_loader):
    real = loader._load_module_source
    def record(*args, _real=real, **kwargs):
        name = kwargs.get("python_module_name") or args[0]
        if name not in sys.modules:
            loaded.append(name)
        return _real(*args, **kwargs)
    loader._load_module_source = record
# what a task's templates look up in its worker: a tos.cloud filter, built-in filters and tests
filter_loader.get("tos.cloud.name_list")
filter_loader.get("to_json")
test_loader.get("truthy")
print(json.dumps(loaded))
"""


@pytest.mark.parametrize("preloaded", [True, False])
def test_preload_leaves_the_workers_no_template_plugin_to_load(tmp_path, preloaded):
    """After preload() in the controller, a worker forked from it (this process's state) loads no filter or test
    file to resolve a tos.cloud filter, a built-in filter or a built-in test; without it, it loads several (every
    tos.cloud filter file among them): the case that shows the test can fail."""
    import subprocess

    collections = Path(in_process.__file__).parents[5]  # the directory holding ansible_collections/ (not resolved)
    proc = subprocess.run([sys.executable, "-c", WARM_SCRIPT, str(collections), "preload" if preloaded else "none"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    if preloaded:
        assert loaded == []
    else:
        assert "ansible_collections.tos.cloud.plugins.filter.name_list" in loaded
        assert any(name.startswith("ansible_collections.tos.cloud.plugins.filter.") and not name.endswith("name_list")
                   for name in loaded), loaded
