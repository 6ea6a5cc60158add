# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability suite and the report it writes about itself.

``--write-report`` (or RELIABILITY_WRITE_REPORT=1) makes the session write docs/reliability.md
from the results of the rows that ran: per table, how many cases ran and passed, and every row
marked as a known defect (xfail) with its reason. A run whose figures match the file's leaves it as it
is (only the run's date would change), so `make test` does not dirty a checkout; the run's own report is
always written to the work directory (RELIABILITY_WORKDIR/reliability.md).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import relib  # noqa: E402

# test file -> (order, table title, what a row is)
TABLES = {
    "test_faults.py": (1, "Faults", "simulator fault injection against read modules, mutating modules and roles"),
    "test_restart.py": (2, "Restart", "simulator killed with SIGKILL mid bring-up and restarted on its state file"),
    "test_bad_input.py": (3, "Bad input", "invalid and hostile inputs to every module and role"),
    "test_secrets.py": (4, "Secrets", "SMTP password and API token absent from output, diffs and runner artifacts"),
    "test_tls_auth.py": (5, "TLS and auth", "HTTPS with a private CA, validate_certs, token required"),
    "test_concurrency.py": (6, "Concurrency", "many hosts and forks against one simulator, clusters in parallel"),
    "test_mangling.py": (7, "Mangled answers", "every API module, the inventory plugin and the lookups against "
                         "answers a broken proxy or network mangles"),
}

REPORT = relib.ROOT / "docs" / "reliability.md"
RUN_LINE = "Figures from the run of "

# what the rows of each table assert, for the report
ASSERTS = {
    "test_faults.py": (
        "HTTP 500/502/503 (Retry-After)/504, dropped connections, 3 s latency against a 1 s `timeout`, error "
        "envelopes, a manager leader change, `ready: false` and a dead first `api_url` hit system_info and "
        "cluster_info (reads), cluster create, cvm deploy, storage_service_vm deploy and metadata_snapshot "
        "(writes), and a step in the middle of cluster_bringup and rolling_upgrade. A transient fault on a read "
        "is retried and the task succeeds; a write whose answer was lost after it was applied (`apply: true`) is "
        "never sent twice (one cluster, one CVM, one snapshot in `GET /_sim/state`, one POST in the request "
        "log), and one lost before it was applied is sent again exactly once; a persistent fault fails with a "
        "message naming the write (or read) and its /v1 path, without a traceback; a re-run after the fault "
        "clears converges."),
    "test_restart.py": (
        "The simulator is SIGKILLed at a chosen request of a bring-up (cluster_bringup, or a playbook of "
        "modules) and restarted on the same state file and port: after a cluster/add, during a CVM deploy, "
        "with a deploy in flight, down for 8 s, and twice in a row. The interrupted "
        "run rides over it or fails cleanly; nothing the manager had is lost; the re-run converges to exactly "
        "the desired objects, all running; a third run changes nothing."),
    "test_bad_input.py": (
        "Wrong types, out-of-range levels and thresholds, malformed IPs/CIDRs, gateways outside the network, "
        "unknown hosts and clusters, empty, blank and over-long names, control characters, and injection-looking "
        "strings (`x'; DROP TABLE`, `../../etc/passwd`, `{{ lookup('env','HOME') }}` as `!unsafe`, "
        "`a&filter_name=b`) against every API module and both roles' inputs: the task fails naming the option "
        "and the problem, without a traceback, and the request log holds zero mutating requests. A Chinese "
        "cluster name works end to end (created, found, idempotent, used by other modules, deleted)."),
    "test_secrets.py": (
        "With `-vvv`, `--diff`, check mode and failures, the SMTP password and the API token (the simulator "
        "requires it) appear nowhere in ansible-playbook's stdout/stderr, in the results callbacks receive, in "
        "ansible-inventory's output, or in ansible-runner's artifacts (`job_events/*.json`, `stdout`: what AWX "
        "stores)."),
    "test_tls_auth.py": (
        "An HTTPS simulator with a throw-away CA: default verification fails naming ca_path/validate_certs; "
        "`ca_path`/`TOS_CA_PATH` work; `validate_certs: false` works and warns; another CA, a host name the "
        "certificate does not cover, a missing CA file and plain HTTP fail cleanly; a missing or wrong token "
        "fails naming api_token/TOS_API_TOKEN and changes nothing."),
    "test_concurrency.py": (
        "20 local inventory hosts with forks 10 run system_info and cluster_info against one simulator; three "
        "hosts with forks 3 each converge one cluster (cluster, CVM, DRS/DPM, global config, snapshot policy) in "
        "parallel, then again with no change; three hosts race to create the same cluster: exactly one exists "
        "and exactly one task reports the creation."),
    "test_mangling.py": (
        "The simulator mangles answers as a broken proxy or network would: a body cut short, a corrupt gzip body, "
        "a redirect loop, an answer trickled byte by byte past `timeout`, JSON nested 100,000 (or 500) levels "
        "deep, `data` that is a string or a list, an error message that echoes the token. Every API module meets "
        "each on one of its reads (which one drawn from the seed) and each mutating module on its first write; "
        "ansible-inventory with `tos.cloud.hosts` meets each on every read, and each lookup (`tos.cloud.cluster`, "
        "`host`, `manager`) from its first read or from its second on (the event source has its own table, "
        "`tests/eda/test_events_mangled.py`). A cut-short or trickled read is "
        "retried and succeeds; a write the manager applied before its answer was mangled is re-read, found and "
        "never sent again (the request log holds no write twice); anything else fails naming the /v1 path. No "
        "row shows `MODULE FAILURE`, a traceback, the token or the SMTP password, in the result or in the "
        "task's `-vvv` output. A fixed seed draws the same rows every run; a rotating seed adds 12 more and is "
        "printed in every failure (`TOS_MANGLE_SEED` repeats it)."),
}


def pytest_addoption(parser):
    parser.addoption("--write-report", action="store_true", default=False,
                     help="write docs/reliability.md from this session's results")


def _table_of(nodeid):
    name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return name if name in TABLES else None


class ReportPlugin:
    """Tallies the rows per table (on the xdist controller too) and writes the report at the end."""

    def __init__(self, config):
        self.config = config
        self.rows = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report):
        table = _table_of(report.nodeid)
        if table is None:
            return
        outcome = None
        if report.when == "call":
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            else:
                outcome = report.outcome
        elif report.when == "setup" and report.outcome != "passed":
            if hasattr(report, "wasxfail"):
                outcome = "xfailed"
            else:
                outcome = "skipped" if report.skipped else "error"
        elif report.when == "teardown" and report.failed:
            outcome = "error"
        if outcome is None:
            return
        reason = getattr(report, "wasxfail", "") or ""
        if outcome == "skipped" and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2])
        previous = self.rows.get(report.nodeid)
        if previous is not None and previous[1] in ("failed", "error"):
            return
        self.rows[report.nodeid] = (table, outcome, reason)

    def pytest_sessionfinish(self, session, exitstatus):
        if hasattr(self.config, "workerinput"):
            return
        wanted = self.config.getoption("--write-report") or os.environ.get("RELIABILITY_WRITE_REPORT") == "1"
        if wanted and self.rows:
            write_report(self.rows, time.time() - self.started)


def pytest_configure(config):
    config.pluginmanager.register(ReportPlugin(config), "reliability_report")


def write_report(rows, elapsed):
    counts = {name: {"run": 0, "passed": 0, "xfailed": 0, "failed": 0, "skipped": 0} for name in TABLES}
    known = []
    for nodeid, (table, outcome, reason) in sorted(rows.items()):
        c = counts[table]
        if outcome == "skipped":
            c["skipped"] += 1
            continue
        c["run"] += 1
        if outcome == "passed":
            c["passed"] += 1
        elif outcome == "xfailed":
            c["xfailed"] += 1
            known.append((TABLES[table][1], nodeid.split("::", 1)[1], reason))
        else:
            c["failed"] += 1
    lines = [
        "# Reliability and security suite",
        "",
        "<!-- Written by tests/reliability/conftest.py (`make reliability` runs pytest with --write-report). "
        "Do not edit by hand: the figures are this suite's own results. -->",
        "",
        "## What the collection does when the manager misbehaves",
        "",
        "- **Reads** (GET) that meet a connection error, a timeout or HTTP 429/500/502/503/504 are tried again, "
        "up to 3 more times, with exponential backoff and jitter (0.5 s, 1 s, 2 s ceilings); a `Retry-After` "
        "header is honoured up to 30 s.",
        "- **Writes** (POST) are never repeated blindly. When the answer is lost after the request may have "
        "reached the manager (dropped connection, HTTP 5xx), the module re-reads the state and sends the request "
        "again only if the change is not there. After a *timeout* the manager may still be working on it: the "
        "client watches the state for a while (at least 5 s, or `timeout`) and never sends it again; if the "
        "change does not show, the task fails saying so, and a re-run converges.",
        "- **Several `api_url` entries**: a manager that cannot be reached at all (nothing was sent) is skipped "
        "for the next one, for reads and writes alike.",
        "- **`timeout`** bounds each request's whole answer, not each read of the network: an answer trickled "
        "byte by byte ends at the deadline like a silent manager (a timeout).",
        "- **Mangled answers** (a body cut short, a corrupt gzip body, JSON nested too deeply, `data` that is not "
        "an object, a redirect, which is never followed) end in a clean failure naming the /v1 path; a write whose "
        "answer was mangled after it reached the manager is re-read like a lost one, never sent blindly again.",
        "- **Errors** never end in a traceback: the message names the operation, the method and /v1 path, the "
        "HTTP status or the manager's code with its English and Chinese message; an authentication failure names "
        "`api_token`/`TOS_API_TOKEN`, a TLS failure names `ca_path`/`validate_certs`.",
        "- **Secrets** (the API token, the SMTP password) never appear in results, diffs, warnings, errors or "
        "`-vvv` output, also escaped (the `repr()` of a header requests quotes) or echoed back by the manager. "
        "Give the token through `api_token`, `module_defaults` or the process environment "
        "(`TOS_API_TOKEN`, as an AWX credential does): a task's `environment:` keyword is printed by "
        "ansible-core itself in `-vvv` output.",
        "",
        "## Results",
        "",
        "`make reliability` runs `tests/reliability/`: every row is one real module execution in a real "
        "`ansible-playbook` (or ansible-runner) process against a real simulator process on 127.0.0.1.",
        "",
        "| # | table | what a row is | cases run | passed | known defects (xfail) | failed | skipped |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    total = {"run": 0, "passed": 0, "xfailed": 0, "failed": 0, "skipped": 0}
    for name, (order, title, what) in sorted(TABLES.items(), key=lambda kv: kv[1][0]):
        c = counts[name]
        for key in total:
            total[key] += c[key]
        lines.append("| %d | %s | %s | %d | %d | %d | %d | %d |" % (
            order, title, what, c["run"], c["passed"], c["xfailed"], c["failed"], c["skipped"]))
    lines.append("| | **total** | | **%d** | **%d** | **%d** | **%d** | **%d** |" % (
        total["run"], total["passed"], total["xfailed"], total["failed"], total["skipped"]))
    lines += ["", "%s%s, %.0f s wall time (`make reliability`, pytest-xdist); a later run with the same figures "
              "leaves this file as it is." % (RUN_LINE, time.strftime("%Y-%m-%d %H:%M %Z"), elapsed), ""]
    lines += ["## What the rows assert", ""]
    for name, (order, title, _what) in sorted(TABLES.items(), key=lambda kv: kv[1][0]):
        lines += ["%d. **%s**: %s" % (order, title, ASSERTS[name])]
    lines += ["", "ansible-core 2.19 puts `exception: (traceback unavailable)` into every failed result that carries "
              "no traceback; the rows accept that placeholder and fail on a real traceback.", ""]
    lines += ["## Known defects", ""]
    if known:
        lines.append("Rows marked `xfail(strict=True)`: each is a defect in the collection, left for its owner; "
                     "the row turns into a failure as soon as the defect is fixed, so the mark must then go.")
        lines.append("")
        for title, row, reason in known:
            lines.append("- **%s** `%s`: %s" % (title, row, reason))
    else:
        lines.append("None: every row passed.")
    lines.append("")
    text = "\n".join(lines)
    relib.WORK_ROOT.mkdir(parents=True, exist_ok=True)
    (relib.WORK_ROOT / "reliability.md").write_text(text)  # this run's report, whatever it says
    if REPORT.exists() and _figures(REPORT.read_text()) == _figures(text):
        return  # only the run's date and time differ: the tracked file (and a CI checkout) stay clean
    REPORT.write_text(text)


def _figures(report):
    """The report without the line that dates the run."""
    return [line for line in report.splitlines() if not line.startswith(RUN_LINE)]


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sim():
    """One plain simulator per xdist worker (tests reset it before use)."""
    s = relib.Sim("shared", state_file=True).start()
    yield s
    s.stop()


@pytest.fixture()
def fresh_sim(sim):
    sim.reset()
    sim.clear_faults()
    return sim
