# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every place that names the collection's version agrees with galaxy.yml, and every `version_added` names the
release that added the thing (from the changelog's history), never a version that does not exist."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load_version_tool():
    spec = importlib.util.spec_from_file_location("tos_version_tool", ROOT / "tools" / "version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERSION_TOOL = _load_version_tool()
GALAXY_VERSION = VERSION_TOOL.galaxy_version()
CHANGELOG = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))
RELEASES = CHANGELOG.get("releases") or {}


def vtuple(version):
    return tuple(int(part) for part in re.match(r"(\d+)\.(\d+)\.(\d+)", str(version)).groups())


def released_in():
    """(kind, name) -> the release whose changelog lists it as new (modules, plugins, roles)."""
    found = {}
    for version, release in RELEASES.items():
        for module in release.get("modules") or ():
            found[("module", module["name"])] = version
        for plugin_type, plugins in (release.get("plugins") or {}).items():
            for plugin in plugins:
                found[(plugin_type, plugin["name"])] = version
        for object_type, objects in (release.get("objects") or {}).items():
            for obj in objects:
                found[(object_type, obj["name"])] = version
    return found


def _documentation_of(path):
    """The DOCUMENTATION YAML of a plugin written in Python (or of a .yml filter/test plugin)."""
    if path.suffix in (".yml", ".yaml"):
        return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("DOCUMENTATION")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    return None


def documented():
    """(kind, name, documentation) of every module, plugin and role of the collection."""
    for directory in sorted((ROOT / "plugins").iterdir()):
        if not directory.is_dir() or directory.name in ("module_utils", "plugin_utils", "doc_fragments", "action", "__pycache__"):
            continue
        kind = "module" if directory.name == "modules" else directory.name
        for path in sorted(directory.iterdir()):
            if path.name.startswith("_") or path.suffix not in (".py", ".yml", ".yaml"):
                continue
            if path.suffix == ".py" and path.with_suffix(".yml").exists():
                continue  # the filter's documentation is in the .yml beside it
            doc = _documentation_of(path)
            if doc is not None:
                yield kind, path.stem, doc
    for specs in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        main = (yaml.safe_load(specs.read_text(encoding="utf-8"))["argument_specs"] or {}).get("main") or {}
        yield "role", specs.parents[1].name, main


def option_versions(options, prefix=""):
    for name, spec in (options or {}).items():
        if "version_added" in spec:
            yield prefix + name, str(spec["version_added"])
        yield from option_versions(spec.get("options") or spec.get("suboptions"), prefix + name + ".")


DOCUMENTED = list(documented())
IDS = ["%s:%s" % (kind, name) for kind, name, _doc in DOCUMENTED]


def test_every_place_names_the_galaxy_version():
    bad = list(VERSION_TOOL.mismatches())
    assert not bad, "disagree with galaxy.yml %s (run tools/version.py sync): %s" % (GALAXY_VERSION, bad)


def test_galaxy_version_is_the_newest_release_or_the_next_one():
    newest = max((vtuple(v) for v in RELEASES), default=(0, 0, 0))
    assert vtuple(GALAXY_VERSION) >= newest, "galaxy.yml %s is older than the changelog's newest release" % GALAXY_VERSION


@pytest.mark.parametrize("kind,name,doc", DOCUMENTED, ids=IDS)
def test_version_added_names_the_release_that_added_it(kind, name, doc):
    added = str(doc.get("version_added") or "")
    assert added, "%s %s has no version_added" % (kind, name)
    listed = released_in().get((kind, name))
    if listed is None:
        # not in any released changelog: it is new in the coming release (antsibull-changelog lists it from this)
        assert added == GALAXY_VERSION, "%s %s is in no release yet, so version_added must be %s, not %s" % (
            kind, name, GALAXY_VERSION, added)
    else:
        assert added == str(listed), "%s %s was released in %s (changelogs/changelog.yaml), not %s" % (kind, name, listed, added)


@pytest.mark.parametrize("kind,name,doc", DOCUMENTED, ids=IDS)
def test_option_version_added_is_a_real_release_after_the_plugin(kind, name, doc):
    known = {str(v) for v in RELEASES} | {GALAXY_VERSION}
    plugin_added = vtuple(doc.get("version_added") or GALAXY_VERSION)
    for option, added in option_versions(doc.get("options")):
        assert added in known, "%s %s option %s: version_added %s is no release (known: %s)" % (
            kind, name, option, added, ", ".join(sorted(known)))
        assert plugin_added <= vtuple(added) <= vtuple(GALAXY_VERSION), "%s %s option %s: version_added %s" % (
            kind, name, option, added)


def test_docs_name_only_real_versions():
    """"since X.Y.Z" / "up to X.Y.Z" in the docs name a released version or the coming one."""
    known = {str(v) for v in RELEASES} | {GALAXY_VERSION}
    bad = []
    for path in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in re.finditer(r"\b(?:since|up to|until|from|in|before|after) (?:version )?(\d+\.\d+\.\d+)(?![.\d])", line):
                if match.group(1) not in known:
                    bad.append("%s:%d: %s" % (path.relative_to(ROOT), number, match.group(0)))
    assert not bad, bad


def test_requires_ansible_states_the_tested_range():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime["requires_ansible"] == ">=2.19.0,<2.22", runtime["requires_ansible"]
