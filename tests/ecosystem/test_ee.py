# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The execution environment definition: ansible-builder accepts it and writes a build context with the
collection in it, and every Python requirement it installs is importable here."""

from __future__ import annotations

import importlib
import shutil
import sys
import tarfile
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from ansible_collections.tos.cloud.tests.ecosystem.helpers import REPO_ROOT, ansible_env, galaxy_version, load_yaml, run, tool

# distribution name -> module name, where they differ
IMPORT_NAMES = {"pyyaml": "yaml", "python-dateutil": "dateutil"}


def python_requirements(definition, base):
    """The Python requirements an execution environment definition names (a file or a list)."""
    python = (definition.get("dependencies") or {}).get("python")
    if python is None:
        return []
    if isinstance(python, str):
        lines = (base / python).read_text(encoding="utf-8").splitlines()
    else:
        lines = list(python)
    lines = [line.split("#", 1)[0].strip() for line in lines]
    return [Requirement(line) for line in lines if line]


@pytest.fixture(scope="module")
def ee_definition():
    return load_yaml(REPO_ROOT / "execution-environment.yml")


@pytest.fixture(scope="module")
def build_context(tmp_path_factory):
    """`ansible-builder create` on a copy of the definition, with the collection tarball built beside it."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(REPO_ROOT / name, work / name)
    built = run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(work / "build" / "dist"),
                 str(REPO_ROOT)])
    assert built.returncode == 0, built.stdout + built.stderr
    created = run([tool("ansible-builder"), "create", "-f", str(work / "execution-environment.yml"),
                   "-c", str(work / "context"), "-v", "2"], cwd=work)
    assert created.returncode == 0, created.stdout + created.stderr
    return work / "context", created.stdout + created.stderr


def test_definition_uses_the_version_3_schema(ee_definition):
    assert ee_definition["version"] == 3
    assert ee_definition["images"]["base_image"]["name"]
    deps = ee_definition["dependencies"]
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core")
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")


def test_create_writes_a_build_context_with_the_collection(build_context):
    context, output = build_context
    files = [p for p in ("Containerfile", "Dockerfile") if (context / p).exists()]
    assert files, "no Containerfile or Dockerfile in the context:\n" + output
    assert "No matches" not in output and "does not exist" not in output, output
    tarball = context / "_build" / "collections" / ("tos-cloud-%s.tar.gz" % galaxy_version())
    assert tarball.exists(), output
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names
    assert "meta/execution-environment.yml" in names
    assert not [n for n in names if n.split("/")[0] in ("simulator", "bench", ".venv", "build")]


def test_galaxy_requirement_names_the_tarball_of_this_version(ee_definition, build_context):
    context = build_context[0]
    wanted = "collections/tos-cloud-%s.tar.gz" % galaxy_version()
    collections = ee_definition["dependencies"]["galaxy"]["collections"]
    assert [c["name"] for c in collections] == [wanted], "update execution-environment.yml on a version bump"
    assert (context / "_build" / wanted).exists()
    assert load_yaml(context / "_build" / "requirements.yml")["collections"][0]["name"] == wanted


def test_collection_metadata_points_at_the_requirements():
    meta = load_yaml(REPO_ROOT / "meta" / "execution-environment.yml")
    assert meta["version"] == 3
    assert (REPO_ROOT / meta["dependencies"]["python"]).exists()
    assert (REPO_ROOT / meta["dependencies"]["system"]).exists()


def test_builder_finds_the_requirements_in_the_installed_collection(build_context, tmp_path):
    """What the builder stage of the image does: install the tarball, then introspect the collections."""
    context = build_context[0]
    tarball = context / "_build" / "collections" / ("tos-cloud-%s.tar.gz" % galaxy_version())
    installed = run([tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p",
                     str(tmp_path / "collections"), str(tarball)],
                    env=dict(ansible_env(), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections")))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    introspected = run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                        str(tmp_path / "collections"), "--write-pip", str(tmp_path / "pip.txt")])
    assert introspected.returncode == 0, introspected.stderr
    found = {Requirement(line.split("#")[0]).name for line in (tmp_path / "pip.txt").read_text().splitlines() if line}
    wanted = {r.name for r in python_requirements({"dependencies": {"python": "requirements.txt"}}, REPO_ROOT)}
    assert wanted and wanted <= found, (wanted, found)


def _all_requirements():
    definition = load_yaml(REPO_ROOT / "execution-environment.yml")
    meta = load_yaml(REPO_ROOT / "meta" / "execution-environment.yml")
    reqs = python_requirements(definition, REPO_ROOT) + python_requirements(meta, REPO_ROOT)
    return sorted({str(r): r for r in reqs}.values(), key=str)


@pytest.mark.parametrize("requirement", _all_requirements(), ids=str)
def test_python_requirement_is_importable_here(requirement):
    name = requirement.name.lower()
    module = IMPORT_NAMES.get(name, name.replace("-", "_"))
    importlib.import_module(module)
    installed = metadata.version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        "%s %s is installed, the execution environment wants %s" % (requirement.name, installed, requirement))
