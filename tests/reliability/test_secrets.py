# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 4, secrets: the SMTP password and the API token (the simulator requires it: --token)
never appear in what a run leaves behind: ansible-playbook's stdout and stderr with -vvv,
--diff, check mode and failures; the results every callback receives (the suite's recorder);
ansible-inventory's output; and ansible-runner's artifacts (job_events/*.json, stdout: what AWX
stores).

Each row is one ansible-playbook, ansible-inventory or ansible-runner process, scanned whole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import relib
import yaml

TOKEN = "tok-RELIABILITY-5e1f0c7a9d"
WRONG_TOKEN = "tok-WRONG-83b6a2f4c1"
PASSWORD = "smtp-PW-RELIABILITY-4c2d9e"
NEW_PASSWORD = "smtp-PW2-RELIABILITY-7a1b3f"
SECRETS = (TOKEN, WRONG_TOKEN, PASSWORD, NEW_PASSWORD)

MAIL = {"enabled": True, "sender_mail": "tos@example.com", "sender_name": "tos", "smtp_server": "127.0.0.1",
        "smtp_port": 2525, "smtp_tls": False, "smtp_account": "tos@example.com", "smtp_password": PASSWORD}

CLUSTER_A = {"name": "rel-a", "seed": relib.SEEDS["a"],
             "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}


@pytest.fixture(scope="module")
def tsim():
    s = relib.Sim("secrets", token=TOKEN).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def fixture_a():
    return str(relib.write_fixture(relib.workdir("secrets-fixtures") / "a.yml", clusters=[CLUSTER_A]))


def leaks(text):
    return [s for s in SECRETS if s in text]


def scan_dir(path, skip=()):
    """Every file under ``path`` (recursively) whose text holds a secret: {file: [secrets]}."""
    found = {}
    for file in Path(path).rglob("*"):
        if not file.is_file() or file.name in skip:
            continue
        hits = leaks(file.read_text(errors="replace"))
        if hits:
            found[str(file.relative_to(path))] = hits
    return found


def mail_task(name, params=None, **extra):
    task = relib.module_task(name, "mail_setting", dict(MAIL, **(params or {})))
    task.update(extra)
    return task


def defaults(url, token=TOKEN):
    opts = {"api_url": url}
    if token:
        opts["api_token"] = token
    return {"group/tos.cloud.api": opts}


def scenario_tasks(name, url, fixture):
    """The tasks of one scenario: reset (and preset the mail settings), then the task under test."""
    steps = [relib.sim_step(name + " reset", url, reset=fixture)]
    if name in ("mail-change-diff", "mail-check-diff", "mail-idempotent-diff", "system-info-settings",
                "role-bringup", "role-bringup-check"):
        steps.append(relib.sim_step(name + " preset", url, token=TOKEN, api=[
            {"method": "POST", "path": "/v1/system/mail_setting/update",
             "body": {"enabled": True, "sender_mail": "tos@example.com", "sender_name": "tos",
                      "smtp_server_ip": "127.0.0.1", "smtp_server_port": 2525, "smtp_account": "tos@example.com",
                      "smtp_password": PASSWORD}}]))
    if name == "mail-apply":
        task = mail_task(name)
    elif name in ("mail-change-diff", "mail-check-diff"):
        task = mail_task(name, {"smtp_password": NEW_PASSWORD, "sender_name": "changed"})
    elif name == "mail-idempotent-diff":
        task = mail_task(name, {"sender_name": "tos"})
    elif name == "mail-test-failure":
        # the test mail goes to a port where nothing listens: the module fails
        task = mail_task(name, {"test_recipient": "ops@example.com"})
    elif name == "mail-bad-input":
        task = mail_task(name, {"smtp_port": 99999})
    elif name == "system-info-settings":
        task = relib.module_task(name, "system_info", {"gather_settings": True})
    elif name == "wrong-token":
        task = relib.module_task(name, "system_info", {"api_token": WRONG_TOKEN})
    elif name == "token-newline":
        # `echo token | ansible-vault encrypt_string`: requests quotes the repr() of the header it refuses
        task = relib.module_task(name, "system_info", {"api_token": TOKEN + "\n"})
    elif name == "token-from-env":
        # in the process environment, as AWX injects a credential (awx/credential_type.yml); a task's
        # `environment:` keyword would show it: ansible-core prints it in the -vvv EXEC line
        task = mail_task(name)
    elif name.startswith("role-bringup"):
        task = {"name": name, "ansible.builtin.include_role": {"name": "tos.cloud.cluster_bringup"}, "vars": {
            "tos_api_url": url, "tos_api_token": TOKEN,
            "cluster_bringup_clusters": [{"name": "rel-s", "seed_ip": relib.SEEDS["b"]}],
            "cluster_bringup_mail": dict(MAIL, smtp_password=NEW_PASSWORD)}}
    else:
        raise KeyError(name)
    module = next((k for k in task if k.startswith("tos.cloud.")), None)
    if module and name not in ("token-from-env", "wrong-token", "token-newline"):
        task[module]["api_token"] = TOKEN
    return steps + [task]


# one ansible-playbook run per set of command-line options; each scenario is a row
RUNS = {
    "vvv": (["-vvv"], ["mail-apply", "mail-bad-input", "mail-test-failure", "system-info-settings", "wrong-token",
                       "token-newline"]),
    "env": (["-vvv", "--diff"], ["token-from-env"]),
    "diff": (["-vvv", "--diff"], ["mail-change-diff", "mail-idempotent-diff"]),
    "check": (["-vvv", "--diff", "--check"], ["mail-check-diff"]),
    "role": (["-vvv", "--diff"], ["role-bringup"]),
    "role-check": (["-vvv", "--diff", "--check"], ["role-bringup-check"]),
}
SCENARIO_RUN = {name: run for run, (_args, names) in RUNS.items() for name in names}
FAILING = ("mail-test-failure", "mail-bad-input", "wrong-token")


def sections(stdout):
    """The output of each task, by the name in its ``TASK [...]`` header."""
    found = {}
    current = "(play)"
    for line in stdout.splitlines():
        match = re.match(r"^TASK \[(.*)\] \**$", line)
        if match:
            current = match.group(1)
        found.setdefault(current, []).append(line)
    return {k: "\n".join(v) for k, v in found.items()}


_RUNS = {}


@pytest.fixture()
def secrets_run(tsim, fixture_a):
    def get(run):
        if run not in _RUNS:
            args, names = RUNS[run]
            tasks = [t for name in names for t in scenario_tasks(name, tsim.url, fixture_a)]
            # no token in the play's defaults: each task says where its token comes from
            env = {"TOS_API_TOKEN": TOKEN} if run == "env" else None
            _RUNS[run] = relib.run_playbook([relib.play(tasks, module_defaults=defaults(tsim.url, token=None))],
                                            relib.workdir("secrets-" + run), args=args, env=env)
        return _RUNS[run]
    return get


def _playbook_class(run_name):
    class SecretRows:
        @pytest.mark.parametrize("name", RUNS[run_name][1])
        def test_playbook_output_holds_no_secret(self, secrets_run, name):
            check_playbook_row(secrets_run(run_name), name)

    SecretRows.__name__ = SecretRows.__qualname__ = "TestSecretsPlaybook_" + run_name.replace("-", "_")
    return SecretRows


def check_playbook_row(run, name):
    if name.startswith("role-") and not (relib.ROOT / "roles/cluster_bringup/tasks/main.yml").exists():
        pytest.skip("cluster_bringup is not in the collection yet")
    leaking = {k: leaks(v) for k, v in sections(run.stdout).items() if leaks(v)}
    assert not leaking, "secrets in the output of: %s" % leaking
    assert not leaks(run.stderr), "secret in ansible-playbook's stderr: %s" % leaks(run.stderr)
    records = [r for r in run.records if r["task"] == name or (name.startswith("role-") and "cluster_bringup" in r["task"])]
    assert records, "the scenario did not run: %s" % run.output()[-2000:]
    for rec in records:
        found = leaks(json.dumps(rec))
        assert not found, "secret in the result of %s that callbacks receive: %s" % (rec["task"], found)
    result = run.result(name) if not name.startswith("role-") else None
    # each scenario did what it says (a leak test of a run that did nothing proves nothing)
    if name == "token-newline":
        # refused naming api_token, or taken without its surrounding whitespace: either way clean, never shown
        relib.assert_no_traceback(result)
        if result.get("failed"):
            assert "api_token" in result["msg"], result["msg"]
    elif name in FAILING:
        assert result.get("failed"), relib.short_msg(result)
        relib.assert_no_traceback(result)
        if name == "wrong-token":
            assert "api_token" in result["msg"] and "TOS_API_TOKEN" in result["msg"], result["msg"]
    elif name.startswith("role-"):
        failed = [r for r in records if r["status"] == "failed"]
        assert not failed, relib.failure_text(failed[0]["result"])
        mail = [r for r in records if r["action"] == "tos.cloud.mail_setting"]
        assert mail and mail[0]["result"].get("changed"), "the role did not converge the mail settings"
    else:
        assert not result.get("failed"), relib.short_msg(result)
    if name in ("mail-change-diff", "mail-check-diff"):
        assert result["changed"] and "diff" in result, result
        assert "********" in json.dumps(result["diff"]), result["diff"]
    if name == "system-info-settings":
        assert result.get("settings"), "gather_settings returned nothing to scan"


for _run in RUNS:
    _cls = _playbook_class(_run)
    globals()[_cls.__name__] = _cls


# ---- ansible-inventory with the inventory plugin -----------------------------------------------


class TestSecretsInventory:
    def test_inventory_plugin_output_holds_no_secret(self, tsim, fixture_a):
        if not (relib.ROOT / "plugins/inventory/hosts.py").exists():
            pytest.skip("the inventory plugin is not in the collection yet")
        tsim.reset(fixture_a)
        dir = relib.workdir("secrets-inventory")
        config = dir / "rel.tos.yml"
        config.write_text(yaml.safe_dump({"plugin": "tos.cloud.hosts"}))
        import subprocess

        env = relib.ansible_env(dir, {"TOS_API_URL": tsim.url, "TOS_API_TOKEN": TOKEN,
                                      "ANSIBLE_INVENTORY_ENABLED": "tos.cloud.hosts"})
        ok = subprocess.run([str(relib.VENV_BIN / "ansible-inventory"), "-vvv", "-i", str(config), "--list"],
                            cwd=dir, env=env, capture_output=True, text=True, timeout=300, check=False)
        bad = subprocess.run([str(relib.VENV_BIN / "ansible-inventory"), "-vvv", "-i", str(config), "--list"],
                             cwd=dir, env=dict(env, TOS_API_TOKEN=WRONG_TOKEN), capture_output=True, text=True,
                             timeout=300, check=False)
        assert ok.returncode == 0 and "tos-a1" in ok.stdout, ok.stderr[-2000:]
        assert not leaks(ok.stdout + ok.stderr), leaks(ok.stdout + ok.stderr)
        assert not leaks(bad.stdout + bad.stderr), leaks(bad.stdout + bad.stderr)
        assert "api_token" in bad.stderr or "TOS_API_TOKEN" in bad.stderr, bad.stderr[-2000:]


# ---- ansible-runner: what AWX stores ------------------------------------------------------------

RUNNER_SCENARIOS = ["runner-vvv-diff", "runner-check-vvv", "runner-failure-vvv"]


def runner_playbook(name, url, fixture):
    reset = relib.sim_step("reset", url, reset=fixture)
    tasks = [reset]
    if name == "runner-failure-vvv":
        tasks.append(mail_task(name, {"test_recipient": "ops@example.com"}))
        # the credential with a newline, from the job's environment (a literal would be the playbook's own text:
        # ansible-core quotes the lines before a failing task in its error)
        tasks.append(relib.module_task("wrong token with a newline", "system_info",
                                       {"api_token": "{{ lookup('ansible.builtin.env', 'TOS_API_TOKEN') }}\n"}))
        tasks.append(relib.module_task("wrong token", "system_info", {"api_token": WRONG_TOKEN}))
    else:
        tasks.append(mail_task(name))
        tasks.append(mail_task(name + " change", {"smtp_password": NEW_PASSWORD}))
        tasks.append(relib.module_task(name + " info", "system_info", {"gather_settings": True}))
    return [relib.play(tasks, module_defaults={"group/tos.cloud.api": {"api_url": url}})]


class TestSecretsRunner:
    @pytest.mark.parametrize("name", RUNNER_SCENARIOS)
    def test_runner_artifacts_hold_no_secret(self, tsim, fixture_a, name):
        import ansible_runner

        dir = relib.workdir("secrets-" + name)
        project = dir / "project"
        project.mkdir()
        (project / "site.yml").write_text(relib.dump_yaml(runner_playbook(name, tsim.url, fixture_a)))
        inventory = dir / "inventory"
        inventory.mkdir()
        relib.write_inventory(inventory)
        env = relib.ansible_env(dir)
        # AWX injects the credential as environment variables (awx/credential_type.yml)
        env["TOS_API_TOKEN"] = TOKEN
        env.pop("RELIABILITY_RECORD", None)
        cmdline = "--diff" + (" --check" if "check" in name else "")
        result = ansible_runner.run(
            private_data_dir=str(dir), playbook="site.yml", inventory=str(inventory / "inventory.ini"),
            envvars=env, verbosity=3, cmdline=cmdline, quiet=True, ident="job",
        )
        artifacts = dir / "artifacts" / "job"
        assert (artifacts / "job_events").is_dir() and list((artifacts / "job_events").glob("*.json")), \
            "no job events written"
        events = [json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")]
        ran = [e for e in events if e.get("event") in ("runner_on_ok", "runner_on_failed")
               and str(e.get("event_data", {}).get("task", "")).startswith(("runner-", "wrong token"))]
        assert ran, "the scenario's tasks did not run (status %s)" % result.status
        if name == "runner-failure-vvv":
            assert any(e["event"] == "runner_on_failed" for e in ran), "expected failures to scan"
        else:
            assert result.status == "successful", (artifacts / "stdout").read_text()[-3000:]
        # 'command' and 'env' echo the environment the caller gave the job (AWX keeps its own
        # redacted copy): they are the input, not what the collection wrote
        found = scan_dir(artifacts, skip=("command",))
        assert not found, "secrets in ansible-runner artifacts: %s" % found
        shutil.rmtree(dir / "env", ignore_errors=True)
        assert os.path.exists(artifacts / "stdout")
