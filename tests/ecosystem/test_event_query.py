# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""extensions/audit/event_query.yml, Automation Platform's indirect node counting, on real results.

The demo (playbooks/site.yml) and tests/ecosystem/event_query_more.yml run as a job through ansible-runner
against the simulator, as AWX runs them. Each job event that carries a module result (`res`) and a
`resolved_action` with a query is fed to that query with the jq engine AAP uses (the `jq` bindings), the way
AAP does it: every row with `canonical_facts` is a node, and a job counts each distinct node once. The rows
are checked against the simulator's state: every object a task managed gives exactly one row, with the
object's own UUID, and a task that managed nothing gives none.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter

import ansible_runner
import jq
import pytest
import requests

from ansible_collections.tos.cloud.tests.ecosystem.helpers import COLLECTIONS, REPO_ROOT, VENV_BIN, load_yaml
from simulator.testing import run_simulator

QUERIES = load_yaml(REPO_ROOT / "extensions" / "audit" / "event_query.yml")
# modules that manage no node of the platform (see the comment at the top of event_query.yml)
NO_NODE = {"host_facts", "report_mail", "report_files", "mail_setting", "system_setting"}


def state_modules():
    return sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py")
                  if not p.stem.endswith("_info") and not p.name.startswith("_"))


def rows(event):
    """What AAP takes from one job event: the query's rows that have canonical_facts."""
    data = event.get("event_data") or {}
    action, res = data.get("resolved_action"), data.get("res")
    if res is None or action not in QUERIES:
        return []
    return [row for row in jq.compile(QUERIES[action]["query"]).input(res).all() if row and row.get("canonical_facts")]


def test_every_state_module_has_one_query():
    expected = {"tos.cloud." + name for name in state_modules() if name not in NO_NODE}
    assert set(QUERIES) == expected
    for name, entry in QUERIES.items():
        assert set(entry) == {"query"}, name
        jq.compile(entry["query"])


def test_a_result_without_the_object_gives_no_row():
    for name in QUERIES:
        for res in ({}, {"failed": True, "msg": "boom"}, {"results": [{"changed": False}]}, {"cluster": None, "hosts": []}):
            event = {"event_data": {"resolved_action": name, "res": res}}
            assert rows(event) == [], (name, res)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The demo and the extra play as one AWX-style job; (runner events, simulator state)."""
    work = tmp_path_factory.mktemp("event-query")
    with run_simulator(speed=200, extensions="all") as url:
        pdd = work / "job"
        shutil.copytree(REPO_ROOT / "playbooks", pdd / "project")
        shutil.copy(REPO_ROOT / "tests" / "ecosystem" / "event_query_more.yml", pdd / "project" / "event_query_more.yml")
        (pdd / "inventory").mkdir()
        shutil.copy(REPO_ROOT / "playbooks" / "inventory" / "demo.ini", pdd / "inventory" / "hosts")
        envvars = dict(TOS_API_URL=url, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                       ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="false",
                       PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
        events = []
        for playbook in ("site.yml", "event_query_more.yml"):
            result = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, envvars=envvars, quiet=True,
                                        suppress_env_files=True, timeout=900,
                                        extravars={"tos_report_dir": str(work / "report")})
            assert result.status == "successful", "%s: %s rc=%s" % (playbook, result.status, result.rc)
            events += list(result.events)
        state = requests.get(url + "/_sim/state", timeout=10).json()
    return events, state


def by_action(events, action):
    return [event for event in events if (event.get("event_data") or {}).get("resolved_action") == action
            and "res" in event["event_data"]]


def test_every_managed_object_gives_exactly_one_row(job):
    events, state = job
    clusters = {c["name"]: uuid for uuid, c in state["clusters"].items()}
    counted = 0
    for action in QUERIES:
        for event in by_action(events, action):
            res = event["event_data"]["res"]
            found = rows(event)
            if "results" in res:  # a loop's summary: its items were events of their own
                assert found == [], action
                continue
            # ansible-core 2.19 keeps `failed` out of the result: the event says it
            if event.get("event") in ("runner_on_failed", "runner_on_skipped") or res.get("failed") or res.get("skipped"):
                assert found == [], (action, res.get("msg"))
                continue
            if action == "tos.cloud.upgrade":
                expected = [host["uuid"] for host in res["hosts"]]
                assert sorted(expected) == sorted(state["clusters"][clusters["demo-c"]]["hosts"])
            elif action in ("tos.cloud.cvm", "tos.cloud.storage_service_vm"):
                vm = res.get("cvm") or res.get("storage_vm") or {}
                expected = [vm["uuid"]] if vm.get("uuid") else []
            else:
                assert "cluster" in res, (action, event["event_data"].get("task"), event.get("event"), sorted(res))
                expected = [res["cluster"]["uuid"]]
                assert expected[0] in state["clusters"], action
            ids = [row["canonical_facts"]["id"] for row in found]
            assert ids == expected, (action, ids, expected)
            counted += len(ids)
    assert counted, "no row at all"


def test_the_job_counts_each_object_once_and_every_object_it_managed(job):
    events, state = job
    nodes = Counter()
    for event in events:
        for row in rows(event):
            nodes[tuple(sorted(row["canonical_facts"].items()))] += 1
    ids = {dict(key)["id"] for key in nodes}
    # the three demo clusters, their cloud-management and storage-service VMs, and demo-c's hosts
    assert set(state["clusters"]) <= ids
    demo_c = next(c for c in state["clusters"].values() if c["name"] == "demo-c")
    assert set(demo_c["hosts"]) <= ids
    vms = set(state["cvms"]) | set(state["storage_vms"])
    assert vms and vms <= ids, "the VMs the demo deployed are not all counted"
    # one node per object: the same UUID never shows up under two different canonical_facts
    twice = [uuid for uuid, count in Counter(dict(key)["id"] for key in nodes).items() if count > 1]
    assert not twice, twice


def test_an_absent_vm_that_did_not_exist_counts_nothing(job):
    events, _state = job
    absent = [event for event in by_action(events, "tos.cloud.cvm") if event["event_data"]["res"].get("changed") is False
              and event["event_data"].get("task") == "Remove a cloud-management VM that does not exist (manages nothing)"]
    assert absent and all(rows(event) == [] for event in absent)


def test_the_failed_task_counts_nothing(job):
    events, _state = job
    failed = [event for event in events if event.get("event") == "runner_on_failed"]
    assert failed, "the play's failing task did not fail"
    assert all(rows(event) == [] for event in failed)
