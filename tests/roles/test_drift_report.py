"""The drift report on the demo cloud (playbooks/bringup.yml, then playbooks/drift.yml) with drift injected
through the simulator's control API: a DRS level changed, a cloud-management VM removed, the mail server
changed. The report lists exactly those differences in all four formats, the JUnit file has exactly those
failures, the simulator's log shows no mutating request, and the page renders offline in headless Chromium
(screenshot in build/artifacts/drift-report.png)."""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, Sim
from test_report_browser import CHROMIUM, chromium

# (check id, field, declared, actual) of each injected drift, as every format must show it
EXPECTED = [
    ("demo-a/cvm/192.0.2.102/24", "state", "present", "(missing)"),
    ("demo-a/drs", "threshold_level", "3 (normal)", "5 (most_aggressive)"),
    ("manager/mail", "smtp_server", "127.0.0.1", "198.51.100.25"),
]
JUNIT_FAILURES = [
    ("tos.drift.demo-a", "Cloud-management VM 192.0.2.102/24"),
    ("tos.drift.demo-a", "DRS"),
    ("tos.drift.manager", "Mail settings"),
]


def inject_drift(sim: Sim) -> None:
    """Edit the state behind the manager's API (PUT /_sim/state): no /v1 request is involved."""
    state = sim.state()
    demo_a = next(c for c in state["clusters"].values() if c["name"] == "demo-a")
    assert demo_a["drs"]["ThresholdLevel"] == 3  # "normal", as group_vars/tos_api.yml declares
    demo_a["drs"]["ThresholdLevel"] = 5
    cvm = next(uuid for uuid, vm in state["cvms"].items() if vm["address"] == "192.0.2.102/24")
    assert demo_a["leader"] != cvm  # leave the leader: the snapshot policy stays readable
    del state["cvms"][cvm]
    state["mail"]["smtp_server_ip"] = "198.51.100.25"
    assert sim.control("PUT", "state", state) == {"ok": True}


@pytest.fixture(scope="module")
def drift(sim: Sim) -> tuple[Path, Run, list[dict[str, Any]]]:
    """The demo cloud built, drift injected, the report run with drift_report_fail_on_drift; the report
    directory, the run and the requests the report sent."""
    built = sim.playbook("bringup.yml")
    assert built.rc == 0, built
    inject_drift(sim)
    sim.control("DELETE", "requests")
    report = sim.tmp / "drift"
    run = sim.playbook("drift.yml", "-e", f"tos_report_dir={report}", "-e", "drift_report_fail_on_drift=true")
    return report, run, sim.control("GET", "requests")["requests"]


def test_drift_fails_the_play_when_asked_and_names_the_drifted_checks(drift: tuple[Path, Run, list]) -> None:
    _report, run, _log = drift
    assert run.rc != 0, run
    assert "3 check(s) drifted (demo-a/cvm/192.0.2.102/24, demo-a/drs, manager/mail)" in run.out, run


def test_report_sends_no_mutating_request(drift: tuple[Path, Run, list]) -> None:
    _report, _run, log = drift
    assert log, "the report read nothing"
    assert [(r["method"], r["path"]) for r in log if r["method"] != "GET"] == []


def test_report_reads_each_answer_once(drift: tuple[Path, Run, list]) -> None:
    """The run's cache answers a question asked again (drift_report_run_cache, on by default): each cluster's
    name is resolved and each of its reads sent once. The comparisons run with wait: false in check mode, which
    used to end the cache's use at the first of them (each cluster's name then resolved four times)."""
    _report, _run, log = drift
    asked = Counter((r["path"], tuple(sorted((r.get("query") or {}).items()))) for r in log if r["method"] == "GET")
    again = {question: count for question, count in asked.items() if count > 1}
    assert again == {}, "asked more than once: %s" % again


def test_json_lists_exactly_the_injected_differences(drift: tuple[Path, Run, list]) -> None:
    report, _run, _log = drift
    model = json.loads((report / "report.json").read_text())
    checks = [c for cl in model["clusters"] for c in cl["checks"]] + model["manager_checks"]
    found = [(c["id"], d["key"], d["declared"], d["actual"]) for c in checks if c["status"] in ("drift", "missing")
             for d in c["differences"]]
    assert found == EXPECTED
    assert model["drifted"] == [e[0] for e in EXPECTED]
    assert {c["status"] for c in checks if c["id"] not in model["drifted"]} == {"in_sync"}
    assert model["summary"]["checks"] == len(checks) == 21


def test_junit_has_exactly_the_injected_failures(drift: tuple[Path, Run, list]) -> None:
    report, _run, _log = drift
    root = ET.parse(report / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert len(cases) == int(root.get("tests")) == 21
    failed = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
    assert failed == JUNIT_FAILURES
    assert root.get("failures") == "3" and root.get("errors") == "0"
    assert not [c for c in cases if c.find("error") is not None or c.find("skipped") is not None]
    drs = next(c for c in cases if c.get("name") == "DRS" and c.get("classname") == "tos.drift.demo-a")
    assert "threshold_level: declared 3 (normal), actual 5 (most_aggressive)" in drs.find("failure").text


def test_markdown_lists_exactly_the_injected_differences(drift: tuple[Path, Run, list]) -> None:
    report, _run, _log = drift
    md = (report / "report.md").read_text()
    table = md.split("## Differences", 1)[1].split("## Every check", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and not r.startswith("| Cluster")]
    assert rows == [
        "| demo-a | Cloud-management VM 192.0.2.102/24 | state | present | (missing) |",
        "| demo-a | DRS | threshold_level | 3 (normal) | 5 (most_aggressive) |",
        "| manager | Mail settings | smtp_server | 127.0.0.1 | 198.51.100.25 |",
    ]


def test_html_is_self_contained(drift: tuple[Path, Run, list]) -> None:
    page = (drift[0] / "index.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make roles-tests installs it)")
def test_html_renders_offline_and_shows_exactly_the_injected_differences(
        drift: tuple[Path, Run, list], artifacts: Path) -> None:
    report, _run, _log = drift
    shot = artifacts / "drift-report.png"
    shot.unlink(missing_ok=True)
    _out, console = chromium(f"--screenshot={shot}", "--window-size=1280,2400", (report / "index.html").as_uri())
    assert console == []
    assert shot.stat().st_size > 20_000
    dom, console = chromium("--dump-dom", (report / "index.html").as_uri())
    assert console == []
    details = dom[dom.index('id="cluster-1"'):]  # past the summary table (one row per cluster)
    rows = re.findall(r'<tr class="(drift|missing)"[^>]*>(.*?)</tr>', details, re.S)
    cells = [[html.unescape(re.sub(r"<[^>]+>", "", td)).strip() for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
             for _status, row in rows]
    # each drifted check is one row: setting, status, field, declared, actual
    assert [c[2:] for c in cells] == [[key, declared, actual] for _id, key, declared, actual in EXPECTED]
    assert [c[1] for c in cells] == ["missing", "drift", "drift"]
