# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared helpers of the ecosystem tests: the tools of the venv, ansible's environment, YAML files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "build" / "collections"
VENV_BIN = Path(sys.executable).parent


def tool(name):
    """Path of a command-line tool of the venv (requirements-dev.txt / requirements-lint.txt)."""
    path = VENV_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail("%s is not installed: `make venv` installs requirements-dev.txt and requirements-lint.txt" % name)
    return found


def ansible_env(**extra):
    """The environment ansible needs to find tos.cloud in the source tree (as `make collection` links it)."""
    if not (COLLECTIONS / "ansible_collections" / "tos" / "cloud" / "galaxy.yml").exists():
        pytest.fail("%s does not hold tos.cloud: run `make collection` first" % COLLECTIONS)
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_DEPRECATION_WARNINGS="false",
        PATH=os.pathsep.join([str(VENV_BIN), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


def run(cmd, env=None, cwd=REPO_ROOT, timeout=300):
    """Run a command; return the CompletedProcess (text), never raising on a non-zero exit."""
    return subprocess.run(cmd, cwd=str(cwd), env=env or ansible_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def galaxy_version():
    return str(load_yaml(REPO_ROOT / "galaxy.yml")["version"])
