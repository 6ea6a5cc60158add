# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lookups' reader and options: tos.cloud.cluster against the documents' answers, where cloud/manage leaves a
CVM's machine_uuid empty and only the network topology map (POST all_cluster/topology, a read) places it; no POST
but that read; a timeout of 0 and a term to the manager lookup refused before any request."""

from __future__ import annotations

import copy
import json
import os

from ansible_collections.tos.cloud.plugins.lookup import cluster as cluster_lookup
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._topology import list_clusters
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import CachedReader, NoCache

DOCUMENTED = os.path.join(os.path.dirname(__file__), "..", "inventory", "fixtures", "documented.json")


class Documented:
    """A client answering with the recorded documents' answers (as the inventory tests use them)."""

    def __init__(self):
        with open(DOCUMENTED, encoding="utf-8") as handle:
            self.answers = json.load(handle)
        self.sent = []

    def _answer(self, method, path, params):
        params = {k: v for k, v in (params or {}).items() if k not in ("page_num", "page_size")}
        key = "%s %s" % (method, path)
        if method == "GET" and params:
            key += "?" + "&".join("%s=%s" % item for item in sorted(params.items()))
        self.sent.append(key)
        return copy.deepcopy(self.answers[key])

    def get(self, path, params=None):
        return self._answer("GET", path, params)

    def post(self, path, body=None):
        return self._answer("POST", path, body)


def test_the_cluster_lookup_places_cvms_on_a_manager_that_leaves_machine_uuid_empty():
    reader = CachedReader({"api_url": ["http://192.0.2.10:9990"], "api_token": "t0ken"}, NoCache(), {"play": "p"})
    reader._client = Documented()  # the CachedReader's client, built on the first miss
    entry = list_clusters(reader)[0]
    # 1.0.x before the fix: AttributeError: 'CachedReader' object has no attribute 'post'
    view = cluster_lookup.describe(reader, entry)
    assert [c["leader"] for c in view["center_nodes"]] == [True]
    assert view["leader"] == view["center_nodes"][0]["ip"]
    assert "POST /v1/cluster/all_cluster/topology" in reader.client.sent


def test_a_lookup_sends_no_other_post():
    reader = CachedReader({"api_url": ["http://192.0.2.10:9990"], "api_token": "t0ken"}, NoCache(), {"play": "p"})
    reader._client = Documented()
    try:
        reader.post("/v1/cluster/delete", {"cluster_uuid": "x"})
    except TosApiError as exc:
        assert exc.kind == "config" and "lookups only read" in exc.message
    else:
        raise AssertionError("a lookup sent a POST that writes")
    assert reader.client.sent == []


def _lookup(name):
    from ansible.plugins.loader import init_plugin_loader, lookup_loader

    init_plugin_loader()
    return lookup_loader.get(name)


def test_a_lookup_timeout_of_zero_is_refused_before_any_request():
    from ansible.errors import AnsibleError

    for timeout in (0, -5):
        try:
            _lookup("tos.cloud.manager").run([], variables={"tos_api_url": "http://127.0.0.1:9"}, timeout=timeout)
        except AnsibleError as exc:
            assert "timeout" in str(exc), str(exc)
        else:
            raise AssertionError("timeout=%s was read as unset" % timeout)


def test_the_manager_lookup_refuses_a_term():
    from ansible.errors import AnsibleError

    try:
        _lookup("tos.cloud.manager").run(["prod"], variables={"tos_api_url": "http://127.0.0.1:9"})
    except AnsibleError as exc:
        assert "takes no term" in str(exc) and "tos.cloud.cluster" in str(exc), str(exc)
    else:
        raise AssertionError("a term was ignored")
