# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TosModule.execute, the one place failures become fail_json: API errors are messages, anything else a
reported bug with a masked traceback; secrets are masked in every form; a token over plain http warns."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.tos.cloud.plugins.module_utils import _module
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError

TOKEN = "tok-M0DULE-4b3c2d1e"


def run(body, capsys, api_url="http://127.0.0.1:9", token=TOKEN):
    args = {"api_url": api_url, "api_token": token}
    patches = [mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))]
    if hasattr(basic, "_ANSIBLE_PROFILE"):
        patches.append(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        with pytest.raises(SystemExit):
            _module.TosModule(argument_spec={}).execute(body)
    out = capsys.readouterr().out
    return json.loads(out), out


def test_an_api_error_is_a_message_without_a_traceback(capsys):
    def body(tm):
        tm.doing("create cluster 'c1'")
        raise TosApiError("POST /v1/cluster/add was refused by the manager (code 7): token %r is wrong."
                          % (TOKEN + "\n"), method="POST", path="/v1/cluster/add", kind="api", code=7,
                          message_en="token %s\\n is wrong" % TOKEN)

    result, out = run(body, capsys)
    assert result["failed"] and result["msg"].startswith("Could not create cluster 'c1': POST /v1/cluster/add")
    assert result["api_error"]["kind"] == "api"
    assert result.get("exception") in (None, "(traceback unavailable)")
    assert TOKEN not in out


def test_a_programming_error_is_reported_with_a_masked_traceback_not_a_crash(capsys):
    def body(tm):
        tm.doing("read the clusters")
        {}["x" + TOKEN + "\n"]  # noqa: B018 - the bug under test

    result, out = run(body, capsys)
    assert result["failed"] and "failed unexpectedly while trying to read the clusters (KeyError" in result["msg"]
    assert "bug of the collection" in result["msg"]
    # ansible-core 2.19+ keeps the traceback only when tracebacks are enabled (ANSIBLE_DISPLAY_TRACEBACK)
    if result.get("exception") not in (None, "(traceback unavailable)"):
        assert "Traceback (most recent call last)" in result["exception"]
    assert TOKEN not in out and "********" in result["msg"]


def test_the_escaped_forms_of_a_secret_are_masked_in_results(capsys):
    def body(tm):
        tm.exit(said="Bearer %r / %s" % (TOKEN + "\n", json.dumps(json.dumps(TOKEN + "\n"))))

    result, out = run(body, capsys)
    assert TOKEN not in out, out


@pytest.mark.parametrize("url, warned", [
    ("http://192.0.2.10:9990", True),
    ("http://manager.example:9990", True),
    ("https://192.0.2.10:9990", False),
    ("http://127.0.0.1:9990", False),
    ("http://[::1]:9990", False),
    ("http://localhost:9990", False),
])
def test_a_token_over_plain_http_to_another_host_warns(url, warned):
    warnings = []
    _module.client_from_options({"api_url": [url], "api_token": TOKEN, "timeout": 5}, warn=warnings.append)
    assert bool([w for w in warnings if "plain http://" in w]) is warned
    assert not any(TOKEN in w for w in warnings)


def test_no_token_no_http_warning():
    warnings = []
    _module.client_from_options({"api_url": ["http://192.0.2.10:9990"], "timeout": 5}, warn=warnings.append)
    assert warnings == []
