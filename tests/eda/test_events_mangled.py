# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.events through a broken proxy or hostile network: every read the source sends, mangled every way the
simulator's fault layer can (a body cut short, a corrupt gzip body, a redirect loop, an answer trickled past
``timeout``, JSON nested too deeply, ``data`` of the wrong type, an HTTP 500, an error envelope, an error that
echoes the token).

The bar: nothing on the platform changed, so a rulebook must see no change. A mangled poll is the manager being
unreachable (``manager_unreachable``, then ``manager_recovered`` when the answers are whole again) or is retried
and unnoticed; it never raises out of the source, never shows the token, and never fakes a platform change
(a cluster "removed" because its list came back as a string, a host task "failed" because its progress did not
parse): the events a rulebook acts on would otherwise run remediation against a healthy cloud."""
from __future__ import annotations

import json

import pytest
import relib
from conftest import run_source

TOKEN = "tok-EDA-MANGLE-0f1e2d3c"
C1 = {"name": "c1", "seed": "tos-a1", "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}],
      "snapshots": 1}
# every read the source sends in mode full (extensions/eda/plugins/event_source/events.py)
PATHS = ("/v1/system/member/list", "/v1/cluster/list", "/v1/cluster/get", "/v1/cluster/cloud/manage",
         "/v1/cluster/host/task/progress", "/v1/cluster/inspection/progress", "/v1/cluster/data/snapshot/list",
         "/v1/system/upgrade_package/list", "/v1/system/upgrade_package/current/inspect")
FAULTS = {
    "truncate": {"kind": "truncate"},
    "gzip_corrupt": {"kind": "gzip_corrupt"},
    "redirect_loop": {"kind": "redirect_loop"},
    "trickle": {"kind": "trickle", "seconds": 0.05},
    "deep_json": {"kind": "deep_json", "depth": 100000},
    "deep_json_parseable": {"kind": "deep_json", "depth": 500},
    "data_string": {"kind": "data_type", "data": "string"},
    "data_list": {"kind": "data_type", "data": "list"},
    "http_500": {"kind": "http", "status": 500},
    "envelope": {"kind": "envelope", "code": 1001},
    "echo_token": {"kind": "echo_token", "code": 1401},
}
MANAGER = ("manager_unreachable", "manager_recovered")


@pytest.fixture(scope="module", params=["", "all"], ids=["documented", "extended"])
def msim(request, tmp_path_factory):
    """A manager that answers only what the documents show (no task status, no extra fields), and one with the
    simulator's additions."""
    fixture = relib.write_fixture(tmp_path_factory.mktemp("eda-mangled") / "f.yml", clusters=[C1])
    sim = relib.Sim("eda-mangled-%s" % (request.param or "documented"), token=TOKEN, fixture=str(fixture),
                    extensions=request.param).start()
    sim.fixture_file = fixture
    yield sim
    sim.stop()


# an answer trickled past ``timeout`` is a timeout whatever the path (about 4 s a case: two polls, each tried twice):
# the first read of a poll and a per-host read
TRICKLED = ("/v1/system/member/list", "/v1/cluster/host/task/progress")
CASES = [(fault, path) for fault in sorted(FAULTS) for path in PATHS if fault != "trickle" or path in TRICKLED]


@pytest.mark.parametrize(("fault", "path"), CASES)
def test_a_mangled_read_is_an_unreachable_manager_never_a_platform_change(events, msim, tmp_path, fault, path):
    msim.reset(msim.fixture_file)
    msim.clear_faults()
    args = {"api_url": msim.url, "api_token": TOKEN, "state_file": str(tmp_path / "cursor.json"), "timeout": 1,
            "snapshot_max_age": "30d"}
    run_source(events, dict(args, initial_events=False))  # the first poll observes the healthy cloud
    msim.clear_log()
    msim.fault(**dict(FAULTS[fault], path=path, method="GET"))
    try:
        mangled = run_source(events, args, polls=2)
        hit = [r for r in msim.requests() if r.get("fault")]
    finally:
        msim.clear_faults()
    whole = run_source(events, args, polls=2)
    delivered = mangled + whole
    assert hit, "the source never read %s" % path
    faked = [e for e in delivered if e["type"] not in MANAGER]
    assert not faked, "a platform change made up from a mangled answer of %s: %s" % (path, faked)
    kinds = [e["type"] for e in delivered]
    assert kinds in ([], list(MANAGER)), kinds
    text = json.dumps(delivered) + (tmp_path / "cursor.json").read_text()
    assert TOKEN not in text and "Traceback" not in text, text[:2000]
    if kinds:
        assert mangled and mangled[0]["type"] == "manager_unreachable", delivered
        assert path in mangled[0]["message"] or path.rsplit("/", 1)[-1] in mangled[0]["message"], mangled[0]


@pytest.mark.parametrize("state,progress", [("idle", 0.0), ("finished", 1.0), ("unknown", None), ("failed", 0.4)])
def test_a_refused_progress_read_leaves_a_host_without_a_running_task_as_it_was(events, state, progress):
    before = {"task": state, "progress": progress, "changed_at": 10.0, "started_at": None, "reason": None}
    if state == "failed":
        before["reason"] = "it failed before"
    after = events["task_step"](before, None, "refused (code 1001)", 20.0, 600)
    assert after["task"] == state and after["reason"] == before["reason"], after


def test_a_refused_progress_read_fails_the_task_the_host_was_running(events):
    """Reading (a) of a failed host task (docs/api-notes.md): the progress query answers an error envelope."""
    before = {"task": "running", "progress": 0.4, "changed_at": 10.0, "started_at": 5.0, "reason": None}
    after = events["task_step"](before, None, "task failed (code 3010)", 20.0, 600)
    assert after["task"] == "failed" and after["reason"] == "task failed (code 3010)" and after["progress"] == 0.4
