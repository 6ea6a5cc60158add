"""The roles as operators run them: a re-run that meets the operation an interrupted run left behind, extra vars
given as strings the way ``-e key=value`` and AWX surveys pass them, and what the failure messages claim.

Each test failed before 1.0.x's fix (the docstrings say how)."""
from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from conftest import REPO_ROOT, Sim

SIM_OPTIONS = {"extensions": "all"}
DEPLOY_CVM = "/v1/cluster/deploy/cvm"
UPGRADE = "/v1/system/compute/version/upgrade"
NO_SETTINGS = {"cluster_bringup_mail": {}, "cluster_bringup_system_settings": {}}
# The two clouds the tests start from (Sim.converged: brought up once per module, then reloaded): one cluster, and
# one cluster with its cloud-management VM (hosts tos-c1..tos-c3, upgradable).
PLAIN = {"cluster_bringup_clusters": [{"name": "ops-c", "seed_ip": "203.0.113.11"}], **NO_SETTINGS}
WITH_CVM = {"cluster_bringup_clusters": [{"name": "ops-u", "seed_ip": "203.0.113.11", "cvms": [
    {"host": "tos-c1", "address": "203.0.113.101/24", "gateway": "203.0.113.1"}]}], **NO_SETTINGS}


def test_bringup_rerun_over_a_cvm_deploy_still_running_sets_the_snapshot_policy(sim: Sim, durations: Any) -> None:
    """A bring-up interrupted (Ctrl-C) while the cluster's first CVM deploys, then run again: the re-run joins the
    deploy (ok) and must then set the snapshot policy. It fails 'cluster ... has no center node': the snapshot
    policy task is answered cloud/manage from the run's cache, read while the CVM was still deploying (a wait
    does not clear the cache). With -e cluster_bringup_run_cache=false the same re-run succeeds."""
    sim.reset()
    durations(deploy_cvm=400)  # 10 s at speed 40
    cluster = {"name": "join-c", "seed_ip": "203.0.113.11",
               "cvms": [{"host": "tos-c1", "address": "203.0.113.101/24", "gateway": "203.0.113.1"}],
               "snapshot_policy": {"interval": "1w", "daemon": "started"}}
    # what the interrupted run did: the cluster, then the CVM deploy sent (its wait never finished)
    first = sim.play("interrupted", [
        {"tos.cloud.cluster": {"name": "join-c", "ip": "203.0.113.11"}},
        {"tos.cloud.cvm": {"cluster": "join-c", "host": "tos-c1", "address": "203.0.113.101/24",
                           "gateway": "203.0.113.1", "wait": False}}])
    assert first.rc == 0, str(first)
    sim.control("DELETE", "requests")
    run = sim.playbook("bringup.yml", extra_vars={"cluster_bringup_clusters": [cluster], **NO_SETTINGS})
    assert [e["path"] for e in sim.mutations() if e["path"] == DEPLOY_CVM] == [], "the deploy was sent twice"
    assert run.rc == 0, str(run)
    assert sim.cluster("join-c")["snapshot_config"], str(run)


def test_drift_mail_only_on_drift_given_as_the_string_false_still_mails(sim: Sim) -> None:
    """-e drift_report_mail_only_on_drift=false (a string, as -e key=value and AWX pass it) must mail an in-sync
    report like the boolean false does. tasks/main.yml tests `not drift_report_mail_only_on_drift` without `| bool`:
    the non-empty string is truthy, so the mail is skipped."""
    sim.converged(PLAIN)
    args = ["-e", "tos_report_dir=%s" % (sim.tmp / "drift"), "-e", "drift_report_mail_to=ops@example.com",
            "-e", "drift_report_smtp_host=127.0.0.1", "-e", "drift_report_smtp_port=9949"]
    description = PLAIN
    as_bool = sim.playbook("drift.yml", *args, extra_vars=dict(description, drift_report_mail_only_on_drift=False))
    as_string = sim.playbook("drift.yml", *args, "-e", "drift_report_mail_only_on_drift=false",
                             extra_vars=description)
    banner = "TASK [tos.cloud.drift_report : Mail the drift report to"
    assert banner in as_bool.out, str(as_bool)
    assert banner in as_string.out, str(as_string)


def test_inspection_report_clusters_given_as_a_string(sim: Sim) -> None:
    """-e inspection_report_clusters=NAME (an AWX survey text field): the argument spec accepts it (a list of one),
    but tasks/main.yml loops over the raw string: "The `loop` value must resolve to a 'list', not 'str'"."""
    sim.converged(PLAIN)
    report = sim.tmp / "inspect-str"
    run = sim.playbook("inspect.yml", "-e", "inspection_report_clusters=ops-c", "-e", "inspection_report_inspect=false",
                       "-e", "tos_report_dir=%s" % report)
    assert run.rc == 0, str(run)
    assert (report / "report.json").exists()


def test_rolling_upgrade_failure_without_a_snapshot_does_not_claim_one(sim: Sim) -> None:
    """rolling_upgrade_snapshot=false: no snapshot is taken, yet the failure message says 'A metadata snapshot was
    taken before the first host' (tasks/batch.yml), which an operator would rely on to roll back."""
    sim.converged(WITH_CVM)
    sim.control("POST", "upgrade_failure", {"host": "tos-c2", "at": 0.5})
    try:
        run = sim.playbook("rolling_upgrade.yml", extra_vars={
            "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_snapshot": False})
    finally:
        sim.control("DELETE", "upgrade_failure")
    assert run.rc != 0 and "stopped at tos-c2" in run.out, str(run)
    assert sim.cluster("ops-u")["snapshots"] == []
    assert "A metadata snapshot was taken" not in run.out, str(run)


def test_rolling_upgrade_resume_keeps_the_snapshot_from_before_the_first_host(sim: Sim) -> None:
    """The documented failure-and-resume (docs/upgrades.md) with rolling_upgrade_snapshot_retain: 1: the resume takes
    a new 'before the first host' snapshot while hosts are already upgraded, and the retain prunes the only
    snapshot from before the upgrade began: the rollback point is gone."""
    sim.converged(WITH_CVM)
    extra = {"rolling_upgrade_cluster": "ops-u", "rolling_upgrade_snapshot_retain": 1}
    sim.control("POST", "upgrade_failure", {"host": "tos-c3", "at": 0.5})
    try:
        first = sim.playbook("rolling_upgrade.yml", extra_vars=extra)
    finally:
        sim.control("DELETE", "upgrade_failure")
    assert first.rc != 0 and "stopped at tos-c3" in first.out, str(first)
    before_upgrade = list(sim.cluster("ops-u")["snapshots"])
    assert len(before_upgrade) == 1
    resumed = sim.playbook("rolling_upgrade.yml", extra_vars=extra)
    assert resumed.rc == 0, str(resumed)
    assert re.search(r"skipped, already at \S+: tos-c2", resumed.out), str(resumed)
    assert before_upgrade[0] in sim.cluster("ops-u")["snapshots"], (
        "the snapshot from before the first host was pruned by the resume", sim.cluster("ops-u")["snapshots"])


def test_rolling_upgrade_version_given_as_a_yaml_number_is_compared_not_crashed_on(sim: Sim) -> None:
    """AWX extra vars `rolling_upgrade_version: 3.3` (a YAML float): the argument spec (type str) accepts it, then the
    pre-flight crashes "object of type '_AnsibleTaggedFloat' has no len()" without naming the variable, instead of
    refusing the package, naming the role's variable, both versions and that nothing changed."""
    sim.converged(WITH_CVM)
    run = sim.playbook("rolling_upgrade.yml", "--check", extra_vars={
        "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_version": 3.3})
    assert run.rc != 0, str(run)
    assert "Pre-flight failed: rolling_upgrade_version: 3.3 is not the version of the uploaded package" in run.out, str(run)
    assert "(3.2.5.rc2); upload the package of 3.3 or set rolling_upgrade_version to 3.2.5.rc2. Nothing was changed." \
        in run.out, str(run)
    assert sim.mutations() == []


def test_inspection_report_message_names_a_file_it_wrote(sim: Sim) -> None:
    """inspection_report_formats: [json]: only report.json is written, yet the last message points the operator to
    DIR/index.html (tasks/render.yml, 'Show where the report is')."""
    sim.converged(PLAIN)
    report = sim.tmp / "inspect-json"
    run = sim.playbook("inspect.yml", extra_vars={
        "inspection_report_dir": str(report), "inspection_report_formats": ["json"], "inspection_report_inspect": False})
    assert run.rc == 0, str(run)
    assert not (report / "index.html").exists()
    assert "Report %s/index.html" % report not in run.out, str(run)
    assert "Report %s/report.json" % report in run.out, str(run)
    # one line: the file name was followed by a line break (a more-indented line in the folded message)
    assert re.search(r'"msg": "Report %s/report\.json: \w+, lowest score' % re.escape(str(report)), run.out), str(run)


@pytest.mark.parametrize("limit", ["203.0.113.13", "localhost,203.0.113.13"])
def test_rolling_upgrade_playbook_refuses_a_limit_before_any_change(sim: Sim, limit: str) -> None:
    """playbooks/rolling_upgrade.yml with --limit (an AWX job template's Limit): without localhost both plays were
    skipped and the run succeeded having upgraded nothing; with localhost, the serial batch of the limited host ran
    the whole planned batch, upgrading tos-c2 that the limit left out. Now refused before any request that writes."""
    sim.converged(WITH_CVM)
    inventory = sim.tmp / "limit.tos.yml"
    inventory.write_text(f"plugin: tos.cloud.hosts\napi_url: {sim.url}\n")
    before = {name: h["type_version"] for name, h in sim.hosts().items()}
    sim.control("DELETE", "requests")
    run = sim.playbook("rolling_upgrade.yml", "--limit", limit, inventory=inventory, extra_vars={
        "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_batch_size": 2})
    assert run.rc != 0, str(run)
    assert "does not take --limit (%s)" % limit in run.out and "rolling_upgrade_hosts" in run.out, str(run)
    assert {name: h["type_version"] for name, h in sim.hosts().items()} == before
    assert sim.mutations() == []


@pytest.mark.parametrize(("playbook", "variable", "said"), [
    ("inspect.yml", "inspection_report_dir", "Nothing was started."),
    ("drift.yml", "drift_report_dir", "Nothing was compared."),
])
def test_an_empty_report_dir_is_refused_before_any_request(sim: Sim, playbook: str, variable: str, said: str) -> None:
    """-e '{"inspection_report_dir": ""}' (an AWX survey question left empty): the inspections of every cluster were
    started, then the role failed creating the directory '' ("There was an issue creating  as requested"); the
    drift report compared everything, then failed with a Python traceback from its writer. Now refused first."""
    sim.reset()
    sim.control("DELETE", "requests")
    run = sim.playbook(playbook, extra_vars={variable: ""})
    assert run.rc != 0, str(run)
    assert "%s is empty: give a directory" % variable in run.out and said in run.out, str(run)
    assert "Traceback" not in run.out, str(run)
    assert sim.mutations() == []


def test_drift_report_names_an_invalid_description_readably(sim: Sim, tmp_path: Any) -> None:
    """An invalid description: the message ran `replace` on the list of errors (turning it into its text) and then
    `join('; ')` over that text's characters: 'Invalid description, nothing was compared: [; "; d; r; i; f; t; ...'."""
    run = sim.playbook("drift.yml", extra_vars={
        "drift_report_clusters": [{"name": "bad-c", "seed_ip": "not-an-ip"}], "drift_report_dir": str(tmp_path)})
    assert run.rc != 0, str(run)
    assert ("Invalid description, nothing was compared: drift_report_clusters[0].seed_ip: 'not-an-ip' is not an IP"
            in run.out), str(run)


def test_rolling_upgrade_under_the_free_strategy_sends_each_upgrade_once(sim: Sim) -> None:
    """An ansible.cfg with strategy = free (ANSIBLE_STRATEGY): ansible-core does not honour run_once under it, so
    the batch's include ran once per queued host of the batch, and each sent the batch's upgrade."""
    sim.converged(WITH_CVM)
    run = sim.playbook("rolling_upgrade.yml", env={"ANSIBLE_STRATEGY": "free"}, extra_vars={
        "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_batch_size": 2, "rolling_upgrade_snapshot": False})
    assert run.rc == 0, str(run)
    # one POST per batch, one list item per host and service type: a host in two POSTs was sent twice
    upgrades = [sorted({item["host_ip"] for item in e["body"]["list"]}) for e in sim.mutations() if e["path"] == UPGRADE]
    hosts = [host for sent in upgrades for host in sent]
    assert len(hosts) == len(set(hosts)) == 3, "an upgrade was sent twice: %s" % upgrades


def three_api_hosts(sim: Sim, name: str) -> Any:
    """An empty cloud and an inventory of three local hosts, api-0..api-2, in group tos_api."""
    sim.reset()
    sim.clear()
    inventory = sim.tmp / name
    inventory.write_text("[tos_api]\n" + "".join(
        "api-%d ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n" % i
        for i in range(3)))
    return inventory


@pytest.mark.parametrize("own_play", [False, True], ids=["bringup.yml", "an operator's play"])
def test_a_role_in_a_play_of_several_hosts_under_the_free_strategy_runs_its_api_tasks_once(
        sim: Sim, own_play: bool) -> None:
    """The roles run their API tasks once for the play (run_once, delegated to the controller): under the free
    strategy (ansible.cfg) every host of the play ran them, each converging the same cluster at the same time.
    The collection's playbooks set strategy: linear; in an operator's play, the hosts but the batch's first stop
    at the first task, saying why, and ansible-core then ends the play (a failed run_once task fails every host)."""
    inventory = three_api_hosts(sim, "three.ini")
    playbook = "bringup.yml"
    if own_play:
        playbook = str(sim.tmp / "own-bringup.yml")
        (sim.tmp / "own-bringup.yml").write_text(
            "- hosts: tos_api\n  gather_facts: false\n  roles: [tos.cloud.cluster_bringup]\n")
    extra = {"cluster_bringup_clusters": [{"name": "free-b", "seed_ip": "203.0.113.11"}], **NO_SETTINGS}
    run = sim.playbook(playbook, inventory=inventory, env={"ANSIBLE_STRATEGY": "free"}, extra_vars=extra)
    # one role run reads the manager's members once (its pre-flight); the races of three are timing-dependent
    reads = [e for e in sim.log() if e["path"] == "/v1/system/member/list"]
    creates = [e for e in sim.mutations() if e["path"] == "/v1/cluster/add"]
    if own_play:
        # the other hosts' refusal fails the run_once task, which ansible-core turns into every host's failure:
        # the first host stops too, a task or so later (reads only). Which of the other two reports first is the
        # free strategy's timing (a cold start saw api-2's refusal end the play before api-1 reached the check).
        assert run.rc != 0 and re.search(r"they run on api-0 alone and api-[12] stops here, changing nothing\. "
                                         r"Set strategy: linear on the play\.", run.out), str(run)
        assert len(reads) <= 1 and len(creates) <= 1, "the role's API tasks ran more than once: %s" % str(run)
    else:
        assert run.rc == 0, str(run)
        assert len(reads) == 1, "the role's API tasks ran %d times: %s" % (len(reads), str(run))
        assert len(creates) == 1, str(run)


# Survey answers and -e values as operators type them: spaces after the commas, a trailing comma, "" for "all".
# Before: the argument spec's choices refused "json, markdown" with "Got no match for:  markdown" (the invisible
# " markdown"), "" for checks or service types ("Got no match for: "), and the hosts went to the module untrimmed.
def test_report_lists_given_as_strings_with_spaces_and_empty_entries(sim: Sim) -> None:
    sim.converged(PLAIN)
    report = sim.tmp / "lists-inspect"
    run = sim.playbook("inspect.yml", extra_vars={
        "inspection_report_formats": " json , markdown,", "inspection_report_checks": "network, hardware ",
        "inspection_report_clusters": " ops-c, ", "inspection_report_mail_to": "", "inspection_report_dir": str(report)})
    assert run.rc == 0, str(run)
    assert sorted(p.name for p in report.iterdir() if not p.name.startswith(".")) == ["report.json", "report.md"]
    starts = [e["body"] for e in sim.log() if e["path"] == "/v1/cluster/inspection"]
    assert [(b["cluster_name"], b["check_system"], b["check_network"], b["check_hardware"]) for b in starts] == [
        ("ops-c", False, True, True)], starts
    assert "Mail the report" not in run.out.replace("TASK [tos.cloud.inspection_report : Mail the report]", ""), str(run)
    drift = sim.tmp / "lists-drift"
    run = sim.playbook("drift.yml", extra_vars={
        **PLAIN,
        "drift_report_formats": "junit , json", "drift_report_mail_to": " ", "drift_report_dir": str(drift)})
    assert run.rc == 0, str(run)
    assert sorted(p.name for p in drift.iterdir() if not p.name.startswith(".")) == ["junit.xml", "report.json"]


@pytest.mark.parametrize(("playbook", "extra", "said"), [
    ("inspect.yml", {"inspection_report_formats": "json, pdf"}, "Unknown pdf: inspection_report_formats takes html"),
    ("inspect.yml", {"inspection_report_checks": "system,disk"}, "Unknown disk: inspection_report_formats takes html"),
    ("drift.yml", {"drift_report_formats": "json, xml"}, "drift_report_formats: unknown xml (it takes html"),
    ("rolling_upgrade.yml", {"rolling_upgrade_cluster": "ops-c", "rolling_upgrade_service_types": "compute, disk"},
     "Unknown service type(s) disk: rolling_upgrade_service_types takes compute"),
])
def test_an_unknown_entry_in_a_list_variable_is_refused_before_any_request(
        sim: Sim, playbook: str, extra: dict[str, Any], said: str) -> None:
    sim.control("DELETE", "requests")
    run = sim.playbook(playbook, extra_vars=dict(extra, inspection_report_dir=str(sim.tmp / "x"),
                                                 drift_report_dir=str(sim.tmp / "y")))
    assert run.rc != 0 and said in run.out, str(run)
    assert sim.log() == [], sim.log()


def test_rolling_upgrade_hosts_and_service_types_given_as_strings_with_spaces(sim: Sim) -> None:
    sim.converged(WITH_CVM)
    before = {name: h["type_version"] for name, h in sim.hosts().items()}
    run = sim.playbook("rolling_upgrade.yml", "--check", extra_vars={
        "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_hosts": "tos-c3 , tos-c2,",
        "rolling_upgrade_service_types": "compute, storage"})
    assert run.rc == 0, str(run)
    planned = re.findall(r"batch \d+: (tos-c\d) \([^)]*\)[^:]*: ([^\"\n]*)", run.out)
    assert [host for host, _types in planned] == ["tos-c3", "tos-c2"], str(run)
    assert all("cloud" not in types and "compute" in types for _host, types in planned), planned
    run = sim.playbook("rolling_upgrade.yml", "--check", extra_vars={
        "rolling_upgrade_cluster": "ops-u", "rolling_upgrade_hosts": "", "rolling_upgrade_service_types": ""})
    assert run.rc == 0, str(run)
    assert "3 host(s) in 3 batch(es)" in run.out, str(run)
    assert {name: h["type_version"] for name, h in sim.hosts().items()} == before
    assert sim.mutations() == []


def test_a_role_after_meta_end_host_on_the_first_host_runs_once_on_the_next(sim: Sim) -> None:
    """The free-strategy guard (inventory_hostname == ansible_play_batch[0]) under the linear strategy, when the
    play ends its first host with meta: end_host before the role: ansible_play_batch leaves that host out, and
    run_once picks the next one, so the role runs once, on api-1, and is not refused."""
    inventory = three_api_hosts(sim, "three-end.ini")
    playbook = sim.tmp / "end-first.yml"
    playbook.write_text(
        "- hosts: tos_api\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.meta: end_host\n      when: inventory_hostname == 'api-0'\n"
        "    - ansible.builtin.include_role:\n        name: tos.cloud.cluster_bringup\n")
    extra = {"cluster_bringup_clusters": [{"name": "end-b", "seed_ip": "203.0.113.11"}], **NO_SETTINGS}
    run = sim.playbook(str(playbook), inventory=inventory, extra_vars=extra)
    assert run.rc == 0, str(run)
    assert "Set strategy: linear" not in run.out, str(run)
    assert len([e for e in sim.mutations() if e["path"] == "/v1/cluster/add"]) == 1, str(run)
    assert "[api-1 -> localhost]" in run.out and "[api-0 -> localhost]" not in run.out, str(run)


BLANK_CONNECTION = {"tos_api_token": "", "tos_validate_certs": "", "tos_ca_path": " ", "tos_timeout": ""}
BLANK_CLUSTER = WITH_CVM


@pytest.mark.parametrize(("playbook", "extra"), [
    ("bringup.yml", BLANK_CLUSTER),
    ("inspect.yml", {"inspection_report_inspect": False}),
    ("drift.yml", BLANK_CLUSTER),
    ("rolling_upgrade.yml", {"rolling_upgrade_cluster": "ops-u"}),
])
def test_blank_connection_variables_count_as_unset_in_every_role(sim: Sim, playbook: str, extra: dict[str, Any]) -> None:
    """An AWX survey that asks for tos_timeout, tos_validate_certs... and is left unanswered gives "": the roles'
    argument specs refused it ("argument 'inspection_report_validate_certs' is of type str and we were unable to
    convert to bool: The value '' is not a valid boolean") before the modules could read it as unset."""
    if playbook == "bringup.yml":
        sim.reset()
    else:  # a cloud to inspect, compare and upgrade, brought up with the usual variables
        sim.converged(BLANK_CLUSTER)
    run = sim.playbook(playbook, "--check" if playbook == "rolling_upgrade.yml" else "-v", extra_vars=dict(
        extra, **BLANK_CONNECTION, inspection_report_dir=str(sim.tmp / "blank-i"), drift_report_dir=str(sim.tmp / "blank-d")))
    assert run.rc == 0, str(run)
    assert "validate_certs is false" not in run.out, str(run)
    assert sim.cluster("ops-u"), str(run)


@pytest.mark.parametrize(("variable", "value"), [("tos_timeout", "soon"), ("tos_validate_certs", "perhaps")])
def test_a_connection_variable_that_is_not_blank_and_not_valid_is_refused_before_any_request(
        sim: Sim, variable: str, value: str) -> None:
    """The roles' specs take these raw (a blank value is unset); a wrong value is still refused, by the module's own
    spec, naming the option, before a request."""
    sim.reset()
    sim.control("DELETE", "requests")
    run = sim.playbook("inspect.yml", extra_vars={"inspection_report_inspect": False, variable: value,
                                                  "inspection_report_dir": str(sim.tmp / "bad-i")})
    assert run.rc != 0 and variable.replace("tos_", "") in run.out and value in run.out, str(run)
    assert "Traceback" not in run.out and sim.log() == [], str(run)


# -e key=value and an AWX survey's text answer give a dictionary variable as one string; the argument spec (type dict)
# accepts JSON or key=value pairs. Before: cluster_bringup_system_settings given so was ignored (ok, changed nothing),
# cluster_bringup_mail crashed the input check ("'_AnsibleTaggedStr' object has no attribute 'get'"), and the drift
# report compared neither.
SETTINGS_AS_TEXT = ["-e", 'cluster_bringup_system_settings={"login_policy":{"login_fail_retry_times":7}}',
                    "-e", "cluster_bringup_mail='smtp_port=2525 enabled=false'"]


def test_dictionary_variables_given_as_strings_are_applied_and_compared(sim: Sim) -> None:
    sim.reset()
    clusters = {"cluster_bringup_clusters": [{"name": "text-c", "seed_ip": "203.0.113.11"}]}
    run = sim.playbook("bringup.yml", *SETTINGS_AS_TEXT, extra_vars=clusters)
    assert run.rc == 0, str(run)
    state = sim.state()
    assert state["settings"]["login_policy"]["login_fail_retry_times"] == 7, str(run)
    assert state["mail"]["smtp_server_port"] == 2525, state["mail"]
    again = sim.playbook("bringup.yml", *SETTINGS_AS_TEXT, extra_vars=clusters)
    assert again.rc == 0 and "changed=0" in again.out, str(again)
    report = sim.tmp / "text-drift"
    for settings, status in ((SETTINGS_AS_TEXT, "in_sync"),
                             (["-e", 'cluster_bringup_system_settings={"login_policy":{"login_fail_retry_times":8}}',
                               "-e", "cluster_bringup_mail='smtp_port=2526'"], "drift")):
        drift = sim.playbook("drift.yml", *settings, "-e", "drift_report_dir=%s" % report, extra_vars=clusters)
        assert drift.rc == 0, str(drift)
        model = json.loads((report / "report.json").read_text())
        assert model["status"] == status, (model["status"], str(drift))


# "~/reports" as an AWX survey or a quoted -e gives it (the shell expands no ~ there), and a relative directory. Before:
# inspection_report created ~/reports, then failed every file ("Destination directory ~/reports does not exist"), and
# its state file was never found, so no run kept the earlier report (nor did the drift report, stamped anew and
# "changed" on every run, whatever the directory); a relative directory was written under the playbook's directory
# while the messages named it relative, as if from the operator's.
@pytest.mark.parametrize("where", ["home", "relative"])
@pytest.mark.parametrize(("playbook", "variable"), [
    ("inspect.yml", "inspection_report_dir"),
    ("drift.yml", "drift_report_dir"),
])
def test_a_report_dir_under_the_home_directory_or_relative_is_written_where_the_messages_say_and_kept(
        sim: Sim, tmp_path: Any, playbook: str, variable: str, where: str) -> None:
    sim.converged(PLAIN)
    description = PLAIN
    home = tmp_path / "home"
    home.mkdir()
    given = "~/reports" if where == "home" else os.path.relpath(home / "reports", REPO_ROOT / "playbooks")
    extra = dict(description, inspection_report_inspect=False, **{variable: given})
    runs = [sim.playbook(playbook, extra_vars=extra, env={"HOME": str(home)}) for _run in range(2)]
    assert runs[0].rc == 0, str(runs[0])
    assert (home / "reports" / "index.html").is_file(), str(runs[0])
    assert str(home / "reports") in runs[0].out, str(runs[0])
    assert runs[1].rc == 0 and "changed=0" in runs[1].out, str(runs[1])


def test_report_files_in_check_mode_drift_writes_inspection_predicts(sim: Sim, tmp_path: Any) -> None:
    """The reports' files (tos.cloud.report_files): the drift report is written with --check too (its README says so:
    check mode is how it compares), not shown as a diff; the inspection report in check mode writes nothing and
    names what a run writes, which --diff shows, and the run then writes exactly that."""
    sim.converged(PLAIN)
    drift_dir, inspect_dir = tmp_path / "drift", tmp_path / "inspect"
    drift = sim.playbook("drift.yml", "--check", "--diff", extra_vars=dict(PLAIN, drift_report_dir=str(drift_dir)))
    assert drift.rc == 0, str(drift)
    written = sorted(p.name for p in drift_dir.iterdir())
    assert written == [".report-state.json", "index.html", "junit.xml", "report.json", "report.md"]
    assert "<html" not in drift.out, "the drift report's page was shown as a diff"
    extra = {"inspection_report_dir": str(inspect_dir), "inspection_report_inspect": False}
    check = sim.playbook("inspect.yml", "--check", "--diff", "-v", extra_vars=extra)
    assert check.rc == 0, str(check)
    assert not inspect_dir.exists(), "check mode wrote the inspection report"
    predicted = re.search(r'"written": (\[[^]]*\])', check.out)
    assert predicted and "+<!DOCTYPE html>" in check.out, str(check)
    run = sim.playbook("inspect.yml", "-v", extra_vars=extra)
    assert run.rc == 0, str(run)
    listed = re.search(r'"written": (\[[^]]*\])', run.out)
    files = [str(inspect_dir / name) for name in ("index.html", "report.json", "report.md", ".report-state.json")]
    assert listed and json.loads(listed.group(1)) == json.loads(predicted.group(1)) == [str(inspect_dir), *files], str(run)
    assert sim.mutations() == []
