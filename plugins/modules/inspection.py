#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: inspection
short_description: Run or stop a cluster's one-click inspection
version_added: 0.1.0
description:
  - Starts the one-click inspection of a cluster (C(/v1/cluster/inspection)) and, by default, waits for
    it to finish (C(/v1/cluster/inspection/progress)) and returns its result, or stops a running one
    (C(/v1/cluster/inspection/stop)).
  - Never runs two inspections at once. When one is already running, the module attaches to it
    (O(checks) are then those of the running inspection) and reports RV(attached=true),
    RV(started_by=another_run) and RV(ignore:changed=false).
  - To wait for an inspection started earlier (by an earlier task with O(wait=false), for example) without
    ever starting another one once it has ended, use O(state=joined).
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
attributes:
  check_mode:
    support: full
    details:
      - Reports whether an inspection would be started or stopped, and returns the last result.
  diff_mode:
    support: full
    details:
      - The inspection's state before and after.
options:
  state:
    description:
      - V(started) starts an inspection unless one is running (then attaches to it).
      - V(stopped) stops the running inspection; nothing happens when none runs.
      - V(joined) never starts one; it attaches to the running inspection (waiting for it with O(wait)), or returns
        the last inspection's result when none runs. Never a change.
    type: str
    choices: [started, stopped, joined]
    default: started
  checks:
    description:
      - What to inspect when starting one.
      - An empty list sends every C(check_*) flag false, the API's documented defaults; what the platform then
        inspects is its own decision.
    type: list
    elements: str
    choices: [system, network, hardware]
    default: [system, network, hardware]
  wait:
    description:
      - With O(state=started), wait for the inspection to finish and return the full result.
      - With V(false), return at once with the progress so far.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the inspection to finish; the module fails after that (the inspection goes on).
    type: int
    default: 600
seealso:
  - module: tos.cloud.cluster_info
"""

EXAMPLES = r"""
- name: Inspect a cluster and wait for the result
  tos.cloud.inspection:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
  register: inspection

- name: Show the score and the items that are not normal
  ansible.builtin.debug:
    msg:
      - "score {{ inspection.inspection.score }}"
      - "{{ (inspection.inspection.system + inspection.inspection.network + inspection.inspection.hardware)
           | rejectattr('status', 'equalto', 'normal') | map(attribute='message') | list }}"

- name: Start a network-only inspection without waiting
  tos.cloud.inspection:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    checks: [network]
    wait: false

- name: Stop it
  tos.cloud.inspection:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    state: stopped
"""

RETURN = r"""
started_by:
  description:
    - Which run started the inspection returned, V(this_run) or V(another_run) (a running one attached to);
      null when none ran (O(state=joined) or O(state=stopped) with none running, check mode).
  returned: always
  type: str
  sample: this_run
attached:
  description: Whether an inspection was already running and the module attached to it instead of starting one.
  returned: always
  type: bool
  sample: false
cluster:
  description: The cluster.
  returned: always
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
    uuid:
      description: Cluster UUID.
      type: str
inspection:
  description:
    - The inspection's result or progress (the last result in check mode, or when none ran).
  returned: always
  type: dict
  contains:
    normal:
      description: Number of items found normal so far.
      type: int
      sample: 18
    alarm:
      description: Number of items in alarm so far.
      type: int
      sample: 2
    fault:
      description: Number of items in fault so far.
      type: int
      sample: 0
    score:
      description: Health score (0-100).
      type: int
      sample: 90
    system:
      description: System items (manager, cloud-management service, etcd, metadata backup, license, allocation), null when not checked.
      type: list
      elements: dict
    network:
      description: Network items (management and storage network per host), null when not checked.
      type: list
      elements: dict
    hardware:
      description: Hardware items (host status, CPU, memory and disk usage per host), null when not checked.
      type: list
      elements: dict
    state:
      description: The state as the manager returns it (0 idle, 1 running, 2 finished, 3 stopped).
      type: raw
      sample: 2
    state_name:
      description: The state as a word, V(idle), V(running), V(finished) or V(stopped).
      type: str
      sample: finished
    running:
      description: Whether the inspection is still running.
      type: bool
      sample: false
    finishedPercent:
      description: Progress in percent.
      type: raw
      sample: 100
    checking:
      description: The item being checked now (empty when none).
      type: str
      sample: "hardware: CPU usage @ tos-b3 (198.51.100.13)"
    id:
      description: An identity of this inspection run (its UUID or start time) when the manager gives one.
      type: raw
    start_time:
      description: Start time (Unix time) when the manager gives it.
      type: int
      returned: when the manager returns it
    end_time:
      description: End time (Unix time, 0 while running) when the manager gives it.
      type: int
      returned: when the manager returns it
wait_progress:
  description:
    - The progress of each wait of this run (per host task, or the inspection), as read while waiting.
    - While the module waits, the same progress is printed as it happens, at least every 10 seconds
      (E(TOS_PROGRESS_INTERVAL)), when the module runs in the task's worker (a local connection, the default); not for
      a task with C(no_log).
  returned: when the module waited
  type: list
  elements: dict
  contains:
    key:
      description: What was waited for (the host, or V(inspection:<cluster>)).
      type: str
    what:
      description: The same, as a phrase.
      type: str
    status:
      description: V(running), V(finished), V(failed), V(timed out) or V(stalled) at the last reading.
      type: str
    progress:
      description: Progress at the last reading, 0 to 1.
      type: float
    started:
      description: When the wait started (UTC, ISO 8601).
      type: str
    elapsed:
      description: Seconds from the first to the last reading.
      type: float
    eta:
      description: Estimated seconds left at the last reading (running only), or null.
      type: float
    readings:
      description: How many times the progress was read.
      type: int
    lines:
      description: How many progress lines were printed (or would have been, in a module process).
      type: int
    batch:
      description: The batch of the upgrade this host was in (O(tos.cloud.upgrade#module:batch_size)).
      type: int
      returned: upgrade with several batches
    batches:
      description: How many batches the upgrade had.
      type: int
      returned: upgrade with several batches
"""

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._checks import check_range, first_error
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import ANOTHER_RUN, THIS_RUN
from ansible_collections.tos.cloud.plugins.module_utils._inspection import (
    CHECKS,
    INSPECTION,
    PROGRESS,
    STOP,
    inspection_id,
    is_running,
    just_started,
    shape_result,
    start_body,
    state_name,
    stop_body,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import WAIT_ARGSPEC, TosModule, capture, wait_for
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC, require_cluster

POLL_INTERVAL = 3.0


class Inspection:
    """The one-click inspection of one cluster: read, stop, start (or join), wait."""

    def __init__(self, tm, cluster):
        self.tm = tm
        self.uuid, self.name = cluster["uuid"], cluster["name"]
        self.out = dict(cluster={"name": self.name, "uuid": self.uuid}, attached=False, started_by=None)

    def progress(self):
        return self.tm.client.get(PROGRESS, {"cluster_uuid": self.uuid}) or {}

    def stopped(self):
        data = self.progress()
        return data if not is_running(data) else None

    def stop(self, before):
        """state=stopped: stop a running inspection; exits."""
        tm = self.tm
        if not before["running"]:
            tm.track({"state": before["state_name"]}, {"state": before["state_name"]})
            tm.exit(inspection=before, **self.out)
        tm.track({"state": "running"}, {"state": "stopped"})
        if tm.check_mode:
            tm.exit(inspection=before, **self.out)
        with tm.scope("stop the inspection of cluster '%s'" % self.name):
            tm.client.post_verified(STOP, stop_body(self.uuid, self.name), self.stopped)
        with tm.scope("read the inspection progress of cluster '%s'" % self.name):
            progress = self.progress()
        tm.exit(inspection=shape_result(progress), **self.out)

    def converge(self, current, before):
        """state=started/joined: join a running inspection (never start a second), else start one; returns
        the progress read last."""
        tm = self.tm
        if before["running"]:
            # a running inspection is joined, never started again (module_utils/_host_tasks.py)
            self.out.update(attached=True, started_by=ANOTHER_RUN)
            tm.track({"state": "running"}, {"state": "running"})
            return current
        if tm.params["state"] == "joined":
            tm.track({"state": before["state_name"]}, {"state": before["state_name"]})
            return current
        tm.track({"state": before["state_name"]}, {"state": "running", "checks": list(tm.params["checks"])})
        self.out["started_by"] = THIS_RUN
        if tm.check_mode:
            tm.exit(inspection=before, **self.out)
        return self.start(current)

    def start(self, current):
        with self.tm.scope("start the inspection of cluster '%s'" % self.name):
            return self._start(current)

    def _start(self, current):
        tm = self.tm
        previous_id = inspection_id(current)

        def started():
            data = self.progress()
            if is_running(data) or (inspection_id(data) and inspection_id(data) != previous_id):
                return data
            return None

        answer, refused = capture(tm.client.post_verified, TosApiError, INSPECTION,
                                  start_body(self.uuid, self.name, tm.params["checks"]), started)
        if refused is None:
            return answer or {}
        if refused.kind != "api":
            raise refused
        # Someone started one between our read and our start ("already running"): attach to it.
        current = self.progress()
        if not is_running(current):
            raise refused
        self.out.update(attached=True, started_by=ANOTHER_RUN)
        tm.changed = False
        return current

    def wait(self, current):
        with self.tm.scope("wait for the inspection of cluster '%s'" % self.name):
            return self._wait(current)

    def _wait(self, current):
        tm = self.tm
        last = {"data": current}

        def finished():
            last["data"] = self.progress()
            report_progress(self.name, last["data"])
            if is_running(last["data"]) or (self.out["started_by"] == THIS_RUN and just_started(last["data"])):
                return None
            return last["data"] or {"state": 0}

        def timed_out(msg):
            # the inspection goes on: say how far it got, and that this run started it (changed)
            tm.fail(msg + " The inspection goes on; run the module again to attach to it.",
                    changed=tm.changed, attached=self.out["attached"], inspection=shape_result(last["data"]))

        return wait_for(finished, tm.params["wait_timeout"], interval=POLL_INTERVAL, on_timeout=timed_out,
                        what="the inspection of cluster '%s' to finish" % self.name)


def run(tm):
    params = tm.params
    error = first_error(check_range("wait_timeout", params["wait_timeout"], 0, 10 ** 7, low_open=True))
    if error:
        tm.fail(error)
    inspection = Inspection(tm, require_cluster(tm, params["cluster"]))
    reading = "read the inspection progress of cluster '%s'" % inspection.name
    with tm.scope(reading):
        current = inspection.progress()
    before = shape_result(current)
    if params["state"] == "stopped":
        inspection.stop(before)
    current = inspection.converge(current, before)
    if params["wait"] and not tm.check_mode and (inspection.out["started_by"] or params["state"] != "joined"):
        current = inspection.wait(current)
    elif not current:
        with tm.scope(reading):
            current = inspection.progress()
    result = shape_result(current)
    if inspection.out["started_by"] == THIS_RUN and not tm.check_mode and just_started(current):
        # the documents' answer to a start (state 0, nothing checked yet): the inspection this run started
        result.update(state_name="running", running=True)
    if params["wait"] and not tm.check_mode and result["state_name"] == "stopped":
        tm.warn("The inspection of cluster '%s' was stopped before it finished (%s%%)." % (
            inspection.name, result["finishedPercent"]))
    tm.exit(inspection=result, **inspection.out)


def report_progress(name, data):
    """The inspection's progress for the live progress lines and ``wait_progress``."""
    data = data or {}
    try:
        percent = float(data.get("finishedPercent") or 0)
    except (TypeError, ValueError):
        percent = 0.0
    state = state_name(data)
    what = "the inspection of cluster '%s'" % name
    if data.get("checking"):
        what += " (checking %s)" % data["checking"]
    _progress.report("inspection:%s" % name, what, percent / 100.0, "running" if state == "running" else state)


def main():
    TosModule(
        argument_spec=dict(
            CLUSTER_ARGSPEC,
            state=dict(type="str", default="started", choices=["started", "stopped", "joined"]),
            checks=dict(type="list", elements="str", choices=list(CHECKS), default=list(CHECKS)),
            **WAIT_ARGSPEC
        ),
    ).execute(run)


if __name__ == "__main__":
    main()
