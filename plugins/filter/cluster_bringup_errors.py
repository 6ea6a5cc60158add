# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input checks of the ``tos.cloud.cluster_bringup`` role, run before its first change.

The role converges several objects in order (cluster, then its VMs, then settings); a mistake in a
later one would otherwise surface only after the earlier ones were created. This filter applies the
modules' own checks (the same functions, from module_utils) to the whole description at once, and
names each value by its place in the role's variables (``cluster_bringup_clusters[0].cvms[1].gateway``).
"""

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    as_kind,
    check_ip,
    check_name,
    check_vm_cidr,
    check_vm_gateway,
)
from ansible_collections.tos.cloud.plugins.module_utils._config import (
    DRS_OPTIONS,
    GLOBAL_CONFIG_FIELDS,
    drs_as_api,
    drs_desired,
    drs_merged_errors,
    global_config_errors,
    mail_errors,
    shape_errors,
    snapshot_interval,
    system_settings_desired,
)
from ansible_collections.tos.cloud.plugins.module_utils._shapes import kind_of


def _vm_errors(where, vm, pairs):
    errors = []
    for cidr_key, gateway_key in pairs:
        errors.append(check_vm_cidr("%s.%s" % (where, cidr_key), vm.get(cidr_key)))
        errors.append(check_vm_gateway("%s.%s" % (where, gateway_key), vm.get(gateway_key),
                                       "%s.%s" % (where, cidr_key), vm.get(cidr_key)))
    return errors


def _drs_errors(where, drs, dpm):
    """tos.cloud.drs_config's own checks (its option table), section by section, and those of the merged
    configuration for the values of a section given without errors."""
    errors = []
    for section, values in (("drs", drs), ("dpm", dpm)):
        kinds = {name: kind for name, (_field, kind) in DRS_OPTIONS[section][1].items()}
        shape = shape_errors("%s.%s" % (where, section), values, kinds)
        if shape:
            errors += shape
            continue
        desired, found = drs_desired({section: values}, prefix=where + ".", coerce=True)
        errors += found or drs_merged_errors(desired, drs_as_api(desired), prefix=where + ".")
    return errors


def _global_config_errors(where, values):
    """tos.cloud.global_config's own options (its table) and checks."""
    shape = shape_errors(where, values, {name: "float" for name in GLOBAL_CONFIG_FIELDS})
    return shape or global_config_errors(values, prefix=where + ".", coerce=True)


def _cluster_errors(where, cluster, seen):
    errors = [check_name("%s.name" % where, cluster.get("name")), check_ip("%s.seed_ip" % where, cluster.get("seed_ip"))]
    if _key(cluster.get("name")) in seen["names"]:
        errors.append("%s.name: %r is described twice" % (where, cluster.get("name")))
    seen["names"].add(_key(cluster.get("name")))
    seed = _text(cluster.get("seed_ip"))
    if seed and seed in seen["seeds"]:
        errors.append("%s.seed_ip: %s is also the seed of %s (a host joins one cluster: the platform refuses the "
                      "second)" % (where, seed, seen["seeds"][seed]))
    seen["seeds"].setdefault(seed, where)
    hosts = {}
    cvms, wrong = _entries("%s.cvms" % where, cluster.get("cvms"), "host, address, gateway")
    errors += wrong
    for index, cvm in cvms:
        at = "%s.cvms[%d]" % (where, index)
        errors += _vm_errors(at, cvm, [("address", "gateway")])
        host = _key(cvm.get("host"))
        if host in hosts:
            errors.append("%s.host: %s already runs the cloud-management VM of %s" % (at, cvm.get("host"), hosts[host]))
        hosts.setdefault(host, at)
        errors.append(_host_in_one_cluster(at + ".host", cvm.get("host"), where, seen))
        errors.append(_address_once(at + ".address", cvm.get("address"), seen))
    svms, wrong = _entries("%s.storage_vms" % where, cluster.get("storage_vms"),
                           "vm_type, manage_cidr, manage_gateway, storage_cidr, storage_gateway")
    errors += wrong
    for index, svm in svms:
        at = "%s.storage_vms[%d]" % (where, index)
        errors += _vm_errors(at, svm, [("manage_cidr", "manage_gateway"), ("storage_cidr", "storage_gateway")])
        errors.append(_address_once(at + ".manage_cidr", svm.get("manage_cidr"), seen))
        errors.append(_address_once(at + ".storage_cidr", svm.get("storage_cidr"), seen))
    errors += _drs_errors(where, cluster.get("drs") or {}, cluster.get("dpm") or {})
    errors += _global_config_errors(where + ".global_config", cluster.get("global_config") or {})
    policy = cluster.get("snapshot_policy") or {}
    if isinstance(policy, dict):
        errors += snapshot_interval("%s.snapshot_policy.interval" % where, policy.get("interval"))[1]
    else:  # the argument spec (type dict) took a text of key=value pairs; the tasks read its keys
        errors.append("%s.snapshot_policy: must be a dict of daemon, interval, not %s" % (where, kind_of(policy)))
    return errors


def _entries(where, value, keys):
    """``([(index, entry)], errors)``: the dict entries of the list ``value`` (a VM list of a cluster), and an error
    naming each place that is not one. The role's argument spec refuses these shapes first, unless the play skips
    its validation (``--skip-tags always``)."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], ["%s: must be a list of dicts (%s), not %s" % (where, keys, kind_of(value))]
    entries, errors = [], []
    for index, entry in enumerate(value):
        if isinstance(entry, dict):
            entries.append((index, entry))
        else:
            errors.append("%s[%d]: must be a dict (%s), not %s" % (where, index, keys, kind_of(entry)))
    return entries, errors


def _key(value):
    """``value`` as a key of the checks' tables: a list or dict given where a name belongs (the argument spec refuses
    it first, unless its validation is skipped) as its text, for the checks to name it instead of crashing."""
    return value if value is None or isinstance(value, (str, int, float)) else repr(value)


def _text(value):
    return str(value).strip() if value not in (None, "") else None


def _host_in_one_cluster(option, host, cluster_where, seen):
    """A host (by name or IP) named in two clusters: a host joins one cluster, and a CVM runs on a host of its
    own cluster, so the platform refuses one of them."""
    host = _text(host)
    if not host:
        return None
    other = seen["host_cluster"].get(host)
    if other is not None and other[0] != cluster_where:
        return "%s: %s is also a host of another cluster, at %s (a host belongs to one cluster)" % (
            option, host, other[1])
    seen["host_cluster"].setdefault(host, (cluster_where, option))
    return None


def _address_once(option, cidr, seen):
    """A VM address used twice in the description, or that of a host it names (the platform refuses the deploy:
    an address must be unused by any host or VM)."""
    ip = str(cidr).split("/", 1)[0].strip() if cidr else None
    if not ip:
        return None
    if ip in seen["host_ips"]:
        return "%s: %s is the address of the host given as %s" % (option, ip, seen["host_ips"][ip])
    if ip in seen["addresses"]:
        return "%s: %s is also given to %s" % (option, ip, seen["addresses"][ip])
    seen["addresses"][ip] = option
    return None


def _host_ips(clusters):
    """The host addresses the description names (seeds, CVM hosts given by IP), by first place named."""
    found = {}
    for index, cluster in enumerate(clusters):
        if not isinstance(cluster, dict):
            continue
        where = "cluster_bringup_clusters[%d]" % index
        seed = _text(cluster.get("seed_ip"))
        if seed and not check_ip("seed_ip", seed):
            found.setdefault(seed, where + ".seed_ip")
        cvms = cluster.get("cvms")
        for position, cvm in enumerate(cvms if isinstance(cvms, list) else []):
            host = _text(cvm.get("host")) if isinstance(cvm, dict) else None
            if host and not check_ip("host", host):
                found.setdefault(host, "%s.cvms[%d].host" % (where, position))
    return found


def _system_settings_errors(settings):
    """tos.cloud.system_setting's own checks (minimums, IP ranges), on the values converted as its argument spec
    would (``login_fail_retry_times: "5"`` is 5), named as the role's variable."""
    try:
        errors = system_settings_desired(settings, coerce=True)[1]
    except (TypeError, ValueError, AttributeError):
        return []  # a value of the wrong type: the module's argument spec names it when its turn comes
    return ["cluster_bringup_system_settings.%s" % error for error in errors]


def _mail_errors(mail):
    """tos.cloud.mail_setting's own checks, named as the role's variable."""
    port, error = as_kind("cluster_bringup_mail.smtp_port", mail.get("smtp_port"), "int")
    if error:
        return [error] + mail_errors(dict(mail, smtp_port=None), prefix="cluster_bringup_mail.")
    return mail_errors(dict(mail, smtp_port=port), prefix="cluster_bringup_mail.")


def cluster_bringup_errors(clusters, mail=None, system_settings=None):
    """Every mistake in the role's description, as messages naming the variable; empty when none."""
    errors = []
    if not isinstance(clusters, list):
        return ["cluster_bringup_clusters: must be a list of clusters, not %s" % kind_of(clusters)]
    seen = {"names": set(), "addresses": {}, "seeds": {}, "host_cluster": {}, "host_ips": _host_ips(clusters)}
    for index, cluster in enumerate(clusters):
        if isinstance(cluster, dict) and _text(cluster.get("seed_ip")):
            seen["host_cluster"].setdefault(_text(cluster.get("seed_ip")),
                                            ("cluster_bringup_clusters[%d]" % index,
                                             "cluster_bringup_clusters[%d].seed_ip" % index))
    for index, cluster in enumerate(clusters):
        where = "cluster_bringup_clusters[%d]" % index
        if not isinstance(cluster, dict):
            errors.append("%s: must be a dict (name, seed_ip, ...)" % where)
            continue
        errors += _cluster_errors(where, cluster, seen)
    # the role reads them through tos.cloud.dict_value: a text still here is neither JSON nor key=value pairs
    for name, value in (("cluster_bringup_mail", mail), ("cluster_bringup_system_settings", system_settings)):
        if value is not None and not isinstance(value, dict):
            errors.append("%s: must be a dictionary (or one string of JSON or key=value pairs), not %s" % (
                name, kind_of(value)))
    errors += _mail_errors(mail if isinstance(mail, dict) else {})
    errors += _system_settings_errors(system_settings if isinstance(system_settings, dict) else {})
    return [e for e in errors if e]


class FilterModule:
    def filters(self):
        return {"cluster_bringup_errors": cluster_bringup_errors}
