"""What one task costs, taken apart (the measurements behind scenario 1's explanation).

A tiny playbook runs ansible.builtin.ping, ansible.builtin.uri, tos.cloud.global_config (a no-op),
ansible.builtin.setup (gather_subset min) and tos.cloud.host_facts (sample_seconds 0) once with
ANSIBLE_KEEP_REMOTE_FILES, which leaves each module's AnsiballZ wrapper on disk. Each wrapper is then run on
its own, as the controller's worker runs it, several times (wall and CPU), and once under `python -X
importtime` and once under cProfile, to split the module process into interpreter start, imports, and the
module's own work (for the API module: its HTTP requests)."""
from __future__ import annotations

import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..common import Ansible, BenchError, Sim, ansible_env, check_playbook

REPS = 3


def playbook(path: Path, uuid: str) -> Path:
    path.write_text("""---
- name: One task of each kind, their AnsiballZ wrappers kept
  hosts: localhost
  gather_facts: false
  vars:
    tos_cloud_in_process: false  # a module process, to take it apart
  tasks:
    - name: ping
      ansible.builtin.ping:
    - name: uri
      ansible.builtin.uri:
        url: "{{ lookup('ansible.builtin.env', 'TOS_API_URL') }}/v1/cluster/get/global/config?cluster_uuid=%s"
    - name: global_config
      tos.cloud.global_config:
        cluster: bench-a
    - name: setup
      ansible.builtin.setup:
        gather_subset: [min]
    - name: host_facts
      tos.cloud.host_facts:
        sample_seconds: 0
""" % uuid)
    return path


def timed_runs(cmd: list[str], env: dict[str, str], reps: int = REPS) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0 or '"failed": true' in proc.stdout:
            raise BenchError("%s failed:\n%s" % (" ".join(cmd[-1:]), (proc.stdout + proc.stderr)[-2000:]))
    return {"wall_median": statistics.median(walls), "wall_min": min(walls),
            "cpu_median": statistics.median(cpus), "cpu_min": min(cpus)}


IMPORT_GROUPS = {
    "ansible.module_utils.basic": "ansible.module_utils.basic",
    "requests": "requests (+ urllib3, idna, charset_normalizer)",
    "ansible.module_utils.urls": "ansible.module_utils.urls",
    "psutil": "psutil",
}


def import_times(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of the biggest imports, and of everything (-X importtime; best of 3)."""
    best: dict[str, float] = {}
    for _ in range(3):
        proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True, check=False)
        seen: dict[str, float] = {"(all imports)": 0.0}
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if not m:
                continue
            name, cumulative, depth = m.group(4), int(m.group(2)) / 1e6, len(m.group(3))
            if depth == 1:
                seen["(all imports)"] += cumulative
            for prefix, label in IMPORT_GROUPS.items():
                if name == prefix:
                    seen[label] = max(seen.get(label, 0.0), cumulative)
            if name.startswith("ansible_collections.tos.cloud.plugins.module_utils") and depth <= 3:
                seen["tos.cloud module_utils"] = max(seen.get("tos.cloud module_utils", 0.0), cumulative)
        for key, value in seen.items():
            best[key] = min(best.get(key, value), value)
    return {k: round(v, 4) for k, v in best.items()}


def profile(cmd: list[str], env: dict[str, str], out: Path) -> dict[str, float]:
    """cProfile of one run (``cmd`` a Python script and its arguments): the total, and cumulative seconds of what
    an API module spends its time on."""
    import pstats

    subprocess.run([cmd[0], "-m", "cProfile", "-o", str(out), *cmd[1:]], env=env, capture_output=True, check=False)
    stats = pstats.Stats(str(out))
    found: dict[str, float] = {"total": stats.total_tt}
    wanted = {
        ("requests/sessions.py", "request"): "HTTP requests (requests.Session.request)",
        ("_socket.socket' objects>", "recv_into"): "waiting for answers (socket recv)",
        ("ansible/module_utils/basic.py", "__init__"): "AnsibleModule() (argument spec)",
        ("ansible/module_utils/basic.py", "exit_json"): "exit_json (result serialization)",
        ("ansible/module_utils/urls.py", "open_url"): "HTTP requests (ansible.module_utils.urls.open_url)",
        ("<frozen importlib._bootstrap>", "_find_and_load"): "imports",
    }
    for (filename, _line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        for (suffix, name), label in wanted.items():
            if func == name and filename.endswith(suffix):
                found[label] = max(found.get(label, 0.0), ct)
            elif name == "recv_into" and "recv_into" in func and "_socket.socket" in func:
                found[label] = max(found.get(label, 0.0), tt)
    return {k: round(v, 4) for k, v in found.items()}


def run(ansible: Ansible, sim: Sim, workdir: Path, log) -> dict[str, Any]:
    work = workdir / "anatomy"
    work.mkdir(parents=True, exist_ok=True)
    uuid = next(c["cluster_uuid"] for c in sim.clusters() if c["cluster_name"] == "bench-a")
    remote = work / "remote"
    result = ansible.playbook(playbook(work / "anatomy.yml", uuid), api_url=sim.url,
                              env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TEMP": str(remote)})
    check_playbook(result, "the anatomy playbook", changed=0)
    wrappers = {p.name[len("AnsiballZ_"):-3]: p for p in remote.glob("*/AnsiballZ_*.py")}
    if set(wrappers) != {"ping", "uri", "global_config", "setup", "host_facts"}:
        raise BenchError("the anatomy playbook left these AnsiballZ wrappers: %s" % sorted(wrappers))
    env = ansible_env(workdir, TOS_API_URL=sim.url)
    env.pop("PYTHONPATH", None)  # a wrapper carries its module_utils, like on a managed host
    out: dict[str, Any] = {"tasks": {t["name"]: round(t["duration"], 4) for t in result.tasks}}
    log("  anatomy: timing the module processes")
    out["interpreter"] = timed_runs([sys.executable, "-c", "pass"], env)
    for name, wrapper in sorted(wrappers.items()):
        cmd = [sys.executable, str(wrapper)]
        out[name] = timed_runs(cmd, env)
        out[name]["imports"] = import_times(cmd, env)
        out[name]["wrapper_bytes"] = wrapper.stat().st_size
    return out
