# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.inspection against a scripted manager: start, attach, stop, lost answers, check mode."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.modules import inspection
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.operations_harness import CLUSTER, OneClusterClient

# the fake platform moves on per request: its waits take no real time (conftest.py)
pytestmark = pytest.mark.usefixtures("virtual_clock")

IDLE = {"state": 0, "finishedPercent": 0, "checking": "", "normal": 0, "alarm": 0, "fault": 0, "score": 0,
        "system": None, "network": None, "hardware": None, "status": {"code": 0, "UUID": ""}}


class FakeInspections(OneClusterClient):
    """One inspection at a time; each progress read advances a running one by ``step`` percent."""

    def __init__(self, running=False, step=100, lose_answer=None):
        self.state = dict(IDLE)
        self.runs = 0
        self.step = step
        self.lose_answer = lose_answer
        self.calls = []
        if running:
            self._start({"check_system": True, "check_network": True, "check_hardware": True})
            self.state["finishedPercent"] = 40

    def _start(self, body):
        self.runs += 1
        self.state = dict(IDLE, state=1, finishedPercent=0, checking="system: License @ demo",
                          status={"code": 0, "UUID": "run-%d" % self.runs},
                          **{c: [] if body["check_" + c] else None for c in ("system", "network", "hardware")})

    def get(self, path, params=None):
        self.calls.append(("GET", path, params))
        assert path == "/v1/cluster/inspection/progress"
        assert params == {"cluster_uuid": CLUSTER["cluster_uuid"]}
        if self.state["state"] == 1:
            self.state["finishedPercent"] = min(100, self.state["finishedPercent"] + self.step)
            if self.state["finishedPercent"] >= 100:
                self.state.update(state=2, checking="", normal=5, alarm=1, score=95)
                for category in ("system", "network", "hardware"):
                    if self.state[category] is not None:
                        self.state[category] = [{"item": category, "status": "normal"}]
        return dict(self.state)

    def post(self, path, body=None):
        self.calls.append(("POST", path, body))
        assert body["cluster_uuid"] == CLUSTER["cluster_uuid"] and body["cluster_name"] == "demo"
        if path == "/v1/cluster/inspection":
            if self.state["state"] == 1:
                raise TosApiError("already running", kind="api", code=4601)
            self._start(body)
        elif path == "/v1/cluster/inspection/stop":
            if self.state["state"] == 1:
                self.state["state"] = 3
        if self.lose_answer == path:
            self.lose_answer = None
            raise TosApiError("lost", method="POST", path=path, kind="timeout", may_have_landed=True)
        return dict(self.state)

    @property
    def posts(self):
        return [(path, body) for method, path, body in self.calls if method == "POST"]


def test_start_waits_and_returns_the_full_result(capsys):
    fake = FakeInspections(step=50)
    result = run_module(inspection.main, {"cluster": "demo"}, fake, capsys)
    assert result["changed"] is True and result["attached"] is False
    assert [p for p, _b in fake.posts] == ["/v1/cluster/inspection"]
    assert fake.posts[0][1]["check_system"] and fake.posts[0][1]["check_network"] and fake.posts[0][1]["check_hardware"]
    shown = result["inspection"]
    assert shown["state_name"] == "finished" and shown["finishedPercent"] == 100 and shown["score"] == 95
    assert shown["system"] and shown["network"] and shown["hardware"]


def test_running_inspection_is_attached_not_started_again(capsys):
    fake = FakeInspections(running=True, step=30)
    result = run_module(inspection.main, {"cluster": "demo", "wait": False}, fake, capsys)
    assert result["changed"] is False and result["attached"] is True
    assert fake.posts == [] and fake.runs == 1
    assert result["inspection"]["running"] is True


def test_attach_and_wait_returns_the_running_inspections_result(capsys):
    fake = FakeInspections(running=True, step=30)
    result = run_module(inspection.main, {"cluster": "demo", "checks": ["network"]}, fake, capsys)
    assert result["changed"] is False and result["attached"] is True and fake.posts == []
    assert result["inspection"]["state_name"] == "finished" and result["inspection"]["id"] == "run-1"


def test_timeout_fails_saying_how_far_it_got_and_that_it_started_one(capsys):
    fake = FakeInspections(step=1)
    result = run_module(inspection.main, {"cluster": "demo", "wait_timeout": 1}, fake, capsys)
    assert result["failed"] and result["changed"] is True
    assert "Timed out after 1s" in result["msg"] and "attach" in result["msg"]
    assert result["inspection"]["running"] is True and 0 < result["inspection"]["finishedPercent"] < 100
    assert len(fake.posts) == 1


def test_lost_start_answer_is_verified_not_repeated(capsys):
    fake = FakeInspections(step=100, lose_answer="/v1/cluster/inspection")
    result = run_module(inspection.main, {"cluster": "demo", "wait": False}, fake, capsys)
    assert result["changed"] is True
    assert len(fake.posts) == 1 and fake.runs == 1


def test_one_started_by_someone_else_in_between_is_attached(capsys):
    fake = FakeInspections(step=30)
    real_post = fake.post

    def racing_post(path, body=None):
        fake._start(body)  # another client wins the race
        fake.state["finishedPercent"] = 10
        return real_post(path, body)
    fake.post = racing_post
    result = run_module(inspection.main, {"cluster": "demo", "wait": False}, fake, capsys)
    assert result["changed"] is False and result["attached"] is True and fake.runs == 1
    assert result["inspection"]["running"] is True


def test_a_refused_start_without_a_running_inspection_fails_with_the_servers_reason(capsys):
    fake = FakeInspections()

    def refuse(path, body=None):
        raise TosApiError("POST %s was refused by the manager (code 6002): license expired." % path, kind="api")
    fake.post = refuse
    result = run_module(inspection.main, {"cluster": "demo"}, fake, capsys)
    assert result["failed"] and "license expired" in result["msg"] and "start the inspection" in result["msg"]
    assert "exception" not in result


def test_check_mode_says_it_would_start_without_starting(capsys):
    fake = FakeInspections()
    result = run_module(inspection.main, {"cluster": "demo"}, fake, capsys, check_mode=True, diff=True)
    assert result["changed"] is True and fake.posts == []
    assert result["diff"] == {"before": {"state": "idle"}, "after": {"state": "running",
                                                                     "checks": ["system", "network", "hardware"]}}


def test_only_the_checks_asked_for_are_sent(capsys):
    fake = FakeInspections()
    result = run_module(inspection.main, {"cluster": "demo", "checks": ["hardware"], "wait": False}, fake, capsys)
    assert fake.posts[0][1] == {"cluster_uuid": CLUSTER["cluster_uuid"], "cluster_name": "demo",
                                "check_system": False, "check_network": False, "check_hardware": True}
    assert result["inspection"]["system"] is None


def test_stop_when_none_runs_changes_nothing(capsys):
    fake = FakeInspections()
    result = run_module(inspection.main, {"cluster": "demo", "state": "stopped"}, fake, capsys)
    assert result["changed"] is False and fake.posts == []


def test_stop_a_running_inspection(capsys):
    fake = FakeInspections(running=True, step=0)
    check = run_module(inspection.main, {"cluster": "demo", "state": "stopped"}, fake, capsys, check_mode=True)
    assert check["changed"] is True and fake.posts == []
    result = run_module(inspection.main, {"cluster": "demo", "state": "stopped"}, fake, capsys)
    assert result["changed"] is True and [p for p, _b in fake.posts] == ["/v1/cluster/inspection/stop"]
    assert result["inspection"]["state_name"] == "stopped"


def test_no_checks_sends_the_documented_defaults(capsys):
    fake = FakeInspections()
    run_module(inspection.main, {"cluster": "demo", "checks": [], "wait": False}, fake, capsys)
    body = next(b for p, b in fake.posts if p == "/v1/cluster/inspection")
    assert (body["check_system"], body["check_network"], body["check_hardware"]) == (False, False, False)


@pytest.mark.parametrize("args, fragment", [
    ({"cluster": "demo", "wait_timeout": 0}, "wait_timeout"),
    ({"cluster": "nope"}, "cluster"),
])
def test_bad_input_fails_naming_the_option_without_posting(capsys, args, fragment):
    fake = FakeInspections()
    result = run_module(inspection.main, args, fake, capsys)
    assert result["failed"] and fragment in result["msg"] and fake.posts == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_joined_waits_for_the_running_inspection_and_never_starts_one(capsys, check_mode):
    fake = FakeInspections(running=True, step=30)
    result = run_module(inspection.main, {"cluster": "demo", "state": "joined"}, fake, capsys, check_mode=check_mode)
    assert result["changed"] is False and result["attached"] and result["started_by"] == "another_run"
    assert fake.runs == 1 and not [c for c in fake.calls if c[0] == "POST"]
    if not check_mode:
        assert result["inspection"]["state_name"] == "finished"
    # once it has ended: the last result, and still nothing started
    again = run_module(inspection.main, {"cluster": "demo", "state": "joined"}, fake, capsys, check_mode=check_mode)
    assert again["changed"] is False and again["started_by"] is None
    assert fake.runs == 1 and not [c for c in fake.calls if c[0] == "POST"]


def test_started_says_this_run_started_it(capsys):
    fake = FakeInspections()
    result = run_module(inspection.main, {"cluster": "demo"}, fake, capsys)
    assert result["changed"] and result["started_by"] == "this_run" and fake.runs == 1


class DocumentedStart(FakeInspections):
    """cluster-api.md's start answer: ``state: 0``, nothing checked yet, ``"UUID": ""``.  Progress reads the same
    (queued) for ``queued`` reads after a start, then the inspection runs; ``zero_while_running``: the other reading
    of that 0, the state stays 0 while items are checked."""

    def __init__(self, queued=2, zero_while_running=False, **kwargs):
        self.queued_reads, self.queued, self.zero_while_running = queued, 0, zero_while_running
        super().__init__(**kwargs)
        self.queued = 0

    def _start(self, body):
        super()._start(body)
        self.state["status"] = {"code": 0, "UUID": ""}
        self.queued = self.queued_reads

    def get(self, path, params=None):
        if self.queued:
            self.queued -= 1
            self.calls.append(("GET", path, params))
            return dict(self.state, state=0, checking="", finishedPercent=0)
        data = super().get(path, params)
        if self.zero_while_running and data["state"] == 1:
            data["state"] = 0
        return data

    def post(self, path, body=None):
        answer = super().post(path, body)
        return dict(answer, state=0, checking="", finishedPercent=0) if path == "/v1/cluster/inspection" else answer


def test_a_documented_start_answer_is_waited_for_not_read_as_idle(capsys):
    # the start answer and the first progress readings carry state 0, as cluster-api.md's example
    fake = DocumentedStart(queued=2, step=50)
    result = run_module(inspection.main, {"cluster": "demo"}, fake, capsys)
    assert result["changed"] is True and result["started_by"] == "this_run" and fake.runs == 1
    assert result["inspection"]["state_name"] == "finished" and result["inspection"]["score"] == 95


def test_a_documented_start_answer_without_wait_reports_the_inspection_running(capsys):
    fake = DocumentedStart(queued=5)
    result = run_module(inspection.main, {"cluster": "demo", "wait": False}, fake, capsys)
    assert result["changed"] is True and result["started_by"] == "this_run"
    assert result["inspection"]["running"] is True and result["inspection"]["state"] == 0


def test_state_0_while_an_item_is_checked_is_running_and_joined(capsys):
    fake = DocumentedStart(queued=0, zero_while_running=True, running=True, step=30)
    result = run_module(inspection.main, {"cluster": "demo", "state": "joined"}, fake, capsys)
    assert result["attached"] is True and result["started_by"] == "another_run" and fake.posts == []
    assert result["inspection"]["state_name"] == "finished"


class EndsIdle(FakeInspections):
    """The other reading of ``state: 0``: a finished inspection reads idle again, with its results."""

    def get(self, path, params=None):
        data = super().get(path, params)
        if data["state"] == 2:
            self.state["state"] = data["state"] = 0
        return data


def test_an_inspection_that_ends_reading_idle_with_its_results_is_finished_not_waited_for(capsys):
    """After this run's start, "idle" means "not under way yet" only for the documents' start answer (nothing
    checked, 0 %): an idle answer with results is the end, not a wait until wait_timeout."""
    fake = EndsIdle(step=50)
    result = run_module(inspection.main, {"cluster": "demo", "wait_timeout": 20}, fake, capsys)
    assert not result.get("failed"), result
    assert result["started_by"] == "this_run" and fake.runs == 1
    assert result["inspection"]["finishedPercent"] == 100 and result["inspection"]["score"] == 95
    assert len([c for c in fake.calls if c[0] == "GET"]) <= 4, fake.calls
