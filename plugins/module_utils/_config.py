# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cluster and manager settings as the modules and the API name them: option <-> field tables and
their input checks (used by the modules and by the bring-up role's filter), comparison of a configuration
up to the API's float noise, and the readers that more than one plugin shares (the metadata snapshot
policy: ``snapshot_policy`` and ``cluster_info``).
"""

from __future__ import annotations

import math
from typing import Any

from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    INT32_MAX,
    UNITS,
    as_kind,
    check_at_least,
    check_email,
    check_fraction,
    check_low_below_high,
    check_multiple,
    check_port,
    check_positive,
    finite,
    from_api,
    meta_data,
    parse_interval,
    parse_ip_range,
    parse_level,
    pick,
    to_api,
)
from ansible_collections.tos.cloud.plugins.module_utils._shapes import kind_of, text_list


def same_number(a: Any, b: Any, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Numbers equal up to float32 noise (the API stores some thresholds as float32: 0.7 may
    come back as 0.699999988079071)."""
    if finite(a) and finite(b):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def settle(current: Any, desired: Any) -> Any:
    """``desired`` with every number that equals the current one up to float noise replaced by
    the current value, at any depth, so comparing the two tells only real changes."""
    if isinstance(current, dict) and isinstance(desired, dict):
        return {key: settle(current.get(key), value) if key in current else value for key, value in desired.items()}
    if same_number(current, desired) and finite(current):
        return current
    return desired


def same_config(current: Any, wanted: Any) -> bool:
    """Whether ``current`` already holds ``wanted`` (numbers compared up to float noise)."""
    return settle(current, wanted) == current


def same_ranges(current: Any, desired: Any) -> bool:
    """Two lists of ``{"start", "end"}`` hold the same ranges, in any order."""
    def key(items: Any) -> Any:
        return sorted((str(r.get("start")), str(r.get("end"))) for r in items or [] if isinstance(r, dict))
    return key(current) == key(desired)


def display_option(seconds: float) -> str:
    """The API's ``display_option`` for an interval: the largest of week/day/hour that divides it
    evenly; ``hour`` for anything else (sub-hour or odd intervals: ``duration`` carries the exact
    value, ``hour`` is the smallest unit the API knows)."""
    if seconds and seconds % UNITS["w"] == 0:
        return "week"
    if seconds and seconds % UNITS["d"] == 0:
        return "day"
    return "hour"


# ---- the metadata snapshot policy ------------------------------------------------------------------

SNAPSHOT_CONFIG = "/v1/cluster/data/snapshot/config/inspect"
SNAPSHOT_CONFIG_UPDATE = "/v1/cluster/data/snapshot/config/update"
SNAPSHOT_LIST = "/v1/cluster/data/snapshot/list"
DAEMON_STATE = "/v1/cluster/data/daemon/state"
DAEMON = {"started": "/v1/cluster/data/daemon/start", "stopped": "/v1/cluster/data/daemon/stop"}
# The words of ``DaemonState`` that mean the daemon runs (anything else: stopped).
RUNNING_WORDS = ("running", "started", "active", "run")


def snapshot_config_of(data: Any) -> dict[str, Any]:
    """``{interval, display_option, mtime}`` of a ``data/snapshot/config/inspect`` answer (``duration``:
    seconds; the documents spell it ``duration`` and ``DisplayOption``, both spellings are read)."""
    config = meta_data(data).get("SnapshotConfig") or {}
    duration = config.get("duration", config.get("Duration"))
    return {"interval": int(duration) if isinstance(duration, (int, float)) else duration,
            "display_option": config.get("DisplayOption", config.get("display_option")),
            "mtime": config.get("MTime")}


def daemon_state_of(data: Any) -> str | None:
    """The ``DaemonState`` word of a ``data/daemon/state`` answer as the server wrote it, or None."""
    return meta_data(data).get("DaemonState") or None


def daemon_of(data: Any) -> str:
    """``started`` or ``stopped`` (the module's vocabulary) from a ``data/daemon/state`` answer."""
    state = str(daemon_state_of(data) or "").strip().lower()
    return "started" if state in RUNNING_WORDS else "stopped"


def read_snapshot_policy(client: Any, query: dict[str, Any]) -> dict[str, Any]:
    """The snapshot policy of one center node (``query``: ``cluster_uuid`` and ``ip``), in one shape:
    ``{interval, display_option, mtime, daemon_state}`` (``daemon_state``: the server's word)."""
    policy = snapshot_config_of(client.get(SNAPSHOT_CONFIG, query))
    policy["daemon_state"] = daemon_state_of(client.get(DAEMON_STATE, query))
    return policy


def snapshot_names(data: Any) -> list[str]:
    """The snapshot names of a ``data/snapshot/list`` (or snapshot create) answer."""
    return [str(name) for name in meta_data(data).get("Snapshot") or []]


def shape_errors(where: str, values: Any, kinds: dict[str, str]) -> list[str]:
    """For a caller without an argument spec (a role's variables): ``values`` is a dict whose keys are
    options of ``kinds`` (``{option: argument type}``, a module's own table) and whose values have their
    type; each error named ``where.option``."""
    if values is None:
        return []
    if not isinstance(values, dict):
        return ["%s: must be a dict of %s, not %s" % (where, ", ".join(sorted(kinds)), kind_of(values))]
    errors = ["%s.%s: not an option (known: %s)" % (where, name, ", ".join(sorted(kinds)))
              for name in sorted(values, key=str) if name not in kinds]
    errors += [as_kind("%s.%s" % (where, name), values[name], kinds[name])[1] for name in kinds if name in values]
    return [e for e in errors if e]


# ---- DRS and DPM (tos.cloud.drs_config) ------------------------------------------------------------

DRS_GET = "/v1/cluster/compute/service/drsconfig/get"
DRS_UPDATE = "/v1/cluster/compute/service/drsconfig/update"

# option section -> (API object, {option: (API field, argument type)}).  cluster-api.md, drsconfig/get and
# update: DRS {Enabled, MaxStep, MaxConcurrentMigration, MaxHostConcurrentMigration, ThresholdLevel,
# MinBenefitLevel}, DPM {Enabled, HighThreshold, LowThreshold}.
DRS_OPTIONS = {
    "drs": ("DRS", {
        "enabled": ("Enabled", "bool"),
        "max_step": ("MaxStep", "int"),
        "max_concurrent_migration": ("MaxConcurrentMigration", "int"),
        "max_host_concurrent_migration": ("MaxHostConcurrentMigration", "int"),
        "threshold_level": ("ThresholdLevel", "raw"),
        "min_benefit_level": ("MinBenefitLevel", "raw"),
    }),
    "dpm": ("DPM", {
        "enabled": ("Enabled", "bool"),
        "high_threshold": ("HighThreshold", "float"),
        "low_threshold": ("LowThreshold", "float"),
    }),
}
# A level: 1-5 or a name (parse_level).  A count: the DRS object types MaxStep, MaxConcurrentMigration and
# MaxHostConcurrentMigration as int32, no other bound is documented.  A fraction: a DPM usage threshold.
DRS_LEVELS = ("threshold_level", "min_benefit_level")
DRS_COUNTS = ("max_step", "max_concurrent_migration", "max_host_concurrent_migration")
DRS_FRACTIONS = ("high_threshold", "low_threshold")


def drs_fields() -> dict[str, tuple[str, dict[str, str]]]:
    """``{section: (API object, {option: API field})}``."""
    return {section: (obj, {name: field for name, (field, _kind) in options.items()})
            for section, (obj, options) in DRS_OPTIONS.items()}


def drs_argument_spec() -> dict[str, Any]:
    """The ``drs`` and ``dpm`` options of ``tos.cloud.drs_config``."""
    return {section: dict(type="dict", options={name: dict(type=kind) for name, (_field, kind) in options.items()})
            for section, (_obj, options) in DRS_OPTIONS.items()}


def drs_desired(sections: dict[str, Any], prefix: str = "", coerce: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The options set (not None) per section, levels as numbers, and the input errors, each named
    ``prefix + section.option``.  ``coerce`` converts values as the argument spec would (for a caller
    that has no argument spec: the bring-up role's variables)."""
    errors = []
    desired = {}
    for section, (_obj, options) in DRS_OPTIONS.items():
        given = sections.get(section) or {}
        values = {}
        for name, (_field, kind) in options.items():
            option = "%s%s.%s" % (prefix, section, name)
            value, error = as_kind(option, given.get(name), kind) if coerce else (given.get(name), None)
            if error:
                errors.append(error)
            elif value is not None:
                values[name] = value
        for name in DRS_LEVELS:
            if name in values:
                values[name], error = parse_level("%s%s.%s" % (prefix, section, name), values[name])
                errors.append(error)
        errors += [check_at_least("%s%s.%s" % (prefix, section, name), values.get(name), 1, INT32_MAX)
                   for name in DRS_COUNTS]
        errors += [check_fraction("%s%s.%s" % (prefix, section, name), values.get(name)) for name in DRS_FRACTIONS]
        desired[section] = values
    return desired, [e for e in errors if e]


def drs_as_options(config: dict[str, Any] | None) -> dict[str, Any]:
    """The API's config object in option names."""
    return {section: from_api((config or {}).get(obj) or {}, mapping) for section, (obj, mapping) in drs_fields().items()}


def drs_as_api(options: dict[str, Any]) -> dict[str, Any]:
    return {obj: to_api(options.get(section) or {}, mapping) for section, (obj, mapping) in drs_fields().items()}


def drs_merged_errors(desired: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """Checks of the merged configuration that involve what the user set: DPM low < high, and no
    more migrations per host than in the whole cluster."""
    errors = []
    dpm, drs = desired.get("dpm") or {}, desired.get("drs") or {}
    if "low_threshold" in dpm or "high_threshold" in dpm:
        merged = after.get("DPM") or {}
        errors.append(check_low_below_high("%sdpm.low_threshold" % prefix, merged.get("LowThreshold"),
                                           "%sdpm.high_threshold" % prefix, merged.get("HighThreshold"),
                                           set_by_user=["%sdpm.%s" % (prefix, name) for name in dpm]))
    if "max_host_concurrent_migration" in drs or "max_concurrent_migration" in drs:
        merged = after.get("DRS") or {}
        per_host, total = merged.get("MaxHostConcurrentMigration"), merged.get("MaxConcurrentMigration")
        if isinstance(per_host, int) and isinstance(total, int) and per_host > total:
            errors.append("%sdrs.max_host_concurrent_migration: %s%s must not exceed %sdrs.max_concurrent_migration %s%s" % (
                prefix, per_host, "" if "max_host_concurrent_migration" in drs else " (current value)",
                prefix, total, "" if "max_concurrent_migration" in drs else " (current value)"))
    return [e for e in errors if e]


# ---- global configuration (tos.cloud.global_config) --------------------------------------------------

GLOBAL_CONFIG_GET = "/v1/cluster/get/global/config"
GLOBAL_CONFIG_SET = "/v1/cluster/set/global/config"
# The largest over-allocation threshold accepted.
GLOBAL_CONFIG_MAXIMUM = 100
# option -> API field
GLOBAL_CONFIG_FIELDS = {
    "storage": "StorOverAllocationThreshold",
    "cpu": "CPUOverAllocationThreshold",
    "memory": "MemOverAllocationThreshold",
    "usd": "USDOverAllocationThreshold",
}


def global_config_errors(values: dict[str, Any], prefix: str = "", coerce: bool = False) -> list[str]:
    """The errors of over-allocation thresholds (``{option: value}``), each named ``prefix + option``."""
    errors = []
    for name, value in sorted(values.items()):
        number, error = as_kind(prefix + name, value, "float") if coerce else (value, None)
        errors += [error, check_positive(prefix + name, number, GLOBAL_CONFIG_MAXIMUM)]
    return [e for e in errors if e]


# ---- the snapshot interval (tos.cloud.snapshot_policy) ------------------------------------------------

SNAPSHOT_STEP = UNITS["s"]  # the documents: seconds, nothing coarser


def snapshot_interval(option: str, value: Any) -> tuple[int | None, list[str]]:
    """The interval in seconds and its errors."""
    seconds, error = parse_interval(option, value)
    return seconds, [e for e in (error, check_multiple(option, seconds, SNAPSHOT_STEP, "second")) if e]


# ---- mail settings (tos.cloud.mail_setting) -----------------------------------------------------------

MAIL_PASSWORD = "smtp_password"
# option -> API field
MAIL_FIELDS = {
    "enabled": "enabled",
    "async_send": "asynchronous_send_enabled",
    "sender_mail": "sender_mail",
    "sender_name": "sender_name",
    "smtp_server": "smtp_server_ip",
    "smtp_port": "smtp_server_port",
    "smtp_tls": "smtp_tls_enabled",
    "smtp_account": "smtp_account",
    "smtp_password": MAIL_PASSWORD,
}


def mail_errors(params: dict[str, Any], prefix: str = "") -> list[str]:
    """The input errors of mail settings (``{option: value}``, options not given are not checked), each
    named ``prefix + option``."""
    server, sender, recipient = params.get("smtp_server"), params.get("sender_mail"), params.get("test_recipient")
    server = None if server is None else str(server).strip()
    errors = [
        check_port(prefix + "smtp_port", params.get("smtp_port")),
        check_email(prefix + "sender_mail", sender),
        check_email(prefix + "test_recipient", recipient),
        prefix + "test_recipient: must not be empty" if recipient == "" else None,
        prefix + "smtp_server: must be a host name or IP address without spaces" if server is not None and (
            not server or " " in server) else None,
        # RFC 1035 2.3.4: a host name has at most 253 characters (the documents' smtp_server_ip is a host
        # name or address, system-api.md mail_setting example "smtp.163.com")
        prefix + "smtp_server: %d characters is longer than a host name can be (253)" % len(server)
        if server is not None and len(server) > 253 else None,
        # RFC 5321 4.5.3.1: an address in a mail path has at most 254 characters
        prefix + "sender_mail: %d characters is longer than an e-mail address can be (254)" % len(str(sender))
        if sender is not None and len(str(sender)) > 254 else None,
    ]
    return [e for e in errors if e]


# ---- system settings (tos.cloud.system_setting) ---------------------------------------------------------

# section option -> (API object, {option -> API field})
LOGIN_POLICY = ("login_policy", {
    "login_fail_retry_times": "login_fail_retry_times",
    "login_fail_punish_seconds": "login_fail_punish_seconds",
    "token_expire_seconds": "token_expire_second",
})
PASSWORD_POLICY = ("password_complexity_policy", {
    "minimum_length": "password_minimum_length",
    "must_include_special_char": "password_must_include_special_char",
    "max_expired_age": "password_max_expired_age",
    "expired_warn_age": "password_expired_warn_age",
    "expire_force_modify": "password_expire_force_modify",
    "expired_warn_windows_popup": "password_expired_warn_windows_popup",
    "expired_warn_email_notify": "password_expired_warn_email_notify",
    "notify_user_password_when_create": "notify_user_password_when_create",
})
ACCESS_POLICY = "access_control_policy"
IP_POLICY = "ip_access_control_policy"
SETTING_MINIMUMS = {
    "login_policy.login_fail_retry_times": 0,
    "login_policy.login_fail_punish_seconds": 0,
    "login_policy.token_expire_seconds": 60,
    "password_policy.minimum_length": 1,
    "password_policy.max_expired_age": 0,
    "password_policy.expired_warn_age": 0,
}


def _ip_policy(access: dict[str, Any], errors: list[Any]) -> dict[str, Any]:
    ip_policy: dict[str, Any] = {}
    if access.get("enabled") is not None:
        ip_policy["enabled"] = access["enabled"]
    if access.get("mode") is not None:
        ip_policy["whitelist"] = access["mode"] == "whitelist"
    if access.get("ip_ranges") is not None:
        ranges = []
        for index, text in enumerate(access["ip_ranges"]):
            parsed, error = parse_ip_range("access_control.ip_ranges[%d]" % index, text)
            errors.append(error)
            if parsed:
                ranges.append(parsed)
        ip_policy["ip_ranges"] = {"ranges": ranges}
    return ip_policy


# tos.cloud.system_setting's options (its argument spec, but cluster): the module's spec, and the types the role's
# input check converts values to as that spec would (system_settings_desired(coerce=True))
SYSTEM_SETTING_OPTIONS = dict(
    login_policy=dict(type="dict", options=dict(
        login_fail_retry_times=dict(type="int"),
        login_fail_punish_seconds=dict(type="int"),
        token_expire_seconds=dict(type="int", no_log=False),
    )),
    password_policy=dict(type="dict", aliases=["password_complexity_policy"], no_log=False, options=dict(
        minimum_length=dict(type="int"),
        must_include_special_char=dict(type="bool"),
        max_expired_age=dict(type="int"),
        expired_warn_age=dict(type="int"),
        expire_force_modify=dict(type="bool"),
        expired_warn_windows_popup=dict(type="bool"),
        expired_warn_email_notify=dict(type="bool"),
        notify_user_password_when_create=dict(type="bool"),
    )),
    access_control=dict(type="dict", options=dict(
        enabled=dict(type="bool"),
        mode=dict(type="str", choices=["whitelist", "blacklist"]),
        ip_ranges=dict(type="list", elements="str"),
    )),
)


def _system_settings_coerced(params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``params`` with each system setting converted as the module's argument spec would (``"5"`` an int, ``"yes"``
    a bool, ``"a, b"`` a list), for a caller without that spec (the roles' input check), and the errors of those
    that cannot be (a section that is no dict, an unknown key, a value of no such type), named ``section.option``."""
    out, errors = dict(params), []
    for option, spec in SYSTEM_SETTING_OPTIONS.items():
        given = params.get(option)
        if given is None:
            given = next((params.get(alias) for alias in spec.get("aliases", ()) if params.get(alias) is not None), None)
        if given is None:
            continue
        kinds = {name: sub["type"] for name, sub in spec["options"].items()}
        problems = shape_errors(option, given, kinds)
        if problems:
            errors += problems
            out[option] = None
            continue
        values = {}
        for name, value in given.items():
            if kinds[name] == "list" and isinstance(value, str):
                value = text_list(value) if value.strip() else [value]
            else:
                value = as_kind("%s.%s" % (option, name), value, kinds[name])[0]
            values[name] = value
        out[option] = values
    return out, errors


def system_settings_desired(params: dict[str, Any], coerce: bool = False) -> tuple[dict[str, Any], list[str]]:
    """What the user set, in API shape (only set fields), and the input errors.  ``coerce`` converts the values as
    the module's argument spec would, for a caller that has none (a role's variables)."""
    errors: list[Any] = []
    if coerce:
        params, errors = _system_settings_coerced(params)
    desired = {}
    for option, (field, mapping) in (("login_policy", LOGIN_POLICY), ("password_policy", PASSWORD_POLICY)):
        values = pick(params.get(option) or {}, list(mapping))
        for name, value in values.items():
            minimum = SETTING_MINIMUMS.get("%s.%s" % (option, name))
            if minimum is not None:
                errors.append(check_at_least("%s.%s" % (option, name), value, minimum))
        desired[field] = to_api(values, mapping)
    desired[ACCESS_POLICY] = {IP_POLICY: _ip_policy(params.get("access_control") or {}, errors)}
    return desired, [e for e in errors if e]
