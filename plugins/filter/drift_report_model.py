# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The data of a drift report, prepared in one place.

The role ``tos.cloud.drift_report`` runs every module of ``cluster_bringup`` in check mode with
``--diff`` over the very description that role converges, and registers the results. This filter
walks the description, finds each check's result and turns it into one model of checks (one per
cluster setting, and the manager's mail and system settings) with the declared and the actual value
of every field that differs. The HTML, JSON, Markdown and JUnit templates only lay it out.

Secrets never reach the model: a secret field that differs reads "differs" on both sides.
"""

from __future__ import annotations

import json
import re

# check statuses, worst first; "missing" and "drift" are both drift (a JUnit failure)
STATUSES = ("error", "missing", "drift", "skipped", "in_sync")
DRIFT = frozenset(("missing", "drift"))
SETTING_LABELS = {
    "cluster": "Cluster",
    "cvm": "Cloud-management VM",
    "storage_vm": "Storage-service VM",
    "drs": "DRS",
    "dpm": "DPM",
    "global_config": "Global config",
    "snapshot_policy": "Snapshot policy",
    "mail": "Mail settings",
    "login_policy": "Login policy",
    "password_policy": "Password policy",
    "access_control": "Access control",
}
SYSTEM_SECTIONS = ("login_policy", "password_policy", "access_control")
LEVEL_NAMES = {1: "most_conservative", 2: "conservative", 3: "normal", 4: "aggressive", 5: "most_aggressive"}
LEVEL_KEYS = frozenset(("threshold_level", "min_benefit_level"))
SECRET_KEY_RE = re.compile(r"(^|_)(password|passwd|token|secret)$")
MASK = "********"
DIFFERS = "differs"
MISSING = "(missing)"
NOT_SET = "(not set)"


def _sides(diff):
    """A module's diff as data: ``before``/``after`` come as JSON text (so that ``--diff`` shows Chinese
    readably, plugins/module_utils/_module.py diff_text) or, from a module that returns data, as dicts."""
    sides = []
    for side in ("before", "after"):
        value = (diff or {}).get(side) if isinstance(diff, dict) else None
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else None
            except ValueError:
                value = None
        sides.append(value)
    return sides[0], sides[1]


def is_secret(key, *values):
    """A secret field: by its name, or because a module masked one of its values."""
    if SECRET_KEY_RE.search(str(key)):
        return True
    return any(isinstance(v, str) and v.startswith(MASK) for v in values)


def flatten(value, prefix=""):
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists, scalars and empty dicts are leaves."""
    if isinstance(value, dict) and (value or not prefix):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, "%s.%s" % (prefix, key) if prefix else str(key)))
        return out
    return {prefix: value} if prefix else {}


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def shown(key, value):
    """A value as the report shows it: DRS levels with their names, nothing for unset."""
    if value is None:
        return NOT_SET
    leaf = key.rsplit(".", 1)[-1]
    if leaf in LEVEL_KEYS and isinstance(value, int) and not isinstance(value, bool) and value in LEVEL_NAMES:
        return "%d (%s)" % (value, LEVEL_NAMES[value])
    return value


def differences(before, after, declared=None):
    """The fields whose declared value differs from the actual one, from a module's ``diff``.

    ``after`` is what the module would set (the current state with the declared values merged in),
    ``before`` what it read. Fields the description declares come first and alone when they explain
    the change; otherwise (a value the module derives, such as the snapshot display option) every
    differing field is listed, so a change is never hidden.
    """
    flat_before = flatten(before or {})
    flat_after = flatten(after or {})
    flat_declared = flatten(declared or {})
    keys = [k for k in flat_after if not _same(flat_before.get(k), flat_after[k])]
    keys += [k for k in flat_before if k not in flat_after]
    explained = [k for k in keys if k in flat_declared]
    out = []
    for key in explained or keys:
        actual = flat_before.get(key)
        expected = flat_after.get(key)
        if is_secret(key, actual, expected):
            out.append({"key": key, "declared": DIFFERS, "actual": DIFFERS, "secret": True})
            continue
        entry = {"key": key, "declared": shown(key, expected), "actual": shown(key, actual), "secret": False}
        written = flat_declared.get(key)
        if written is not None and not _same(written, expected) and str(written) not in str(entry["declared"]):
            entry["declared_as"] = written
        out.append(entry)
    return out


def _result_status(result):
    """(status, message) of a registered module result; None when the task did not run."""
    if not isinstance(result, dict) or result.get("skipped"):
        return None
    if result.get("failed"):
        return "error", str(result.get("msg") or "the check failed")
    return ("drift" if result.get("changed") else "in_sync"), ""


def _check(cluster, setting, subject, declared, result, missing_message=None, skip=None):
    """One check of the report from the declared value and the module result."""
    check = {
        # a name YAML read as a number (name: 2024) is text in the id, as the bring-up's modules take it
        "id": "/".join(str(p) for p in (cluster or "manager", setting, subject) if p not in (None, "")),
        "cluster": cluster,
        "setting": setting,
        "label": SETTING_LABELS.get(setting, setting) + (" " + subject if subject else ""),
        "subject": subject or "",
        "status": "in_sync",
        "message": "",
        "differences": [],
    }
    if skip:
        check.update(status="skipped", message=skip)
        return check
    outcome = _result_status(result)
    if outcome is None:
        check.update(status="skipped", message="not checked")
        return check
    status, message = outcome
    if status == "error":
        check.update(status="error", message=message)
        return check
    before, after = _sides(result.get("diff"))
    if status == "drift" and not before and missing_message:
        check.update(status="missing", message=missing_message,
                     differences=[{"key": "state", "declared": "present", "actual": MISSING, "secret": False}])
        return check
    found = differences(before, after, declared)
    if found:
        status = "drift"
    check["status"] = status
    check["differences"] = found
    if status == "drift":
        check["message"] = "%d field(s) differ: %s" % (len(found), ", ".join(d["key"] for d in found)) if found \
            else "the module would change it"
    return check


def _index(results, loop_var, key):
    """Loop results by ``key(item)``, the item being the task's ``loop_var``."""
    out = {}
    for result in (results or {}).get("results", []) if isinstance(results, dict) else results or []:
        if isinstance(result, dict) and loop_var in result:
            out[key(result[loop_var])] = result
    return out


def _cluster_key(item):
    return item.get("name")


def _vm_key(field):
    def key(pair):
        cluster, vm = pair
        return (cluster.get("name"), vm.get(field))
    return key


def cluster_checks(cluster, results, loop_var, vm_var):
    """Every check of one described cluster, in the order bring-up converges them."""
    name = cluster.get("name")
    exists = results["cluster"].get(name)
    checks = [_check(name, "cluster", "", {"desc": cluster.get("desc")} if cluster.get("desc") is not None else {},
                     exists, missing_message="cluster %s does not exist (seed %s)" % (name, cluster.get("seed_ip")))]
    gone = checks[0]["status"] in ("missing", "error", "skipped")
    skip = None
    if gone:
        skip = "not checked: cluster %s %s" % (
            name, "does not exist" if checks[0]["status"] == "missing" else "could not be read")
    for vm in cluster.get("cvms") or []:
        subject = vm.get("address")
        checks.append(_check(name, "cvm", subject, None, results["cvm"].get((name, subject)), skip=skip,
                             missing_message="cloud-management VM %s on %s is missing" % (subject, vm.get("host"))))
    for vm in cluster.get("storage_vms") or []:
        subject = vm.get("manage_cidr")
        checks.append(_check(name, "storage_vm", subject, None, results["storage_vm"].get((name, subject)), skip=skip,
                             missing_message="storage-service VM %s is missing" % subject))
    drs = results["drs"].get(name)
    for section in ("drs", "dpm"):
        if cluster.get(section) is None:
            continue
        part = dict(drs) if isinstance(drs, dict) else drs
        if isinstance(part, dict) and isinstance(part.get("diff"), dict):
            before, after = _sides(part["diff"])
            part["diff"] = {"before": (before or {}).get(section) or {},
                            "after": (after or {}).get(section) or {}}
            # the module's changed covers DRS and DPM together: each section drifts by its own fields
            part["changed"] = bool(differences(part["diff"]["before"], part["diff"]["after"]))
        checks.append(_check(name, section, "", cluster[section], part, skip=skip))
    for setting in ("global_config", "snapshot_policy"):
        if cluster.get(setting) is None:
            continue
        checks.append(_check(name, setting, "", cluster[setting], results[setting].get(name), skip=skip))
    return checks


def _status_of(checks):
    statuses = set(c["status"] for c in checks)
    for status in STATUSES:
        if status in statuses:
            return status
    return "in_sync"


def _secretless(value):
    """The description without its secrets (the model carries only what may be shown)."""
    if isinstance(value, dict):
        return dict((k, MASK if is_secret(k) and v not in (None, "") else _secretless(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_secretless(v) for v in value]
    return value


def _report_clusters(clusters, indexed, loop_var, vm_var):
    """Each described cluster with its checks and their status."""
    report_clusters = []
    for cluster in clusters or []:
        checks = cluster_checks(cluster, indexed, loop_var, vm_var)
        report_clusters.append({
            "name": cluster.get("name"),
            "uuid": ((indexed["cluster"].get(cluster.get("name")) or {}).get("cluster") or {}).get("uuid"),
            "status": _status_of(checks),
            "checks": checks,
        })
    return report_clusters


def _manager_checks(mail, system_settings, results):
    """The checks of the manager's own settings: mail, then each described system-settings section."""
    manager_checks = []
    if mail:
        manager_checks.append(_check(None, "mail", "", mail, results.get("mail")))
    system = results.get("system")
    for section in SYSTEM_SECTIONS:
        if system_settings.get(section) is None:
            continue
        part = system
        skip = None
        if isinstance(system, dict) and isinstance(system.get("diff"), dict):
            before, after = _sides(system["diff"])
            before = (before or {}).get(section) or {}
            after = (after or {}).get(section) or {}
            part = dict(system, diff={"before": before, "after": after},
                        changed=bool(differences(before, after)))
        elif not isinstance(system, dict) or system.get("skipped"):
            skip = "not checked: no described cluster exists to reach the system settings through"
        manager_checks.append(_check(None, section, "", system_settings[section], part, skip=skip))
    return manager_checks


def drift_report_model(results, clusters=None, mail=None, system_settings=None, title="tos cloud drift report",
                       generated="", manager=None, loop_var="drift_report_cluster", vm_var="drift_report_vm"):
    """The report model; ``results`` maps each check (cluster, cvm, storage_vm, drs, global_config,
    snapshot_policy, mail, system) to its registered task result."""
    results = results or {}
    indexed = {
        "cluster": _index(results.get("cluster"), loop_var, _cluster_key),
        "cvm": _index(results.get("cvm"), vm_var, _vm_key("address")),
        "storage_vm": _index(results.get("storage_vm"), vm_var, _vm_key("manage_cidr")),
        "drs": _index(results.get("drs"), loop_var, _cluster_key),
        "global_config": _index(results.get("global_config"), loop_var, _cluster_key),
        "snapshot_policy": _index(results.get("snapshot_policy"), loop_var, _cluster_key),
    }
    report_clusters = _report_clusters(clusters, indexed, loop_var, vm_var)
    mail = dict(mail or {})
    mail.pop("test_recipient", None)
    system_settings = system_settings or {}
    manager_checks = _manager_checks(mail, system_settings, results)
    every = [c for cl in report_clusters for c in cl["checks"]] + manager_checks
    counts = dict((s, sum(1 for c in every if c["status"] == s)) for s in STATUSES)
    drifted = counts["missing"] + counts["drift"]
    manager = dict(manager or {})
    for key in list(manager):
        if is_secret(key):
            manager.pop(key)
    return {
        "title": title,
        "generated": generated,
        "manager": manager,
        "status": "error" if counts["error"] else "drift" if drifted else "in_sync",
        "summary": {
            "clusters": len(report_clusters),
            "checks": len(every),
            "drifted": drifted,
            "missing": counts["missing"],
            "errors": counts["error"],
            "skipped": counts["skipped"],
            "in_sync": counts["in_sync"],
            "differences": sum(len(c["differences"]) for c in every if c["status"] in DRIFT),
        },
        "clusters": report_clusters,
        "manager_checks": manager_checks,
        "manager_status": _status_of(manager_checks) if manager_checks else None,
        "drifted": [c["id"] for c in every if c["status"] in DRIFT],
        "declared": {"clusters": _secretless(clusters or []), "mail": _secretless(mail),
                     "system_settings": _secretless(system_settings)},
    }


class FilterModule:
    def filters(self):
        return {
            "drift_report_model": drift_report_model,
        }
