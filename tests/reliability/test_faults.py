# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 1, faults: the simulator injects a fault (POST /_sim/faults, /_sim/manager) and a real
module (or role) runs into it.

- a transient fault on a read is retried and the task succeeds;
- a mutating call that may have landed (``apply: true``: processed, answer lost) is never
  duplicated (one cluster, one CVM, one snapshot in GET /_sim/state);
- a persistent fault fails with a clear message naming the /v1 path, never a traceback;
- a re-run after the fault clears converges.

All cases of one target run in one playbook (one xdist group); each row is one module execution.
"""

from __future__ import annotations

import json

import pytest
import relib

# ---- the faults ------------------------------------------------------------------------------

TRANSPORT = {
    "http500": {"kind": "http", "status": 500},
    "http502": {"kind": "http", "status": 502},
    "http503": {"kind": "http", "status": 503, "retry_after": 1},
    "http504": {"kind": "http", "status": 504},
    "drop": {"kind": "drop"},
    "latency": {"kind": "latency", "seconds": 3},  # against timeout: 1
}
ENVELOPE = {"kind": "envelope", "code": 5123, "message_en": "injected envelope fault", "message_cn": "注入的信封故障"}
NEW_LEADER = "192.0.2.13"

CLUSTER_A = {"name": "rel-a", "seed": relib.SEEDS["a"],
             "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}


def _timeout(fault):
    return 1 if fault == "latency" else 20


# ---- targets -------------------------------------------------------------------------------
# kind: read | mutating.  count(summary) -> how many of the target's objects exist.

TARGETS = {
    "system_info": {
        "kind": "read", "module": "system_info", "params": {}, "fixture": None,
        "path": "/v1/system/version", "method": "GET",
    },
    "cluster_info": {
        "kind": "read", "module": "cluster_info", "params": {"cluster": "rel-a"}, "fixture": "a",
        "path": "/v1/cluster/*", "method": "GET",
    },
    "cluster": {
        "kind": "mutating", "module": "cluster", "params": {"name": "rel-new", "ip": relib.SEEDS["b"], "state": "present"},
        "fixture": None, "path": "/v1/cluster/add", "method": "POST",
        "count": lambda s: len([n for n in s["cluster_names"] if n == "rel-new"]),
        "total": lambda s: len(s["cluster_names"]),
    },
    "cvm": {
        "kind": "mutating", "module": "cvm",
        "params": {"cluster": "rel-a", "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1",
                   "state": "present", "wait_timeout": 60},
        "fixture": "a", "path": "/v1/cluster/deploy/cvm", "method": "POST",
        "count": lambda s: len([c for c in s["cvms"] if c["address"] == "192.0.2.102/24"]),
        "total": lambda s: len(s["cvms"]),
    },
    "metadata_snapshot": {
        "kind": "mutating", "module": "metadata_snapshot", "params": {"cluster": "rel-a", "state": "present"},
        "fixture": "a", "path": "/v1/cluster/data/snapshot/save", "method": "POST",
        "count": lambda s: len(s["clusters"]["rel-a"]["snapshots"]),
        "total": lambda s: len(s["clusters"]["rel-a"]["snapshots"]),
    },
}


def read_cases():
    """(case id, fault spec or special, phase expectations)."""
    cases = []
    for name, spec in TRANSPORT.items():
        cases.append((name + "-once", dict(spec, count=1), "ok"))
    for name, spec in TRANSPORT.items():
        cases.append((name + "-persistent", dict(spec), "fail"))
    cases.append(("envelope-once", dict(ENVELOPE, count=1), "fail"))
    cases += [("leader-change", "leader", "ok"), ("not-ready", "not_ready", "ok"), ("failover", "failover", "ok")]
    return cases


def mutating_cases():
    cases = []
    for name, spec in TRANSPORT.items():
        once = dict(spec, count=1)
        if name != "latency":
            once["apply"] = True  # processed, answer lost
        cases.append((name + ("-landed" if name != "latency" else "-once"), once, "ok"))
    for name, spec in TRANSPORT.items():
        # a slow manager applies each POST after the client gave up on it: the module may find the
        # first one landed when it re-reads (success) or fail; it must never duplicate
        cases.append((name + "-persistent", dict(spec), "any" if name == "latency" else "fail"))
    cases.append(("envelope-landed", dict(ENVELOPE, count=1, apply=True), "fail"))
    cases += [("leader-change", "leader", "ok"), ("not-ready", "not_ready", "any"), ("failover", "failover", "ok")]
    return cases


# The whole fault list runs against system_info (read) and cluster (create); the other targets
# take the landed/once faults, the special ones, and a few persistent ones, to keep the suite fast.
SUBSETS = {
    "cluster_info": {"http502-once", "http504-once", "drop-once", "latency-once", "http500-persistent",
                     "envelope-once", "leader-change", "not-ready", "failover"},
    "cvm": None,
    "metadata_snapshot": None,
}
MUTATING_PERSISTENT_SUBSET = {"http500-persistent", "drop-persistent", "latency-persistent"}


def cases_of(target):
    cases = read_cases() if TARGETS[target]["kind"] == "read" else mutating_cases()
    if target in SUBSETS:
        keep = SUBSETS[target]
        if keep is None:
            cases = [c for c in cases if not c[0].endswith("-persistent") or c[0] in MUTATING_PERSISTENT_SUBSET]
        else:
            cases = [c for c in cases if c[0] in keep]
    return cases


def rerun_of(expect):
    """Cases whose fault may leave the task failed get a re-run row after the fault clears."""
    return expect in ("fail", "any")


def rows(target):
    out = []
    for cid, _fault, expect in cases_of(target):
        out.append(pytest.param(cid, "fault", id=cid))
        if rerun_of(expect):
            out.append(pytest.param(cid, "rerun", id=cid + "-rerun"))
    return out


# ---- the batch playbook of one target ------------------------------------------------------


def build_batch(target, sim, fixtures):
    t = TARGETS[target]
    batch = relib.Batch(sim.url)
    fixture = fixtures[t["fixture"]] if t["fixture"] else str(relib.DEFAULT_FIXTURE)
    for cid, fault, expect in cases_of(target):
        params = dict(t["params"], timeout=_timeout(cid.split("-", maxsplit=1)[0]))
        pre = {"reset": fixture, "clear_log": True}
        if isinstance(fault, dict):
            pre["faults"] = [dict(fault, path=t["path"], method=t["method"])]
        elif fault == "leader":
            pre["manager"] = {"leader": NEW_LEADER}
        elif fault == "not_ready":
            pre["manager"] = {"ready": False}
        elif fault == "failover":
            params["api_url"] = [relib.dead_url(), sim.url]
        tasks = [relib.module_task(cid, t["module"], params)]
        # let requests still sleeping in the simulator (latency) land before the state is read
        post = {"sleep": 3.2 if cid.startswith("latency") and t["kind"] == "mutating" else 0, "manager": {"ready": True}}
        if rerun_of(expect):
            tasks.append(relib.sim_step("mid " + cid, sim.url, **post, clear_faults=True, read=True, clear_log=True))
            rerun = dict(t["params"], timeout=20)
            tasks.append(relib.module_task("rerun " + cid, t["module"], rerun))
            post = {}
        batch.case(cid, tasks, pre=pre, post=post)
    return batch


_RUNS = {}


@pytest.fixture(scope="module")
def fixtures():
    dir = relib.workdir("faults-fixtures")
    return {"a": str(relib.write_fixture(dir / "a.yml", clusters=[CLUSTER_A]))}


@pytest.fixture()
def batch_run(sim, fixtures):
    def get(target):
        if target not in _RUNS:
            _RUNS[target] = build_batch(target, sim, fixtures).run(relib.workdir("faults-" + target))
        return _RUNS[target]
    return get


# ---- the rows --------------------------------------------------------------------------------

KNOWN = {}


def _describe(result):
    return json.dumps({k: result.get(k) for k in ("failed", "msg", "changed", "exception") if k in result})[:1500]


def check_row(batch_run, target, cid, phase):
    known = KNOWN.get((target, cid, phase))
    if known:
        pytest.xfail(known)
    t = TARGETS[target]
    expect = dict((c, e) for c, _f, e in cases_of(target))[cid]
    run = batch_run(target)
    if phase == "rerun":
        mid = run.result(cid, "mid " + cid)
        result = run.result(cid, "rerun " + cid)
        end = run.end(cid)
        assert not result.get("failed"), "re-run after the fault cleared failed: %s" % _describe(result)
        if t["kind"] == "mutating":
            before = t["count"](mid["summary"])
            expected = before + 1 if target == "metadata_snapshot" else 1
            count = t["count"](end["summary"])
            assert count == expected, "after the re-run: %d objects, expected %d" % (count, expected)
            if target != "metadata_snapshot":
                assert bool(result.get("changed")) == (before == 0), \
                    "the re-run reported changed=%s with %d object(s) already there" % (result.get("changed"), before)
        return
    result = run.result(cid)
    end = run.end(cid) if not rerun_of(expect) else run.result(cid, "mid " + cid)
    hit = [r for r in end["requests"] if r.get("fault")]
    special = cid in ("leader-change", "not-ready", "failover")
    if not special:
        assert hit, "the fault was never hit: %s" % end["requests"]
    relib.assert_no_traceback(result)
    if expect == "ok":
        assert not result.get("failed"), "task failed: %s" % _describe(result)
    elif expect == "fail":
        path = hit[0]["path"] if hit else t["path"]
        relib.assert_clean_failure(result, path=path)
        if "envelope" in cid:
            assert ENVELOPE["message_en"] in result["msg"] and ENVELOPE["message_cn"] in result["msg"], result["msg"]
    else:  # either outcome is acceptable, but a failure must be clean
        if result.get("failed"):
            relib.assert_clean_failure(result)
    if t["kind"] == "mutating":
        count = t["count"](end["summary"])
        if expect == "ok":
            assert count == 1, "expected exactly one object, found %d (%s)" % (count, end["summary"]["cluster_names"])
        else:
            assert count <= 1, "duplicated: %d objects after %s" % (count, cid)
        posts = [r for r in end["requests"] if r["method"] == "POST" and r["path"] == t["path"]]
        if cid.endswith("-landed"):
            assert len(posts) == 1, "a POST that had landed was sent again: %s" % posts
    if target == "system_info" and cid == "leader-change":
        assert result["members"]["leader"] == NEW_LEADER
    if target == "system_info" and cid == "not-ready":
        assert result["members"]["ready"] is False


def _table_class(target):
    """One class per target: xdist --dist loadscope keeps a class on one worker, so each batch
    playbook runs once (pytest-xdist's loadgroup does not group under pytest 9)."""

    class FaultRows:
        @pytest.mark.parametrize("cid,phase", rows(target))
        def test_fault(self, batch_run, cid, phase):
            check_row(batch_run, target, cid, phase)

    FaultRows.__name__ = FaultRows.__qualname__ = "TestFaults_" + target
    return FaultRows


for _target in TARGETS:
    globals()["TestFaults_" + _target] = _table_class(_target)
