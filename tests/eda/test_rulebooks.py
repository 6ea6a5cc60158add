"""The example rulebooks (extensions/eda/rulebooks) run as they are by the real engine, ansible-rulebook (with its
Java rules engine), against a simulator: the simulator changes state, the rule fires, the playbook runs.

ansible-rulebook lives in build/venv-eda (make eda-venv); these tests are skipped without it, and make eda-test
builds it first."""
from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import time
from email.policy import default as default_policy

import pytest
import relib
from conftest import ROOT

EDA_BIN = ROOT / "build" / "venv-eda" / "bin"
RULEBOOK = EDA_BIN / "ansible-rulebook"
C1 = {"name": "c1", "seed": "tos-a1", "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}],
      "snapshots": 1}
PACKAGE = {"package_name": "updatepackage_3.3.0.tar.gz", "md5": "0123456789abcdef0123456789abcdef", "version": "3.3.0",
           "update_time": 1735689600, "size": 340416119}

pytestmark = pytest.mark.skipif(not RULEBOOK.exists(), reason="ansible-rulebook is not installed: make eda-venv")


def wait_for(what, check, timeout=60, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError("%s did not happen; ansible-rulebook said:\n%s" % (what, log.read_text()[-6000:] if log else ""))


class Rulebook:
    """One ansible-rulebook process running a rulebook of the collection, by its name."""

    def __init__(self, name, sim, workdir, env=None):
        self.dir = workdir
        self.cursor = workdir / "cursor.json"
        self.log = workdir / "ansible-rulebook.log"
        inventory = workdir / "inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                             "      ansible_python_interpreter: %s\n" % (EDA_BIN / "python"))
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("TOS_", "PYTHONPATH", "ANSIBLE_"))}
        environ.update({
            "PATH": "%s:%s" % (EDA_BIN, environ.get("PATH", "")),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1",
            "HOME": str(workdir),
            "TOS_API_URL": sim.url,
            "TOS_EVENTS_INTERVAL": "1",
            "TOS_EVENTS_STATE_FILE": str(self.cursor),
            "TOS_EVENTS_REPORT_DIR": str(workdir / "report"),
        })
        environ.update(env or {})
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(RULEBOOK), "-i", str(inventory), "--rulebook", "tos.cloud." + name, "-v"],
                                         cwd=workdir, env=environ, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        # the source's first poll is the baseline: changes from here on are events
        wait_for("the first poll", lambda: self.cursor.exists() and json.loads(self.cursor.read_text())["generation"],
                 proc=self.proc, log=self.log)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)

    def output(self):
        return self.log.read_text(errors="replace")


@pytest.fixture
def rulebooks():
    started = []

    def start(*args, **kwargs):
        rb = Rulebook(*args, **kwargs)
        started.append(rb)
        return rb

    yield start
    for rb in started:
        rb.stop()


def sim_with(name, tmp_path, **top):
    sim = relib.Sim(name, speed=40, fixture=str(relib.write_fixture(tmp_path / "fixture.yml", clusters=[C1], **top)))
    return sim.start()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
            return "250 OK"

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()


def test_new_package_plans_the_upgrade_in_check_mode(rulebooks, tmp_path):
    sim = sim_with("rb-plan", tmp_path, upgrade_package=None)
    try:
        rb = rulebooks("upgrade_plan", sim, tmp_path)
        sim.clear_log()
        sim.ctl("POST", "/_sim/upgrade_package", {"package": PACKAGE})
        plan_file = tmp_path / "report" / "upgrade-plan-c1.json"
        wait_for("the plan", plan_file.exists, proc=rb.proc, log=rb.log)
        plan = json.loads(plan_file.read_text())
        assert plan["event"]["type"] == "upgrade_available" and plan["event"]["after"] == "3.3.0"
        pending = sorted(h["ip"] for h in plan["plan"]["hosts"] if h["status"] == "pending")
        assert pending == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
        assert sim.mutations() == [], "check mode sent a change"
        wait_for("the play's end", lambda: "PLAY RECAP" in rb.output(), proc=rb.proc, log=rb.log)
        assert "failed=0" in rb.output().split("PLAY RECAP", 1)[1]
    finally:
        sim.stop()


def test_failed_host_task_halts_the_upgrade_and_notifies(rulebooks, tmp_path, smtp):
    port, sink = smtp
    sim = sim_with("rb-halt", tmp_path)
    halt = tmp_path / "halt" / "upgrade.halt"
    try:
        rb = rulebooks("upgrade_failed", sim, tmp_path, env={
            "TOS_EVENTS_HALT_FILE": str(halt), "TOS_EVENTS_MAIL_TO": "ops@example.com",
            "TOS_EVENTS_SMTP_HOST": "127.0.0.1", "TOS_EVENTS_SMTP_PORT": str(port)})
        uuid = next(c["cluster_uuid"] for c in sim.api("GET", "/v1/cluster/list")["list"])
        sim.ctl("POST", "/_sim/durations", {"upgrade": 80})
        sim.ctl("POST", "/_sim/upgrade_failure", {"host": "192.0.2.12", "at": 0.5})
        sim.api("POST", "/v1/system/compute/version/upgrade", {"cluster_uuid": uuid, "list": [
            {"host_ip": "192.0.2.12", "service_type": "compute"}]})
        wait_for("the halt file", halt.exists, proc=rb.proc, log=rb.log)
        written = json.loads(halt.read_text())
        assert written["event"]["type"] == "host_task_failed" and written["event"]["host"]["ip"] == "192.0.2.12"
        assert "192.0.2.12" in written["reason"] and "50%" in written["reason"]
        wait_for("the mail", lambda: sink.messages, proc=rb.proc, log=rb.log)
        assert "192.0.2.12" in sink.messages[0]["Subject"]
    finally:
        sim.stop()


def test_member_down_and_fault_run_the_report_and_mail_it(rulebooks, tmp_path, smtp):
    port, sink = smtp
    sim = sim_with("rb-fault", tmp_path, upgrade_package=None)
    try:
        rb = rulebooks("fault_report", sim, tmp_path, env={
            "TOS_EVENTS_MAIL_TO": "ops@example.com", "TOS_EVENTS_SMTP_HOST": "127.0.0.1",
            "TOS_EVENTS_SMTP_PORT": str(port)})
        uuid = next(c["cluster_uuid"] for c in sim.api("GET", "/v1/cluster/list")["list"])
        # a fault: the manager service is not ready when an inspection runs
        sim.manager(ready=False)
        sim.api("POST", "/v1/cluster/inspection", {"cluster_uuid": uuid, "cluster_name": "c1", "check_system": True})
        wait_for("the fault's report mail", lambda: sink.messages, proc=rb.proc, log=rb.log, timeout=90)
        subject = sink.messages[0]["Subject"]
        assert "fault_raised" in subject and "c1" in subject
        assert (tmp_path / "report" / "index.html").exists()
        # a manager member stops: the report of every cluster
        sim.manager(ready=True, members=["192.0.2.11", "192.0.2.12"])
        wait_for("the member's report mail", lambda: any("member_down" in m["Subject"] for m in sink.messages),
                 proc=rb.proc, log=rb.log, timeout=90)
        wait_for("the play's end", lambda: rb.output().count("PLAY RECAP") == len(sink.messages), proc=rb.proc,
                 log=rb.log)
        inspections = [r for r in sim.requests() if r["path"] == "/v1/cluster/inspection" and r["code"] == 0]
        # the test's own, then each report's (the role starts one, and again when it ended before it was read)
        assert len(inspections) >= 1 + len(sink.messages), inspections
    finally:
        sim.stop()
