# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The EDA source's cursor (state_file) and what a restart with other settings reports (no simulator: nothing here
sends a request). Each test failed before 1.0.x's fix."""
from __future__ import annotations

import asyncio

import pytest


@pytest.mark.parametrize("content", ["", '{"version": 1, "generation": 4, "se', "\x00" * 64])
def test_a_corrupt_cursor_is_a_settings_error_naming_the_file(events, tmp_path, content):
    """An empty or cut-short state file (a full disk, a crash of the host before the page cache reached the disk)
    must fail with a message naming the file and what to do, as a cursor of another version does; not a bare
    json.JSONDecodeError ("Expecting value: line 1 column 1 (char 0)") with a traceback."""
    cursor = tmp_path / "cursor.json"
    cursor.write_text(content, encoding="utf-8")
    settings = events["settings_from"]({"api_url": "http://127.0.0.1:9", "state_file": str(cursor)}, environ={})
    with pytest.raises(events["SettingsError"]) as caught:
        events["EventSource"](settings, asyncio.Queue())
    assert str(cursor) in str(caught.value)


def test_a_cursor_missing_its_fields_is_a_settings_error(events, tmp_path):
    """A JSON cursor of the right version that lacks fields (hand-edited, written by a broken tool) fails on the
    first poll with KeyError: 'outbox' / 'members' from deep inside the source."""
    cursor = tmp_path / "cursor.json"
    cursor.write_text('{"version": 1}', encoding="utf-8")
    settings = events["settings_from"]({"api_url": "http://127.0.0.1:9", "state_file": str(cursor)}, environ={})
    with pytest.raises(events["SettingsError"]) as caught:
        events["EventSource"](settings, asyncio.Queue())
    assert str(cursor) in str(caught.value)


def test_snapshot_fresh_carries_max_age_as_documented(events):
    """docs/events.md: snapshot_stale, snapshot_fresh -> snapshot name; `age`, `max_age`."""
    cluster = {"uuid": "c-1", "name": "prod-a"}
    before = {"newest": "snap_1000000000", "time": 1000000000, "stale": True}
    after = {"newest": "snap_1000000900", "time": 1000000900}
    changes = list(events["_diff_snapshot"](cluster, before, after, 3600.0, 1000001000))
    assert [c[0] for c in changes] == ["snapshot_fresh"]
    extra = changes[0][6]
    assert extra.get("max_age") == 3600.0, extra


class _CheapManager:
    """Answers the two reads of mode cheap: system/member/list and cluster/list (``names``: prod-a and prod-b)."""

    base_url = "http://192.0.2.10:9990"

    def __init__(self, names=("prod-a", "prod-b")):
        self.names = names

    def get(self, path, params=None):
        if path == "/v1/system/member/list":
            return {"leader": "192.0.2.11", "candidates": ["192.0.2.11"], "ready": True}
        if path == "/v1/cluster/list":
            items = [{"cluster_uuid": "c-" + name[-1], "cluster_name": name} for name in self.names]
            return {"list": items, "total_count": len(items)}
        raise AssertionError(path)

    def paginate(self, path, params=None, **kwargs):
        from ansible_collections.tos.cloud.plugins.module_utils._api import TosClient

        return TosClient.paginate(self, path, params, **kwargs)


def _poll_once(events, state_file, names=("prod-a", "prod-b"), **args):
    settings = events["settings_from"](dict({"api_url": "http://192.0.2.10:9990", "state_file": str(state_file),
                                             "mode": "cheap", "initial_events": False}, **args), environ={})
    queue = asyncio.Queue()
    source = events["EventSource"](settings, queue, client=_CheapManager(names))
    asyncio.run(source.poll())
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_narrowing_clusters_on_restart_is_not_a_cluster_removed(events, tmp_path):
    """docs/events.md: cluster_removed is "a cluster leaves cluster/list". prod-b never left it; the source was only
    restarted with clusters: [prod-a] on the same state file (say, to split the estate over two sources)."""
    cursor = tmp_path / "cursor.json"
    assert _poll_once(events, cursor) == []
    after = _poll_once(events, cursor, clusters=["prod-a"])
    assert [(e["type"], e["cluster"]["name"]) for e in after] == []


def test_widening_clusters_on_restart_is_not_a_cluster_added(events, tmp_path):
    cursor = tmp_path / "cursor.json"
    assert _poll_once(events, cursor, clusters=["prod-a"]) == []
    assert _poll_once(events, cursor) == []  # prod-b was listed all along: taken in, not added


def test_a_cluster_that_leaves_or_joins_the_list_is_still_reported_whatever_the_filter(events, tmp_path):
    cursor = tmp_path / "cursor.json"
    assert _poll_once(events, cursor) == []
    gone = _poll_once(events, cursor, names=("prod-a",), clusters=["prod-a", "prod-b"])
    assert [(e["type"], e["cluster"]["name"]) for e in gone] == [("cluster_removed", "prod-b")]
    back = _poll_once(events, cursor, names=("prod-a", "prod-b"), clusters=["prod-a", "prod-b"])
    assert [(e["type"], e["cluster"]["name"]) for e in back] == [("cluster_added", "prod-b")]
