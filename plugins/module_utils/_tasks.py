# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host tasks (CVM and storage-VM deploys, upgrades): ``/v1/cluster/host/task/progress``.

The documents give only ``{"progress": 0.7}`` (0..1).  A failed task is reported either as an
error envelope or as ``status``/``state`` ``failed`` with a message in ``data``: both are read.

The rule for every long-running operation (CVM and storage-VM deploys, upgrades, inspections),
used by every module and role that starts one:

- an operation found running is JOINED (waited for, read-only), never started again;
- an operation this run did not start is recognised as such: the result says ``started_by:
  another_run`` (``this_run`` for one this run sent, null when nothing ran);
- a wait that ends without the operation finishing (timeout, stall, failure) fails the module and
  sends nothing more: no retry, no second start;
- check mode reads the same state and predicts the same: a running operation is reported as
  running/joined, not as one to start.

``read_host_task`` decides "running" from ``progress`` alone (0 < progress < 1); a ``status`` and
a ``task_type``, when the platform sends them, refine that and are never required.
"""

from __future__ import annotations

import time

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError

TASK_PROGRESS = "/v1/cluster/host/task/progress"
FAILED_STATES = ("failed", "error", "fail")
# Who started the operation a result reports (its ``started_by``).
THIS_RUN = "this_run"
ANOTHER_RUN = "another_run"
RUNNING_STATES = ("running", "upgrading", "in_progress", "deploying")
# How many times one wait may poll early, at the end the progress rate predicts (see wait_host_task).
MAX_PREDICTIONS = 3


class HostTaskFailed(Exception):
    """A host task ended in failure, or stopped progressing until the timeout."""

    def __init__(self, host, reason, progress=None, timed_out=False):
        super().__init__("%s: %s" % (host, reason))
        self.host = host
        self.reason = reason
        self.progress = progress
        self.timed_out = timed_out


def task_progress(client, cluster_uuid, host_uuid):
    """``(progress, failed_reason)`` of the host's current task; progress in 0..1."""
    data = client.get(TASK_PROGRESS, {"cluster_uuid": cluster_uuid, "host_uuid": host_uuid}) or {}
    try:
        progress = float(data.get("progress") or 0.0)
    except (TypeError, ValueError):
        progress = 0.0
    if progress > 1.0:  # tolerate a percentage
        progress = progress / 100.0
    state = str(data.get("status") or data.get("state") or "").lower()
    if state in FAILED_STATES:
        reason = " / ".join(str(p) for p in (data.get("message") or data.get("message_en") or "task failed",
                                             data.get("message_cn") or data.get("messageCn")) if p)
        return progress, reason
    return progress, None


def read_host_task(client, cluster_uuid, host_uuid):
    """The host's current task as ``{progress, status, kind, running, failed, reason}``.

    From ``progress`` alone a task is running while 0 < progress < 1.  When the answer has a
    ``status``, it decides (``running`` counts, ``idle``/``finished``/``failed``/``cancelled`` do
    not); ``kind`` is the ``task_type`` when sent (``deploy_cvm``, ``deploy_storage_vm``,
    ``upgrade``), else None: callers treat an unknown kind as possibly theirs.
    """
    data = client.get(TASK_PROGRESS, {"cluster_uuid": cluster_uuid, "host_uuid": host_uuid}) or {}
    try:
        progress = float(data.get("progress") or 0.0)
    except (TypeError, ValueError):
        progress = 0.0
    if progress > 1.0:
        progress = progress / 100.0
    status = str(data.get("status") or data.get("state") or "").lower()
    failed = status in FAILED_STATES
    running = status in RUNNING_STATES if status else 0.0 < progress < 1.0
    reason = None
    if failed:
        reason = " / ".join(str(p) for p in (data.get("message") or data.get("message_en") or "task failed",
                                             data.get("message_cn") or data.get("messageCn")) if p)
    return {"progress": progress, "status": status or None, "kind": data.get("task_type") or None,
            "running": running, "failed": failed, "reason": reason}


def task_is(task, *kinds):
    """Whether a running task may be one of ``kinds``: its ``kind`` is one of them, or unknown."""
    return task["running"] and (task["kind"] is None or task["kind"] in kinds)


def join_host_task(client, cluster_uuid, host_uuid, host_label, timeout, **kwargs):
    """Join a task found running on a host (see the rule above): wait for it to end, sending nothing.

    Returns the final progress; raises ``HostTaskFailed`` (``timed_out`` when the wait ran out)
    when it does not finish: the caller must then fail without sending the operation again.
    """
    return wait_host_task(client, cluster_uuid, host_uuid, host_label, timeout, **kwargs)


def wait_host_task(client, cluster_uuid, host_uuid, host_label, timeout, interval=2.0, stall_timeout=None,
                   clock=time.monotonic, sleep=time.sleep, on_progress=None, started=None):
    """Poll the host's task until progress reaches 1.

    Raises ``HostTaskFailed`` when the task reports a failure, when the server refuses the progress
    query with an error envelope, or when ``timeout`` passes (or progress stays unchanged for
    ``stall_timeout`` seconds).  Transient transport errors are retried by the client.
    ``started`` (a ``clock()`` reading) is when the task was started, if earlier than this call: the
    timeouts count from there (several hosts' tasks started together are waited for one after the other).

    Polls 0.5 s after the first reading, then backs off to ``interval``; when the progress moves, the
    next poll comes early if the rate seen since the first reading predicts the end sooner than that
    (at most ``MAX_PREDICTIONS`` times per wait, so a progress that slows down near the end costs a few
    requests, not a fast poll).
    """
    start = clock() if started is None else started
    last_progress, last_change = -1.0, start
    delay = min(0.5, interval)
    first = None  # (clock, progress) of the first reading
    predictions = 0
    while True:
        try:
            progress, failure = task_progress(client, cluster_uuid, host_uuid)
        except TosApiError as exc:
            if exc.kind != "api":
                raise
            raise HostTaskFailed(host_label, exc.message, progress=max(last_progress, 0.0))
        if on_progress is not None:
            on_progress(progress)
        if failure:
            raise HostTaskFailed(host_label, failure, progress=progress)
        if progress >= 1.0:
            return progress
        now = clock()
        if progress != last_progress:
            last_progress, last_change = progress, now
        if now - start >= timeout:
            raise HostTaskFailed(host_label, "task not finished after %ss (progress %.0f%%)" % (
                timeout, progress * 100), progress=progress, timed_out=True)
        if stall_timeout and now - last_change >= stall_timeout:
            raise HostTaskFailed(host_label, "task made no progress for %ss (stuck at %.0f%%)" % (
                stall_timeout, progress * 100), progress=progress, timed_out=True)
        pause = delay
        if first is None:
            first = (now, progress)
        elif predictions < MAX_PREDICTIONS:
            eta = predicted_end(first, (now, progress))
            if eta is not None and eta < delay:
                pause, predictions = eta, predictions + 1
        sleep(pause)
        delay = min(interval, delay * 2)


def predicted_end(first, last):
    """Seconds from ``last`` until the task should reach progress 1 at the rate seen between two readings
    ``(clock, progress)``, with a margin (5 % and 50 ms); None when the progress did not move."""
    (t0, p0), (t1, p1) = first, last
    if p1 <= p0 or t1 <= t0:
        return None
    return (1.0 - p1) * (t1 - t0) / (p1 - p0) * 1.05 + 0.05
