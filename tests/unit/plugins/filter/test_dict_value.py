# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's dictionary variable as operators give it: a dictionary, or one string of JSON or key=value pairs
(``-e 'cluster_bringup_mail={"enabled": false}'``, an AWX survey's text answer), which the role's argument spec
(type dict) accepts. The roles used the string itself: ``cluster_bringup_mail`` crashed the input check
("'_AnsibleTaggedStr' object has no attribute 'get'") and ``cluster_bringup_system_settings`` was silently ignored
(every key read as undefined, so omitted: the run said ok and changed nothing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.tos.cloud.plugins.filter.cluster_bringup_errors import cluster_bringup_errors
from ansible_collections.tos.cloud.plugins.filter.dict_value import FilterModule, dict_value

ROLES = Path(__file__).resolve().parents[4] / "roles"
GOOD = {"name": "demo-a", "seed_ip": "192.0.2.11"}
MAIL = {"enabled": False, "smtp_server": "192.0.2.25", "smtp_port": 2525}


def _dict_variables():
    """(role, variable) for every top-level option of type dict in every role's argument specs."""
    for spec_file in sorted(ROLES.glob("*/meta/argument_specs.yml")):
        role = spec_file.parents[1].name
        for entry in yaml.safe_load(spec_file.read_text())["argument_specs"].values():
            for name, option in (entry.get("options") or {}).items():
                if option.get("type") == "dict":
                    yield role, name


DICT_VARIABLES = sorted(set(_dict_variables()))


def test_the_dictionary_variables_are_found():
    assert {name for _role, name in DICT_VARIABLES} >= {"cluster_bringup_mail", "cluster_bringup_system_settings",
                                                        "drift_report_mail", "drift_report_system_settings"}


@pytest.mark.parametrize("role, variable", DICT_VARIABLES)
def test_a_role_reads_each_dictionary_variable_through_dict_value_only(role, variable):
    """Tasks and templates use ``<variable>_dict``, which vars/main.yml reads through tos.cloud.dict_value: a string
    the argument spec accepted is then the dictionary it names, wherever the role uses it."""
    defined = yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())
    assert re.fullmatch(r"\{\{ %s \| tos\.cloud\.dict_value \}\}" % variable, defined.get(variable + "_dict", ""))
    used = re.compile(r"\b%s\b" % re.escape(variable))
    for path in sorted((ROLES / role).glob("tasks/*.yml")) + sorted((ROLES / role).glob("templates/*")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.lstrip().startswith("#"):
                assert not used.search(line), "%s:%d uses %s itself: %s" % (path, number, variable, line.strip())


@pytest.mark.parametrize("text", [json.dumps(MAIL), "enabled=false smtp_server=192.0.2.25 smtp_port=2525",
                                  " %s\n" % json.dumps(MAIL)])
def test_a_string_of_json_or_key_value_pairs_is_the_dictionary(text):
    value = dict_value(text)
    assert {key: str(item).lower() for key, item in value.items()} == {
        key: str(item).lower() for key, item in MAIL.items()}


@pytest.mark.parametrize("value, expected", [(None, {}), ("", {}), (" \n", {}), ({"a": 1}, {"a": 1}),
                                             ("enabled: true", "enabled: true"), ([1], [1]), (3, 3)])
def test_nothing_is_empty_and_anything_else_comes_back_for_the_input_check(value, expected):
    assert dict_value(value) == expected
    assert FilterModule().filters()["dict_value"] is dict_value


@pytest.mark.parametrize("mail, settings, said", [
    ("enabled: true", None, "cluster_bringup_mail: must be a dictionary (or one string of JSON or key=value pairs), "
                            "not a string"),
    (None, ["login_policy"], "cluster_bringup_system_settings: must be a dictionary (or one string of JSON or "
                             "key=value pairs), not a list"),
])
def test_the_input_check_names_a_dictionary_variable_it_cannot_read(mail, settings, said):
    assert cluster_bringup_errors([GOOD], mail, settings) == [said]


@pytest.mark.parametrize("section, keys", [("drs", "enabled, max_concurrent_migration"), ("dpm", "enabled, high_threshold"),
                                           ("global_config", "cpu, memory"), ("snapshot_policy", "daemon, interval")])
def test_a_section_of_a_cluster_given_as_text_is_named_not_crashed_on(section, keys):
    """The argument spec (type dict) accepts ``snapshot_policy: "interval=6h"``; the tasks read its keys."""
    errors = cluster_bringup_errors([dict(GOOD, **{section: "enabled=true"})])
    assert len(errors) == 1 and errors[0].startswith("cluster_bringup_clusters[0].%s: must be a dict of %s" % (
        section, keys)) and errors[0].endswith("not a string"), errors
