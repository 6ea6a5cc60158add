# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

from ansible_collections.tos.cloud.plugins.filter.drift_report_model import (
    DIFFERS,
    FilterModule,
    differences,
    drift_report_model,
    flatten,
)

CLUSTERS = [
    {"name": "alpha", "seed_ip": "192.0.2.11",
     "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"},
              {"host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1"}],
     "storage_vms": [{"manage_cidr": "192.0.2.121/24", "manage_gateway": "192.0.2.1",
                      "storage_cidr": "192.0.2.161/24", "storage_gateway": "192.0.2.1"}],
     "drs": {"enabled": True, "threshold_level": "normal"},
     "dpm": {"enabled": True, "low_threshold": 0.3},
     "global_config": {"cpu": 4.0},
     "snapshot_policy": {"interval": "6h", "daemon": "started"}},
    {"name": "beta", "seed_ip": "198.51.100.11", "drs": {"enabled": False}, "global_config": {"cpu": 2.0}},
]
DRS = {"enabled": True, "threshold_level": 3, "min_benefit_level": 2, "max_step": 4}
DPM = {"enabled": True, "high_threshold": 0.8, "low_threshold": 0.3}


def loop(var, *results):
    return {"results": [dict(r, **{var: item}) for item, r in results]}


def same(before, **extra):
    return dict({"changed": False, "diff": {"before": before, "after": before}}, **extra)


def changed(before, after, **extra):
    return dict({"changed": True, "diff": {"before": before, "after": after}}, **extra)


def cvm_results(*pairs):
    return loop("drift_report_vm", *(([CLUSTERS[0], vm], result) for vm, result in pairs))


def in_sync_results():
    alpha, beta = CLUSTERS
    return {
        "cluster": loop("drift_report_cluster", (alpha, same({"name": "alpha", "desc": ""}, cluster={"uuid": "u-a"})),
                        (beta, same({"name": "beta", "desc": ""}, cluster={"uuid": "u-b"}))),
        "cvm": cvm_results((alpha["cvms"][0], same({"address": "192.0.2.101/24"})),
                           (alpha["cvms"][1], same({"address": "192.0.2.102/24"}))),
        "storage_vm": loop("drift_report_vm", ([alpha, alpha["storage_vms"][0]], same({"manage_address": "192.0.2.121/24"}))),
        "drs": loop("drift_report_cluster", (alpha, same({"drs": DRS, "dpm": DPM})),
                    (beta, same({"drs": dict(DRS, enabled=False), "dpm": DPM}))),
        "global_config": loop("drift_report_cluster", (alpha, same({"cpu": 4.0, "memory": 1.5})),
                              (beta, same({"cpu": 2.0, "memory": 1.5}))),
        "snapshot_policy": loop("drift_report_cluster",
                                (alpha, same({"interval": 21600, "display_option": "hour", "daemon": "started"}))),
        "mail": same({"smtp_server": "127.0.0.1", "smtp_port": 25, "smtp_password": "********"}),
        "system": same({"login_policy": {"login_fail_retry_times": 5, "token_expire_seconds": 60},
                        "password_policy": {"minimum_length": 10}}),
    }


MAIL = {"smtp_server": "127.0.0.1", "smtp_password": "s3cret-value", "test_recipient": "ops@example.com"}
SYSTEM = {"login_policy": {"login_fail_retry_times": 5}, "password_policy": {"minimum_length": 10}}


def model(results):
    return drift_report_model(results, clusters=CLUSTERS, mail=MAIL, system_settings=SYSTEM, title="t",
                              generated="now", manager={"url": "http://m", "api_token": "tok"})


def statuses(report):
    return dict((c["id"], c["status"]) for cl in report["clusters"] for c in cl["checks"]) | dict(
        (c["id"], c["status"]) for c in report["manager_checks"])


def test_filter_is_registered():
    assert FilterModule().filters()["drift_report_model"] is drift_report_model


def test_flatten_nests_keys_and_keeps_lists_and_empty_dicts():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}}) == {"a.b": 1, "a.c": [1, 2], "d": {}}


def test_in_sync_platform_has_one_check_per_described_setting_and_none_drifted():
    report = model(in_sync_results())
    assert report["status"] == "in_sync" and report["drifted"] == []
    assert list(statuses(report)) == [
        "alpha/cluster", "alpha/cvm/192.0.2.101/24", "alpha/cvm/192.0.2.102/24", "alpha/storage_vm/192.0.2.121/24",
        "alpha/drs", "alpha/dpm", "alpha/global_config", "alpha/snapshot_policy",
        "beta/cluster", "beta/drs", "beta/global_config",
        "manager/mail", "manager/login_policy", "manager/password_policy"]
    assert set(statuses(report).values()) == {"in_sync"}
    assert report["summary"]["checks"] == 14 and report["summary"]["in_sync"] == 14
    assert report["clusters"][0]["uuid"] == "u-a"


def test_changed_drs_level_is_a_drift_of_drs_only_with_declared_and_actual_values():
    results = in_sync_results()
    alpha = CLUSTERS[0]
    results["drs"] = loop("drift_report_cluster",
                          (alpha, changed({"drs": dict(DRS, threshold_level=5), "dpm": DPM}, {"drs": DRS, "dpm": DPM})),
                          (CLUSTERS[1], same({"drs": dict(DRS, enabled=False), "dpm": DPM})))
    report = model(results)
    assert report["drifted"] == ["alpha/drs"]
    drs = report["clusters"][0]["checks"][4]
    assert drs["differences"] == [{"key": "threshold_level", "declared": "3 (normal)", "actual": "5 (most_aggressive)",
                                   "secret": False}]
    assert report["clusters"][0]["checks"][5]["status"] == "in_sync"  # DPM of the same module call


def test_removed_cvm_is_missing_and_the_others_stay_in_sync():
    results = in_sync_results()
    alpha = CLUSTERS[0]
    results["cvm"] = cvm_results((alpha["cvms"][0], same({"address": "192.0.2.101/24"})),
                                 (alpha["cvms"][1], changed({}, {"address": "192.0.2.102/24", "host": "tos-a2"})))
    report = model(results)
    assert report["drifted"] == ["alpha/cvm/192.0.2.102/24"]
    check = report["clusters"][0]["checks"][2]
    assert check["status"] == "missing" and "tos-a2" in check["message"]
    assert report["summary"]["missing"] == 1 and report["status"] == "drift"


def test_missing_cluster_skips_its_other_checks():
    results = in_sync_results()
    results["cluster"]["results"][1] = changed({}, {"name": "beta", "desc": ""}, drift_report_cluster=CLUSTERS[1])
    results["drs"]["results"].pop()
    results["global_config"]["results"].pop()
    report = model(results)
    assert statuses(report)["beta/cluster"] == "missing"
    assert statuses(report)["beta/drs"] == "skipped" and statuses(report)["beta/global_config"] == "skipped"
    assert "does not exist" in report["clusters"][1]["checks"][1]["message"]
    assert report["drifted"] == ["beta/cluster"]


def test_mail_server_change_is_reported_and_the_password_only_as_differs():
    results = in_sync_results()
    results["mail"] = changed({"smtp_server": "198.51.100.25", "smtp_port": 25, "smtp_password": "********"},
                              {"smtp_server": "127.0.0.1", "smtp_port": 25, "smtp_password": "******** (changed)"})
    report = model(results)
    mail = report["manager_checks"][0]
    assert mail["differences"] == [
        {"key": "smtp_server", "declared": "127.0.0.1", "actual": "198.51.100.25", "secret": False},
        {"key": "smtp_password", "declared": DIFFERS, "actual": DIFFERS, "secret": True}]
    text = json.dumps(report)
    assert "s3cret-value" not in text and "tok" not in text and "ops@example.com" not in text


def test_a_secret_is_recognised_by_its_name_even_unmasked():
    assert differences({"smtp_password": ""}, {"smtp_password": "x"}) == [
        {"key": "smtp_password", "declared": DIFFERS, "actual": DIFFERS, "secret": True}]


def test_declared_fields_explain_a_change_and_derived_ones_stay_out():
    before = {"interval": 21600, "display_option": "hour", "daemon": "started"}
    after = {"interval": 86400, "display_option": "day", "daemon": "started"}
    found = differences(before, after, {"interval": "1d"})
    assert found == [{"key": "interval", "declared": 86400, "actual": 21600, "secret": False, "declared_as": "1d"}]
    # nothing declared explains it: every differing field is listed rather than hiding the change
    assert [d["key"] for d in differences(before, after, {"daemon": "started"})] == ["interval", "display_option"]


def test_float_noise_is_not_drift():
    assert differences({"cpu": 0.30000000000000004}, {"cpu": 0.3}) == []


def test_failed_check_is_an_error_with_the_module_message():
    results = in_sync_results()
    results["snapshot_policy"] = loop("drift_report_cluster", (CLUSTERS[0], {
        "failed": True, "msg": "Could not read the snapshot policy: no center node"}))
    report = model(results)
    assert statuses(report)["alpha/snapshot_policy"] == "error"
    assert report["status"] == "error" and report["summary"]["errors"] == 1
    assert report["drifted"] == []


def test_system_sections_drift_each_on_their_own():
    results = in_sync_results()
    results["system"] = changed({"login_policy": {"login_fail_retry_times": 3, "token_expire_seconds": 60},
                                 "password_policy": {"minimum_length": 10}},
                                {"login_policy": {"login_fail_retry_times": 5, "token_expire_seconds": 60},
                                 "password_policy": {"minimum_length": 10}})
    report = model(results)
    assert report["drifted"] == ["manager/login_policy"]
    assert report["manager_checks"][1]["differences"][0] == {
        "key": "login_fail_retry_times", "declared": 5, "actual": 3, "secret": False}


def test_system_settings_skipped_when_no_cluster_exists_to_ask():
    results = in_sync_results()
    results["system"] = {"skipped": True, "changed": False}
    report = model(results)
    assert statuses(report)["manager/login_policy"] == "skipped"


def test_manager_secrets_and_described_secrets_never_reach_the_model():
    report = model(in_sync_results())
    assert "api_token" not in report["manager"]
    assert report["declared"]["mail"]["smtp_password"] == "********"
    assert "test_recipient" not in report["declared"]["mail"]


def as_module_text(value):
    """``value`` with every ``diff`` laid out as the modules return it: before/after as JSON text (diff_text)."""
    from ansible_collections.tos.cloud.plugins.module_utils._module import diff_text

    if isinstance(value, dict):
        out = {key: as_module_text(item) for key, item in value.items()}
        if isinstance(value.get("diff"), dict):
            out["diff"] = {side: diff_text(text) for side, text in value["diff"].items()}
        return out
    if isinstance(value, list):
        return [as_module_text(item) for item in value]
    return value


def test_diffs_as_the_modules_return_them_json_text_give_the_same_report():
    results = in_sync_results()
    results["drs"] = loop("drift_report_cluster",
                          (CLUSTERS[0], changed({"drs": dict(DRS, threshold_level=5), "dpm": DPM}, {"drs": DRS, "dpm": DPM})),
                          (CLUSTERS[1], same({"drs": dict(DRS, enabled=False), "dpm": DPM})))
    results["system"] = changed({"login_policy": {"login_fail_retry_times": 3}, "password_policy": {"minimum_length": 10}},
                                {"login_policy": {"login_fail_retry_times": 5}, "password_policy": {"minimum_length": 10}})
    text = as_module_text(results)
    assert isinstance(text["system"]["diff"]["before"], str)
    report = model(text)
    assert report == model(results)
    assert report["drifted"] == ["alpha/drs", "manager/login_policy"]


def test_a_cluster_name_yaml_read_as_a_number_is_reported_not_crashed_on():
    """``name: 2024`` in the description (YAML makes it a number; the argument spec, type str, accepts it and the
    bring-up converges it): the model failed "sequence item 0: expected str instance, int found"."""
    for name in (2024, 3.5):
        cluster = {"name": name, "seed_ip": "203.0.113.11"}
        found = same({"name": str(name), "desc": ""}, cluster={"uuid": "u-n"})
        results = {"cluster": loop("drift_report_cluster", (cluster, found))}
        model = drift_report_model(results, clusters=[cluster])
        assert model["status"] == "in_sync"
        assert [c["id"] for c in model["clusters"][0]["checks"]][0] == "%s/cluster" % name
        json.dumps(model)
