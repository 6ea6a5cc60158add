# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import multiprocessing
import os
import stat
import time

import pytest

from ansible.errors import AnsibleLookupError
from ansible.utils.unsafe_proxy import AnsibleUnsafe

try:
    from ansible.template import is_trusted_as_template, trust_as_template
except ImportError:  # before ansible-core 2.19: strings are plain, unsafe ones AnsibleUnsafe
    is_trusted_as_template = None

    def trust_as_template(value):
        return value

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.plugin_utils import lookup_api
from ansible_collections.tos.cloud.plugins.plugin_utils.lookup_api import (
    CachedReader,
    NoCache,
    RunCache,
    guarded,
    run_id,
    unsafe,
)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(lookup_api, "_MEMORY", {})


def ask_in_a_worker(root, run, counter, question):
    """What a task's worker does: a fresh process memory, the run's directory, one question."""
    lookup_api._MEMORY.clear()

    def ask():
        with counter.get_lock():
            counter.value += 1
        time.sleep(0.2)  # the others arrive while this one is asking
        return {"answer": 42}

    assert RunCache(root, run).fetch(question, ask) == {"answer": 42}


def test_forks_asking_the_same_question_at_once_send_one_request(tmp_path):
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    workers = [ctx.Process(target=ask_in_a_worker, args=(str(tmp_path), "run-1", counter, ["q"])) for _worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert counter.value == 1


def test_a_later_task_reads_the_answer_and_another_run_asks_again(tmp_path):
    asked = []
    RunCache(str(tmp_path), "run-1").fetch(["q"], lambda: asked.append(1) or "a")
    lookup_api._MEMORY.clear()  # a new worker process
    assert RunCache(str(tmp_path), "run-1").fetch(["q"], lambda: asked.append(1) or "b") == "a"
    lookup_api._MEMORY.clear()
    assert RunCache(str(tmp_path), "run-2").fetch(["q"], lambda: asked.append(1) or "c") == "c"
    assert len(asked) == 2


def test_refresh_asks_again_and_keeps_the_new_answer(tmp_path):
    cache = RunCache(str(tmp_path), "run-1")
    cache.fetch(["q"], lambda: "old")
    assert cache.fetch(["q"], lambda: "new", refresh=True) == "new"
    lookup_api._MEMORY.clear()
    assert cache.fetch(["q"], lambda: "unused") == "new"


def test_a_failed_question_is_not_cached(tmp_path):
    cache = RunCache(str(tmp_path), "run-1")

    def down():
        raise TosApiError("down", kind="connection")

    with pytest.raises(TosApiError):
        cache.fetch(["q"], down)
    assert cache.fetch(["q"], lambda: "up") == "up"


def test_cache_files_are_private_and_finished_runs_are_removed(tmp_path):
    old = tmp_path / "999999999-1"  # no such process
    old.mkdir()
    (old / "x.json").write_text("{}")
    cache = RunCache(str(tmp_path), run_id())
    cache.fetch(["q"], lambda: 1)
    assert not old.exists()
    files = [p for p in (tmp_path / run_id()).iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(tmp_path / run_id()).st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) & 0o077 == 0


def test_the_run_is_the_parent_of_a_worker(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=lambda: queue.put(run_id()))
    worker.start()
    worker.join(30)
    assert queue.get(timeout=5) == run_id()
    assert run_id().startswith("%d-" % os.getpid())


def test_no_cache_always_asks():
    asked = []
    assert NoCache.fetch(["q"], lambda: asked.append(1) or len(asked)) == 1
    assert NoCache.fetch(["q"], lambda: asked.append(1) or len(asked)) == 2


def test_questions_name_the_manager_but_never_the_token(tmp_path):
    options = {"api_url": ["http://127.0.0.1:9"], "api_token": "lookup-secret", "validate_certs": True}
    reader = CachedReader(options, RunCache(str(tmp_path), "run-1"), {"play": "p"})
    reader._client = type("Fake", (), {"get": staticmethod(lambda path, params=None: {"path": path})})()
    assert reader.get("/v1/system/version") == {"path": "/v1/system/version"}
    assert "lookup-secret" not in repr(reader.identity)
    for path in (tmp_path / "run-1").iterdir():
        assert "lookup-secret" not in path.read_text() and "lookup-secret" not in path.name
    other = CachedReader(dict(options, api_token="another"), RunCache(str(tmp_path), "run-1"), {"play": "p"})
    assert RunCache.digest(other.identity) != RunCache.digest(reader.identity)


def test_api_failure_becomes_a_lookup_error_without_a_chained_traceback():
    def down():
        raise TosApiError("Cannot connect to the manager at http://127.0.0.1:9", kind="connection")

    with pytest.raises(AnsibleLookupError) as raised:
        guarded("tos.cloud.manager", down)
    assert str(raised.value).startswith("tos.cloud.manager: Cannot connect")
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_everything_returned_is_unsafe():
    """ansible-core 2.19: no string comes back trusted as a template (before: each one AnsibleUnsafe)."""
    value = unsafe([{"desc": trust_as_template("{{ 6 * 7 }}"), "hosts": [{"name": trust_as_template("{{ a }}")}]}])
    for text in (value[0]["desc"], value[0]["hosts"][0]["name"]):
        assert not is_trusted_as_template(text) if is_trusted_as_template else isinstance(text, AnsibleUnsafe)


def test_a_cache_directory_others_can_write_to_is_refused(tmp_path):
    root = tmp_path / "shared"
    root.mkdir(mode=0o777)
    os.chmod(root, 0o777)
    with pytest.raises(AnsibleLookupError, match="not private"):
        RunCache(str(root), "run-1").fetch(["q"], lambda: 1)
