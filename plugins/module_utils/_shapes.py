# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Option shapes checked before ansible-core converts them, for every module of the collection.

``shape_problems`` refuses a value of the wrong shape (a list or a dictionary for a string, a number for a
dictionary) naming the option and never showing the value; ``checked_module`` is ``AnsibleModule`` with that
check first, for the modules that are not API modules (``TosModule`` does the same with its connection
options).  Standard library and ansible-core only: the modules that use it may run on a managed host.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.tos.cloud.plugins.module_utils._redact import MASK

# What a value of each argument-spec type must not be.  ansible-core turns a list given for a str
# option into the text "['a']" and crashes on a list or a number given for a dict with suboptions,
# so these shapes are refused before AnsibleModule sees them.
_SHAPES = {"str": "a string", "path": "a path", "dict": "a dictionary (key: value)"}


def _shape_problem(name: str, option: str, value: Any) -> str | None:
    """Why ``value`` does not have the shape of ``option``, or None.  Never shows the value."""
    if value is None:
        return None
    kind = option.get("type", "str")
    if kind in ("str", "path") and isinstance(value, (list, dict)):
        return "%s: must be %s, not a %s" % (name, _SHAPES[kind], "list" if isinstance(value, list) else "dictionary")
    if kind == "dict" and not isinstance(value, (dict, str)):
        return "%s: must be %s, not %s" % (name, _SHAPES["dict"], kind_of(value))
    if kind == "dict" and isinstance(value, str) and _not_a_dict(value):
        return "%s: must be %s; the text given is neither JSON nor key=value pairs" % (name, _SHAPES["dict"])
    if kind == "list" and isinstance(value, list):
        elements = option.get("elements")
        for index, item in enumerate(value):
            if item is None:
                continue
            if elements in ("str", "path") and isinstance(item, (list, dict)):
                return "%s[%d]: must be %s, not a %s" % (name, index, _SHAPES[elements],
                                                         "list" if isinstance(item, list) else "dictionary")
            if elements == "dict" and not isinstance(item, (dict, str)):
                return "%s[%d]: must be %s, not %s" % (name, index, _SHAPES["dict"], kind_of(item))
    return None


def text_list(text: str) -> list[Any]:
    """A list given as one text, as operators type it: a JSON list (``["a", "b"]``, an ad-hoc ``-a``), else the entries
    between its commas and line breaks (``"a, b"`` from a survey's text field, ``"a\\nb"`` from an AWX multiple-choice
    answer), each without the whitespace around it, empty ones left out.  The one reading of such a text for the
    modules' list options and the roles' list variables (the ``name_list`` filter)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    return [item.strip() for item in re.split(r"[,\r\n]", stripped) if item.strip()]


def _as_list(value: Any) -> Any:
    """The type of a list option given as a non-blank text (``shape_problems``): ``text_list``.  A list that comes
    back (a JSON list) goes through ansible-core's own list check, as if it had been given so."""
    return text_list(value) if isinstance(value, str) else value


def _not_a_dict(text: str) -> bool:
    try:
        check_type_dict(text)
    except (TypeError, ValueError):
        return True
    return False


def kind_of(value: Any) -> str:
    """What ``value`` is, in words for a message: ``a string``, ``a list``, ... (never a Python class name: a string
    from ``-e`` is an ``_AnsibleTaggedStr`` in ansible-core 2.19)."""
    for kind, name in ((bool, "a boolean"), (str, "a string"), ((int, float), "a number"), (dict, "a dictionary"),
                       ((list, tuple), "a list")):
        if isinstance(value, kind):
            return name
    return "a %s" % type(value).__name__


def shape_problems(spec: dict[str, Any], raw: Any, prefix: str = "") -> tuple[list[str], dict[str, Any]]:
    """Check raw module arguments against ``spec`` before ansible-core converts them.

    Returns ``(problems, spec)``: the messages, each naming the option, and a copy of ``spec`` in which
    every refused option is ``raw`` (so that AnsibleModule can start, to report them cleanly), and every list
    option given as one non-blank text reads it as ``text_list`` does (ansible-core would split it at its commas
    only, keeping the spaces: ``"system, network"`` gave the unknown choice `` network``). A blank text is left to
    the module's checks: ``hosts: ""`` is refused, never read as no hosts (all of them).
    """
    problems = []
    shielded = dict(spec)
    if not isinstance(raw, dict):
        return problems, shielded
    names = {}
    for name, option in spec.items():
        for alias in [name] + list(option.get("aliases") or ()):
            names[alias] = name
    for given, value in raw.items():
        name = names.get(given)
        if name is None:
            continue
        option = spec[name]
        label = prefix + given
        problem = _shape_problem(label, option, value)
        if problem:
            problems.append(problem)
            shielded[name] = {key: option[key] for key in ("no_log", "aliases") if key in option}
            shielded[name]["type"] = "raw"
            continue
        if option.get("type") == "list" and isinstance(value, str) and value.strip():
            shielded[name] = dict(option, type=_as_list)
        elif option.get("type") == "dict" and option.get("options") and isinstance(value, dict):
            inner, inner_spec = shape_problems(option["options"], value, label + ".")
            problems.extend(inner)
            if inner_spec != option["options"]:
                shielded[name] = dict(option, options=inner_spec)
        elif option.get("type") == "list" and option.get("elements") == "dict" and option.get("options") \
                and isinstance(value, list):
            merged = dict(option["options"])  # the entries share one spec: what any entry needs
            for index, item in enumerate(value):
                inner, inner_spec = shape_problems(option["options"], item, "%s[%d]." % (label, index))
                problems.extend(inner)
                merged.update({key: sub for key, sub in inner_spec.items() if sub is not option["options"][key]})
            if merged != option["options"]:
                shielded[name] = dict(option, options=merged)
    return problems, shielded


def _raw_arguments() -> dict[str, Any] | None:
    """The task's arguments as ansible-core received them, or None where they cannot be read (e.g. in
    ansible-test's argument-spec inspection, which replaces the loader)."""
    try:
        params = basic._load_params()  # pylint: disable=protected-access
    except Exception:  # noqa: BLE001  pylint: disable=broad-exception-caught
        return None
    return params if isinstance(params, dict) else None


def checked_module(argument_spec: dict[str, Any], **kwargs: Any) -> AnsibleModule:
    """``AnsibleModule(argument_spec, **kwargs)``, failing first (cleanly, naming each option) when an option has
    the wrong shape.  A refused ``no_log`` option is shown masked in the result's invocation: no_log masks the
    values of a dictionary, not its keys, and ansible-core would have turned it into text."""
    problems, spec = shape_problems(argument_spec, _raw_arguments())
    module = AnsibleModule(argument_spec=spec, **kwargs)
    if problems:
        for name, option in argument_spec.items():
            if option.get("no_log") and spec[name] is not option:
                module.params[name] = MASK
        module.fail_json(msg="Invalid input: %s." % "; ".join(problems))
    return module
