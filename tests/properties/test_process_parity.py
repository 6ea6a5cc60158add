# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every API module behaves the same run in the worker (plugins/plugin_utils/in_process.py) and as a module process
(``tos_cloud_in_process: false``, a task ``environment``, a delegated host): a generated parity test.

For each API module and a set of scenarios (a change in check mode with --diff, the change with --diff, the same
again (no-op), an invalid argument, a server error envelope, a connection refused, a secret option set, an
operation already running), one playbook is generated and run twice from the same simulator state: once
in-process, once with ``tos_cloud_in_process=false``. A callback records each task's result and the requests the
simulator received for it; the two runs must agree on changed, failed, msg, diff, warnings, deprecations, the
result keys, the invocation (secrets masked) and the requests (UUIDs of objects made during the run normalized).
The two runs go at once (one simulator each): about 55 s on 2 cores. The progress lines are not compared: only
the in-process path prints them (documented with ``wait_progress``).

Also: a task delegated to a local host is judged by that host's ``ansible_python_interpreter``.
TOS_PARITY_SIM_PORT (and the next two ports) and TOS_PARITY_REFUSED_PORT pin the ports for a shared machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import run_simulator  # noqa: E402  (needs ROOT on sys.path)

CLUSTER = "parity"
SECRET = "parity-S3cret-tok3n"
MAIL_SECRET = "parity-mail-pa55word"
# nothing listens there: a refused connection (the test's own simulator port range when one is given)
REFUSED_URL = "http://127.0.0.1:%s" % os.environ.get("TOS_PARITY_REFUSED_PORT", "9")
REFUSED_MODULES = ("global_config", "mail_setting", "system_info")
SIM_PORT = int(os.environ.get("TOS_PARITY_SIM_PORT", "0"))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# what differs between any two runs: clocks, durations, names made from the time (GST<epoch>, backup_<date>_<time>)
VOLATILE = frozenset(("started", "elapsed", "eta", "time", "start_time", "end_time", "ctime", "update_time",
                      "created", "name_time", "timestamp", "duration", "md5", "size"))
STAMP = re.compile(r"\d{10}|\d{8}_\d{4}")

CALLBACK = textwrap.dedent('''
    import json, os
    import urllib.request
    from ansible.plugins.callback import CallbackBase

    DEFAULT_DURATIONS = {"deploy_cvm": 20.0, "deploy_storage_vm": 20.0, "upgrade": 30.0, "inspection": 15.0}

    class CallbackModule(CallbackBase):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "aggregate"
        CALLBACK_NAME = "parity_recorder"
        CALLBACK_NEEDS_ENABLED = True

        def __init__(self):
            super().__init__()
            self.sim = os.environ["PARITY_SIM"]
            self.out = os.environ["PARITY_OUT"]
            with open(os.environ["PARITY_FAULTS"]) as fh:
                self.faults = json.load(fh)

        def _call(self, method, path, body=None):
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(self.sim + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"{}")

        def v2_playbook_on_task_start(self, task, is_conditional):
            self._call("DELETE", "/_sim/requests")
            for fault in self.faults.get(task.get_name(), []):
                if "durations" in fault:
                    self._call("POST", "/_sim/durations", fault["durations"])
                elif "advance" in fault:
                    self._call("POST", "/_sim/time", fault)
                else:
                    self._call("POST", "/_sim/faults", fault)

        def _record(self, result, status):
            res = getattr(result, "result", None)
            if res is None:
                res = result._result
            logged = self._call("GET", "/_sim/requests")["requests"]
            self._call("DELETE", "/_sim/faults")
            if result.task_name.endswith("/running"):
                self._call("POST", "/_sim/durations", DEFAULT_DURATIONS)
            with open(self.out, "a") as fh:
                fh.write(json.dumps({"task": result.task_name, "status": status, "result": res,
                                     "requests": logged}, default=str) + "\\n")

        def v2_runner_on_ok(self, result, **kwargs):
            self._record(result, "ok")

        def v2_runner_on_failed(self, result, ignore_errors=False):
            self._record(result, "failed")

        def v2_runner_on_unreachable(self, result):
            self._record(result, "unreachable")
''')


def scenarios():
    """(task name, module, args, task keywords, faults) in playbook order."""
    fault = [{"kind": "envelope", "path": "/v1/*", "code": 5001, "message_en": "parity injected failure",
              "message_cn": "注入", "count": 1}]
    per_module = {
        "cluster": dict(change={"name": "parity-new", "ip": "198.51.100.11", "desc": "made by the parity test"},
                        invalid={"name": "parity-new", "ip": "198.51.100.300"},
                        # the existing cluster with another desc and an ip not of its hosts: two warnings
                        warn={"name": CLUSTER, "ip": "203.0.113.11", "desc": "another description"}),
        "cluster_info": dict(change={"cluster": CLUSTER, "gather": ["topology", "global_config", "drs"]},
                             invalid={"cluster": CLUSTER, "top_count": 0}),
        "cvm": dict(change={"cluster": CLUSTER, "host": "tos-a2", "address": "192.0.2.102/24",
                            "gateway": "192.0.2.1"},
                    invalid={"cluster": CLUSTER, "host": "tos-a2", "address": "192.0.2.999/24",
                             "gateway": "192.0.2.1"},
                    running={"cluster": CLUSTER, "host": "tos-a3", "address": "192.0.2.103/24",
                             "gateway": "192.0.2.1", "wait": False, "wait_timeout": 1}),
        "storage_service_vm": dict(change={"cluster": CLUSTER, "manage_address": "192.0.2.121/24",
                                           "manage_gateway": "192.0.2.1", "storage_address": "192.0.2.161/24",
                                           "storage_gateway": "192.0.2.1"},
                                   invalid={"cluster": CLUSTER, "manage_address": "192.0.2.121",
                                            "manage_gateway": "192.0.2.1", "storage_address": "192.0.2.161/24",
                                            "storage_gateway": "192.0.2.1"}),
        "drs_config": dict(change={"cluster": CLUSTER, "drs": {"enabled": True, "threshold_level": 3}},
                           invalid={"cluster": CLUSTER, "drs": {"threshold_level": 9}}),
        "global_config": dict(change={"cluster": CLUSTER, "cpu": 4}, invalid={"cluster": CLUSTER, "cpu": 0}),
        "snapshot_policy": dict(change={"cluster": CLUSTER, "interval": "6h", "daemon": "started"},
                                invalid={"cluster": CLUSTER, "interval": "often"}),
        "metadata_snapshot": dict(change={"cluster": CLUSTER, "state": "absent", "retain": 0},
                                  invalid={"cluster": CLUSTER, "retain": -1}),
        "mail_setting": dict(change={"enabled": True, "sender_mail": "cloud@example.com", "smtp_server": "127.0.0.1",
                                     "smtp_port": 2525, "smtp_account": "relay", "smtp_password": MAIL_SECRET},
                             invalid={"smtp_port": 70000, "smtp_password": MAIL_SECRET}),
        "system_setting": dict(change={"login_policy": {"login_fail_retry_times": 7}},
                               invalid={"login_policy": {"token_expire_seconds": 1}}),
        "system_info": dict(change={"gather_settings": True}, invalid={"gather_settings": "maybe"}),
        "inspection": dict(change={"cluster": CLUSTER, "checks": ["network"]},
                           invalid={"cluster": CLUSTER, "checks": ["everything"]},
                           running={"cluster": CLUSTER, "checks": ["system"], "wait": False}),
        "upgrade": dict(change={"cluster": CLUSTER, "hosts": ["tos-a1"], "service_types": ["storage"]},
                        invalid={"cluster": CLUSTER, "batch_size": 0},
                        running={"cluster": CLUSTER, "hosts": ["tos-a2"], "wait": False}),
        "upgrade_info": dict(change={"cluster": CLUSTER, "hosts": ["tos-a1"]},
                             invalid={"cluster": CLUSTER, "gather_backups": "perhaps"}),
    }
    out = []
    for module, cases in sorted(per_module.items()):
        change = cases["change"]
        out.append(("%s/check" % module, module, change, {"check_mode": True, "diff": True}, []))
        out.append(("%s/change" % module, module, change, {"diff": True}, []))
        out.append(("%s/noop" % module, module, change, {}, []))
        out.append(("%s/invalid" % module, module, cases["invalid"], {}, []))
        out.append(("%s/error" % module, module, change, {}, fault))
        if module in REFUSED_MODULES:  # about 2.5 s each (the client's retries): the transport is shared
            out.append(("%s/refused" % module, module, dict(change, api_url=REFUSED_URL), {}, []))
        if "warn" in cases:
            out.append(("%s/warn" % module, module, cases["warn"], {}, []))
        if "running" in cases:
            running = cases["running"]
            # so slow that the progress read (4 decimals) does not move while the two runs go at their own pace
            slow = [{"durations": {"deploy_cvm": 10 ** 9, "upgrade": 10 ** 9, "inspection": 10 ** 9}}]
            out.append(("%s/start" % module, module, running, {}, slow))
            # the operation started has progressed (a deploy that has just started reads 0: not running yet)
            out.append(("%s/running" % module, module, running, {}, [{"advance": 10 ** 6}]))
    return out


def playbook():
    tasks = []
    for name, module, args, keywords, _faults in scenarios():
        task = {"name": name, "tos.cloud.%s" % module: args, "ignore_errors": True}
        task.update(keywords)
        tasks.append(task)
    return [{"name": "parity", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/tos.cloud.api": {"api_url": "{{ parity_url }}", "api_token": SECRET}},
             "tasks": tasks}]


def normalize(value, uuids, url):
    """UUIDs numbered by first appearance, the simulator's URL as <sim>, volatile keys dropped."""
    if isinstance(value, dict):
        return {k: normalize(v, uuids, url) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalize(v, uuids, url) for v in value]
    if isinstance(value, str):
        value = UUID.sub(lambda m: uuids.setdefault(m.group(0), "<uuid%d>" % len(uuids)), value.replace(url, "<sim>"))
        return STAMP.sub("<stamp>", value)
    return value


def comparable(record, uuids, url):
    res = dict(record["result"])
    for key in ("_ansible_no_log", "_ansible_verbose_always", "_ansible_verbose_override", "_ansible_delegated_vars"):
        res.pop(key, None)
    return normalize({"status": record["status"], "result": res,
                      "requests": [{k: e.get(k) for k in ("method", "path", "query", "body", "status", "code")}
                                   for e in record["requests"]]}, uuids, url)


def _start(url, mode, tmp):
    """One ansible-playbook run of the generated playbook against the simulator at ``url``."""
    record = tmp / ("%s.jsonl" % mode)
    env = dict(os.environ, PARITY_SIM=url, PARITY_OUT=str(record), PARITY_FAULTS=str(tmp / "faults.json"),
               ANSIBLE_CALLBACK_PLUGINS=str(tmp / "callbacks"), ANSIBLE_CALLBACKS_ENABLED="parity_recorder",
               TOS_RUN_CACHE_DIR=str(tmp / ("cache-%s" % mode)), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               PYTHONHASHSEED="0")  # the same order of a set in ansible-core's messages in both runs
    env.pop("TOS_API_URL", None)
    env.pop("TOS_API_TOKEN", None)
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable,
           "-e", "parity_url=%s" % url, str(tmp / "play.yml")]
    if mode == "process":
        cmd += ["-e", "tos_cloud_in_process=false"]
    log = open(tmp / ("%s.log" % mode), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), record, log


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both runs at once (one simulator each, from the same state): the module processes set the pace."""
    tmp = tmp_path_factory.mktemp("parity")
    (tmp / "callbacks").mkdir()
    (tmp / "callbacks" / "parity_recorder.py").write_text(CALLBACK)
    (tmp / "play.yml").write_text(yaml.safe_dump(playbook(), sort_keys=False))
    (tmp / "faults.json").write_text(json.dumps({name: f for name, _m, _a, _k, f in scenarios() if f}))
    ports = (SIM_PORT, SIM_PORT + 1) if SIM_PORT else (0, 0)
    with run_simulator(speed=100, port=ports[0]) as first, run_simulator(speed=100, port=ports[1]) as second:
        add = requests.post(first + "/v1/cluster/add", json={"ip": "192.0.2.11", "name": CLUSTER}, timeout=10).json()
        assert add.get("data"), add
        # a center node for the snapshot modules: a CVM on tos-a1
        cvm = subprocess.run(["ansible", "localhost", "-m", "tos.cloud.cvm", "-a", json.dumps(
            {"api_url": first, "cluster": CLUSTER, "host": "tos-a1", "address": "192.0.2.101/24",
             "gateway": "192.0.2.1"})], capture_output=True, text=True, timeout=60, check=False)
        assert cvm.returncode == 0, cvm.stdout + cvm.stderr
        state = requests.get(first + "/_sim/state", timeout=10).json()
        assert requests.put(second + "/_sim/state", json=state, timeout=10).json()["ok"]
        running = {mode: _start(url, mode, tmp) for mode, url in (("in_process", first), ("process", second))}
        out = {"urls": {"in_process": first, "process": second}}
        for mode, (proc, record, log) in running.items():
            try:
                proc.wait(timeout=240)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                log.close()
            out[mode] = {r["task"]: r for r in map(json.loads, record.read_text().splitlines())}
            out[mode + ".log"] = (tmp / ("%s.log" % mode)).read_text()
        return out


@pytest.mark.parametrize("name", [s[0] for s in scenarios()])
def test_same_result_in_process_and_as_a_module_process(runs, name):
    inproc, process = runs["in_process"].get(name), runs["process"].get(name)
    assert inproc is not None and process is not None, "task %s not recorded" % name
    a = comparable(inproc, {}, runs["urls"]["in_process"])
    b = comparable(process, {}, runs["urls"]["process"])
    assert a == b


def test_no_secret_in_either_output(runs):
    for mode in ("in_process", "process"):  # the results (the log also quotes the playbook's source)
        text = json.dumps(runs[mode])
        assert SECRET not in text and MAIL_SECRET not in text, mode


DELEGATION = """
- hosts: platform
  gather_facts: false
  tasks:
    - name: delegated to localhost from a platform host with its own Python
      tos.cloud.system_info:
        api_url: "{{ parity_url }}"
      delegate_to: localhost
      register: on_localhost
    - name: delegated to a local host with another Python (no requests there)
      tos.cloud.system_info:
        api_url: "{{ parity_url }}"
      delegate_to: jump
      register: on_jump
      ignore_errors: true
    - name: what both returned
      ansible.builtin.copy:
        content: "{{ {'localhost': on_localhost, 'jump': on_jump} | to_json }}"
        dest: "{{ parity_out }}"
        mode: "0600"
      delegate_to: localhost
"""


@pytest.fixture(scope="module")
def sim_url():
    with run_simulator(speed=100, port=SIM_PORT + 2 if SIM_PORT else 0) as url:
        yield url


@pytest.mark.parametrize("other", ["python3.12", "python3.13"])
def test_a_delegated_task_runs_with_the_delegated_hosts_python(sim_url, tmp_path, other):
    """The delegated host's ansible_python_interpreter decides, as for a module process (ansible-core's
    _configure_module): localhost's (the controller's Python) runs in-process although the play host sets its own;
    a local host with another Python runs the module there (build/pybin: without requests)."""
    python = ROOT / "build" / "pybin" / other
    if not python.exists():
        pytest.skip("no %s in build/pybin" % other)
    (tmp_path / "inventory.ini").write_text(
        "[platform]\nnode1 ansible_host=192.0.2.50 ansible_connection=ssh ansible_python_interpreter=/usr/bin/python3\n"
        "[helpers]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n"
        "jump ansible_connection=local ansible_python_interpreter=%s\n" % (sys.executable, python))
    (tmp_path / "play.yml").write_text(DELEGATION)
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", TOS_RUN_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("TOS_API_URL", None)
    env.pop("TOS_API_TOKEN", None)
    proc = subprocess.run(["ansible-playbook", "-vvv", "-i", str(tmp_path / "inventory.ini"),
                           str(tmp_path / "play.yml"),
                           "-e", "parity_url=%s" % sim_url, "-e", "parity_out=%s" % (tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "out").read_text())
    assert results["localhost"].get("failed") is not True and "version" in results["localhost"], results
    assert "<localhost> tos.cloud.system_info: running the module in the worker process" in proc.stdout
    assert results["jump"].get("failed") is True, results["jump"]
    assert "requests" in results["jump"]["msg"] and str(python) in results["jump"]["msg"], results["jump"]["msg"]
