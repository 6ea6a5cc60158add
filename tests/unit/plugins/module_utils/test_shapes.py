# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every list option of every module, given as one text the way operators type it: an AWX survey's multiple-choice
answer (one line per choice), a text field with ``a, b``, ``-a 'hosts=["a", "b"]'`` on the ad-hoc command line.
Each must read as the list it names, as the roles' list variables do (the ``name_list`` filter).

ansible-core splits a text at its commas only and keeps the spaces: ``checks: "system, network"`` was refused
("Got no match for:  network", the unmatched value being the invisible `` network``), ``hosts: "tos-a1, tos-a2"``
failed "' tos-a2' not in cluster", and a multiple-choice answer ``"top\\ndrs"`` was one unknown entry."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.tos.cloud.plugins.module_utils._shapes import shape_problems
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import module_spec as _spec

# every module: built on TosModule, or on checked_module (report_mail, report_files, host_facts)
MODULES = ("cluster", "cluster_info", "cvm", "storage_service_vm", "drs_config", "global_config", "snapshot_policy",
           "metadata_snapshot", "mail_setting", "system_setting", "system_info", "inspection", "upgrade", "upgrade_info",
           "report_mail", "report_files", "host_facts")
FORMS = {
    "commas and spaces": "{a}, {b}",
    "one line each (AWX multiple choice)": "{a}\n{b}",
    "CRLF lines, a last newline": "{a}\r\n{b}\r\n",
    "spaces and a trailing comma": "  {a} ,{b} , ",
    "JSON": '["{a}", "{b}"]',
}


def _list_options(spec, path=()):
    for name, option in spec.items():
        if option.get("type") == "list" and option.get("elements") in ("str", "path"):
            yield path + (name,), option
        if option.get("type") == "dict" and option.get("options"):
            yield from _list_options(option["options"], path + (name,))


def _nested(path, value):
    for name in reversed(path):
        value = {name: value}
    return value


CASES = [(name, path, option) for name in MODULES for path, option in _list_options(_spec(name))]


def test_every_module_with_a_list_option_is_covered():
    assert {name for name, _path, _option in CASES} >= {"cluster_info", "system_setting", "inspection", "upgrade",
                                                        "upgrade_info", "report_mail", "host_facts"}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("name, path, option", CASES, ids=["%s-%s" % (n, ".".join(p)) for n, p, _o in CASES])
def test_a_list_option_given_as_one_text_is_the_list_it_names(name, path, option, form):
    first, second = [str(choice) for choice in option["choices"][:2]] if option.get("choices") else ["tos-a1", "tos-a2"]
    spec = _spec(name)
    raw = _nested(path, FORMS[form].format(a=first, b=second))
    problems, checked = shape_problems(spec, raw)
    assert problems == []
    result = ArgumentSpecValidator(checked).validate(json.loads(json.dumps(raw)))
    value = result.validated_parameters
    for name_ in path:
        value = value[name_]
    assert value == [first, second], result.error_messages
    assert not [message for message in result.error_messages if path[-1] in message]


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_a_blank_text_is_left_to_the_modules_own_checks(text):
    """A blank list option is not read as an empty list: ``hosts: ""`` (an unanswered survey question) is refused by
    the module, never read as 'all hosts'."""
    spec = {"hosts": {"type": "list", "elements": "str"}}
    problems, checked = shape_problems(spec, {"hosts": text})
    assert problems == [] and checked["hosts"] is spec["hosts"]


def test_a_list_stays_as_given():
    spec = {"hosts": {"type": "list", "elements": "str"}}
    problems, checked = shape_problems(spec, {"hosts": ["tos-a1, tos-a2"]})
    assert problems == [] and checked["hosts"] is spec["hosts"]
