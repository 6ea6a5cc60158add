"""tos.cloud.events called directly with an asyncio queue, against real simulator processes.

The bar: the events delivered equal the changes made, none lost and none twice, across a restart of the source,
a restart of the manager, a fail-over to another URL, the manager killed in the middle of a poll and the source
cancelled in the middle of a poll or of a delivery."""
from __future__ import annotations

import asyncio
import json
import shutil
import time

import pytest
import relib
from conftest import drain, kinds, run_source

C1 = {"name": "c1", "seed": "tos-a1", "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}],
      "snapshots": 1}
PACKAGE = {"package_name": "updatepackage_3.3.0.tar.gz", "md5": "0123456789abcdef0123456789abcdef", "version": "3.3.0",
           "update_time": 1735689600, "size": 340416119}


def no_duplicates(delivered):
    keys = [e["key"] for e in delivered]
    assert len(keys) == len(set(keys)), keys
    seqs = [e["seq"] for e in delivered]
    assert seqs == sorted(set(seqs)), seqs


def wait_inspection(sim, cluster_uuid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = sim.api("GET", "/v1/cluster/inspection/progress", params={"cluster_uuid": cluster_uuid})
        if data["state"] == 2:
            return data
        time.sleep(0.1)
    raise AssertionError("the inspection did not finish")


def cluster_uuid(sim, name="c1"):
    return next(c["cluster_uuid"] for c in sim.api("GET", "/v1/cluster/list")["list"] if c["cluster_name"] == name)


def test_events_equal_changes_across_restarts_and_failover(events, sim_factory, tmp_path):
    fixture = relib.write_fixture(tmp_path / "fixture.yml", clusters=[C1], upgrade_package=None)
    a = sim_factory("a", fixture=str(fixture), state_file=True).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json")}

    delivered = run_source(events, args)
    assert delivered == [], "nothing has happened yet: %s" % kinds(delivered)

    a.manager(leader="192.0.2.12")
    delivered += run_source(events, args)
    # a member stops while the source is down: the next start reports it, once over two polls
    a.manager(members=["192.0.2.11", "192.0.2.12"])
    delivered += run_source(events, args, polls=2)
    # the manager is killed: one manager_unreachable over two polls, nothing else
    a.kill()
    delivered += run_source(events, args, polls=2)
    # back on the same state file and port, where a new upgrade package was uploaded meanwhile
    a.restart()
    a.ctl("POST", "/_sim/upgrade_package", {"package": PACKAGE})
    delivered += run_source(events, args, polls=2)
    # fail-over: manager a is gone for good, b (the same platform: its state) answers
    b = sim_factory("b", fixture=str(fixture), state_file=True)
    a.kill()
    shutil.copy(a.dir / "state.json", b.dir / "state.json")
    b.start()
    uuid = cluster_uuid(b)
    b.manager(ready=False)
    b.api("POST", "/v1/cluster/inspection", {"cluster_uuid": uuid, "cluster_name": "c1", "check_system": True,
                                             "check_network": True, "check_hardware": True})
    result = wait_inspection(b, uuid)
    delivered += run_source(events, dict(args, api_url=[a.url, b.url]), polls=2)

    no_duplicates(delivered)
    found = sorted(("%s_raised" % i["status"], i["item"], i["target"]) for c in ("system", "network", "hardware")
                   for i in result[c] or [] if i["status"] in ("alarm", "fault"))
    assert ("fault_raised", "manager_service", "manager") in found
    status = "fault" if result["fault"] else "alarm" if result["alarm"] else "healthy"
    expected = [
        ("leader_changed", None, None),
        ("member_down", None, "192.0.2.13"),
        ("manager_unreachable", None, None),
        ("manager_recovered", None, None),
        ("upgrade_available", "c1", None),
        ("manager_not_ready", None, None),
        ("cluster_status_changed", "c1", None),
        ("cluster_score_changed", "c1", None),
    ] + [(kind, "c1", None) for kind, _item, _target in found]
    assert kinds(delivered) == expected
    by_type = {e["type"]: e for e in delivered}
    assert by_type["leader_changed"]["before"] == "192.0.2.11" and by_type["leader_changed"]["after"] == "192.0.2.12"
    assert by_type["cluster_status_changed"]["after"] == status
    assert by_type["cluster_score_changed"]["after"] == result["score"]
    assert by_type["upgrade_available"]["after"] == "3.3.0"
    assert by_type["upgrade_available"]["hosts_behind"] == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
    assert [e["manager_url"] for e in delivered if e["type"] == "manager_not_ready"] == [b.url]
    findings = sorted((e["type"], e["finding"]["id"].split(":", 1)[1].split("/")[0], e["finding"]["target"])
                      for e in delivered if e["type"].endswith("_raised"))
    assert findings == found


def test_manager_killed_mid_poll_then_back(events, sim_factory, tmp_path):
    a = sim_factory("mid", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1])), state_file=True).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "interval": 0.1, "timeout": 5,
            "initial_events": False}
    assert run_source(events, args) == []
    a.fault(path="/v1/cluster/get", kind="latency", seconds=3, count=1)

    async def scenario():
        queue = asyncio.Queue()
        task = asyncio.create_task(events["main"](queue, args))
        await asyncio.sleep(0.8)  # the poll hangs in cluster/get
        a.kill()
        first = await asyncio.wait_for(queue.get(), 10)
        a.restart()
        a.manager(leader="192.0.2.13")
        got = [first]
        while len(got) < 3:
            got.append(await asyncio.wait_for(queue.get(), 10))
        await asyncio.sleep(0.5)  # a few more polls: nothing more
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got + drain(queue)

    delivered = asyncio.run(scenario())
    no_duplicates(delivered)
    assert [e["type"] for e in delivered] == ["manager_unreachable", "manager_recovered", "leader_changed"]
    assert delivered[0]["reason"] == "connection"
    assert delivered[1]["downtime"] >= 0
    assert run_source(events, args) == []


def test_source_cancelled_mid_poll_delivers_the_change_once(events, sim_factory, tmp_path):
    a = sim_factory("cancel", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "initial_events": False}
    assert run_source(events, args) == []
    a.manager(leader="192.0.2.12")
    a.fault(path="/v1/cluster/list", kind="latency", seconds=2, count=1)

    async def cancelled_run():
        queue = asyncio.Queue()
        task = asyncio.create_task(events["main"](queue, dict(args, interval=0.1)))
        await asyncio.sleep(0.7)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return drain(queue)

    assert asyncio.run(cancelled_run()) == []
    delivered = run_source(events, args, polls=2)
    assert [e["type"] for e in delivered] == ["leader_changed"]


def test_outbox_survives_a_cancelled_delivery(events, sim_factory, tmp_path):
    """Events committed but not yet handed over (a full queue) are delivered after a restart, and those handed
    over are not delivered again."""
    a = sim_factory("outbox", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "initial_events": False}
    assert run_source(events, args) == []
    a.manager(leader="192.0.2.12", members=["192.0.2.12"])  # three events: two members down, a leader change

    async def stuck_consumer():
        queue = asyncio.Queue(maxsize=1)
        task = asyncio.create_task(events["main"](queue, dict(args, max_polls=1)))
        first = await asyncio.wait_for(queue.get(), 10)  # one taken; the next fills the queue; the third waits
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return [first] + drain(queue)

    before = asyncio.run(stuck_consumer())
    assert len(before) == 2
    after = run_source(events, args)
    delivered = before + after
    no_duplicates(delivered)
    assert sorted(kinds(delivered), key=str) == sorted(
        [("member_down", None, "192.0.2.11"), ("member_down", None, "192.0.2.13"), ("leader_changed", None, None)],
        key=str)


def test_host_tasks_started_finished_failed(events, sim_factory, tmp_path):
    a = sim_factory("tasks", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "initial_events": False, "interval": 0.2}
    assert run_source(events, args) == []
    uuid = cluster_uuid(a)
    a.ctl("POST", "/_sim/durations", {"upgrade": 100})  # 2 s at speed 50
    a.ctl("POST", "/_sim/upgrade_failure", {"host": "192.0.2.12", "at": 0.5})
    a.api("POST", "/v1/system/compute/version/upgrade", {"cluster_uuid": uuid, "list": [
        {"host_ip": "192.0.2.11", "service_type": "compute"}, {"host_ip": "192.0.2.12", "service_type": "compute"}]})
    delivered = run_source(events, args, polls=20)
    no_duplicates(delivered)
    got = sorted(k for k in kinds(delivered))
    assert got == sorted([
        ("host_task_started", "c1", "192.0.2.11"), ("host_task_finished", "c1", "192.0.2.11"),
        ("host_version_changed", "c1", "192.0.2.11"),
        ("host_task_started", "c1", "192.0.2.12"), ("host_task_failed", "c1", "192.0.2.12"),
    ]), got
    failed = next(e for e in delivered if e["type"] == "host_task_failed")
    assert "192.0.2.12" in failed["reason"] and failed["after"] == pytest.approx(0.5)
    finished = next(e for e in delivered if e["type"] == "host_task_finished")
    assert finished["after"] == 1.0 and finished["duration"] > 0
    changed = next(e for e in delivered if e["type"] == "host_version_changed")
    assert changed["before"]["compute"] == "3.2.4" and changed["after"]["compute"] == "3.2.5.rc2"


def test_host_tasks_from_progress_alone_in_documented_only_mode(events, sim_factory, tmp_path):
    """The documents give only progress: with a simulator that sends nothing else (a failed task's progress
    just stops), started and finished come from the progress, and failed from the stall timeout."""
    a = sim_factory("tasks-doc", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1])),
                    extensions="").start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "initial_events": False, "interval": 0.2,
            "task_stall_timeout": 1.5}
    assert run_source(events, args) == []
    uuid = cluster_uuid(a)
    probe = a.api("GET", "/v1/cluster/host/task/progress", params={"cluster_uuid": uuid, "host_uuid": next(
        n["UUID"] for n in a.api("GET", "/v1/cluster/get", params={"cluster_uuid": uuid})["TopoHostNode"])})
    assert set(probe) == {"progress"}, probe
    a.ctl("POST", "/_sim/durations", {"upgrade": 100})
    a.ctl("POST", "/_sim/upgrade_failure", {"host": "192.0.2.12", "at": 0.5})
    a.api("POST", "/v1/system/compute/version/upgrade", {"cluster_uuid": uuid, "list": [
        {"host_ip": "192.0.2.11", "service_type": "compute"}, {"host_ip": "192.0.2.12", "service_type": "compute"}]})
    delivered = run_source(events, args, polls=25)
    no_duplicates(delivered)
    assert sorted(kinds(delivered)) == sorted([
        ("host_task_started", "c1", "192.0.2.11"), ("host_task_finished", "c1", "192.0.2.11"),
        ("host_version_changed", "c1", "192.0.2.11"),
        ("host_task_started", "c1", "192.0.2.12"), ("host_task_failed", "c1", "192.0.2.12"),
    ])
    failed = next(e for e in delivered if e["type"] == "host_task_failed")
    assert "no progress for" in failed["reason"] and failed["after"] == pytest.approx(0.5, abs=0.01)


def test_stale_snapshot_then_fresh(events, sim_factory, tmp_path):
    a = sim_factory("snap", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    args = {"api_url": a.url, "state_file": str(tmp_path / "cursor.json"), "snapshot_max_age": "3s",
            "initial_events": False}
    assert run_source(events, args) == []
    time.sleep(3.5)
    stale = run_source(events, args)
    assert [e["type"] for e in stale] == ["snapshot_stale"] and stale[0]["age"] >= 3
    a.api("POST", "/v1/cluster/data/snapshot/save", {"cluster_uuid": cluster_uuid(a), "ip": "192.0.2.101"})
    fresh = run_source(events, args, polls=2)
    assert [e["type"] for e in fresh] == ["snapshot_fresh"]
    assert fresh[0]["after"] != stale[0]["after"]


def test_requests_per_poll_as_documented(events, sim_factory, tmp_path):
    """full: 2 + 4 x clusters + hosts; with snapshot_max_age, + 2 x clusters; cheap: 2."""
    a = sim_factory("cost", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1]))).start()
    hosts = len(a.api("GET", "/v1/cluster/get", params={"cluster_uuid": cluster_uuid(a)})["TopoHostNode"])
    for extra, expected in (({}, 2 + 4 + hosts), ({"snapshot_max_age": "1d"}, 2 + 6 + hosts), ({"mode": "cheap"}, 2)):
        a.clear_log()
        run_source(events, dict({"api_url": a.url, "state_file": str(tmp_path / ("c%d.json" % expected))}, **extra),
                   polls=3)
        sent = a.requests()
        assert len(sent) == 3 * expected, (extra, [r["path"] for r in sent])
        assert all(r["method"] == "GET" for r in sent)


def test_secrets_never_in_events_or_cursor(events, sim_factory, tmp_path):
    token = "s3cret-token-value"
    a = sim_factory("secret", fixture=str(relib.write_fixture(tmp_path / "f.yml", clusters=[C1])), token=token).start()
    cursor = tmp_path / "cursor.json"
    url = a.url
    wrong = run_source(events, {"api_url": url, "api_token": "wrong-" + token, "state_file": str(cursor)})
    assert [(e["type"], e["reason"]) for e in wrong] == [("manager_unreachable", "auth")]
    right = run_source(events, {"api_url": url, "api_token": token, "state_file": str(cursor)})
    assert right[0]["type"] == "manager_recovered"
    text = json.dumps(wrong + right) + cursor.read_text()
    assert token not in text
    # user:password in a URL (which requests would send as Basic auth) never shows either
    assert events["safe_url"]("https://admin:hunter2@192.0.2.10:9990/x") == "https://192.0.2.10:9990/x"


def test_task_state_from_progress_alone(events):
    """The documents give only progress: started, finished and failed (a stall) are derived from it."""
    step = events["task_step"]
    rec = step({}, 0.0, None, 100.0, 60)
    assert rec["task"] == "idle"
    rec = step(rec, 0.2, None, 101.0, 60)
    assert (rec["task"], rec["started_at"]) == ("running", 101.0)
    rec = step(rec, 0.4, None, 130.0, 60)
    assert rec["task"] == "running"
    rec = step(rec, 0.4, None, 189.0, 60)
    assert rec["task"] == "running"
    stalled = step(rec, 0.4, None, 191.0, 60)
    assert stalled["task"] == "failed" and "no progress for 61s" in stalled["reason"]
    done = step(rec, 1.0, None, 150.0, 60)
    assert done["task"] == "finished"
    quick = step({"task": "idle", "progress": 0.0}, 1.0, None, 10.0, 60)
    assert quick["task"] == "finished" and quick["started_at"] is None


def test_bad_settings_fail_before_any_request(events):
    settings_from, error = events["settings_from"], events["SettingsError"]
    with pytest.raises(error, match="api_url is required"):
        settings_from({}, environ={})
    with pytest.raises(error, match="snapshot_max_age"):
        settings_from({"api_url": "http://127.0.0.1:1", "snapshot_max_age": "soon"}, environ={})
    with pytest.raises(error, match="mode"):
        settings_from({"api_url": "http://127.0.0.1:1", "mode": "lazy"}, environ={})
    env = {"TOS_API_URL": "http://127.0.0.1:1,http://127.0.0.1:2", "TOS_TIMEOUT": "7", "TOS_VALIDATE_CERTS": "false",
           "TOS_API_TOKEN": "t"}
    settings = settings_from({"state_file": "/tmp/x.json"}, environ=env)
    assert settings["api_url"] == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert (settings["timeout"], settings["validate_certs"], settings["api_token"]) == (7, False, "t")


def test_the_plugin_documents_every_setting(events):
    import yaml

    doc = yaml.safe_load(events["DOCUMENTATION"])
    yaml.safe_load(events["EXAMPLES"])
    settings = events["settings_from"]({"api_url": "http://127.0.0.1:1", "state_file": "/tmp/x.json"}, environ={})
    assert set(doc["options"]) == set(settings)


@pytest.mark.parametrize("text", ["", " ", "\n"])
def test_blank_settings_count_as_unset(events, text):
    """A blank TOS_* variable (an AWX credential's empty field) or a blank argument is unset: the next source or the
    default applies (a blank TOS_VALIDATE_CERTS was refused, a blank TOS_TIMEOUT of spaces was not a number)."""
    settings_from = events["settings_from"]
    env = {"TOS_API_URL": "http://127.0.0.1:1", "TOS_TIMEOUT": text, "TOS_VALIDATE_CERTS": text, "TOS_CA_PATH": text,
           "TOS_API_TOKEN": text, "TOS_EVENTS_INTERVAL": text}
    settings = settings_from({"state_file": "/tmp/x.json"}, environ=env)
    assert (settings["timeout"], settings["interval"], settings["validate_certs"]) == (30, 10, True)
    assert (settings["api_token"], settings["ca_path"]) == (None, None)
    args = {"api_url": text, "state_file": "/tmp/x.json", "timeout": text, "validate_certs": text, "api_token": text}
    env = {"TOS_API_URL": "http://127.0.0.1:2", "TOS_TIMEOUT": "9", "TOS_VALIDATE_CERTS": "no", "TOS_API_TOKEN": "t"}
    settings = settings_from(args, environ=env)
    assert settings["api_url"] == ["http://127.0.0.1:2"]
    assert (settings["timeout"], settings["validate_certs"], settings["api_token"]) == (9, False, "t")


def test_a_zero_interval_or_timeout_is_refused_not_replaced(events):
    settings_from, error = events["settings_from"], events["SettingsError"]
    for name in ("timeout", "interval"):
        with pytest.raises(error, match="more than 0"):
            settings_from({"api_url": "http://127.0.0.1:1", "state_file": "/tmp/x.json", name: 0}, environ={})
