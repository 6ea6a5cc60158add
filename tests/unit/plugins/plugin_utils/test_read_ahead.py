# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run cache's read-ahead (tos_cloud_read_ahead): the later tasks' reads sent at once by the first task, the
same requests in all, never an answer from before a write of the run, each read-ahead setting answered once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from ansible_collections.tos.cloud.plugins.module_utils import _api, _config, _topology
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import storage_vm_by_manage_ip
from ansible_collections.tos.cloud.plugins.plugin_utils import run_cache
from ansible_collections.tos.cloud.plugins.plugin_utils.run_cache import RunStore, TaskCache

TOKEN = "s3cr3t-token-value"
PLAN = [{"name": "alpha", "cvms": [{"host": "h1", "address": "10.0.0.5/24", "gateway": "10.0.0.1"}],
         "storage_vms": [{"manage_cidr": "10.0.0.9/24"}], "drs": {"enabled": True}, "global_config": {"cpu": 80},
         "snapshot_policy": {"interval": "6h"}},
        {"name": "beta"}]


class Manager:
    """Answers the reads of a converged manager (two clusters) and counts them; a POST changes the DRS config."""

    def __init__(self, names=("alpha", "beta")):
        self.names = list(names)
        self.sent = []
        self.drs = {"enabled": True}
        self.lock = threading.Lock()

    def __call__(self, method, path, params=None, body=None):
        with self.lock:
            self.sent.append((method, path, tuple(sorted((params or {}).items()))))
        params = params or {}
        if method != "GET":
            self.drs = dict(body)
            return None
        if path == _topology.CLUSTER_LIST:
            items = [{"cluster_uuid": "uuid-%s" % n, "cluster_name": n} for n in self.names]
            return {"list": items, "total_count": len(items)}
        if path == _topology.CLOUD_MANAGE:
            return {"host_info": [{"ip": "10.0.0.5", "is_leader": True}]}
        if path == "/v1/cluster/storage_service/vm/list":
            return {"list": [{"uuid": "s1", "manage_ip": "10.0.0.9"}], "total_count": 1}
        if path == _config.DRS_GET:
            return {"config": dict(self.drs)}
        return {"path": path, "query": dict(params)}


@pytest.fixture
def manager():
    return Manager()


@pytest.fixture
def store(tmp_path):
    return RunStore(root=str(tmp_path / "root"), run="run-1")


def client(manager):
    c = _api.TosClient(api_url="http://127.0.0.1:9990", api_token=TOKEN)
    c._request = manager  # the transport (a clone copies it)
    return c


def task(store, monkeypatch, plan=None, check_mode=False):
    view = TaskCache(store, reading=True, plan=plan, check_mode=check_mode)
    monkeypatch.setattr(_api, "RUN_CACHE", view)
    return view


def later_tasks(store, monkeypatch, manager):
    """What the role's converge tasks read of PLAN's clusters, each read in a task of its own."""
    def one(read):
        task(store, monkeypatch)
        read(client(manager))

    for name in ("alpha", "beta"):
        one(lambda c, name=name: _topology.get_cluster(c, _topology.cluster_by_name(c, name)["uuid"]))
    one(lambda c: _topology.read_cloud_manage(c, _topology.find_cluster(c, "alpha")["uuid"]))
    one(lambda c: storage_vm_by_manage_ip(c, _topology.find_cluster(c, "alpha")["uuid"], "10.0.0.9"))
    one(lambda c: c.get(_config.DRS_GET, {"cluster_uuid": _topology.find_cluster(c, "alpha")["uuid"]}))
    one(lambda c: c.get(_config.GLOBAL_CONFIG_GET, {"cluster_uuid": _topology.find_cluster(c, "alpha")["uuid"]}))

    def snapshot(c):
        uuid = _topology.find_cluster(c, "alpha")["uuid"]
        ip = _topology.read_center_nodes(c, uuid)[0]["ip"]
        c.get(_config.SNAPSHOT_CONFIG, {"cluster_uuid": uuid, "ip": ip})
        c.get(_config.DAEMON_STATE, {"cluster_uuid": uuid, "ip": ip})
    one(snapshot)


def first_task(store, monkeypatch, manager, check_mode=False):
    view = task(store, monkeypatch, plan=PLAN, check_mode=check_mode)
    client(manager).get("/v1/system/version")
    view.finish(30)


def test_the_later_tasks_find_every_read_ahead_and_the_requests_are_the_same(store, manager, monkeypatch, tmp_path):
    first_task(store, monkeypatch, manager)
    ahead = len(manager.sent)
    later_tasks(store, monkeypatch, manager)
    assert len(manager.sent) == ahead  # nothing left to ask
    # the same requests as without the read-ahead, none twice
    plain = Manager()
    without = RunStore(root=str(tmp_path / "other"), run="run-2")
    task(without, monkeypatch)
    client(plain).get("/v1/system/version")
    later_tasks(without, monkeypatch, plain)
    assert Counter(manager.sent) == Counter(plain.sent)
    assert max(Counter(manager.sent).values()) == 1


def test_a_write_of_the_run_forgets_what_was_read_ahead(store, manager, monkeypatch):
    first_task(store, monkeypatch, manager)
    task(store, monkeypatch)
    c = client(manager)
    c.post(_config.DRS_UPDATE, {"enabled": False})
    task(store, monkeypatch)
    answer = client(manager).get(_config.DRS_GET, {"cluster_uuid": "uuid-alpha"})
    assert answer == {"config": {"enabled": False}}  # asked again: not the answer from before the write
    assert Counter(p for _m, p, _q in manager.sent)[_config.DRS_GET] == 2


def test_a_setting_read_ahead_answers_one_read(store, manager, monkeypatch):
    first_task(store, monkeypatch, manager)
    for _task in range(2):
        task(store, monkeypatch)
        client(manager).get(_config.DRS_GET, {"cluster_uuid": "uuid-alpha"})
    assert Counter(p for _m, p, _q in manager.sent)[_config.DRS_GET] == 2  # the second task asks the manager


def test_settings_are_only_answered_when_read_ahead(store, manager, monkeypatch):
    for _task in range(2):
        task(store, monkeypatch)
        client(manager).get(_config.DRS_GET, {"cluster_uuid": "uuid-alpha"})
    assert len(manager.sent) == 2


def test_a_cluster_to_create_stops_the_read_ahead_after_the_listing(store, monkeypatch):
    manager = Manager(names=("alpha",))  # beta does not exist: the run will create it, which forgets everything
    first_task(store, monkeypatch, manager)
    assert sorted(p for _m, p, _q in manager.sent) == sorted(["/v1/system/version", _topology.CLUSTER_LIST])


def test_in_check_mode_the_existing_clusters_are_read_ahead(store, monkeypatch):
    manager = Manager(names=("alpha",))  # nothing is created in check mode: alpha's reads will be made
    first_task(store, monkeypatch, manager, check_mode=True)
    paths = Counter(p for _m, p, _q in manager.sent)
    assert paths[_config.DRS_GET] == 1 and paths[_config.DAEMON_STATE] == 1 and paths[_topology.CLUSTER_GET] == 1


def test_only_what_the_description_sets_is_read(store, manager, monkeypatch):
    view = task(store, monkeypatch, plan=[{"name": "beta"}])
    client(manager).get("/v1/system/version")
    view.finish(30)
    assert sorted(p for _m, p, _q in manager.sent) == sorted(["/v1/system/version", _topology.CLUSTER_LIST,
                                                              _topology.CLUSTER_GET])


def test_a_failing_read_ahead_is_silent_and_the_task_asks(store, monkeypatch):
    manager = Manager()

    def failing(method, path, params=None, body=None):
        if path == _config.DRS_GET and len([s for s in manager.sent if s[1] == path]) == 0:
            manager.sent.append((method, path, ()))
            raise _api.TosApiError("boom", kind="connection")
        return manager(method, path, params, body)
    c = _api.TosClient(api_url="http://127.0.0.1:9990", api_token=TOKEN)
    c._request = failing
    view = task(store, monkeypatch, plan=PLAN)
    c.get("/v1/system/version")
    view.finish(30)
    task(store, monkeypatch)
    c2 = _api.TosClient(api_url="http://127.0.0.1:9990", api_token=TOKEN)
    c2._request = failing
    assert c2.get(_config.DRS_GET, {"cluster_uuid": "uuid-alpha"}) == {"config": {"enabled": True}}


def test_the_plan_comes_from_the_task_variable():
    assert run_cache.read_ahead_plan({}) is None
    assert run_cache.read_ahead_plan({"tos_cloud_read_ahead": []}) is None
    assert run_cache.read_ahead_plan({"tos_cloud_read_ahead": "nope"}) is None
    assert run_cache.read_ahead_plan({"tos_cloud_read_ahead": [{"name": "a"}, 3]}) == [{"name": "a"}]
