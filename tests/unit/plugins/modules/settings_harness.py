# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a settings module's ``main()`` against a scripted fake manager and read its JSON result.

The fake answers (method, path) with a function of the query/body; it records every call so
tests can assert on the exact requests, in particular that a second run sends no POST.
"""

from __future__ import annotations

import contextlib
import copy
import json
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.tos.cloud.plugins.module_utils import _module
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient

CLUSTER = {"uuid": "3afdbbfc-e45a-430e-abba-842074a8b035", "name": "prod"}


class FakeManager:
    """A scripted manager: ``routes[(method, path)] = fn(params_or_body) -> data``."""

    def __init__(self, routes=None, clusters=(CLUSTER,)):
        self.routes = {}
        self.calls = []
        self.clusters = list(clusters)
        self.routes[("GET", "/v1/cluster/list")] = self._list
        self.routes.update(routes or {})

    def _list(self, params):
        wanted = (params or {}).get("filter_name") or ""
        items = [{"cluster_uuid": c["uuid"], "cluster_name": c["name"], "ctime": 1}
                 for c in self.clusters if wanted in c["name"]]
        return {"list": items, "total_count": len(items)}

    def _call(self, method, path, payload):
        self.calls.append((method, path, copy.deepcopy(payload)))
        handler = self.routes.get((method, path))
        if handler is None:
            raise AssertionError("unexpected request %s %s" % (method, path))
        return handler(copy.deepcopy(payload))

    # the TosClient interface used by the modules
    def get(self, path, params=None):
        return self._call("GET", path, params)

    def post(self, path, body=None):
        return self._call("POST", path, body)

    # the real verify-before-repeat logic, without sleeping
    backoff = 0
    post_verified = TosClient.post_verified

    @staticmethod
    def _sleep(seconds):
        return None

    def paginate(self, path, params=None, page_size=100, items_key="list", total_key="total_count"):
        yield from (self.get(path, params) or {}).get(items_key) or []

    @property
    def posts(self):
        return [(path, body) for method, path, body in self.calls if method == "POST"]

    @property
    def paths(self):
        return [path for _method, path, _payload in self.calls]


def lost_answer(path):
    """The error of a POST whose answer never came (it may have been applied)."""
    return TosApiError("The connection was lost during POST %s; the request may have been applied." % path,
                       method="POST", path=path, kind="connection", may_have_landed=True, retryable=True)


def api_error(message_en, code=8001, path="/v1/x", method="POST"):
    return TosApiError("%s %s was refused by the manager (code %s): %s." % (method, path, code, message_en),
                       method=method, path=path, kind="api", code=code, message_en=message_en)


def run_module(main, args, manager, capsys, check_mode=False, diff=False):
    """Run ``main()`` with ``args``; return the parsed JSON result (``failed`` set on failure)
    and the raw output, so tests can look for secrets in exactly what Ansible would show."""
    args = dict(args, api_url="http://manager.invalid:9990", _ansible_check_mode=check_mode, _ansible_diff=diff)
    payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    patches = [mock.patch.object(basic, "_ANSIBLE_ARGS", payload),
               mock.patch.object(_module, "client_from_options", lambda options, warn=None: manager)]
    if hasattr(basic, "_ANSIBLE_PROFILE"):  # ansible-core 2.19+
        patches.append(mock.patch.object(basic, "_ANSIBLE_PROFILE", "legacy"))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    return json.loads(out), out
