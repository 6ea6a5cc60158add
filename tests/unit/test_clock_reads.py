# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No variable of the roles and playbooks reads the clock.

A variable (a play's or task's ``vars``, a role's vars or defaults) is templated anew wherever it is used, so
``now()`` in one gives each use its own time. The drift report took its generation time from such a variable
twice, for the report and for the state file that the next run compares with: when a second ticked between the
two, the next run found the content unchanged, took the state file's time and rewrote the report (changed=1 on a
second run; seen once in the roles tests). A time is read in a ``set_fact`` and used from the fact."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CLOCK = re.compile(r"\bnow\s*\(|lookup\(\s*['\"](?:ansible\.builtin\.)?pipe['\"]\s*,\s*['\"]date\b")


def yaml_files():
    for pattern in ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "roles/*/vars/*.yml", "roles/*/defaults/*.yml",
                    "roles/*/molecule/*/*.yml", "playbooks/*.yml", "extensions/**/*.yml"):
        yield from sorted(ROOT.glob(pattern))


def variables(node, where):
    """``(where, name, value)`` of every variable a play, block or task defines in ``vars``, at any depth."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from variables(item, "%s[%d]" % (where, index))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "vars" and isinstance(value, dict):
                for name, item in value.items():
                    yield "%s.vars" % where, name, item
            elif isinstance(value, (list, dict)):
                yield from variables(value, "%s.%s" % (where, key))


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def clock_variables():
    found = []
    for path in yaml_files():
        data = yaml.safe_load(path.read_text()) or {}
        rel = path.relative_to(ROOT)
        whole_file_vars = path.parent.name in ("vars", "defaults") and isinstance(data, dict)
        defined = [(str(rel), name, value) for name, value in data.items()] if whole_file_vars else variables(data, str(rel))
        for where, name, value in defined:
            if any(CLOCK.search(text) for text in strings(value)):
                found.append("%s: %s" % (where, name))
    return found


def test_no_variable_reads_the_clock():
    assert clock_variables() == []


def test_the_check_finds_a_clock_in_a_task_variable(tmp_path, monkeypatch):
    """The check itself: the drift report's former task is found (a test that cannot fail is a defect)."""
    tasks = tmp_path / "roles" / "r" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(
        "- name: Stamp\n"
        "  vars:\n"
        "    generated: \"{{ before if same else now(utc=true, fmt='%Y') }}\"\n"
        "  ansible.builtin.set_fact:\n"
        "    model: \"{{ model | combine({'generated': generated}) }}\"\n"
        "    state: {generated: \"{{ generated }}\"}\n"
        "- name: Fine\n"
        "  ansible.builtin.set_fact:\n"
        "    at: \"{{ now(utc=true) }}\"\n")
    defaults = tmp_path / "roles" / "r" / "defaults"
    defaults.mkdir()
    (defaults / "main.yml").write_text("stamp: \"{{ lookup('ansible.builtin.pipe', 'date +%s') }}\"\nother: 1\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert clock_variables() == ["roles/r/tasks/main.yml[0].vars: generated", "roles/r/defaults/main.yml: stamp"]
