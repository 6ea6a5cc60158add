# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared machinery of the reliability suite: simulator processes, real ansible-playbook runs and
the batch-playbook builder.

Every row of the suite is one real module execution in a real ``ansible-playbook`` (or
ansible-runner) process against a real simulator process on 127.0.0.1.  To keep the suite fast,
many rows share one playbook run: each case is a few tasks (a fast controller-side ``rel_sim``
step that prepares the simulator, the module task with ``ignore_errors``, and a ``rel_sim`` step
that reads the server's state and request log back), all recorded by the ``reliability_recorder``
callback; pytest rows are then parametrized over the recorded results.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import urllib3
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402  (needs ROOT on sys.path)

# the control API of an HTTPS simulator is read without verification (the suite set up its CA)
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
ANSIBLE_PLAYBOOK = VENV_BIN / "ansible-playbook"
COLLECTIONS = ROOT / "build" / "collections"
PLUGINS = HERE / "plugins"
DEFAULT_FIXTURE = ROOT / "simulator" / "fixtures" / "default.yml"
WORK_ROOT = Path(os.environ.get("RELIABILITY_WORKDIR", "/tmp/eng9"))
SPEED = float(os.environ.get("RELIABILITY_SIM_SPEED", "40"))

# POST endpoints that only read (everything else that is not a GET changes the server).
READ_ONLY_POSTS = frozenset(("/v1/cluster/all_cluster/topology",))

# Hosts of the default fixture, by rack: the seed of each rack makes one cluster.
SEEDS = {"a": "192.0.2.11", "b": "198.51.100.11", "c": "203.0.113.11"}


def worker_id():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def workdir(name):
    """A fresh directory under the suite's temp root, private to this xdist worker."""
    path = WORK_ROOT / worker_id() / name
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_mutation(entry):
    return entry.get("method") != "GET" and entry.get("path") not in READ_ONLY_POSTS


# ---- the simulator ---------------------------------------------------------------------------


class Sim:
    """A simulator process on a free port of 127.0.0.1 plus its control API."""

    def __init__(self, name, speed=SPEED, **options):
        self.dir = workdir("sim-" + name)
        options.setdefault("speed", speed)
        if options.get("state_file") is True:
            options["state_file"] = str(self.dir / "state.json")
        options.setdefault("quiet", True)
        # the suite exercises the simulator's failure reports (host task status, 2005): extended mode
        options.setdefault("extensions", "all")
        # simulator.testing drops a port of 0 (0 == False): pass it as a string
        options["port"] = str(options.get("port", 0))
        self.options = options
        self.proc = SimulatorProcess(**options)
        shutil.rmtree(self.proc.workdir, ignore_errors=True)
        self.proc.workdir = self.dir
        self.proc.log_path = self.dir / "simulator.log"
        self.url = ""
        self.session = requests.Session()
        self.session.verify = False
        self.ctl_headers = {}

    # lifecycle
    def start(self):
        self.url = self.proc.start()
        return self

    def stop(self):
        self.proc.stop()

    def kill(self):
        """SIGKILL: no chance to save or clean up."""
        self.proc.kill(signal.SIGKILL)

    def restart(self, same_port=True):
        """Start again with the same options and --state-file, on the same port by default (the
        clients of the killed process find the manager back where it was)."""
        if same_port and self.url:
            self.proc.options["port"] = self.url.rsplit(":", 1)[1]
        self.proc.workdir = self.dir
        return self.start()

    def alive(self):
        return self.proc.process is not None and self.proc.process.poll() is None

    def log(self):
        return self.proc.log()

    # the control API
    def ctl(self, method, path, body=None, params=None):
        resp = self.session.request(method, self.url + path, json=body, params=params, timeout=30, verify=False)
        if resp.status_code >= 400:
            raise AssertionError("simulator control %s %s failed: %s %s" % (method, path, resp.status_code, resp.text))
        return resp.json()

    def reset(self, fixture=None):
        return self.ctl("POST", "/_sim/reset", {"fixture": str(fixture or DEFAULT_FIXTURE)})

    def fault(self, **spec):
        return self.ctl("POST", "/_sim/faults", spec)["id"]

    def clear_faults(self):
        return self.ctl("DELETE", "/_sim/faults")

    def manager(self, **body):
        return self.ctl("POST", "/_sim/manager", body)

    def advance(self, seconds):
        return self.ctl("POST", "/_sim/time", {"advance": seconds})

    def state(self):
        return self.ctl("GET", "/_sim/state")

    def summary(self):
        return summarize(self.state())

    def requests(self):
        return self.ctl("GET", "/_sim/requests")["requests"]

    def mutations(self):
        return [e for e in self.requests() if is_mutation(e)]

    def clear_log(self):
        return self.ctl("DELETE", "/_sim/requests")

    def api(self, method, path, body=None, params=None, token=None):
        """A raw /v1 call (for setting the stage), returning ``data``; fails on an error envelope."""
        headers = {"Authorization": "Bearer %s" % token} if token else {}
        resp = self.session.request(method, self.url + path, json=body, params=params, headers=headers, timeout=30,
                                    verify=False)
        payload = resp.json()
        code = payload.get("scode", payload.get("status_code"))
        if code not in (0, "0"):
            raise AssertionError("%s %s failed: %s" % (method, path, payload))
        return payload.get("data")


def summarize(state):
    """The parts of GET /_sim/state the suite asserts on, compact and without secrets."""
    hosts = state.get("hosts", {})
    clusters = {}
    by_uuid = {}
    for uuid, cluster in state.get("clusters", {}).items():
        item = {
            "uuid": uuid,
            "hosts": len(cluster.get("hosts") or []),
            "snapshots": list(cluster.get("snapshots") or []),
            "snapshot_config": cluster.get("snapshot_config"),
            "daemon_state": cluster.get("daemon_state"),
            "drs": cluster.get("drs"),
            "dpm": cluster.get("dpm"),
            "global_config": cluster.get("global_config"),
            "cvms": [],
            "storage_vms": [],
        }
        clusters[cluster["name"]] = item
        by_uuid[uuid] = item
    cvms = []
    for cvm in state.get("cvms", {}).values():
        host = hosts.get(cvm.get("machine_uuid"), {})
        entry = {"address": cvm.get("address"), "status": cvm.get("status"), "host": host.get("name")}
        cvms.append(entry)
        if cvm.get("cluster_uuid") in by_uuid:
            by_uuid[cvm["cluster_uuid"]]["cvms"].append(entry)
    svms = []
    for vm in state.get("storage_vms", {}).values():
        entry = {"manage_cidr": vm.get("manage_cidr"), "status": vm.get("status")}
        svms.append(entry)
        if vm.get("cluster_uuid") in by_uuid:
            by_uuid[vm["cluster_uuid"]]["storage_vms"].append(entry)
    mail = dict(state.get("mail") or {})
    if mail.get("smtp_password"):
        mail["smtp_password"] = "<set>"
    return {
        "cluster_names": sorted(clusters),
        "clusters": clusters,
        "cvms": cvms,
        "storage_vms": svms,
        "manager": state.get("manager"),
        "mail": mail,
        "settings": state.get("settings"),
        "host_versions": {h["name"]: h.get("type_version") for h in hosts.values()},
    }


def write_fixture(path, clusters=None, **top):
    """The default fixture plus initial clusters (simulator fixture format) and top-level overrides."""
    data = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    if clusters:
        data["clusters"] = clusters
    data.update(top)
    Path(path).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return Path(path)


# ---- ansible-playbook runs -------------------------------------------------------------------


class Run:
    """The outcome of one ansible-playbook process."""

    def __init__(self, argv, rc, stdout, stderr, records, elapsed, dir):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.records = records
        self.elapsed = elapsed
        self.dir = dir

    def named(self, name):
        """Every record of the task called ``name`` (one per host)."""
        return [r for r in self.records if r["task"] == name]

    def record(self, name, host=None):
        found = [r for r in self.named(name) if host is None or r["host"] == host]
        if not found:
            raise AssertionError("task %r did not run (rc=%s); stdout tail:\n%s\nstderr tail:\n%s" % (
                name, self.rc, self.stdout[-3000:], self.stderr[-3000:]))
        return found[-1]

    def result(self, name, host=None):
        return self.record(name, host)["result"]

    def failed(self, name, host=None):
        return self.record(name, host)["status"] == "failed"

    def output(self):
        return self.stdout + "\n" + self.stderr


def ansible_env(dir, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TOS_"))}
    env.update({
        "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "/usr/bin:/bin")),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_ACTION_PLUGINS": str(PLUGINS / "action"),
        "ANSIBLE_CALLBACK_PLUGINS": str(PLUGINS / "callback"),
        "ANSIBLE_CALLBACKS_ENABLED": "reliability_recorder",
        "RELIABILITY_RECORD": str(Path(dir) / "record.jsonl"),
        "ANSIBLE_LOCAL_TEMP": str(Path(dir) / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(Path(dir) / "rtmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": str(PYTHON),
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PYTHONPATH": "%s:%s" % (COLLECTIONS, ROOT),
    })
    env.update(extra or {})
    return env


def write_inventory(dir, hosts=("localhost",), groups=None, hostvars=None):
    """An INI inventory of local-connection hosts."""
    lines = []
    for host in hosts:
        extra = " ".join("%s=%s" % kv for kv in (hostvars or {}).get(host, {}).items())
        lines.append("%s ansible_connection=local ansible_python_interpreter=%s %s" % (host, PYTHON, extra))
    for group, members in (groups or {}).items():
        lines.append("[%s]" % group)
        lines.extend(members)
    path = Path(dir) / "inventory.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


class Unsafe(str):
    """A string written to the playbook as ``!unsafe``: ansible passes it to the module untemplated."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def dump_yaml(data):
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def run_playbook(plays, dir, args=(), env=None, inventory=None, timeout=900, forks=None):
    """Write ``plays`` (a list of play dicts) to DIR/playbook.yml and run ansible-playbook on it."""
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    playbook = dir / "playbook.yml"
    playbook.write_text(dump_yaml(plays))
    record = dir / "record.jsonl"
    if record.exists():
        record.unlink()
    inventory = inventory or write_inventory(dir)
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook)]
    if forks:
        argv += ["--forks", str(forks)]
    argv += list(args)
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=dir, env=ansible_env(dir, env), capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    (dir / "stdout.txt").write_text(proc.stdout)
    (dir / "stderr.txt").write_text(proc.stderr)
    records = []
    if record.exists():
        for line in record.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                # ansible-core 2.19 keeps the outcome out of the result dict: put it back
                if isinstance(rec.get("result"), dict):
                    rec["result"].setdefault("failed", rec["status"] == "failed")
                records.append(rec)
    return Run(argv, proc.returncode, proc.stdout, proc.stderr, records, elapsed, dir)


def play(tasks, hosts="localhost", name="reliability", **extra):
    body = {"name": name, "hosts": hosts, "gather_facts": False}
    body.update(extra)
    body["tasks"] = tasks
    return body


def module_defaults(url, **options):
    opts = {"api_url": url}
    opts.update(options)
    return {"group/tos.cloud.api": opts}


# ---- batch cases ---------------------------------------------------------------------------


def sim_step(name, url, **args):
    """A controller-side rel_sim task (reset, stage, faults, manager, clock, read back)."""
    body = {"url": url}
    body.update(args)
    return {"name": name, "rel_sim": body}


def module_task(name, module, params, **extra):
    task = {"name": name, module if "." in module else "tos.cloud." + module: params, "ignore_errors": True}
    task.update(extra)
    return task


def short_msg(result):
    return str(result.get("msg", ""))[:400]


# ansible-core 2.19 adds this placeholder to every failed result that carries no traceback
NO_TRACEBACK = (None, "(traceback unavailable)")


def assert_no_traceback(result):
    """The module sent no traceback (ansible-core >= 2.19 fills ``exception`` with a placeholder)."""
    assert result.get("exception") in NO_TRACEBACK, "traceback in the result: %s" % str(result.get("exception"))[:1500]
    assert "Traceback (most recent call last)" not in json.dumps(result), "traceback in the result"


def failure_text(result):
    """The failure message, with the messages of the failed loop items of a looped task."""
    parts = [str(result.get("msg", ""))]
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("msg"):
            parts.append(str(item["msg"]))
    return " | ".join(p for p in parts if p)


def assert_clean_failure(result, path=None, words=()):
    """A failure that says what failed (the /v1 path) in a message, without a traceback."""
    assert result.get("failed"), "expected a failure, got %s" % json.dumps(result)[:1500]
    msg = failure_text(result)
    assert msg, "failure without a message: %s" % json.dumps(result)[:1500]
    assert_no_traceback(result)
    assert "Traceback" not in msg, msg
    if path:
        assert path in msg, "message does not name %s: %s" % (path, msg)
    for word in words:
        assert word.lower() in msg.lower(), "message does not mention %r: %s" % (word, msg)


POST_KEYS = ("sleep", "clear_faults", "post_manager", "read")


class Batch:
    """Many cases in one playbook.  Each case is its tasks between two rel_sim steps: the one
    before prepares it (``pre``: reset, stage, faults...), the one after reads state and the
    request log back (``post``: clear_faults, read...).  The step between two cases does both, so
    it is named ``end <previous> | begin <next>``."""

    def __init__(self, url):
        self.url = url
        self.cases = []

    @property
    def ids(self):
        return [c[0] for c in self.cases]

    def case(self, cid, tasks, pre=None, post=None):
        pre = dict(pre or {})
        pre.setdefault("clear_log", True)
        post = dict(post or {})
        post.setdefault("clear_faults", True)
        post.setdefault("read", True)
        unknown = [k for k in post if k not in POST_KEYS]
        assert not unknown, "not post keys: %s" % unknown
        self.cases.append((cid, tasks, pre, post))

    def tasks(self):
        out = []
        previous = None
        for cid, tasks, pre, post in self.cases:
            if previous is None:
                out.append(sim_step("begin " + cid, self.url, **pre))
            else:
                step = dict(previous[1])
                step.update(pre)
                out.append(sim_step("end %s | begin %s" % (previous[0], cid), self.url, **step))
            out.extend(tasks)
            previous = (cid, post)
        if previous is not None:
            out.append(sim_step("end " + previous[0], self.url, **previous[1]))
        return out

    def run(self, dir, module_defaults_=None, **kwargs):
        defaults = module_defaults(self.url) if module_defaults_ is None else module_defaults_
        run = run_playbook([play(self.tasks(), module_defaults=defaults)], dir, **kwargs)
        return BatchRun(run)


class BatchRun:
    def __init__(self, run):
        self.run = run

    def _edges(self):
        """Index of the record that begins and of the one that ends each case."""
        begins, ends = {}, {}
        for i, rec in enumerate(self.run.records):
            if rec["action"] != "rel_sim":
                continue
            for part in rec["task"].split(" | "):
                if part.startswith("begin "):
                    begins[part[6:]] = i
                elif part.startswith("end "):
                    ends[part[4:]] = i
        return begins, ends

    def slice(self, cid):
        begins, ends = self._edges()
        if cid not in begins or cid not in ends:
            raise AssertionError("case %r did not run to its end (rc=%s); stdout tail:\n%s\nstderr tail:\n%s" % (
                cid, self.run.rc, self.run.stdout[-3000:], self.run.stderr[-2000:]))
        return self.run.records[begins[cid]:ends[cid] + 1]

    def result(self, cid, task=None):
        """The result of the task named ``task`` (default: the case id) within the case."""
        task = task or cid
        found = [r for r in self.slice(cid)[1:] if r["task"] == task]
        if not found:
            raise AssertionError("task %r of case %r did not run" % (task, cid))
        return found[-1]["result"]

    def end(self, cid):
        return self.slice(cid)[-1]["result"]

    def failures(self, cid):
        return [r for r in self.slice(cid)[1:-1] if r["status"] == "failed"]


def dead_url():
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return "http://127.0.0.1:%d" % port
