# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""reliability_recorder: write every task result as one JSON line to $RELIABILITY_RECORD.

Only used by tests/reliability (the suite parametrizes its rows over these records).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: reliability_recorder
type: aggregate
short_description: Record task results for the reliability suite
description:
  - Writes every task result as one JSON line to the file named by E(RELIABILITY_RECORD).
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _plain(value):
    """Plain JSON types (ansible's tagged strings, dicts and lists become the builtin ones)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reliability_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("RELIABILITY_RECORD")

    def _write(self, status, result):
        if not self._path:
            return
        line = {
            "task": result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "time": time.time(),
            "result": result._result,
        }
        with open(self._path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(_plain(line), ensure_ascii=False, default=str) + "\n")

    def v2_runner_on_ok(self, result, **kwargs):
        self._write("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._write("failed", result)

    def v2_runner_on_skipped(self, result, **kwargs):
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._write("unreachable", result)
