# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Python file of the collection's plugins imports, through Ansible's collection loader, on the
ansible-core these tests run with: `make matrix` runs this on each newer ansible-core line in place of
ansible-test's import sanity test (mk/matrix.mk), so a plugin broken by a newer ansible-core fails here even
when no other unit test touches it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
NAMES = sorted(
    "ansible_collections.tos.cloud.plugins." + ".".join(p.relative_to(PLUGINS).with_suffix("").parts)
    for p in PLUGINS.rglob("*.py") if p.name != "__init__.py")


def test_the_plugins_are_all_found():
    kinds = {name.split(".")[4] for name in NAMES}
    assert {"modules", "module_utils", "action", "inventory", "filter", "lookup"} <= kinds, kinds
    assert len(NAMES) >= 40, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_plugin_imports(name):
    module = importlib.import_module(name)
    assert module.__name__ == name
