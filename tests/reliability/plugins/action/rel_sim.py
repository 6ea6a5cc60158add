# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rel_sim: drive the simulator's control API from a playbook, on the controller, fast.

Steps run in this order, each only when given (the first four end a case, the others prepare
the next one, so that one task can do both):
  sleep (seconds, real) -> clear_faults -> post_manager ({leader, ready, members})
  -> read (summary + request log) -> reset (true or a fixture path) -> api (raw /v1 calls to set
  the stage) -> advance (seconds) -> manager -> clear_log -> faults (list of fault specs)
Returns ``summary`` (relib.summarize of GET /_sim/state), ``requests`` and ``mutations`` when
``read`` is set.  Only used by tests/reliability; never part of the collection.
"""

from __future__ import annotations

import os
import sys
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

_HERE = os.path.dirname(os.path.abspath(__file__))
_SUITE = os.path.dirname(os.path.dirname(_HERE))
if _SUITE not in sys.path:
    sys.path.insert(0, _SUITE)

import relib  # noqa: E402


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        sim = relib.Sim.__new__(relib.Sim)
        sim.url = str(args["url"]).rstrip("/")
        sim.session = relib.requests.Session()
        sim.session.verify = False
        token = args.get("token")
        try:
            # what ends the previous case ...
            if args.get("sleep"):
                time.sleep(float(args["sleep"]))
            if args.get("clear_faults"):
                sim.clear_faults()
            if args.get("post_manager"):
                sim.manager(**args["post_manager"])
            if args.get("read"):
                entries = sim.requests()
                result["summary"] = relib.summarize(sim.state())
                result["requests"] = [{"method": e["method"], "path": e["path"], "status": e.get("status"),
                                       "code": e.get("code"), "fault": e.get("fault")} for e in entries]
                result["mutations"] = [r for r in result["requests"] if relib.is_mutation(r)]
            # ... and what prepares the next one
            if args.get("reset"):
                reset = args["reset"]
                sim.reset(None if reset is True else reset)
            for call in args.get("api") or []:
                sim.api(call.get("method", "GET"), call["path"], body=call.get("body"), params=call.get("params"),
                        token=token)
            if args.get("advance"):
                sim.advance(float(args["advance"]))
            if args.get("manager"):
                sim.manager(**args["manager"])
            if args.get("clear_log"):
                sim.clear_log()
            result["faults"] = [sim.fault(**spec) for spec in args.get("faults") or []]
        except Exception as exc:  # noqa: BLE001 - a broken stage is a test error, say which
            raise AnsibleActionFail("rel_sim failed: %s" % exc)
        result["changed"] = False
        return result
