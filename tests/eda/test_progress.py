"""Live progress of the waits: with the simulator's durations set, the progress lines of an upgrade and of an
inspection reach ansible-playbook's output while the task still runs (not all at its end), and the task's result
carries the same progress as data (wait_progress)."""
from __future__ import annotations

import json
import re
import subprocess
import time

import relib
import yaml

C1 = {"name": "c1", "seed": "tos-a1", "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}
LINE = re.compile(r"^\[localhost\] tos\.cloud: waiting for (.+?): (\d+)% after (\d+)s, (about \S+ left|time left unknown)")


def test_progress_lines_stream_before_the_task_ends(sim_factory, tmp_path):
    sim = sim_factory("progress", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    # at speed 50: an upgrade of 5 s, an inspection of 4 s
    sim.ctl("POST", "/_sim/durations", {"upgrade": 250, "inspection": 200})
    play = [{
        "name": "progress", "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/tos.cloud.api": {"api_url": sim.url}},
        "tasks": [
            {"name": "Upgrade one host", "tos.cloud.upgrade": {"cluster": "c1", "hosts": ["192.0.2.12"],
                                                               "service_types": ["compute"]},
             "register": "upgrade"},
            {"name": "Inspect", "tos.cloud.inspection": {"cluster": "c1"}, "register": "inspection"},
            {"name": "Results", "ansible.builtin.debug": {
                "msg": "RESULTS {{ {'upgrade': upgrade.wait_progress, 'inspection': inspection.wait_progress} | to_json }}"}},
        ],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    relib.write_inventory(tmp_path)
    env = relib.ansible_env(tmp_path, {"TOS_PROGRESS_INTERVAL": "1"})
    for key in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS", "ANSIBLE_ACTION_PLUGINS"):
        env.pop(key)
    proc = subprocess.Popen([str(relib.ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "inventory"), str(tmp_path / "play.yml")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    start = time.monotonic()
    seen = []  # (seconds since start, line)
    for text in proc.stdout:
        seen.append((time.monotonic() - start, text.rstrip("\n")))
    assert proc.wait(60) == 0, "\n".join(t for _s, t in seen)
    output = "\n".join(t for _s, t in seen)

    def arrival(predicate):
        return [s for s, t in seen if predicate(t)]

    upgrade_lines = arrival(lambda t: bool(LINE.match(t)) and "the task on host" in t)
    upgrade_done = arrival(lambda t: t.startswith("TASK [Inspect]"))[0]
    assert len(upgrade_lines) >= 3, output
    # the first lines arrived seconds before the task ended: they streamed, they were not printed at its end
    assert upgrade_done - upgrade_lines[0] >= 2.5, output
    percents = [int(LINE.match(t).group(2)) for _s, t in seen if LINE.match(t) and "the task on host" in t]
    assert percents == sorted(percents) and percents[-1] < 100, percents
    assert any("about" in t for _s, t in seen if LINE.match(t)), "an estimate of the time left"
    assert re.search(r"tos\.cloud: the task on host \S+ \(192\.0\.2\.12\)\S*: finished, 100% after \d+s", output) or \
        "finished, 100%" in output, output

    inspection_lines = arrival(lambda t: bool(LINE.match(t)) and "inspection of cluster 'c1'" in t)
    inspection_done = arrival(lambda t: t.startswith("TASK [Results]"))[0]
    assert len(inspection_lines) >= 2 and inspection_done - inspection_lines[0] >= 2, output

    raw = next(t for _s, t in seen if "RESULTS " in t).split("RESULTS ", 1)[1].rstrip('"')
    results = json.loads(raw.replace('\\"', '"'))
    (host,) = results["upgrade"]
    assert host["status"] == "finished" and host["progress"] == 1.0 and "192.0.2.12" in host["key"]
    assert host["readings"] >= 3 and host["elapsed"] >= 3 and host["lines"] >= 3
    (inspection,) = results["inspection"]
    assert inspection["status"] == "finished" and inspection["elapsed"] >= 2
