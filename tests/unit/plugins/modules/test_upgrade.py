# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.upgrade and tos.cloud.upgrade_info against a scripted platform."""

from __future__ import annotations

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import UPGRADE
from ansible_collections.tos.cloud.plugins.modules import upgrade, upgrade_info
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module
from ansible_collections.tos.cloud.tests.unit.plugins.modules.operations_harness import TARGET, FakePlatform

# the fake platform moves on per request: its waits take no real time (conftest.py)
pytestmark = pytest.mark.usefixtures("virtual_clock")

OLD = {"compute": "3.2.4", "storage": "3.2.4"}


def platform(cls=FakePlatform, **kwargs):
    return cls({"192.0.2.11": dict(OLD), "192.0.2.12": dict(OLD), "192.0.2.13": dict(OLD)}, **kwargs)


def halting_platform(halt, when=lambda body: True):
    """The platform, writing ``halt`` (as the rulebook would) when it is sent an upgrade for which ``when(body)``."""
    class Halting(FakePlatform):
        def post(self, path, body=None):
            answer = super().post(path, body)
            if path == UPGRADE and when(body):
                halt.write_text("{}")
            return answer
    return platform(Halting, leader="u1")


def test_check_mode_plan_is_what_the_real_run_does(capsys):
    fake = platform()
    check = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h13", "192.0.2.11"]}, fake, capsys,
                       check_mode=True, diff=True)
    assert check["changed"] is True and fake.posts == []
    assert [e["host"] for e in check["plan"]] == ["h13", "h11"]
    assert check["plan"][0]["from_versions"] == OLD and check["plan"][0]["to_version"] == TARGET
    assert check["diff"]["after"] == {"h13": {"compute": TARGET, "storage": TARGET},
                                      "h11": {"compute": TARGET, "storage": TARGET}}
    real = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h13", "192.0.2.11"]}, fake, capsys)
    assert real["changed"] is True and real["plan"] == check["plan"]
    assert real["upgraded_hosts"] == ["h13", "h11"] and fake.posts == ["192.0.2.13", "192.0.2.11"]
    assert fake.versions["192.0.2.12"] == OLD


def test_check_mode_returns_the_batches_leader_last_and_the_real_run_follows_them(capsys):
    fake = platform(leader="u1")  # h11 runs the leader center node
    check = run_module(upgrade.main, {"cluster": "demo", "batch_size": 2}, fake, capsys, check_mode=True)
    assert fake.posts == [] and [e["host"] for e in check["plan"]] == ["h12", "h13", "h11"]
    assert [[e["host"] for e in b] for b in check["batches"]] == [["h12", "h13"], ["h11"]]
    assert [e["leader_cvm"] for e in check["plan"]] == [False, False, True]
    real = run_module(upgrade.main, {"cluster": "demo", "batch_size": 2}, fake, capsys)
    assert real["batches"] == check["batches"] and fake.posts == ["192.0.2.12", "192.0.2.13", "192.0.2.11"]
    one = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h12"]}, platform(leader="u1"), capsys,
                     check_mode=True)
    assert [[e["host"] for e in b] for b in one["batches"]] == [["h12"]]


def test_second_run_changes_nothing_and_sends_no_post(capsys):
    fake = platform()
    run_module(upgrade.main, {"cluster": "demo"}, fake, capsys)
    posts = list(fake.posts)
    again = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys)
    assert again["changed"] is False and fake.posts == posts
    assert again["skipped_hosts"] == ["h11", "h12", "h13"] and again["plan"] == []
    assert all(h["status"] == "skipped" for h in again["hosts"])


def test_failed_host_fails_the_task_and_later_hosts_are_untouched(capsys):
    fake = platform(fail={"192.0.2.12": (0.5, "disk full / 磁盘已满")})
    result = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys)
    assert result["failed"] is True and result["changed"] is True
    assert all("_sent" not in h for h in result["hosts"])
    assert "h12" in result["msg"] and "disk full / 磁盘已满" in result["msg"] and "h13" in result["msg"]
    assert result["failed_host"] == "h12"
    assert [h["status"] for h in result["hosts"]] == ["upgraded", "failed", "not_started"]
    assert fake.posts == ["192.0.2.11", "192.0.2.12"] and fake.versions["192.0.2.13"] == OLD


def test_a_refused_first_host_fails_without_change(capsys):
    fake = platform()

    def refuse(path, body=None):
        raise TosApiError("POST %s was refused by the manager (code 3004): host 192.0.2.11 is busy." % path,
                          kind="api", code=3004)
    fake.post = refuse
    result = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys)
    assert result["failed"] and result["changed"] is False
    assert "h11" in result["msg"] and "host 192.0.2.11 is busy." in result["msg"] and ".." not in result["msg"]
    assert all("_sent" not in h for h in result["hosts"])


def test_service_types_limit_what_is_upgraded(capsys):
    fake = platform()
    result = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h11"], "service_types": ["storage"]}, fake, capsys)
    assert result["hosts"][0]["service_types"] == ["storage"]
    assert fake.versions["192.0.2.11"] == {"compute": "3.2.4", "storage": TARGET}


def test_batch_size_upgrades_a_batch_together_and_names_the_failed_host(capsys):
    fake = platform(fail={"192.0.2.11": (0.5, "disk full on h11")})
    result = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h11", "h12", "h13"], "batch_size": 2}, fake, capsys)
    assert result["failed"] is True and result["changed"] is True and result["failed_host"] == "h11"
    assert [h["status"] for h in result["hosts"]] == ["failed", "upgraded", "not_started"]
    assert "disk full on h11" in result["msg"] and "Upgraded: h12." in result["msg"]
    assert "Not started: h13." in result["msg"]
    assert fake.posts == ["192.0.2.11", "192.0.2.12"] and fake.versions["192.0.2.13"] == OLD


@pytest.mark.parametrize("args, fragment", [
    ({"version": "3.3.0"}, "version: 3.3.0 is not the version of the uploaded package"),
    ({"hosts": ["h11", "nope"]}, "hosts: 'nope' not in cluster 'demo'"),
    ({"hosts": []}, "hosts: must not be an empty list"),
    ({"service_types": []}, "service_types"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"batch_size": 0}, "batch_size: 0 is outside the allowed range"),
    ({"health_retries": -1}, "health_retries: -1 is outside the allowed range"),
    ({"health_retries": 3, "health_delay": -1}, "health_delay: -1 is outside the allowed range"),
    ({"halt_file": " "}, "halt_file: must not be empty"),
    ({"cluster": "other"}, "cluster: no cluster is named 'other' or has that UUID (known clusters: demo)"),
])
def test_bad_input_fails_before_any_change(capsys, args, fragment):
    fake = platform()
    result = run_module(upgrade.main, dict({"cluster": "demo"}, **args), fake, capsys)
    assert result["failed"] is True and fragment in result["msg"] and fake.posts == []


def test_matching_version_is_accepted(capsys):
    fake = platform()
    result = run_module(upgrade.main, {"cluster": "demo", "version": TARGET, "hosts": ["h11"]}, fake, capsys)
    assert result["changed"] is True and result["to_version"] == TARGET


def test_no_package_fails_with_the_servers_reason(capsys):
    fake = platform()
    fake.package = None
    result = run_module(upgrade.main, {"cluster": "demo"}, fake, capsys)
    assert result["failed"] and "no upgrade package" in result["msg"] and fake.posts == []


def test_upgrade_info_reports_package_versions_and_backups(capsys):
    fake = platform()
    fake.versions["192.0.2.11"] = {"compute": TARGET, "storage": TARGET}
    backups = [{"package_name": "backup_3.2.4.tar.gz", "version": "3.2.4", "md5": "x", "size": 1, "update_time": 2}]
    original = fake.get

    def get(path, params=None):
        if path == "/v1/system/compute/version/list":
            fake.calls.append(("GET", path, params))
            return {"list": backups if params["host_ip"] == "192.0.2.11" else []}
        return original(path, params)
    fake.get = get
    result = run_module(upgrade_info.main, {"cluster": "demo", "hosts": ["h11", "h12"]}, fake, capsys)
    assert result["changed"] is False
    assert result["current_package"] == {"name": "updatepackage_3.2.5.rc2.tar.gz", "version": TARGET,
                                         "md5": "41ff13b3b85609c5f5a932b106c5130d", "size": 340416119,
                                         "update_time": 1615374182}
    first, second = result["hosts"]
    assert first["host"] == "h11" and first["up_to_date"] and first["backups"] == backups
    assert second["outdated"] == ["compute", "storage"] and second["backups"] == []
    assert [c[2]["host_ip"] for c in fake.calls if c[1] == "/v1/system/compute/version/list"] == [
        "192.0.2.11", "192.0.2.12"]
    assert fake.posts == []


def test_upgrade_info_without_a_package(capsys):
    fake = platform()
    fake.package = None
    result = run_module(upgrade_info.main, {"cluster": "demo", "gather_backups": False}, fake, capsys)
    assert result["current_package"] is None
    assert all(h["up_to_date"] and "backups" not in h for h in result["hosts"])


def test_a_running_upgrade_is_joined_in_check_mode_and_in_the_real_run(capsys):
    fake = platform(running={"u1": ["compute", "storage"]}, step=0.2)
    check = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h11", "h12"]}, fake, capsys, check_mode=True)
    assert check["changed"] is True and fake.posts == []
    assert [(h["host"], h["status"], h["started_by"]) for h in check["hosts"]] == [
        ("h11", "running", "another_run"), ("h12", "pending", None)]
    real = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h11", "h12"]}, fake, capsys)
    assert real["changed"] is True and fake.posts == ["192.0.2.12"]  # h11 joined, never sent again
    assert [(h["host"], h["status"], h["started_by"]) for h in real["hosts"]] == [
        ("h11", "upgraded", "another_run"), ("h12", "upgraded", "this_run")]


def test_a_running_upgrade_with_wait_false_is_reported_running_and_nothing_is_sent(capsys):
    fake = platform(running={"u1": ["compute", "storage"]}, step=0.1)
    args = {"cluster": "demo", "hosts": ["h11", "h12"], "wait": False}
    check = run_module(upgrade.main, args, fake, capsys, check_mode=True)
    real = run_module(upgrade.main, args, fake, capsys)
    for result in (check, real):
        assert result["changed"] is False and result["hosts"][0]["status"] == "running"
        assert result["hosts"][0]["started_by"] == "another_run"
    assert fake.posts == []


def test_a_joined_wait_that_times_out_fails_without_sending(capsys):
    fake = platform(running={"u1": ["compute", "storage"]}, step=0.0)
    result = run_module(upgrade.main, {"cluster": "demo", "hosts": ["h11", "h12"], "wait_timeout": 1}, fake, capsys)
    assert result["failed"] is True and fake.posts == []
    assert "started by another run" in result["msg"] and "nothing was sent" in result["msg"]
    assert [h["status"] for h in result["hosts"]] == ["failed", "not_started"]


# -- the health gate (health_retries) and the halt file ------------------------------------------------

OVERALL = "/v1/cluster/overall_status/inspect"
MEMBERS = "/v1/system/member/list"
GATE = {"cluster": "demo", "batch_size": 2, "health_retries": 2, "health_delay": 0}


def test_the_health_gate_waits_after_each_batch_before_the_next_starts(virtual_clock, capsys):
    fake = platform(leader="u1")
    fake.fault_reads = 2  # storage in fault for two readings after the first batch, then normal
    result = run_module(upgrade.main, GATE, fake, capsys)
    assert result["changed"] is True and "failed" not in result, result
    # the task polls and the gate's pauses were virtual sleeps (else this file's tests sleep some 20 s for real)
    assert len(virtual_clock) >= 3 and sum(virtual_clock) >= 1.0, virtual_clock
    assert result["upgraded_hosts"] == ["h12", "h13", "h11"] and set(fake.versions["192.0.2.11"].values()) == {TARGET}
    order = [(method, path) for method, path, _params in fake.calls if method == "POST" or path == OVERALL]
    assert order == [("POST", UPGRADE)] * 2 + [("GET", OVERALL)] * 3 + [("POST", UPGRADE), ("GET", OVERALL)]
    assert fake.reads(MEMBERS) == 2  # ready at once, after each batch


def test_the_health_gate_fails_naming_the_fault_and_starts_no_later_host(capsys):
    fake = platform(leader="u1")
    fake.fault_reads = 100
    result = run_module(upgrade.main, GATE, fake, capsys)
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == ("Health gate failed after upgrading h12, h13: overall status in fault: storage_status "
                             "(checked 3 times, 0 s apart). Not started: h11."), result["msg"]
    assert result["unhealthy"] == "overall status in fault: storage_status"
    assert fake.posts == ["192.0.2.12", "192.0.2.13"] and fake.versions["192.0.2.11"] == OLD
    assert fake.reads(OVERALL) == 3
    assert [h["status"] for h in result["hosts"]] == ["upgraded", "upgraded", "not_started"]


@pytest.mark.parametrize("sick, reason", [
    ({"members": {"leader": None, "ready": False}}, "the manager is not ready (leader none)"),
    ({"etcd": "unhealthy"}, "center nodes or etcd not healthy: 192.0.2.11"),
    ({"leader": None}, "center nodes or etcd not healthy: none"),
])
def test_the_health_gate_names_what_is_not_healthy(capsys, sick, reason):
    fake = platform(leader=sick.pop("leader", "u1"))
    for name, value in sick.items():
        setattr(fake, name, value)
    result = run_module(upgrade.main, dict(GATE, hosts=["h12"]), fake, capsys)
    assert result["failed"] is True and result["unhealthy"] == reason, result
    assert result["msg"].startswith("Health gate failed after upgrading h12: %s (checked 3 times" % reason)
    assert fake.posts == ["192.0.2.12"]
    assert fake.reads(MEMBERS) == (3 if "manager" in reason else 1)
    assert fake.reads(OVERALL) == (0 if "manager" in reason else 3)


def test_check_mode_and_no_health_retries_read_no_health(capsys):
    fake = platform(leader="u1")
    fake.fault_reads = 100
    check = run_module(upgrade.main, GATE, fake, capsys, check_mode=True)
    assert check["changed"] is True and "failed" not in check and fake.posts == []
    assert fake.reads(MEMBERS) == fake.reads(OVERALL) == 0
    real = run_module(upgrade.main, {"cluster": "demo", "batch_size": 2}, fake, capsys)
    assert real["upgraded_hosts"] == ["h12", "h13", "h11"] and fake.reads(MEMBERS) == fake.reads(OVERALL) == 0


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_halt_file_starts_no_host(capsys, tmp_path, check_mode):
    fake = platform()
    halt = tmp_path / "upgrade.halt"
    halt.write_text("{}")
    result = run_module(upgrade.main, {"cluster": "demo", "halt_file": str(halt)}, fake, capsys, check_mode=check_mode)
    assert result["failed"] is True and result["changed"] is False and fake.posts == []
    assert result["msg"] == ("The rolling upgrade is halted: %s exists (written when a host task failed); no host "
                             "(h11, h12, h13) was started. Delete the file to resume." % halt)
    halt.unlink()
    result = run_module(upgrade.main, {"cluster": "demo", "halt_file": str(halt)}, fake, capsys, check_mode=check_mode)
    assert "failed" not in result and fake.posts == ([] if check_mode else ["192.0.2.11", "192.0.2.12", "192.0.2.13"])


@pytest.mark.parametrize("gate", [False, True])
def test_a_halt_file_written_during_a_batch_stops_the_run_after_it(capsys, tmp_path, gate):
    """The halt file is looked for before each later batch: the batch running when it appears finishes (and is
    gated), no later host starts, and the module fails naming the upgraded and the not started hosts."""
    halt = tmp_path / "upgrade.halt"
    fake = halting_platform(halt)  # written while the first batch runs
    args = dict(GATE if gate else {"cluster": "demo", "batch_size": 2}, halt_file=str(halt))
    result = run_module(upgrade.main, args, fake, capsys)
    assert result["failed"] is True and result["changed"] is True, result
    assert result["msg"] == ("The rolling upgrade is halted: %s appeared while it ran (written when a host task "
                             "failed); no later host was started. Delete the file to resume. Upgraded: h12, h13. "
                             "Not started: h11." % halt), result["msg"]
    assert fake.posts == ["192.0.2.12", "192.0.2.13"] and fake.versions["192.0.2.11"] == OLD
    assert [h["status"] for h in result["hosts"]] == ["upgraded", "upgraded", "not_started"]
    assert fake.reads(OVERALL) == (1 if gate else 0)  # the batch that ran was gated before the halt was seen
    halt.unlink()
    again = run_module(upgrade.main, args, fake, capsys)
    assert "failed" not in again and again["upgraded_hosts"] == ["h11"], again


def test_a_halt_file_after_the_last_batch_fails_nothing(capsys, tmp_path):
    halt = tmp_path / "upgrade.halt"
    # written during the last batch: nothing is left to stop
    fake = halting_platform(halt, lambda body: any(h.get("host_ip") == "192.0.2.11" for h in body.get("list") or []))
    result = run_module(upgrade.main, {"cluster": "demo", "batch_size": 2, "halt_file": str(halt)}, fake, capsys)
    assert "failed" not in result and result["upgraded_hosts"] == ["h12", "h13", "h11"], result
    assert halt.exists()
