"""The demo (playbooks/site.yml) against a fresh simulator, and its HTML report in a real headless
Chromium: it renders offline without a console message, shows the score and every host, and a
screenshot is kept as a test artifact (build/artifacts/inspection-report.png)."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import Sim

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--v=0",
    # nothing may come from the network: every host name resolves to nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
CONSOLE_RE = re.compile(r".*(:CONSOLE|Uncaught).*")

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make roles-tests installs it)")


def chromium(*args: str) -> tuple[str, list[str]]:
    """Run headless Chromium with a fresh profile; return stdout and its console lines."""
    profile = tempfile.mkdtemp(prefix="tos-chromium-")
    try:
        # its own config and cache folders too: Chromium writes "Crash Reports" and dconf's cache under
        # XDG_CONFIG_HOME/XDG_CACHE_HOME (~/.config, ~/.cache) whatever --user-data-dir says, and the
        # browser tests run in parallel (tools/state-guard)
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(profile, "config"),
                   XDG_CACHE_HOME=os.path.join(profile, "cache"))
        proc = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, CONSOLE_RE.findall(proc.stderr)


# the demo as `make demo` runs it: documented-only answers, pages from 0, page_size 0 = a default page,
# a failed host task answered with an error envelope (Makefile DEMO_SIM_OPTS)
SIM_OPTIONS = {"page_base": 0, "page_size_zero": "default", "task_failure": "error"}


@pytest.fixture(scope="module")
def demo_report(sim: Sim) -> Path:
    """Run the demo as `make demo` does; the report directory."""
    report = sim.tmp / "report"
    run = sim.playbook("site.yml", "-e", f"tos_report_dir={report}")
    assert run.rc == 0, run
    assert "failed=0" in run.out, run
    return report


def test_console_check_catches_a_script_error(tmp_path: Path) -> None:
    """The harness itself: a page with a failing script is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>undefined_function();</script></body></html>")
    _dom, console = chromium("--dump-dom", page.as_uri())
    assert any("Uncaught" in line for line in console), console


def test_demo_writes_html_json_and_markdown(demo_report: Path) -> None:
    # plus the hidden fingerprint that keeps a re-run with the same data from changing the files
    assert sorted(p.name for p in demo_report.iterdir()) == [".report-state.json", "index.html", "report.json", "report.md"]


def test_report_renders_offline_without_console_messages(demo_report: Path, artifacts: Path) -> None:
    shot = artifacts / "inspection-report.png"
    shot.unlink(missing_ok=True)
    _out, console = chromium(f"--screenshot={shot}", "--window-size=1280,2000", (demo_report / "index.html").as_uri())
    assert console == []
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_report_shows_the_score_every_cluster_and_every_host(sim: Sim, demo_report: Path) -> None:
    dom, console = chromium("--dump-dom", (demo_report / "index.html").as_uri())
    assert console == []
    model = json.loads((demo_report / "report.json").read_text())
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    assert model["summary"]["score"] is not None
    assert re.search(rf">\s*{model['summary']['score']}\s*</text>", dom), "the summary score is not drawn"
    state = sim.state()
    names = sorted(c["name"] for c in state["clusters"].values())
    assert names == ["demo-a", "demo-b", "demo-c"]
    assert sorted(c["name"] for c in model["clusters"]) == names
    for cluster in state["clusters"].values():
        assert f"Cluster {cluster['name']}" in text
        for uuid in cluster["hosts"]:
            host = state["hosts"][uuid]
            assert host["name"] in text and host["management"]["ip"] in text, host["name"]
        shown = next(c for c in model["clusters"] if c["name"] == cluster["name"])
        assert shown["score"] == cluster_score(cluster), cluster["name"]


def test_report_lists_faults_and_alarms_before_the_clusters(demo_report: Path) -> None:
    page = (demo_report / "index.html").read_text()
    model = json.loads((demo_report / "report.json").read_text())
    assert model["problems"], "the demo cloud has alarms (tos-b3 runs at 86 % CPU)"
    first_cluster = page.index('id="cluster-1"')
    attention = page.index('id="attention"')
    assert attention < first_cluster
    assert "tos-b3 (198.51.100.13)" in page[attention:first_cluster]


def test_report_is_self_contained(demo_report: Path) -> None:
    page = (demo_report / "index.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)
    assert page.count("<svg") >= 1 + 3 * 3  # the summary gauge, and per cluster a gauge and charts


def test_markdown_report_has_the_summary_table(demo_report: Path) -> None:
    model = json.loads((demo_report / "report.json").read_text())
    md = (demo_report / "report.md").read_text()
    for cluster in model["clusters"]:
        assert re.search(rf"^\| {re.escape(cluster['name'])} \| {cluster['score']} \|", md, re.M)
    assert "| tos-b3 |" in md


def cluster_score(cluster: dict) -> int:
    """The score the simulator's finished inspection gives: 100 - 5 per alarm - 20 per fault."""
    items = cluster["inspection"]["items"]
    alarms = sum(1 for i in items if i["status"] == "alarm")
    faults = sum(1 for i in items if i["status"] == "fault")
    return max(0, 100 - 5 * alarms - 20 * faults)


def test_inventory_of_the_demo_cloud_is_its_physical_hosts_with_their_vms(sim: Sim, demo_report: Path) -> None:
    """Documented data only (no MachineUUID in the topology): every physical host once, CVMs and storage VMs
    attached to the host they run on, never hosts of their own."""
    state = sim.state()
    physical = {h["uuid"]: h for h in state["hosts"].values() if h.get("cluster_uuid")}
    inventory = sim.inventory()
    hostvars = inventory["_meta"]["hostvars"]
    assert len(physical) == 11 and state["cvms"] and state["storage_vms"]
    assert sorted(v["tos_uuid"] for v in hostvars.values()) == sorted(physical)
    cvms = {v["tos_uuid"]: v["tos_cvm"]["uuid"] for v in hostvars.values() if v["tos_cvm"]}
    assert cvms == {c["machine_uuid"]: c["uuid"] for c in state["cvms"].values()}
    attached = {vm["uuid"]: v["tos_uuid"] for v in hostvars.values() for vm in v["tos_storage_vms"]}
    assert attached == {vm["uuid"]: vm["machine_uuid"] for vm in state["storage_vms"].values()}
    leaders = [v for v in hostvars.values() if v["tos_center_leader"]]
    assert len(leaders) == len({c["cluster_uuid"] for c in state["cvms"].values()})
    assert all("center" in v["tos_roles"] for v in hostvars.values() if v["tos_cvm"])
