# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark callback: per task, its wall time, its results and (optionally) the simulator requests it caused.

Enabled by the benchmark only (ANSIBLE_CALLBACKS_ENABLED=bench_timer, ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins).
Environment:
  BENCH_TIMER_OUT   where to write the JSON record (required, else the callback does nothing)
  BENCH_RECORD_ARGS when set, every module execution's arguments (invocation.module_args, per loop item) are
                    kept under "invocations" (bench/replay.py runs them again in one process)
  BENCH_SIM_URL     the simulator's base URL: when set, at the end of every task the requests logged since
                    the previous task (GET /_sim/requests?since=SEQ) are attributed to the task that ends.
                    That is exact with the linear strategy and no async task: one task runs at a time.
Output: {"tasks": [{"name", "action", "start", "end", "duration", "hosts": {host: {"status", "changed"}},
                    "items", "requests": [{"method", "path", "status", "code"}]}], "stats": {...}}
"""
from __future__ import annotations

import json
import os
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: per-task wall time and simulator requests, for tos.cloud's benchmark
description: Writes one JSON record per run to the file named by BENCH_TIMER_OUT.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.out = os.environ.get("BENCH_TIMER_OUT")
        self.sim = (os.environ.get("BENCH_SIM_URL") or "").rstrip("/")
        self.tasks = []
        self.record_args = bool(os.environ.get("BENCH_RECORD_ARGS"))
        self.invocations = []
        self.current = None
        self.seq = self._last_seq() if self.sim else 0
        self.t0 = time.monotonic()

    # -- the simulator's request log -----------------------------------------------------------

    def _fetch(self, since):
        with urllib.request.urlopen("%s/_sim/requests?since=%d" % (self.sim, since), timeout=30) as resp:
            return json.load(resp).get("requests") or []

    def _last_seq(self):
        try:
            reqs = self._fetch(0)
        except OSError:
            return 0
        return reqs[-1]["seq"] if reqs else 0

    def _collect(self):
        if not self.sim:
            return []
        reqs = [r for r in self._fetch(self.seq) if r["seq"] > self.seq]
        if reqs:
            self.seq = reqs[-1]["seq"]
        return [{"method": r["method"], "path": r["path"], "status": r.get("status"), "code": r.get("code")} for r in reqs]

    # -- tasks -------------------------------------------------------------------------------------

    def _close(self):
        task = self.current
        if task is None:
            return
        now = time.monotonic() - self.t0
        if task["end"] is None:
            task["end"] = now
        task["duration"] = task["end"] - task["start"]
        task["requests"] = self._collect()
        self.current = None

    def _start(self, task):
        self._close()
        self.current = {
            "name": task.get_name(),
            "action": task.action,
            "start": time.monotonic() - self.t0,
            "end": None,
            "hosts": {},
            "items": 0,
        }
        self.tasks.append(self.current)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _invocation(self, result):
        if not self.record_args or self.current is None:
            return
        args = ((result._result or {}).get("invocation") or {}).get("module_args")
        if isinstance(args, dict):
            self.invocations.append({"action": self.current["action"], "task": self.current["name"], "args": args})

    def _result(self, result, status):
        if self.current is None:
            return
        host = result._host.get_name()
        res = result._result or {}
        if status == "ok" and "results" not in res:
            self._invocation(result)
        self.current["hosts"][host] = {"status": status, "changed": bool(res.get("changed"))}
        self.current["end"] = time.monotonic() - self.t0

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def _item(self, result):
        if self.current is not None:
            self.current["items"] += 1
            if not (result._result or {}).get("skipped"):
                self._invocation(result)

    v2_runner_item_on_ok = _item
    v2_runner_item_on_failed = _item
    v2_runner_item_on_skipped = _item

    def v2_playbook_on_stats(self, stats):
        self._close()
        if not self.out:
            return
        hosts = sorted(stats.processed.keys())
        summary = {h: stats.summarize(h) for h in hosts}
        with open(self.out, "w", encoding="utf-8") as fh:
            json.dump({"tasks": self.tasks, "stats": summary, "elapsed": time.monotonic() - self.t0,
                       "epoch0": time.time() - (time.monotonic() - self.t0),
                       "invocations": self.invocations}, fh, indent=1, default=str)
