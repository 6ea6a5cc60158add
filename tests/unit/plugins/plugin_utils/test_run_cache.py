# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.tos.cloud.plugins.module_utils import _api
from ansible_collections.tos.cloud.plugins.module_utils._topology import find_cluster
from ansible_collections.tos.cloud.plugins.plugin_utils import run_cache
from ansible_collections.tos.cloud.plugins.plugin_utils.run_cache import RunStore, TaskCache

TOKEN = "s3cr3t-token-value"
LIST = "/v1/cluster/list"


class Manager:
    """Answers like the manager's cluster list, and remembers what was asked."""

    def __init__(self, names=("alpha", "beta")):
        self.names = list(names)
        self.sent = []

    def __call__(self, method, path, params=None, body=None):
        self.sent.append((method, path, dict(params or {})))
        if method != "GET":
            self.names.append(body["name"])
            return None
        if path == LIST:
            wanted = (params or {}).get("filter_name")
            items = [{"cluster_uuid": "uuid-%s" % n, "cluster_name": n} for n in self.names if not wanted or wanted in n]
            return {"list": items, "total_count": len(items)}
        if path == "/v1/cluster/get":
            return {"name": "x", "echo": (params or {}).get("echo")}
        return {"path": path}


@pytest.fixture
def manager():
    return Manager()


@pytest.fixture
def store(tmp_path):
    return RunStore(root=str(tmp_path / "root"), run="run-1")


def client(manager, url="http://127.0.0.1:9990", token=TOKEN):
    c = _api.TosClient(api_url=url, api_token=token)
    c._request = manager  # the transport: what the manager is asked
    return c


def task(store, monkeypatch, reading=True):
    """A new task's worker: a fresh view of the run's cache as the client's hook."""
    view = TaskCache(store, reading=reading)
    monkeypatch.setattr(_api, "RUN_CACHE", view)
    return view


def lists(manager):
    return [p for m, p, _q in manager.sent if p == LIST]


def test_a_later_task_resolving_the_same_name_sends_nothing(store, manager, monkeypatch):
    task(store, monkeypatch)
    assert find_cluster(client(manager), "alpha")["uuid"] == "uuid-alpha"
    task(store, monkeypatch)
    assert find_cluster(client(manager), "alpha")["uuid"] == "uuid-alpha"
    task(store, monkeypatch)
    assert find_cluster(client(manager), "beta")["uuid"] == "uuid-beta"  # one listing resolved both names
    assert len(lists(manager)) == 1
    # the filtered question was answered with the unfiltered list (the filter is loose, the match exact)
    assert "filter_name" not in manager.sent[0][2]


def test_a_write_clears_the_run_and_the_next_task_sees_it(store, manager, monkeypatch):
    task(store, monkeypatch)
    assert find_cluster(client(manager), "gamma") is None
    task(store, monkeypatch)
    c = client(manager)
    assert find_cluster(c, "gamma") is None  # from the cache
    c.post("/v1/cluster/add", {"name": "gamma"})
    assert find_cluster(c, "gamma")["uuid"] == "uuid-gamma"  # the writing task asks the manager afterwards
    task(store, monkeypatch)
    assert find_cluster(client(manager), "gamma")["uuid"] == "uuid-gamma"
    assert len(lists(manager)) == 3


def test_the_writing_task_stores_nothing_after_its_write(store, manager, monkeypatch):
    task(store, monkeypatch)
    c = client(manager)
    c.post("/v1/cluster/add", {"name": "gamma"})
    find_cluster(c, "gamma")
    task(store, monkeypatch)
    find_cluster(client(manager), "gamma")
    assert len(lists(manager)) == 2


def test_a_question_repeated_within_a_task_is_a_poll(store, manager, monkeypatch):
    task(store, monkeypatch)
    c = client(manager)
    c.get("/v1/cluster/get", {"cluster_uuid": "u"})
    c.get("/v1/cluster/get", {"cluster_uuid": "u"})
    task(store, monkeypatch)
    client(manager).get("/v1/cluster/get", {"cluster_uuid": "u"})  # a later task: the stored answer
    assert len(manager.sent) == 2


def test_only_topology_reads_are_kept(store, manager, monkeypatch):
    for _task in range(2):
        task(store, monkeypatch)
        client(manager).get("/v1/system/mail_setting/inspect")
    assert len(manager.sent) == 2


@pytest.mark.parametrize("token", [TOKEN, 's3cr3t"quoted\\slash-value'])
def test_an_answer_holding_the_token_is_never_stored(store, manager, monkeypatch, tmp_path, token):
    # a token with a quote or a backslash is escaped in the answer's JSON text: still recognised
    for _task in range(2):
        task(store, monkeypatch)
        assert client(manager, token=token).get("/v1/cluster/get", {"echo": token})["echo"] == token
    assert len(manager.sent) == 2
    for folder, _dirs, files in os.walk(tmp_path):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            assert "s3cr3t" not in text


def test_another_manager_or_token_is_another_question(store, manager, monkeypatch):
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    task(store, monkeypatch)
    find_cluster(client(manager, url="http://127.0.0.1:9991"), "alpha")
    task(store, monkeypatch)
    find_cluster(client(manager, token="other-token"), "alpha")
    assert len(lists(manager)) == 3


def test_an_incomplete_first_page_falls_back_to_the_filtered_question(store, monkeypatch):
    sent = []

    def big(method, path, params=None, body=None):
        sent.append(dict(params))
        if "filter_name" in params:
            return {"list": [{"cluster_uuid": "u-alpha", "cluster_name": "alpha"}], "total_count": 1}
        return {"list": [{"cluster_uuid": "u-%d" % i, "cluster_name": "c%d" % i} for i in range(100)], "total_count": 150}

    task(store, monkeypatch)
    assert find_cluster(client(big), "alpha")["uuid"] == "u-alpha"
    assert [("filter_name" in q) for q in sent] == [False, True]
    task(store, monkeypatch)
    assert find_cluster(client(big), "alpha")["uuid"] == "u-alpha"
    assert len(sent) == 2  # both answers came from the cache the second time


def test_off_reads_nothing_but_a_write_still_clears(store, manager, monkeypatch):
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    task(store, monkeypatch, reading=False)
    c = client(manager)
    find_cluster(c, "alpha")
    c.post("/v1/cluster/add", {"name": "gamma"})
    task(store, monkeypatch)
    find_cluster(client(manager), "gamma")
    assert len(lists(manager)) == 3


def test_a_write_while_a_read_is_answered_keeps_that_answer_out(store, manager, monkeypatch):
    def racing(method, path, params=None, body=None):
        answer = manager(method, path, params, body)
        store.invalidate()  # another fork wrote meanwhile
        return answer

    task(store, monkeypatch)
    client(racing).get("/v1/cluster/get", {"cluster_uuid": "u"})
    task(store, monkeypatch)
    client(manager).get("/v1/cluster/get", {"cluster_uuid": "u"})
    assert len(manager.sent) == 2


def test_the_run_directory_is_private(store, manager, monkeypatch):
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    for name in os.listdir(store.directory):
        assert stat.S_IMODE(os.stat(os.path.join(store.directory, name)).st_mode) & 0o077 == 0


def test_a_root_others_can_write_is_never_used(tmp_path, manager, monkeypatch):
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o777)
    for _task in range(2):
        task(RunStore(root=str(root), run="run-1"), monkeypatch)
        assert find_cluster(client(manager), "alpha")["uuid"] == "uuid-alpha"
    assert len(lists(manager)) == 2
    assert os.listdir(root) == []


def test_invalidate_run_after_a_module_process(tmp_path, manager, monkeypatch):
    monkeypatch.setenv(run_cache.CACHE_ROOT_ENV, str(tmp_path / "env-root"))
    store = RunStore()
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    run_cache.invalidate_run()
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    assert len(lists(manager)) == 2


class Templar:
    @staticmethod
    def template(value):
        return value


@pytest.mark.parametrize("task_vars, on", [
    ({}, False), ({"tos_cloud_run_cache": True}, True), ({"tos_cloud_run_cache": "yes"}, True),
    ({"tos_cloud_run_cache": False}, False), ({"tos_cloud_run_cache": "maybe"}, False),
])
def test_the_variable_turns_it_on(task_vars, on, tmp_path, monkeypatch):
    monkeypatch.setenv(run_cache.CACHE_ROOT_ENV, str(tmp_path / "env-root"))
    RunStore()._prepare()  # the run has a cache: a task with the cache off still clears it when it writes
    assert run_cache.for_task(task_vars, Templar()).reading is on


def test_a_task_that_waited_for_an_operation_forgets_the_runs_answers(store, manager, monkeypatch):
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")  # cached while a deploy runs
    waiting = task(store, monkeypatch)
    for _poll in range(2):  # a wait: the same progress asked twice
        client(manager).get("/v1/cluster/host/task/progress", {"cluster_uuid": "u", "host_uuid": "h"})
    waiting.finish()
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    assert len(lists(manager)) == 2  # asked again after the wait
    once = task(store, monkeypatch)
    client(manager).get("/v1/cluster/host/task/progress", {"cluster_uuid": "u", "host_uuid": "h"})  # a look, no wait
    once.finish()
    task(store, monkeypatch)
    find_cluster(client(manager), "alpha")
    assert len(lists(manager)) == 2


def test_an_operation_left_running_ends_the_caches_use_for_the_run(manager, tmp_path, monkeypatch):
    monkeypatch.setenv(run_cache.CACHE_ROOT_ENV, str(tmp_path / "env-root"))
    monkeypatch.setattr(_api, "RUN_CACHE", run_cache.for_task({"tos_cloud_run_cache": True}))
    find_cluster(client(manager), "alpha")
    run_cache.unsettle_run()  # a task with wait: false: the platform keeps changing after it
    for _task in range(2):
        view = run_cache.for_task({"tos_cloud_run_cache": True}, Templar())
        assert view.reading is False
        monkeypatch.setattr(_api, "RUN_CACHE", view)
        find_cluster(client(manager), "alpha")
    assert len(lists(manager)) == 3  # asked by each task: nothing from before, nothing kept after


def test_off_and_nothing_cached_installs_no_hook(tmp_path, monkeypatch):
    monkeypatch.setenv(run_cache.CACHE_ROOT_ENV, str(tmp_path / "env-root"))
    assert run_cache.for_task({}) is None
    assert run_cache.for_task({"tos_cloud_run_cache": True}) is not None


def test_without_the_hook_the_client_sends_everything(manager, monkeypatch):
    monkeypatch.setattr(_api, "RUN_CACHE", None)  # a module process
    for _task in range(2):
        find_cluster(client(manager), "alpha")
    assert len(lists(manager)) == 2
