# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.tos.cloud.plugins.filter.cluster_bringup_errors import FilterModule, cluster_bringup_errors
from ansible_collections.tos.cloud.plugins.module_utils._config import DRS_OPTIONS
from ansible_collections.tos.cloud.plugins.module_utils._options import CONNECTION_ENV
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import module_spec

GOOD = {
    "name": "demo-a", "seed_ip": "192.0.2.11",
    "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}],
    "storage_vms": [{"manage_cidr": "192.0.2.121/24", "manage_gateway": "192.0.2.1",
                     "storage_cidr": "192.0.2.161/24", "storage_gateway": "192.0.2.1"}],
    "drs": {"enabled": True, "threshold_level": "aggressive", "max_step": "4"},
    "dpm": {"high_threshold": 0.8, "low_threshold": 0.3},
    "snapshot_policy": {"interval": "6h", "daemon": "started"},
    "global_config": {"cpu": 4, "memory": "1.5"},
}


def with_(**changes):
    cluster = dict(GOOD)
    cluster.update(changes)
    return [cluster]


def test_filter_is_registered():
    assert FilterModule().filters()["cluster_bringup_errors"] is cluster_bringup_errors


def test_a_valid_description_has_no_error():
    assert cluster_bringup_errors([GOOD], {"smtp_port": 25, "sender_mail": "a@example.com"}) == []
    assert cluster_bringup_errors([]) == []


def test_each_message_names_the_value_by_its_place():
    errors = cluster_bringup_errors(with_(seed_ip="198.51.100.300", cvms=[
        {"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"},
        {"host": "tos-a2", "address": "198.51.100.300/24", "gateway": "10.0.0.1"}]))
    assert errors[0].startswith("cluster_bringup_clusters[0].seed_ip: '198.51.100.300'")
    assert errors[1].startswith("cluster_bringup_clusters[0].cvms[1].address:")
    assert len(errors) == 2  # the gateway is not checked against an invalid address


def test_gateway_outside_the_network():
    errors = cluster_bringup_errors(with_(cvms=[{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "10.0.0.1"}]))
    assert errors == ["cluster_bringup_clusters[0].cvms[0].gateway: 10.0.0.1 is not a host address inside the network "
                      "192.0.2.0/24 of cluster_bringup_clusters[0].cvms[0].address"]


def test_settings_are_checked_like_the_modules_do():
    errors = cluster_bringup_errors(with_(drs={"threshold_level": 7, "max_step": 0},
                                          dpm={"low_threshold": 0.9, "high_threshold": 0.1},
                                          global_config={"cpu": 0}, snapshot_policy={"interval": "0h"}),
                                    {"smtp_port": 99999, "sender_mail": "nobody"})
    assert [e.split(":")[0] for e in errors] == [
        "cluster_bringup_clusters[0].drs.threshold_level",
        "cluster_bringup_clusters[0].drs.max_step",
        "cluster_bringup_clusters[0].dpm.low_threshold",
        "cluster_bringup_clusters[0].global_config.cpu",
        "cluster_bringup_clusters[0].snapshot_policy.interval",
        "cluster_bringup_mail.smtp_port",
        "cluster_bringup_mail.sender_mail",
    ]


def test_what_only_the_whole_description_shows():
    twice = dict(GOOD, cvms=[{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"},
                             {"host": "tos-a1", "address": "192.0.2.121/24", "gateway": "192.0.2.1"}])
    errors = cluster_bringup_errors([twice, dict(GOOD, cvms=[], storage_vms=[])])
    assert any("cvms[1].host: tos-a1 already runs" in e for e in errors)
    assert any("storage_vms[0].manage_cidr: 192.0.2.121 is also given to" in e for e in errors)
    assert any("cluster_bringup_clusters[1].name: 'demo-a' is described twice" in e for e in errors)


def test_not_a_list():
    assert cluster_bringup_errors("demo-a") == ["cluster_bringup_clusters: must be a list of clusters, not a string"]


def test_system_settings_are_checked_by_the_module_s_own_rules():
    errors = cluster_bringup_errors([], None, {"login_policy": {"login_fail_retry_times": -1},
                                               "access_control": {"ip_ranges": ["192.0.2.0/24", "office"]}})
    assert [e.split(":")[0] for e in errors] == ["cluster_bringup_system_settings.login_policy.login_fail_retry_times",
                                                 "cluster_bringup_system_settings.access_control.ip_ranges[1]"]
    assert cluster_bringup_errors([], None, {"password_policy": {"minimum_length": 10}}) == []


OTHER = {"name": "demo-b", "seed_ip": "198.51.100.11",
         "cvms": [{"host": "tos-b1", "address": "198.51.100.101/24", "gateway": "198.51.100.1"}]}


def test_the_same_seed_twice_is_refused():
    errors = cluster_bringup_errors([GOOD, dict(OTHER, seed_ip="192.0.2.11")])
    assert errors == ["cluster_bringup_clusters[1].seed_ip: 192.0.2.11 is also the seed of cluster_bringup_clusters[0] "
                      "(a host joins one cluster: the platform refuses the second)"]


def test_a_host_in_two_clusters_is_refused():
    by_name = cluster_bringup_errors([GOOD, dict(OTHER, cvms=[dict(OTHER["cvms"][0], host="tos-a1")])])
    assert by_name == ["cluster_bringup_clusters[1].cvms[0].host: tos-a1 is also a host of another cluster, at "
                       "cluster_bringup_clusters[0].cvms[0].host (a host belongs to one cluster)"]
    seed_of_other = cluster_bringup_errors([GOOD, dict(OTHER, cvms=[dict(OTHER["cvms"][0], host="192.0.2.11")])])
    assert seed_of_other == ["cluster_bringup_clusters[1].cvms[0].host: 192.0.2.11 is also a host of another "
                             "cluster, at cluster_bringup_clusters[0].seed_ip (a host belongs to one cluster)"]


def test_a_vm_address_equal_to_a_hosts_is_refused():
    seed = cluster_bringup_errors(with_(cvms=[{"host": "tos-a1", "address": "192.0.2.11/24", "gateway": "192.0.2.1"}]))
    assert seed == ["cluster_bringup_clusters[0].cvms[0].address: 192.0.2.11 is the address of the host given as "
                    "cluster_bringup_clusters[0].seed_ip"]
    other = cluster_bringup_errors([GOOD, dict(OTHER, cvms=[dict(OTHER["cvms"][0], host="198.51.100.12",
                                                                 address="198.51.100.12/24")])])
    assert other == ["cluster_bringup_clusters[1].cvms[0].address: 198.51.100.12 is the address of the host given as "
                     "cluster_bringup_clusters[1].cvms[0].host"]


def test_a_storage_address_used_twice_is_refused():
    errors = cluster_bringup_errors(with_(storage_vms=[dict(GOOD["storage_vms"][0], storage_cidr="192.0.2.101/24")]))
    assert errors == ["cluster_bringup_clusters[0].storage_vms[0].storage_cidr: 192.0.2.101 is also given to "
                      "cluster_bringup_clusters[0].cvms[0].address"]


def test_a_setting_the_module_does_not_know_is_refused_by_name():
    errors = cluster_bringup_errors(with_(drs={"enabled": True, "max_stepp": 4}, global_config={"gpu": 2}))
    assert len(errors) == 2
    # the known options are drs_config's and global_config's own tables: a new option needs no change here
    assert errors[0].startswith("cluster_bringup_clusters[0].drs.max_stepp: not an option (known: enabled, ")
    assert "max_step, " in errors[0]
    assert errors[1].startswith("cluster_bringup_clusters[0].global_config.gpu: not an option (known: cpu, ")


def test_a_setting_of_the_wrong_type_is_refused_by_name():
    errors = cluster_bringup_errors(with_(drs={"enabled": "maybe", "max_step": "four"}, dpm="on",
                                          global_config={"cpu": "lots"}))
    assert errors == [
        "cluster_bringup_clusters[0].drs.enabled: 'maybe' is not a boolean (true or false)",
        "cluster_bringup_clusters[0].drs.max_step: 'four' is not an integer",
        "cluster_bringup_clusters[0].dpm: must be a dict of %s, not a string" % ", ".join(sorted(DRS_OPTIONS["dpm"][1])),
        "cluster_bringup_clusters[0].global_config.cpu: 'lots' is not a number",
    ]
    assert cluster_bringup_errors(with_(drs={"enabled": "yes"}, dpm={"enabled": "false"})) == []


# The settings the role hands to a module, each option given as the text its argument spec converts (what an AWX
# survey or "{{ var }}" gives): the role's input check must take it as the module does. Before,
# cluster_bringup_system_settings.login_policy.login_fail_retry_times: "5" stopped the role with "5 is not a finite
# number" although tos.cloud.system_setting takes "5".
AS_TEXT = {"int": str, "float": str, "bool": lambda value: "yes" if value else "no", "list": ", ".join,
           "str": lambda value: value, "raw": str}
VALID = {"int": 3600, "float": 1.5, "bool": True, "list": ["192.0.2.0/24", "198.51.100.1"], "str": "whitelist",
         "raw": 3}


def _settings_cases():
    """(variable place, module, section, option, type) for each option the role passes to a settings module."""
    sections = {"system_setting": ["login_policy", "password_policy", "access_control"], "drs_config": ["drs", "dpm"],
                "global_config": [None], "mail_setting": [None]}
    for module, names in sections.items():
        spec = module_spec(module)
        for section in names:
            options = spec[section]["options"] if section else {
                name: option for name, option in spec.items() if name not in CONNECTION_ENV and name != "cluster"}
            for name, option in options.items():
                if option.get("type", "str") != "str" or option.get("choices"):
                    yield module, section, name, option.get("type", "str")


SETTINGS_CASES = sorted(_settings_cases())


def _valid(module, section, name, kind):
    if module == "drs_config":
        return {"high_threshold": 0.8, "low_threshold": 0.3}.get(name, VALID[kind])
    if module == "global_config":
        return 4.0
    if module == "mail_setting" and name == "smtp_port":
        return 2525
    return VALID[kind]


def _described(module, section, name, value):
    """(clusters, mail, system settings) describing ``value`` where the role takes the option."""
    if module == "system_setting":
        return [], None, {section: {name: value}}
    if module == "mail_setting":
        return [], {name: value}, None
    return [dict(GOOD, **{section or "global_config": {name: value}})], None, None


@pytest.mark.parametrize("module, section, name, kind", SETTINGS_CASES,
                         ids=["%s-%s.%s" % (m, s, n) for m, s, n, _k in SETTINGS_CASES])
def test_an_option_given_as_the_text_its_module_converts_is_taken_as_the_module_takes_it(module, section, name, kind):
    value = _valid(module, section, name, kind)
    assert cluster_bringup_errors(*_described(module, section, name, value)) == []
    assert cluster_bringup_errors(*_described(module, section, name, AS_TEXT[kind](value))) == []


# The role's input check also runs when the play skips the argument spec's validation (--skip-tags always, the only
# tag of that task): a value of any shape in any place the spec describes must be named, never crash the filter.
# Before: cvms: "x" crashed it ("'str' object has no attribute 'get'"), as a list for a name did (unhashable).
ROLE_SPEC = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles" / "cluster_bringup" / "meta" /
                            "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
WRONG_SHAPES = ["x", 7, 2.5, True, [1], ["x"], {"a": 1}, [{"a": [1]}]]
FULL = {"cluster_bringup_clusters": [GOOD], "cluster_bringup_mail": {"smtp_port": 25, "sender_mail": "a@example.com"},
        "cluster_bringup_system_settings": {"login_policy": {"login_fail_retry_times": 5}}}


def _paths(options, path=()):
    for name, option in options.items():
        yield path + (name,)
        if option.get("options"):
            yield from _paths(option["options"], path + (name, 0) if option.get("type") == "list" else path + (name,))


SHAPE_PATHS = [p for p in _paths(ROLE_SPEC) if p[0] in FULL]


def _replaced(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        value = list(value) or [{}]
        value[head] = _replaced(value[head], rest, new)
        return value
    value = dict(value or {})
    value[head] = _replaced(value.get(head), rest, new)
    return value


@pytest.mark.parametrize("path", SHAPE_PATHS, ids=[".".join(map(str, p)) for p in SHAPE_PATHS])
def test_a_value_of_any_shape_anywhere_is_named_not_crashed_on(path):
    for wrong in WRONG_SHAPES:
        given = _replaced(FULL, path, wrong)
        errors = cluster_bringup_errors(given["cluster_bringup_clusters"], given["cluster_bringup_mail"],
                                        given["cluster_bringup_system_settings"])
        assert isinstance(errors, list) and all(isinstance(error, str) for error in errors), (path, wrong)
