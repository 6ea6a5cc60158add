# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The playbooks run as AWX runs a job template: through ansible-runner, with the environment that the
custom credential type (awx/credential_type.yml) injects, against a simulator that requires the token
and serves HTTPS with a private CA (so TOS_CA_PATH, the CA file injector, is really used).

The job must succeed, its events must hold playbook_on_stats and no runner_on_failed, and the token
must never appear in a job event or an artifact file. The inventory source example
(awx/inventory/hosts.tos.yml) is loaded the same way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import ansible_runner
import pytest
import requests
import trustme
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.tos.cloud.tests.ecosystem.helpers import (
    COLLECTIONS,
    REPO_ROOT,
    VENV_BIN,
    ansible_env,
    load_yaml,
    tool,
)
from simulator.testing import run_simulator

TOKEN = "tok-ecosystem-3f9c1d7e5b2a4c68"
WRONG_TOKEN = "tok-wrong-8a1e2f4c6b9d0357"
CREDENTIAL_TYPE = REPO_ROOT / "awx" / "credential_type.yml"
INVENTORY_SOURCE = REPO_ROOT / "awx" / "inventory" / "hosts.tos.yml"
SURVEYS = REPO_ROOT / "awx" / "surveys"
SURVEY_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
# What an operator would put into the job template's extra variables or survey: one small cluster (rack C
# of the simulator's fixture) instead of the three of playbooks/group_vars, to keep the test short.
CLOUD = {
    "cluster_bringup_clusters": [{
        "name": "awx-c", "seed_ip": "203.0.113.11", "desc": "made by an AWX job",
        "cvms": [{"host": "tos-c1", "address": "203.0.113.101/24", "gateway": "203.0.113.1"}],
        "drs": {"enabled": False},
        "snapshot_policy": {"interval": "1d", "daemon": "started"},
    }],
    "cluster_bringup_mail": {},
    "cluster_bringup_system_settings": {},
}
PROMPTING_KEYS = ("vars_prompt",)
PAUSE_MODULES = ("pause", "ansible.builtin.pause", "ansible.legacy.pause")


# ---- AWX's side: render the credential type -------------------------------------------------

def inject_credential(credential_type, inputs, private_data_dir):
    """What AWX does with a credential of a custom type: write the file injectors, render the env ones.

    As in AWX (awx/main/models/credential.py), a boolean input that is not set is false, templates are
    rendered in an immutable sandbox, and ``tower.filename.<name>`` names the file of a file injector.
    """
    env = ImmutableSandboxedEnvironment()
    namespace = dict(inputs)
    for field in credential_type["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    filenames = {}
    for label, template in (credential_type["injectors"].get("file") or {}).items():
        name = label.split(".", 1)[1] if "." in label else "template"
        path = Path(private_data_dir) / ("credential_" + name)
        path.write_text(env.from_string(template).render(**namespace), encoding="utf-8")
        path.chmod(0o600)
        filenames[name] = str(path)
    namespace["tower"] = namespace["awx"] = {"filename": filenames}
    return {key: env.from_string(template).render(**namespace)
            for key, template in (credential_type["injectors"].get("env") or {}).items()}


def survey_answers(survey, **answers):
    """The extra variables AWX gives a job whose survey was answered with ``answers`` (defaults elsewhere)."""
    spec = json.loads((SURVEYS / survey).read_text(encoding="utf-8"))["spec"]
    extra = {}
    for question in spec:
        value = answers.get(question["variable"], question.get("default"))
        if question["type"] == "integer":
            value = int(value)
        extra[question["variable"]] = value
    return extra


def role_options():
    """Every variable the roles declare in meta/argument_specs.yml, with its spec."""
    options = {}
    for path in sorted((REPO_ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for entry_point in load_yaml(path)["argument_specs"].values():
            options.update(entry_point.get("options") or {})
    return options


# ---- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def credential_type():
    return load_yaml(CREDENTIAL_TYPE)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A private CA and a server certificate for 127.0.0.1, as files."""
    work = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(work / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(work / "server.pem"))
    for blob in cert.cert_chain_pems[1:]:
        with open(work / "server.pem", "ab") as handle:
            handle.write(blob.bytes())
    return {"ca_pem": ca.cert_pem.bytes().decode(), "cert": str(work / "server.pem"), "key": str(work / "server.key"),
            "ca_file": _write(work / "ca.pem", ca.cert_pem.bytes().decode())}


@pytest.fixture(scope="module")
def simulator(tls):
    """A simulator that wants the token and speaks HTTPS with the private CA's certificate."""
    with run_simulator(speed=200, extensions="all", token=TOKEN, tls_cert=tls["cert"], tls_key=tls["key"]) as url:
        yield url


@pytest.fixture(scope="module")
def credential_inputs(simulator, tls):
    """What an AWX user types into a credential of the "tos.cloud manager" type."""
    return {"api_url": simulator, "api_token": TOKEN, "ca_cert": tls["ca_pem"]}


def _write(path, text):
    Path(path).write_text(text, encoding="utf-8")
    return str(path)


def unwrap_unsafe(value):
    """ansible-core 2.19+ prints values marked unsafe (the API's, and compose results) as
    ``{"__ansible_unsafe": value}`` in ``ansible-inventory --list``; read them as the values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap_unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_unsafe(item) for item in value]
    return value


def run_job(work, credential_type, inputs, playbook, extravars=None, inventory="demo.ini", verbosity=0):
    """Run a playbook of playbooks/ as an AWX job: the project copied into the private data dir, an
    inventory (playbooks/inventory/demo.ini, or the inventory source awx/inventory/hosts.tos.yml), the
    credential's environment; ansible-runner writes the events and artifacts."""
    pdd = Path(work) / ("job-" + playbook.replace(".yml", ""))
    shutil.copytree(REPO_ROOT / "playbooks", pdd / "project")
    (pdd / "inventory").mkdir()
    if inventory == "demo.ini":
        shutil.copy(REPO_ROOT / "playbooks" / "inventory" / "demo.ini", pdd / "inventory" / "hosts")
    else:
        shutil.copy(INVENTORY_SOURCE, pdd / "inventory" / "hosts.tos.yml")
    envvars = inject_credential(credential_type, inputs, pdd)
    envvars.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="false",
                   PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    result = ansible_runner.run(
        private_data_dir=str(pdd), playbook=playbook, envvars=envvars, extravars=extravars or {},
        verbosity=verbosity, quiet=True, suppress_env_files=True, timeout=600,
    )
    return result, pdd, envvars


def assert_job_successful(result):
    """What AWX shows as a green job: status successful, stats present, no failed or unreachable host."""
    events = list(result.events)
    stdout = "\n".join(e.get("stdout", "") for e in events)
    assert result.status == "successful", stdout[-6000:]
    assert result.rc == 0
    kinds = [e["event"] for e in events]
    assert "playbook_on_stats" in kinds
    assert "runner_on_failed" not in kinds, stdout[-6000:]
    assert "runner_on_unreachable" not in kinds, stdout[-6000:]
    stats = result.stats
    assert not stats.get("failures") and not stats.get("dark"), stats
    assert sum((stats.get("ok") or {}).values()) > 0
    return stats


def assert_token_never_leaks(token, result, pdd):
    """The token is in no job event and no artifact file. ansible-runner's `command` artifact records the
    job's environment (AWX keeps it as job_env, with secrets redacted): there the token may be the value
    of TOS_API_TOKEN, and nowhere else."""
    events = list(result.events)
    assert events
    for event in events:
        assert token not in json.dumps(event), "token in job event %s" % event.get("event")
    artifacts = pdd / "artifacts"
    checked = 0
    for path in artifacts.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "command" and path.parent.parent == artifacts:
            command = json.loads(text)
            assert command["env"].get("TOS_API_TOKEN") == token
            command["env"].pop("TOS_API_TOKEN")
            text = json.dumps(command)
        assert token not in text, "token in artifact %s" % path.relative_to(pdd)
        checked += 1
    assert checked > 2
    assert not (pdd / "env" / "envvars").exists()


# ---- tests ------------------------------------------------------------------------------------

def test_credential_type_is_what_awx_accepts(credential_type):
    assert credential_type["kind"] in ("cloud", "net")
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert fields["api_token"].get("secret") is True
    assert fields["ca_cert"].get("multiline") is True
    assert credential_type["inputs"]["required"] == ["api_url"]
    for field in fields.values():
        assert field["type"] in ("string", "boolean") and field.get("label")
    assert set(credential_type["injectors"]["env"]) == {"TOS_API_URL", "TOS_API_TOKEN", "TOS_VALIDATE_CERTS", "TOS_CA_PATH"}


def test_injectors_verify_certificates_unless_told_not_to(credential_type, tmp_path):
    plain = inject_credential(credential_type, {"api_url": "https://192.0.2.10:9990"}, tmp_path)
    assert plain == {"TOS_API_URL": "https://192.0.2.10:9990", "TOS_API_TOKEN": "", "TOS_VALIDATE_CERTS": "true",
                     "TOS_CA_PATH": ""}
    insecure = inject_credential(credential_type, {"api_url": "https://h:1", "skip_tls_verify": True}, tmp_path)
    assert insecure["TOS_VALIDATE_CERTS"] == "false"
    with_ca = inject_credential(credential_type, {"api_url": "https://h:1", "ca_cert": "PEM"}, tmp_path)
    assert Path(with_ca["TOS_CA_PATH"]).read_text(encoding="utf-8") == "PEM"


def _playbook_problems(path):
    """vars_prompt or an interactive pause in a playbook or task file: a job template cannot answer them."""
    problems = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key in PROMPTING_KEYS:
                if key in node:
                    problems.append("%s: %s" % (path.relative_to(REPO_ROOT), key))
            for module in PAUSE_MODULES:
                if module in node:
                    args = node[module] if isinstance(node[module], dict) else {}
                    if not ({"seconds", "minutes"} & set(args)):
                        problems.append("%s: %s without seconds/minutes (waits for a keypress)" % (
                            path.relative_to(REPO_ROOT), module))
            for value in node.values():
                walk(value)

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return problems


@pytest.mark.parametrize("survey", sorted(p.name for p in SURVEYS.glob("*.json")))
def test_survey_asks_for_role_variables_awx_can_pass(survey):
    spec = json.loads((SURVEYS / survey).read_text(encoding="utf-8"))
    assert spec["name"] and spec["description"] and spec["spec"]
    options = role_options()
    for question in spec["spec"]:
        variable = question["variable"]
        assert question["question_name"] and isinstance(question["required"], bool)
        assert question["type"] in SURVEY_TYPES
        assert variable in options, "%s asks for %s, which no role declares" % (survey, variable)
        wanted = options[variable].get("type", "str")
        if question["type"] == "integer":
            assert wanted == "int" and question["min"] <= question["default"] <= question["max"]
        elif question["type"] in ("text", "textarea", "password"):
            assert wanted == "str", "%s is %s, a text answer is a string" % (variable, wanted)
        elif question["type"] == "multiplechoice":
            choices = question["choices"].split("\n") if isinstance(question["choices"], str) else question["choices"]
            assert question["default"] in choices
            if wanted == "bool":
                assert set(choices) == {"true", "false"}


def test_playbooks_never_prompt():
    files = sorted((REPO_ROOT / "playbooks").glob("*.yml")) + sorted((REPO_ROOT / "roles").glob("*/tasks/*.yml"))
    assert files
    problems = [problem for path in files for problem in _playbook_problems(path)]
    assert not problems, "job templates cannot answer prompts: " + "; ".join(problems)


@pytest.fixture(scope="module")
def site_job(credential_type, credential_inputs, simulator, tls, tmp_path_factory):
    """The demo, playbooks/site.yml (bring-up, then the inspection report), run once as an AWX job."""
    work = tmp_path_factory.mktemp("site")
    requests.delete(simulator + "/_sim/requests", verify=tls["ca_file"], timeout=10)
    result, pdd, envvars = run_job(work, credential_type, credential_inputs, "site.yml",
                                   dict(CLOUD, tos_report_dir=str(work / "report"), **survey_answers("inspect.json")))
    log = requests.get(simulator + "/_sim/requests", verify=tls["ca_file"], timeout=10).json()["requests"]
    return result, pdd, envvars, log, work


def test_site_runs_as_an_awx_job(site_job):
    result, pdd, envvars, log, work = site_job
    assert_job_successful(result)
    # TLS was verified against the CA the credential wrote to a file, and the token was accepted
    assert envvars["TOS_VALIDATE_CERTS"] == "true"
    assert Path(envvars["TOS_CA_PATH"]).is_file()
    assert any(r["path"] == "/v1/cluster/add" and r["status"] == 200 for r in log)
    assert (work / "report" / "index.html").is_file()
    assert_token_never_leaks(TOKEN, result, pdd)


def test_rolling_upgrade_job_uses_the_inventory_source(site_job, credential_type, credential_inputs, simulator, tls,
                                                       tmp_path):
    extravars = survey_answers("rolling_upgrade.json", rolling_upgrade_cluster="awx-c", rolling_upgrade_batch_size=3)
    extravars["rolling_upgrade_health_delay"] = 1
    result, pdd, _env = run_job(tmp_path, credential_type, credential_inputs, "rolling_upgrade.yml", extravars,
                                inventory="hosts.tos.yml")
    assert_job_successful(result)
    assert_token_never_leaks(TOKEN, result, pdd)
    state = requests.get(simulator + "/_sim/state", verify=tls["ca_file"], timeout=10).json()
    target = state["upgrade_package"]["version"]
    rack_c = [h for h in state["hosts"].values() if h["group"] == "rack-c"]
    assert rack_c and all(h["type_version"]["compute"] == target for h in rack_c), \
        [(h["name"], h["type_version"]) for h in rack_c]


def test_gather_facts_job_runs_on_localhost(credential_type, credential_inputs, tmp_path):
    result, pdd, _env = run_job(tmp_path, credential_type, credential_inputs, "gather_facts.yml",
                                {"tos_facts_hosts": "localhost"})
    assert_job_successful(result)
    assert_token_never_leaks(TOKEN, result, pdd)


def test_wrong_token_fails_the_job_with_a_clear_message_and_no_token(credential_type, credential_inputs, tmp_path):
    inputs = dict(credential_inputs, api_token=WRONG_TOKEN)
    # job verbosity 3 (-vvv), where module arguments and every request's path are shown
    result, pdd, _env = run_job(tmp_path, credential_type, inputs, "bringup.yml", CLOUD, verbosity=3)
    assert result.status == "failed"
    failed = [e for e in result.events if e["event"] == "runner_on_failed"]
    assert failed
    message = failed[0]["event_data"]["res"]["msg"]
    assert "Authentication failed" in message and "TOS_API_TOKEN" in message
    assert_token_never_leaks(WRONG_TOKEN, result, pdd)


def test_inventory_source_lists_the_cluster_hosts(site_job, credential_type, credential_inputs, tmp_path):
    """The inventory source of docs/awx.md, loaded as an AWX inventory update does, with the credential."""
    env = ansible_env(**inject_credential(credential_type, credential_inputs, tmp_path))
    shutil.copy(INVENTORY_SOURCE, tmp_path / "hosts.tos.yml")
    proc = subprocess.run([tool("ansible-inventory"), "-i", str(tmp_path / "hosts.tos.yml"), "--list", "--export"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "[WARNING]" not in proc.stderr, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    inventory = unwrap_unsafe(json.loads(proc.stdout))
    hosts = inventory["_meta"]["hostvars"]
    assert "203.0.113.11" in hosts, sorted(hosts)
    assert all(h.get("ansible_user") == "root" for h in hosts.values())
    assert {"tos_cluster_awx_c", "tos_center_leader"} <= set(inventory), sorted(inventory)
    assert any(group.startswith("tos_compute_version") for group in inventory), sorted(inventory)
