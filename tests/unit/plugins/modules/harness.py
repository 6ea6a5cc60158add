# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The harness of every module unit test: run a module's ``main()`` against a fake client and read
its JSON result, and what the fake clients share.

The fakes of each area build on it: cluster_harness (an in-memory platform of clusters, CVMs and
storage VMs), operations_harness (hosts with versions and upgrade tasks) and settings_harness
(a scripted manager).
"""

from __future__ import annotations

import contextlib
import importlib
import json
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.tos.cloud.plugins.module_utils import _module, _shapes
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient

API_URL = "http://manager.invalid:9990"


class _SpecCaptured(Exception):
    pass


def module_spec(name):
    """The argument spec module ``name`` hands to AnsibleModule (the connection options included): its ``main()``
    run up to AnsibleModule, for a module built on TosModule or checked_module."""
    captured = {}

    def fake(argument_spec, **_kwargs):
        captured.update(argument_spec)
        raise _SpecCaptured()
    module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
    with mock.patch.object(_module, "AnsibleModule", fake), mock.patch.object(_shapes, "AnsibleModule", fake), \
            mock.patch.object(_module, "_raw_arguments", lambda: None), \
            mock.patch.object(_shapes, "_raw_arguments", lambda: None):
        with pytest.raises(_SpecCaptured):
            module.main()
    return captured


def run_plain_module(main, args, capsys, check_mode=False, diff=False, patches=()):
    """Run ``main()`` of a module with ``args`` as Ansible passes them (and ``patches`` applied); its raw output.
    As it is for a module without an API client (report_mail, report_files); run_module_output adds the client."""
    payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)}))
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(basic, "_ANSIBLE_ARGS", payload))
        if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core 2.19+
            stack.enter_context(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
        for patch in patches:
            stack.enter_context(patch)
        with pytest.raises(SystemExit):
            main()
    return capsys.readouterr().out


def run_module_output(main, args, client, capsys, check_mode=False, diff=False):
    """Run ``main()`` with ``args`` and ``client`` as the module's API client; return the parsed JSON
    result (``failed`` set on failure) and the raw output, so tests can look for secrets in exactly
    what Ansible would show."""
    out = run_plain_module(main, dict(args, api_url=API_URL), capsys, check_mode=check_mode, diff=diff,
                           patches=[mock.patch.object(_module, "client_from_options", lambda options, warn=None: client)])
    return structured_diff(json.loads(out)), out


def structured_diff(result):
    """The result with ``diff.before``/``after`` (JSON text, so that ``--diff`` shows Chinese readably) read
    back as data, which is what the tests compare."""
    diff = result.get("diff")
    if isinstance(diff, dict):
        for side in ("before", "after"):
            if isinstance(diff.get(side), str):
                diff[side] = json.loads(diff[side])
    return result


def run_module(main, args, client, capsys, check_mode=False, diff=False):
    """Run ``main()`` with ``args``; return the parsed JSON result."""
    return run_module_output(main, args, client, capsys, check_mode=check_mode, diff=diff)[0]


def cluster_list(params, clusters):
    """The ``/v1/cluster/list`` answer for ``clusters`` (list entries), filtered by ``filter_name``
    as a substring, as loosely as the platform does."""
    wanted = (params or {}).get("filter_name") or ""
    items = [c for c in clusters if wanted in c["cluster_name"]]
    return {"list": items, "total_count": len(items)}


def api_error(message_en, code=8001, path="/v1/x", method="POST"):
    """The error of a request the manager refused."""
    return TosApiError("%s %s was refused by the manager (code %s): %s." % (method, path, code, message_en),
                       method=method, path=path, kind="api", code=code, message_en=message_en)


def lost_answer(path):
    """The error of a POST whose answer never came (it may have been applied)."""
    return TosApiError("The connection was lost during POST %s; the request may have been applied." % path,
                       method="POST", path=path, kind="connection", may_have_landed=True, retryable=True)


class FakeClient:
    """What the fake clients that answer ``get``/``post`` share: the real verify-before-repeat logic
    of ``post_verified``, without backing off or sleeping."""

    backoff = 0
    post_verified = TosClient.post_verified

    @staticmethod
    def _sleep(seconds):
        return None
