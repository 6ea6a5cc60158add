# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host tasks (CVM and storage-VM deploys, upgrades): ``/v1/cluster/host/task/progress``.

The documents give only ``{"progress": 0.7}`` (0..1).  A failed task is reported either as an
error envelope or as ``status``/``state`` ``failed`` with a message in ``data``: both are read.
"""

from __future__ import annotations

import time

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError

TASK_PROGRESS = "/v1/cluster/host/task/progress"
FAILED_STATES = ("failed", "error", "fail")
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
        what = "the task on host %s" % host_label
        _progress.report(host_label, what, progress, "failed" if failure else "finished" if progress >= 1.0 else "running")
        if failure:
            raise HostTaskFailed(host_label, failure, progress=progress)
        if progress >= 1.0:
            return progress
        now = clock()
        if progress != last_progress:
            last_progress, last_change = progress, now
        if now - start >= timeout:
            _progress.report(host_label, what, progress, "timed out")
            raise HostTaskFailed(host_label, "task not finished after %ss (progress %.0f%%)" % (
                timeout, progress * 100), progress=progress, timed_out=True)
        if stall_timeout and now - last_change >= stall_timeout:
            _progress.report(host_label, what, progress, "stalled")
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
