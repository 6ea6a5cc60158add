# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every API module run as a module process on a Python without ``requests`` (a task with ``environment``,
``tos_cloud_in_process: false`` or a delegated host runs the module there): one line naming the library to
install, never a NameError or a traceback, for valid arguments and for a bad ``api_url``.

Each module runs in a fresh interpreter whose import of ``requests`` (and, in the second variant, of
``urllib3``) fails, as on a host that lacks them. No request can be sent: the address is from 192.0.2.0/24
and nothing listens there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.tos.cloud.tests.properties.test_argument_specs import BASE, MODULES

ROOT = Path(__file__).resolve().parents[2]
URL = "http://192.0.2.10:9990"
TOKEN = "s3cret-no-requests-token"

RUNNER = r"""
import json, sys
for name in sys.argv[2].split(","):
    sys.modules[name] = None  # import fails with ImportError, as on a host without the library
from unittest import mock
from ansible.module_utils.testing import patch_module_args
import importlib
module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules." + sys.argv[1])
with patch_module_args(json.loads(sys.argv[3])):
    module.main()
"""


def run_without(module: str, blocked: tuple[str, ...], args: dict) -> tuple[dict, str]:
    env = dict(os.environ)
    env.pop("TOS_API_URL", None)
    env.pop("TOS_API_TOKEN", None)
    proc = subprocess.run([sys.executable, "-c", RUNNER, module, ",".join(blocked), json.dumps(args)],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    out = proc.stdout.strip()
    assert out, "no result from %s (rc %s): %s" % (module, proc.returncode, proc.stderr[-2000:])
    return json.loads(out.splitlines()[-1]), proc.stdout + proc.stderr


@pytest.mark.parametrize("blocked", [("requests",), ("requests", "urllib3")], ids=["requests", "requests+urllib3"])
@pytest.mark.parametrize("module", MODULES)
def test_valid_arguments_name_the_missing_library(module, blocked):
    result, output = run_without(module, blocked, dict(BASE[module], api_url=URL, api_token=TOKEN))
    assert result.get("failed") is True, result
    assert "requests" in result["msg"] and "is not defined" not in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    assert TOKEN not in output


@pytest.mark.parametrize("module", MODULES)
def test_bad_api_url_is_still_named(module):
    """The URL checks that need no library still run: the operator learns both things, one at a time."""
    args = dict(BASE[module], api_url="http://192.0.2.10:99999", api_token=TOKEN)
    result, output = run_without(module, ("requests",), args)
    assert result.get("failed") is True, result
    assert "is not defined" not in result["msg"] and "Traceback" not in result["msg"], result["msg"]
    assert "port" in result["msg"] or "requests" in result["msg"], result["msg"]
    assert TOKEN not in output
