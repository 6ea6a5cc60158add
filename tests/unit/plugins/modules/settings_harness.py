# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The settings modules' fake: a scripted manager; run the modules with harness.run_module_output.

The fake answers (method, path) with a function of the query/body; it records every call so
tests can assert on the exact requests, in particular that a second run sends no POST.
"""

from __future__ import annotations

import copy

from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import FakeClient, cluster_list

CLUSTER = {"uuid": "3afdbbfc-e45a-430e-abba-842074a8b035", "name": "prod"}


class FakeManager(FakeClient):
    """A scripted manager: ``routes[(method, path)] = fn(params_or_body) -> data``."""

    def __init__(self, routes=None, clusters=(CLUSTER,)):
        self.routes = {}
        self.calls = []
        self.clusters = list(clusters)
        self.routes[("GET", "/v1/cluster/list")] = self._list
        self.routes.update(routes or {})

    def _list(self, params):
        return cluster_list(params, [{"cluster_uuid": c["uuid"], "cluster_name": c["name"], "ctime": 1}
                                     for c in self.clusters])

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

    def paginate(self, path, params=None, page_size=100, items_key="list", total_key="total_count", **_ignored):
        yield from (self.get(path, params) or {}).get(items_key) or []

    @property
    def posts(self):
        return [(path, body) for method, path, body in self.calls if method == "POST"]

    @property
    def paths(self):
        return [path for _method, path, _payload in self.calls]
