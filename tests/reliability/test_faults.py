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
        "fixture": None, "path": "/v1/cluster/add", "method": "POST", "operation": "Could not create cluster",
        "count": lambda s: len([n for n in s["cluster_names"] if n == "rel-new"]),
        "total": lambda s: len(s["cluster_names"]),
    },
    "cvm": {
        "kind": "mutating", "module": "cvm",
        "params": {"cluster": "rel-a", "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1",
                   "state": "present", "wait_timeout": 60},
        "fixture": "a", "path": "/v1/cluster/deploy/cvm", "method": "POST",
        "operation": "Could not deploy a cloud-management VM",
        "count": lambda s: len([c for c in s["cvms"] if c["address"] == "192.0.2.102/24"]),
        "total": lambda s: len(s["cvms"]),
    },
    "metadata_snapshot": {
        "kind": "mutating", "module": "metadata_snapshot", "params": {"cluster": "rel-a", "state": "present"},
        "fixture": "a", "path": "/v1/cluster/data/snapshot/save", "method": "POST",
        "operation": "Could not take a metadata snapshot",
        "count": lambda s: len(s["clusters"]["rel-a"]["snapshots"]),
        "total": lambda s: len(s["clusters"]["rel-a"]["snapshots"]),
    },
    "storage_service_vm": {
        "kind": "mutating", "module": "storage_service_vm",
        "params": {"cluster": "rel-a", "manage_address": "192.0.2.121/24", "manage_gateway": "192.0.2.1",
                   "storage_address": "192.0.2.161/24", "storage_gateway": "192.0.2.1", "wait_timeout": 60},
        "fixture": "a", "path": "/v1/cluster/deploy/storage_service/vm", "method": "POST",
        "operation": "Could not deploy the storage-service VM",
        "count": lambda s: len([v for v in s["storage_vms"] if v["manage_cidr"] == "192.0.2.121/24"]),
        "total": lambda s: len(s["storage_vms"]),
    },
}


# ---- mid-role targets: the fault hits one step of a role run ------------------------------------

BRINGUP = [{"name": "rel-b", "seed_ip": relib.SEEDS["b"],
            "cvms": [{"host": "tos-b1", "address": "198.51.100.101/24", "gateway": "198.51.100.1"}],
            "drs": {"enabled": True, "threshold_level": 4, "max_step": 2}, "dpm": {"enabled": False},
            "global_config": {"cpu": 2.0}, "snapshot_policy": {"interval": "6h", "daemon": "started"}}]


def _bringup_count(s):
    cluster = s["clusters"].get("rel-b")
    if not cluster:
        return 0
    return len([c for c in s["cvms"] if c["address"] == "198.51.100.101/24"]) * len(
        [n for n in s["cluster_names"] if n == "rel-b"])


def _upgraded(s):
    """How many hosts of rel-a run the package version on every service."""
    return len([h for h, v in s["host_versions"].items() if h.startswith("tos-a") and set(v.values()) == {"3.2.5.rc2"}])


# Mid-role, every fault kind hits one of the two roles (the transient 502 hits rolling_upgrade's
# progress polling); rolling_upgrade takes the ones that matter most to it: a lost answer to the upgrade and to the snapshot, a flaky progress read, a
# persistent refusal it must stop at and resume after, an unready manager, a dead first URL.
ROLE_TARGETS = {
    "cluster_bringup": {
        # the suite reads the result back itself: the role's own verify pass is left out (it only reads)
        "fixture": None, "vars": {"cluster_bringup_clusters": BRINGUP, "cluster_bringup_verify": False},
        "count": _bringup_count, "want": 1,
        "cases": [
            ("http500-landed", {"kind": "http", "status": 500, "count": 1, "apply": True,
                                "path": "/v1/cluster/deploy/cvm", "method": "POST"}, "ok"),
            ("http503-persistent", {"kind": "http", "status": 503, "retry_after": 1,
                                    "path": "/v1/cluster/compute/service/drsconfig/update", "method": "POST"}, "fail"),
            ("http504-once", {"kind": "http", "status": 504, "count": 2, "path": "/v1/cluster/list", "method": "GET"}, "ok"),
            ("drop-landed", {"kind": "drop", "count": 1, "apply": True, "path": "/v1/cluster/add", "method": "POST"}, "ok"),
            ("latency-once", {"kind": "latency", "seconds": 3, "count": 1, "path": "/v1/cluster/host/task/progress",
                              "method": "GET"}, "ok"),
            ("envelope-landed", dict(ENVELOPE, count=1, apply=True, path="/v1/cluster/set/global/config",
                                     method="POST"), "fail"),
            ("leader-change", "leader", "ok"),
            ("not-ready", "not_ready", "fail"),
            ("failover", "failover", "ok"),
        ],
    },
    "rolling_upgrade": {
        "fixture": "a", "vars": {"rolling_upgrade_cluster": "rel-a", "rolling_upgrade_hosts": ["tos-a2"],
                                 "rolling_upgrade_health_delay": 1},
        "count": _upgraded, "want": 1,
        "cases": [
            ("http500-landed", {"kind": "http", "status": 500, "count": 1, "apply": True,
                                "path": "/v1/system/compute/version/upgrade", "method": "POST"}, "ok"),
            ("drop-landed", {"kind": "drop", "count": 1, "apply": True, "path": "/v1/cluster/data/snapshot/save",
                             "method": "POST"}, "ok"),
            ("http502-once", {"kind": "http", "status": 502, "count": 1, "path": "/v1/cluster/host/task/progress",
                              "method": "GET"}, "ok"),
            ("http503-persistent", {"kind": "http", "status": 503, "retry_after": 1,
                                    "path": "/v1/system/compute/version/upgrade", "method": "POST"}, "fail"),
            ("not-ready", "not_ready", "fail"),
            ("failover", "failover", "ok"),
        ],
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
    # lost before it was applied: the module re-reads, finds nothing, and sends it again, once
    cases.append(("http502-lost", dict(TRANSPORT["http502"], count=1), "ok"))
    cases.append(("drop-lost", dict(TRANSPORT["drop"], count=1), "ok"))
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
    "storage_service_vm": {"http500-landed", "drop-landed", "latency-once", "http500-persistent", "drop-persistent",
                           "envelope-landed"},
}
MUTATING_PERSISTENT_SUBSET = {"http500-persistent", "drop-persistent", "latency-persistent"}


# targets whose cases are split over several batch playbooks (test classes), to spread them over
# the xdist workers
PARTS = {"system_info": 2, "cluster": 2, "cluster_bringup": 2, "rolling_upgrade": 2}


def cases_of(target, part=None):
    cases = all_cases_of(target)
    if part is None:
        return cases
    n = PARTS.get(target, 1)
    return [c for i, c in enumerate(cases) if i % n == part]


def all_cases_of(target):
    if target in ROLE_TARGETS:
        return ROLE_TARGETS[target]["cases"]
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


def rows(target, part):
    out = []
    for cid, _fault, expect in cases_of(target, part):
        out.append(pytest.param(cid, "fault", id=cid))
        if rerun_of(expect):
            out.append(pytest.param(cid, "rerun", id=cid + "-rerun"))
    return out


# ---- the batch playbook of one target ------------------------------------------------------


def build_batch(target, part, sim, fixtures):
    t = TARGETS[target]
    batch = relib.Batch(sim.url)
    fixture = fixtures[t["fixture"]] if t["fixture"] else str(relib.DEFAULT_FIXTURE)
    for cid, fault, expect in cases_of(target, part):
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
        post = {"sleep": 3.2 if cid.startswith("latency") and t["kind"] == "mutating" else 0, "post_manager": {"ready": True}}
        if rerun_of(expect):
            tasks.append(relib.sim_step("mid " + cid, sim.url, **post, clear_faults=True, read=True, clear_log=True))
            rerun = dict(t["params"], timeout=20)
            tasks.append(relib.module_task("rerun " + cid, t["module"], rerun))
            post = {}
        batch.case(cid, tasks, pre=pre, post=post)
    return batch


def build_role_batch(target, part, sim, fixtures):
    t = ROLE_TARGETS[target]
    batch = relib.Batch(sim.url)
    fixture = fixtures[t["fixture"]] if t["fixture"] else str(relib.DEFAULT_FIXTURE)

    def role(name, role_vars):
        return {"name": "block " + name, "block": [
            {"name": name, "ansible.builtin.include_role": {"name": "tos.cloud." + target}, "vars": role_vars}],
            "rescue": [{"name": "rescued " + name, "ansible.builtin.debug": {"msg": "the role failed"}}]}

    for cid, fault, expect in cases_of(target, part):
        role_vars = dict(t["vars"], tos_api_url=sim.url, tos_timeout=_timeout(cid.split("-", maxsplit=1)[0]))
        pre = {"reset": fixture, "clear_log": True}
        if isinstance(fault, dict):
            pre["faults"] = [fault]
        elif fault == "leader":
            pre["manager"] = {"leader": NEW_LEADER}
        elif fault == "not_ready":
            pre["manager"] = {"ready": False}
        elif fault == "failover":
            role_vars["tos_api_url"] = [relib.dead_url(), sim.url]
        tasks = [role(cid, role_vars)]
        post = {"post_manager": {"ready": True}}
        if rerun_of(expect):
            tasks.append(relib.sim_step("mid " + cid, sim.url, **post, clear_faults=True, read=True, clear_log=True))
            tasks.append(role("rerun " + cid, dict(t["vars"], tos_api_url=sim.url)))
            post = {}
        batch.case(cid, tasks, pre=pre, post=post)
    return batch


_RUNS = {}


@pytest.fixture(scope="module")
def fixtures():
    dir = relib.workdir("faults-fixtures")
    return {"a": str(relib.write_fixture(dir / "a.yml", clusters=[CLUSTER_A]))}


@pytest.fixture(scope="module")
def role_sims():
    sims = []
    yield sims
    for one in sims:
        one.stop()


@pytest.fixture()
def batch_run(sim, fixtures, role_sims):
    def get(target, part):
        key = (target, part)
        if key not in _RUNS:
            dir = relib.workdir("faults-%s-%d" % key)
            if target in ROLE_TARGETS:
                # roles wait for deploys and upgrades: a faster clock keeps them short
                if not role_sims:
                    role_sims.append(relib.Sim("roles", speed=400).start())
                _RUNS[key] = build_role_batch(target, part, role_sims[0], fixtures).run(dir)
            else:
                _RUNS[key] = build_batch(target, part, sim, fixtures).run(dir)
        return _RUNS[key]
    yield get


# ---- the rows --------------------------------------------------------------------------------

KNOWN = {}


def _describe(result):
    return json.dumps({k: result.get(k) for k in ("failed", "msg", "changed", "exception") if k in result})[:1500]


def _in_part(records, cid, rerun):
    """The records of the role run itself (or of its re-run) within the case."""
    names = [r["task"] for r in records]
    mid = names.index("mid " + cid) if "mid " + cid in names else len(records)
    return records[mid:] if rerun else records[:mid]


def check_role_row(batch_run, target, part, cid, phase):
    t = ROLE_TARGETS[target]
    if not (relib.ROOT / "roles" / target / "tasks" / "main.yml").exists():
        pytest.skip("%s is not in the collection yet" % target)
    known = KNOWN.get((target, cid, phase))
    if known:
        pytest.xfail(known)
    expect = dict((c, e) for c, _f, e in t["cases"])[cid]
    run = batch_run(target, part)
    records = run.slice(cid)
    part = _in_part(records, cid, phase == "rerun")
    failures = [r for r in part if r["status"] == "failed"]
    for rec in part:
        relib.assert_no_traceback(rec["result"])
    if phase == "rerun":
        end = run.end(cid)
        assert not failures, "the re-run after the fault cleared failed: %s" % relib.failure_text(failures[0]["result"])
        assert t["count"](end["summary"]) == t["want"], "after the re-run: %s" % end["summary"]["cluster_names"]
        return
    state = run.result(cid, "mid " + cid) if rerun_of(expect) else run.end(cid)
    hit = [r for r in state["requests"] if r.get("fault")]
    if isinstance(dict((c, f) for c, f, _e in t["cases"])[cid], dict):
        assert hit, "the fault was never hit: %s" % state["requests"]
    if expect == "ok":
        assert not failures, "the role failed: %s: %s" % (failures[0]["task"], relib.failure_text(failures[0]["result"]))
        assert t["count"](state["summary"]) == t["want"], "objects after the run: %s" % state["summary"]
    else:
        assert failures, "the role did not fail"
        result = failures[0]["result"]
        if cid == "not-ready":
            relib.assert_clean_failure(result, words=("not ready",))
            assert not state["mutations"], "changes made although the manager is not ready: %s" % state["mutations"]
        else:
            relib.assert_clean_failure(result, path=hit[0]["path"] if hit else None)
        assert t["count"](state["summary"]) <= t["want"]


def check_row(batch_run, target, part, cid, phase):
    if target in ROLE_TARGETS:
        check_role_row(batch_run, target, part, cid, phase)
        return
    known = KNOWN.get((target, cid, phase))
    if known:
        pytest.xfail(known)
    t = TARGETS[target]
    expect = dict((c, e) for c, _f, e in cases_of(target))[cid]
    run = batch_run(target, part)
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
        if t.get("operation"):
            assert result["msg"].startswith(t["operation"]), "the failure names another operation: %s" % result["msg"]
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
        if cid.endswith("-lost"):
            assert len(posts) == 2, "a POST lost before it landed was not sent exactly once more: %s" % posts
    if target == "system_info" and cid == "leader-change":
        assert result["members"]["leader"] == NEW_LEADER
    if target == "system_info" and cid == "not-ready":
        assert result["members"]["ready"] is False


def _table_class(target, part):
    """One class per batch: xdist --dist loadscope keeps a class on one worker, so each batch
    playbook runs once (pytest-xdist's loadgroup does not group under pytest 9)."""

    class FaultRows:
        @pytest.mark.parametrize("cid,phase", rows(target, part))
        def test_fault(self, batch_run, cid, phase):
            check_row(batch_run, target, part, cid, phase)

    name = "TestFaults_" + target + ("_%d" % (part + 1) if PARTS.get(target, 1) > 1 else "")
    FaultRows.__name__ = FaultRows.__qualname__ = name
    return FaultRows


for _target in list(TARGETS) + list(ROLE_TARGETS):
    for _part in range(PARTS.get(_target, 1)):
        _cls = _table_class(_target, _part)
        globals()[_cls.__name__] = _cls
