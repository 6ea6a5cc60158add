"""Scenario 5: tos.cloud.host_facts against ansible.builtin.setup (gather_subset min), in CPU seconds.

host_facts runs as an action that pipes a self-contained collector (module_utils/_facts.py: standard library and
psutil) to the host's Python in one command, without AnsiballZ (plugins/action/host_facts.py). Three cases:

- alone: one process each, run directly - the collector vs the AnsiballZ wrappers of setup(min), ping and
  host_facts as a module, with ``python -c pass`` as the floor;
- localhost (local connection) and 20 hosts over SSH (an sshd this scenario starts on 127.0.0.1, 20 inventory
  aliases of it, one ControlMaster each, as ansible's defaults make): one ansible-playbook run per variant, the
  CPU of everything it started (the controller, its workers, ssh and its ControlMasters, and for SSH the sshd
  side: the session processes and the modules), less the same run of an empty task, per host and task.

Wall time on this shared machine says little; CPU ratios are the measure, with the floors beside them: ``raw:
python -c pass`` over the same connection (a Python started on the host, nothing more) and ``ping`` (the
smallest AnsiballZ module)."""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..common import BenchError, Phase, ansible_env, bin_path, summary, timed
from .anatomy import timed_runs

PY = "{{ ansible_python_interpreter }}"
# name: (task, task vars)
VARIANTS = {
    "empty": ("ansible.builtin.debug: {msg: empty}", None),
    "python": ('ansible.builtin.raw: "%s -c pass"' % PY, None),
    "ping": ("ansible.builtin.ping:", None),
    "setup_min": ("ansible.builtin.setup: {gather_subset: [min]}", None),
    "host_facts": ("tos.cloud.host_facts:", None),
    "host_facts_module": ("tos.cloud.host_facts:", "{tos_cloud_in_process: false}"),
}
ALIASES = 20
SSHD = "/usr/sbin/sshd"

# Runs ansible-playbook as a child subreaper: the ssh ControlMasters (which detach) stay its descendants, are told to
# exit at the end and are waited for, so their CPU is counted in the run's (RUSAGE_CHILDREN).
REAPER = r"""
import ctypes, glob, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
rc = subprocess.call(sys.argv[2:])
for sock in glob.glob(os.path.join(sys.argv[1], "*")):
    subprocess.call(["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "bench"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
sys.exit(rc)
"""


def playbook(path: Path, variant: str, rounds: int) -> Path:
    task, task_vars = VARIANTS[variant]
    lines = ["---", "- name: Facts, %s x %d" % (variant, rounds), "  hosts: bench_facts", "  gather_facts: false",
             "  tasks:"]
    for r in range(rounds):
        lines += ["    - name: bench %s round %d" % (variant, r + 1), "      %s" % task]
        if task_vars:
            lines.append("      vars: %s" % task_vars)
    path.write_text("\n".join(lines) + "\n")
    return path


def local_inventory(path: Path) -> Path:
    path.write_text("[bench_facts]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    return path


def ssh_inventory(path: Path, sshd: Sshd) -> Path:
    lines = ["[bench_facts]"]
    lines += ["bench-s%02d ansible_host=127.0.0.1" % (i + 1) for i in range(ALIASES)]
    lines += ["", "[bench_facts:vars]", "ansible_connection=ssh", "ansible_port=%d" % sshd.port, "ansible_user=%s" % sshd.user,
              "ansible_ssh_private_key_file=%s" % sshd.key,
              "ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR'",
              # one ControlMaster per host, as for 20 real hosts (the default path hashes host, port and user)
              "ansible_control_path=%(directory)s/{{ inventory_hostname }}",
              "ansible_control_path_dir=%s" % sshd.control_dir,
              "ansible_python_interpreter=%s" % sys.executable]
    path.write_text("\n".join(lines) + "\n")
    return path


class Sshd:
    """An sshd on 127.0.0.1 (a free port), keys and config in ``work``; its CPU and its sessions' CPU."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.proc: subprocess.Popen | None = None
        self.user = os.environ.get("USER") or "root"
        self.key = work / "id_ed25519"
        self.control_dir = work / "cp"
        self.port = 0

    def __enter__(self) -> Sshd:
        if os.path.exists(self.work):
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.control_dir.mkdir()
        for key in (self.key, self.work / "host_ed25519"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, capture_output=True)
        (self.work / "authorized_keys").write_text((self.work / "id_ed25519.pub").read_text())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = self.work / "sshd_config"
        config.write_text("\n".join([
            "Port %d" % self.port, "ListenAddress 127.0.0.1", "HostKey %s" % (self.work / "host_ed25519"),
            "AuthorizedKeysFile %s" % (self.work / "authorized_keys"), "PidFile none", "StrictModes no", "UsePAM no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            "Subsystem sftp internal-sftp", "LogLevel ERROR", "MaxStartups 100", "MaxSessions 100", ""]))
        Path("/run/sshd").mkdir(exist_ok=True)  # the privilege separation directory the package's service makes
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.work / "sshd.log", "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("sshd exited: %s" % (self.work / "sshd.log").read_text()[-1000:])
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise BenchError("sshd did not listen on 127.0.0.1:%d within 10 s" % self.port)

    def __exit__(self, *exc: Any) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu(self) -> float:
        """CPU seconds of sshd and of every session it has reaped (the sessions' shells and modules)."""
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def settle(self, timeout: float = 15) -> None:
        """Wait until every session has ended (so that its CPU is in ``cpu()``)."""
        children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and children.read_text().strip():
            time.sleep(0.05)


def playbook_cpu(workdir: Path, book: Path, inv: Path, forks: int, control_dir: Path, sshd: Sshd | None) -> dict[str, float]:
    """One ansible-playbook run: wall, CPU of all it started, and the sshd side's CPU."""
    cmd = [sys.executable, "-c", REAPER, str(control_dir), bin_path("ansible-playbook"), "-i", str(inv), "-f", str(forks),
           str(book)]
    host0 = sshd.cpu() if sshd else 0.0
    run = timed(cmd, env=ansible_env(workdir), cwd=workdir, timeout=900)
    if sshd:
        sshd.settle()
    host = (sshd.cpu() - host0) if sshd else 0.0
    if run.rc != 0 or "failed=0" not in run.stdout or "unreachable=0" not in run.stdout:
        raise BenchError("%s failed (rc %s):\n%s" % (book.name, run.rc, run.tail()))
    return {"wall": run.wall, "cpu": run.cpu + host, "host_cpu": host}


def connection_case(workdir: Path, label: str, inv: Path, hosts: int, forks: int, rounds: int, reps: int,
                    sshd: Sshd | None, log) -> dict[str, Any]:
    """Each variant's CPU per host and task, less the empty task's (medians over ``reps`` runs in rotating order)."""
    work = workdir / "facts"
    books = {name: playbook(work / ("facts-%s-%d.yml" % (name, rounds)), name, rounds) for name in VARIANTS}
    control_dir = sshd.control_dir if sshd else work / "cp-none"
    control_dir.mkdir(parents=True, exist_ok=True)
    names = list(VARIANTS)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            runs[name].append(playbook_cpu(workdir, books[name], inv, forks, control_dir, sshd))
    tasks = rounds * hosts
    out: dict[str, Any] = {"label": label, "tasks_per_run": tasks, "runs": runs, "net": {}, "net_host": {}}
    for name in names:
        if name == "empty":
            continue
        out["net"][name] = summary([(r["cpu"] - e["cpu"]) / tasks for r, e in zip(runs[name], runs["empty"], strict=True)])
        out["net_host"][name] = summary([(r["host_cpu"] - e["host_cpu"]) / tasks for r, e in zip(runs[name], runs["empty"], strict=True)])
    out["empty_per_task"] = statistics.median(r["cpu"] for r in runs["empty"]) / tasks
    log("  host facts, %s: CPU per host-task net of the empty task: %s" % (
        label, ", ".join("%s %.3f" % (k, v["median"]) for k, v in out["net"].items())))
    return out


def alone(ansible, workdir: Path, log) -> dict[str, Any]:
    """One process each, run directly: the collector vs the AnsiballZ wrappers (kept from one playbook run)."""
    from ansible_collections.tos.cloud.plugins.action.host_facts import collector_script
    from ansible_collections.tos.cloud.plugins.module_utils._facts import SECTIONS

    work = workdir / "facts" / "alone"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    remote = work / "remote"
    book = work / "keep.yml"
    book.write_text("""---
- name: Keep the AnsiballZ wrappers
  hosts: localhost
  gather_facts: false
  vars: {tos_cloud_in_process: false}
  tasks:
    - {name: ping, ansible.builtin.ping: }
    - {name: setup, ansible.builtin.setup: {gather_subset: [min]}}
    - {name: host_facts, tos.cloud.host_facts: {sample_seconds: 0}}
""")
    result = ansible.playbook(book, inventory=local_inventory(work / "hosts.ini"),
                              env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TEMP": str(remote)})
    if result.rc != 0:
        raise BenchError("the wrapper playbook failed:\n%s" % result.tail())
    wrappers = {p.name[len("AnsiballZ_"):-3]: p for p in remote.glob("*/AnsiballZ_*.py")}
    if set(wrappers) != {"ping", "setup", "host_facts"}:
        raise BenchError("the wrapper playbook left these AnsiballZ wrappers: %s" % sorted(wrappers))
    collector = work / "collector.py"
    collector.write_text(collector_script({"gather": list(SECTIONS), "sample_seconds": 0}))
    env = ansible_env(workdir)
    env.pop("PYTHONPATH", None)  # a wrapper carries its module_utils, like on a managed host
    log("  host facts: timing the processes alone")
    out = {"python": timed_runs([sys.executable, "-c", "pass"], env, reps=5),
           "python_psutil": timed_runs([sys.executable, "-c", "import psutil"], env, reps=5),
           "collector": timed_runs([sys.executable, str(collector)], env, reps=5)}
    for name, wrapper in sorted(wrappers.items()):
        out[name] = timed_runs([sys.executable, str(wrapper)], env, reps=5)
    return out


def _net(case: dict[str, Any], name: str, host: bool = False) -> float:
    return case["net_host" if host else "net"][name]["median"]


def run(ansible, workdir: Path, iterations: int, log, phase: Phase) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = workdir / "facts"
    work.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"alone": alone(ansible, workdir, log)}
    rows = []
    a = data["alone"]
    hf, st = a["collector"]["cpu_median"], a["setup"]["cpu_median"]
    rows.append({
        "scenario": 5, "title": "One process alone: host_facts' collector vs setup(min)'s AnsiballZ", "measure": "CPU s",
        "ours": {"median": hf, "min": a["collector"]["cpu_min"], "max": None, "n": 5},
        "reference": {"median": st, "n": 5}, "reference_label": "setup min", "ratio": hf / st,
        "ratio_label": "host_facts / setup(min), CPU", "goal": "<= 0.5x", "met": hf / st <= 0.5,
        "note": "floors: python -c pass %.3f s, python -c 'import psutil' %.3f s, ping (smallest AnsiballZ module) %.3f s "
                "= %.2fx setup(min); host_facts as an AnsiballZ module (tos_cloud_in_process false) %.3f s = %.2fx" % (
                    a["python"]["cpu_median"], a["python_psutil"]["cpu_median"], a["ping"]["cpu_median"],
                    a["ping"]["cpu_median"] / st, a["host_facts"]["cpu_median"], a["host_facts"]["cpu_median"] / st),
    })
    cases = [("localhost (local connection)", "local")]
    if os.path.exists(SSHD) and shutil.which("ssh") and shutil.which("ssh-keygen"):
        cases.append(("%d hosts over SSH (sshd on 127.0.0.1), forks 5" % ALIASES, "ssh"))
    else:
        log("  host facts: no %s (package openssh-server): the SSH case is left out" % SSHD)
    for n, (label, kind) in enumerate(cases):
        phase.more(n, len(cases), minimum=len(cases))  # every case runs; this only updates phase.last
        if kind == "local":
            case = connection_case(workdir, label, local_inventory(work / "hosts-local.ini"), 1, 5, 5,
                                   max(3, iterations), None, log)
        else:
            reps = 1 if time.monotonic() + 2 * phase.last > phase.deadline else min(2, iterations)
            with Sshd(work / "sshd") as sshd:
                case = connection_case(workdir, label, ssh_inventory(work / "hosts-ssh.ini", sshd), ALIASES, 5, 1,
                                       reps, sshd, log)
        data[kind] = case
        ours, ref = case["net"]["host_facts"], case["net"]["setup_min"]
        r = ours["median"] / ref["median"] if ref.get("median") else None
        note = ("CPU per host and task, net of an empty task (%.3f s): floors python -c pass over the connection %.3f s "
                "(%.2fx), ping %.3f s (%.2fx); host_facts as a module (tos_cloud_in_process false) %.3f s (%.2fx)" % (
                    case["empty_per_task"], _net(case, "python"), _net(case, "python") / ref["median"],
                    _net(case, "ping"), _net(case, "ping") / ref["median"], _net(case, "host_facts_module"),
                    _net(case, "host_facts_module") / ref["median"]))
        if kind == "ssh":
            note += "; the managed host's side alone (sshd, sessions, modules): host_facts %.3f, setup(min) %.3f s = %.2fx" % (
                _net(case, "host_facts", True), _net(case, "setup_min", True),
                _net(case, "host_facts", True) / _net(case, "setup_min", True))
        rows.append({
            "scenario": 5, "title": "host_facts vs setup(min), %s" % label, "measure": "CPU s per host-task",
            "ours": ours, "reference": ref, "reference_label": "setup min", "ratio": r,
            "ratio_label": "host_facts / setup(min), CPU", "goal": "<= 0.5x", "met": r is not None and r <= 0.5,
            "note": note,
        })
    return data, rows
