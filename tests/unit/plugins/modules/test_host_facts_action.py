# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.host_facts' action (plugins/action/host_facts.py): the collector it pipes to the host's Python,
on every managed-host Python ansible-core 2.19 supports, without psutil, and when the action runs the module
instead (the real runs of both paths are compared by tests/integration/targets/host_facts)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.action import ActionBase
from ansible.template import Templar

from ansible_collections.tos.cloud.plugins.action import host_facts as action_mod
from ansible_collections.tos.cloud.plugins.module_utils import _facts

PARAMS = {"gather": list(_facts.SECTIONS), "sample_seconds": 0.0}
# the managed-host Pythons of ansible-core 2.19 (module_utils' python_requires)
TARGET_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"

# A psutil stand-in for Pythons that have none: every call the collector makes, fixed values.
FAKE_PSUTIL = '''
import collections, socket
T = collections.namedtuple
AF_LINK = 17
def boot_time(): return 1545717186.0
def pids(): return [1, 2, 3]
def cpu_count(): return 4
def cpu_times(): return T("t", "user nice system idle iowait")(10.0, 0.0, 5.0, 85.0, 0.0)
def virtual_memory(): return T("m", "total available used free percent")(1000, 600, 400, 500, 40.0)
def swap_memory(): return T("s", "total used percent")(0, 0, 0.0)
def disk_partitions(all=False): return [T("p", "device mountpoint fstype")("/dev/vda", "/", "ext4")]
def disk_usage(path): return T("u", "total used free percent")(100, 30, 70, 30.0)
def net_if_addrs():
    a = T("a", "family address netmask")
    return {"eth0": [a(AF_LINK, "52:54:00:00:00:01", None), a(socket.AF_INET, "192.0.2.11", "255.255.255.0")]}
def net_if_stats(): return {"eth0": T("n", "isup mtu speed")(True, 1500, 10000)}
def disk_io_counters(perdisk=False): return T("d", "read_count write_count read_bytes write_bytes")(1, 2, 3, 4)
def net_io_counters(pernic=True):
    return {"eth0": T("c", "bytes_sent bytes_recv packets_sent packets_recv")(1, 2, 3, 4)}
'''


def run_script(python, script, env=None):
    proc = subprocess.run([python], input=script, capture_output=True, text=True, check=False, env=env, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_collector_is_python_3_8_syntax():
    source = action_mod.collector_script(PARAMS)
    ast.parse(source, feature_version=(3, 8))
    with pytest.raises(SyntaxError):  # the check can fail: 3.10 syntax is refused
        ast.parse(source + "\nmatch x:\n    case 1:\n        pass\n", feature_version=(3, 8))


def test_the_collector_imports_nothing_of_ansible():
    tree = ast.parse(action_mod.collector_source())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "os", "socket", "sys", "time", "typing", "json", "psutil"}, imported


def test_the_collector_prints_the_modules_facts_with_real_psutil():
    pytest.importorskip("psutil")
    rc, out, err = run_script(sys.executable, action_mod.collector_script({"gather": ["host", "cpu"],
                                                                          "sample_seconds": 0}))
    assert rc == 0, err
    result = json.loads(out)
    assert result["changed"] is False
    facts = result["ansible_facts"]["tos_host"]
    assert set(facts) == {"hostname", "uptime", "boot_time", "procs", "os", "platform", "platform_family",
                          "platform_version", "kernel_version", "virtualization_system", "virtualization_role",
                          "host_id", "cpu", "load"}
    assert facts["kernel_version"] == os.uname().release


def test_without_psutil_one_line_says_what_to_install():
    # import psutil raises ImportError; the script runs as the host's Python runs it from stdin
    blocked = ("import sys; sys.modules['psutil'] = None; "
               "exec(compile(sys.stdin.read(), '<stdin>', 'exec'), {'__name__': '__main__'})")
    proc = subprocess.run([sys.executable, "-c", blocked], input=action_mod.collector_script(PARAMS),
                          capture_output=True, text=True, check=False, timeout=60)
    rc, out, err = proc.returncode, proc.stdout, proc.stderr
    assert rc == 0 and err == ""
    result = json.loads(out)
    assert result["failed"] is True
    assert result["msg"] == ("host_facts needs the Python package psutil on the managed host (for %s): "
                             "install python3-psutil or pip install psutil" % sys.executable)
    assert "\n" not in result["msg"]


@pytest.mark.parametrize("version", TARGET_PYTHONS)
def test_the_collector_runs_on_each_target_python(version, tmp_path):
    found = sorted(PYENV.glob("%s.*/bin/python%s" % (version, version)))
    if not found:
        pytest.skip("no Python %s under %s" % (version, PYENV))
    python = str(found[-1])
    # that Python's own psutil if it has one, else the stand-in: the whole collector runs either way
    (tmp_path / "psutil.py").write_text(FAKE_PSUTIL)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    has_psutil = subprocess.run([python, "-I", "-c", "import psutil"], capture_output=True, check=False).returncode == 0
    script = action_mod.collector_script({"gather": list(_facts.SECTIONS), "sample_seconds": 0.01})
    rc, out, err = run_script(python, script, env)
    assert rc == 0, err
    facts = json.loads(out)["ansible_facts"]["tos_host"]
    assert set(facts) == {"hostname", "uptime", "boot_time", "procs", "os", "platform", "platform_family",
                          "platform_version", "kernel_version", "virtualization_system", "virtualization_role",
                          "host_id", "cpu", "load", "memory", "disks", "nics", "rates"}
    if not has_psutil:
        assert facts["boot_time"] == 1545717186 and facts["nics"][0]["mac"] == "52:54:00:00:00:01"
        assert facts["disks"] == [{"mount": "/", "device": "/dev/vda", "fstype": "ext4", "size": 100, "used": 30,
                                   "free": 70, "usage": 30.0}]
        # and without any psutil, the one line
        rc, out, err = run_script(python, action_mod.collector_script(PARAMS))
        assert rc == 0, err
        assert json.loads(out)["msg"].startswith("host_facts needs the Python package psutil on the managed host")


# -- the action, with the connection replaced by a local shell ---------------------------------------------


class Shell:
    tmpdir = None
    _IS_WINDOWS = False

    def build_module_command(self, env_string, shebang, cmd, arg_path=None):
        return ("%s %s" % (env_string, shebang[2:])).strip()


class Action(action_mod.ActionModule):
    """The action with _low_level_execute_command running the command here, and the module path recorded."""

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None, executable=None):
        self.commands.append((cmd, sudoable))
        proc = subprocess.run(["/bin/sh", "-c", cmd], input=in_data, capture_output=True, check=False, timeout=60)
        return {"rc": proc.returncode, "stdout": proc.stdout.decode(), "stderr": proc.stderr.decode()}

    def _compute_environment_string(self, raw_environment_out=None):
        return " ".join("%s=%s" % kv for env in self._task.environment or () for kv in env.items())


def action(args=None, async_val=0, has_pipelining=True, become=None, environment=(), windows=False):
    plugin = object.__new__(Action)
    plugin.commands = []
    shell = Shell()
    shell._IS_WINDOWS = windows
    plugin._connection = SimpleNamespace(transport="ssh", has_pipelining=has_pipelining, become=become, _shell=shell,
                                         module_implementation_preferences=(".py", ""), _remote_is_local=False)
    plugin._task = SimpleNamespace(action="tos.cloud.host_facts", args=dict(args or {}), async_val=async_val,
                                   check_mode=False, delegate_to=None, delegate_facts=None,
                                   environment=list(environment))
    plugin._load_name = "tos.cloud.host_facts"
    plugin._templar = Templar(loader=DataLoader())
    plugin._play_context = SimpleNamespace(remote_addr="h1")
    plugin._discovered_interpreter_key = None
    plugin._discovered_interpreter = False
    plugin._used_interpreter = None
    return plugin


@pytest.fixture
def no_module(monkeypatch):
    """The module path fails the test: the action must not fall back."""
    def module_path(self, tmp=None, task_vars=None):
        raise AssertionError("the module ran")
    monkeypatch.setattr(action_mod.NormalAction, "run", module_path)


def test_the_action_pipes_the_collector_with_the_tasks_python_and_environment(no_module, tmp_path):
    pytest.importorskip("psutil")
    marker = tmp_path / "env-seen"
    plugin = action({"gather": ["host"], "sample_seconds": "0"}, environment=[{"TOS_MARK": str(marker)}])
    # the environment reaches the host's Python: sitecustomize-free proof, the interpreter is a wrapper script
    wrapper = tmp_path / "python"
    wrapper.write_text('#!/bin/sh\ntouch "$TOS_MARK"\nexec %s "$@"\n' % sys.executable)
    wrapper.chmod(0o755)
    result = plugin.run(task_vars={"ansible_python_interpreter": str(wrapper)})
    assert not result.get("failed"), result
    assert set(result["ansible_facts"]["tos_host"]) >= {"hostname", "host_id", "kernel_version"}
    assert "cpu" not in result["ansible_facts"]["tos_host"]
    assert result["invocation"] == {"module_args": {"gather": ["host"], "sample_seconds": 0.0}}
    assert plugin.commands == [("TOS_MARK=%s %s" % (marker, wrapper), True)]  # one command, become-able
    assert marker.exists()


@pytest.mark.parametrize("gather", ["host, cpu", "host\ncpu", '["host", "cpu"]'])
def test_the_action_reads_gather_given_as_one_text_as_the_module_does(no_module, gather):
    """An AWX survey's answer (text, or one line per choice): the action's own validation refused " cpu"."""
    pytest.importorskip("psutil")
    result = action({"gather": gather, "sample_seconds": 0}).run(task_vars={"ansible_python_interpreter": sys.executable})
    assert not result.get("failed"), result
    assert result["invocation"]["module_args"]["gather"] == ["host", "cpu"]
    assert {"hostname", "cpu"} <= set(result["ansible_facts"]["tos_host"])


def test_a_missing_interpreter_fails_naming_it(no_module):
    result = action({"sample_seconds": 0}).run(task_vars={"ansible_python_interpreter": "/nonexistent/python3"})
    assert result["failed"] and "/nonexistent/python3" in result["msg"]


@pytest.mark.parametrize("args, words", [
    ({"sample_seconds": -1}, ["sample_seconds", "[0, 60]"]),
    ({"gather": ["bogus"]}, ["gather", "bogus"]),
    ({"gather": []}, ["gather", "at least one"]),
])
def test_bad_input_fails_before_the_host_is_touched(no_module, args, words):
    plugin = action(args)
    try:
        result = plugin.run(task_vars={"ansible_python_interpreter": sys.executable})
        msg = result["msg"] if result.get("failed") else ""
    except Exception as exc:  # noqa: BLE001 - validate_argument_spec raises AnsibleActionFail
        msg = str(exc)
    assert all(word in msg for word in words), msg
    assert plugin.commands == []


def test_the_module_and_the_action_share_one_argument_spec():
    from ansible_collections.tos.cloud.plugins.modules import host_facts as module

    assert module.ARGUMENT_SPEC is _facts.ARGUMENT_SPEC
    assert module.MISSING_PSUTIL is _facts.MISSING_PSUTIL


@pytest.mark.parametrize("kwargs, task_vars, reason", [
    ({"async_val": 30}, {}, "the task is async"),
    ({"has_pipelining": False}, {}, "the connection (ssh) cannot pipe a script to a command"),
    ({"windows": True}, {}, "the host's shell is Windows"),
    ({"become": SimpleNamespace(name="su", pipelining=False)}, {}, "the become method (su) cannot pipe a script"),
    ({}, {"tos_cloud_in_process": False}, "tos_cloud_in_process is false"),
    ({}, {"tos_cloud_in_process": "maybe"}, "tos_cloud_in_process is not a boolean ('maybe')"),
])
def test_the_module_runs_where_the_action_cannot(monkeypatch, kwargs, task_vars, reason):
    ran = []
    monkeypatch.setattr(action_mod.NormalAction, "run", lambda self, tmp=None, task_vars=None: ran.append(1) or {"ok": 1})
    plugin = action({"sample_seconds": 0}, **kwargs)
    assert plugin._why_module(task_vars) == reason
    assert plugin.run(task_vars=task_vars) == {"ok": 1} and ran == [1] and plugin.commands == []


def test_sudo_pipes_and_runs_the_action():
    assert action(become=SimpleNamespace(name="sudo", pipelining=True))._why_module({}) is None


def test_a_changed_internal_signature_runs_the_module(monkeypatch):
    monkeypatch.setattr(ActionBase, "_parse_returned_data", lambda self, data: data)
    assert action()._why_module({}) == "ansible-core's _parse_returned_data takes (data), not (res, profile)"
