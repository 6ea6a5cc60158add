# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host tasks (CVM and storage-VM deploys, upgrades): ``/v1/cluster/host/task/progress``.

The documents give only ``{"progress": 0.7}`` (0..1, cluster-api.md line 2139).  ``host_task_state``
reads an answer from ``progress`` alone, and from ``status``/``state``/``message`` only when a server
sends them (a bonus, not relied on).  A failed task shows as an error envelope (the query refused), as
a progress that falls back (``previous``), as ``status: failed`` where a server says so, or not at all
(the progress stops: only the stall timeout of a wait notices it).

The rule for every long-running operation (CVM and storage-VM deploys, upgrades, inspections),
used by every module and role that starts one:

- an operation found running is JOINED (waited for, read-only), never started again;
- an operation this run did not start is recognised as such: the result says ``started_by:
  another_run`` (``this_run`` for one this run sent, null when nothing ran);
- a wait that ends without the operation finishing (timeout, stall, failure) fails the module and
  sends nothing more: no retry, no second start;
- check mode reads the same state and predicts the same: a running operation is reported as
  running/joined, not as one to start.

Whether a host task runs is read by ``read_host_task`` from ``progress`` alone; ``task_type``, when
a server sends it, only narrows which operation it is (``task_is``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._topology import physical_nodes

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.tos.cloud.plugins.module_utils._api import TosClient

TASK_PROGRESS = "/v1/cluster/host/task/progress"
FAILED_STATES = ("failed", "error", "fail")
# Who started the operation a result reports (its ``started_by``).
THIS_RUN = "this_run"
ANOTHER_RUN = "another_run"
# How many times one wait may poll early, at the end the progress rate predicts (see wait_host_task): the
# first lands just after that end; when the task is not done yet, the next ones follow every FAST_POLL s at
# least (each a request of about a millisecond), so the end is seen within about FAST_POLL of when it happens.
MAX_PREDICTIONS = 8
FAST_POLL = 0.02
# the share of the predicted time left that a predicted poll waits beyond it (predicted_end)
PREDICTION_MARGIN = 0.002


class HostTaskFailed(Exception):
    """A host task ended in failure, or stopped progressing until the timeout."""

    def __init__(self, host: str, reason: str, progress: float | None = None, timed_out: bool = False) -> None:
        super().__init__("%s: %s" % (host, reason))
        self.host = host
        self.reason = reason
        self.progress = progress
        self.timed_out = timed_out


RUNNING_STATES = ("running", "upgrading", "in_progress", "deploying")


def host_task_state(data: Any, previous: float | None = None) -> dict[str, Any]:
    """What a ``host/task/progress`` answer says, as ``{progress, status, running, finished, failed,
    reason, kind}``; the one reading of host task state for every module.

    Documented field first: ``progress`` (0..1; a value above 1 is taken as a percentage).  Without a
    ``status`` (the documents have none) a task is running while 0 < progress < 1, finished at 1,
    and an idle host and a task that has just started both read 0 (not running: callers that started
    a task wait for it anyway).  ``previous`` is the progress read before from the same task: a
    progress that falls back below it is a failure (a server that resets a failed task).  ``status``
    (or ``state``), ``message`` and ``task_type`` count only when a server sends them.
    ``kind`` is ``task_type`` when given, else None.
    """
    data = data if isinstance(data, dict) else {}
    try:
        progress = float(data.get("progress") or 0.0)
    except (TypeError, ValueError):
        progress = 0.0
    if progress > 1.0:  # tolerate a percentage
        progress = progress / 100.0
    status = str(data.get("status") or data.get("state") or "").lower() or None
    reason = None
    if status:
        failed = status in FAILED_STATES
        running = status in RUNNING_STATES
        finished = status in ("finished", "success", "succeeded", "done") or (
            not running and not failed and progress >= 1.0)
        if failed:
            reason = " / ".join(str(p) for p in (data.get("message") or data.get("message_en") or "task failed",
                                                 data.get("message_cn") or data.get("messageCn")) if p)
    else:
        failed = previous is not None and progress < previous
        running = not failed and 0.0 < progress < 1.0
        finished = not failed and progress >= 1.0
        if failed:
            reason = ("the task's progress fell back from %.0f%% to %.0f%% (the platform reports no failure "
                      "field; a progress that falls back is taken as a failed task)" % (previous * 100, progress * 100))
    return {"progress": progress, "status": status, "running": running, "finished": finished, "failed": failed,
            "reason": reason, "kind": data.get("task_type") or None}


def read_host_task(
        client: TosClient,
        cluster_uuid: str,
        host_uuid: str,
        previous: float | None = None,
) -> dict[str, Any]:
    """``host_task_state`` of the host's (or system VM's) current task, read from the manager.

    An error envelope (``TosApiError`` of kind ``api``) is read as the host's last task having failed,
    with the server's message as the reason, since a server may answer that way for a failed task
    (docs/api-notes.md); transport errors are raised."""
    try:
        data = client.get(TASK_PROGRESS, {"cluster_uuid": cluster_uuid, "host_uuid": host_uuid}) or {}
    except TosApiError as exc:
        if exc.kind != "api":
            raise
        state = host_task_state({"progress": previous or 0.0})
        state.update(failed=True, running=False, finished=False, reason=exc.message)
        return state
    return host_task_state(data, previous)


def task_is(task: dict[str, Any], *kinds: Any) -> bool:
    """Whether a running task (``host_task_state``) may be one of ``kinds``: its ``kind`` is one of them, or
    unknown (the documents do not say which operation a host task is)."""
    return task["running"] and (task["kind"] is None or task["kind"] in kinds)


def join_host_task(
        client: TosClient,
        cluster_uuid: str,
        host_uuid: str,
        host_label: str,
        timeout: float,
        **kwargs: Any,
) -> float:
    """Join a task found running on a host (see the rule above): wait for it to end, sending nothing.

    Returns the final progress; raises ``HostTaskFailed`` (``timed_out`` when the wait ran out) when it
    does not finish: the caller must then fail without sending the operation again.
    """
    return wait_host_task(client, cluster_uuid, host_uuid, host_label, timeout, **kwargs)


def wait_host_task(client: TosClient, cluster_uuid: str, host_uuid: str, host_label: str, timeout: float,
                   interval: float = 2.0, stall_timeout: float | None = None,
                   clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep,
                   on_progress: Callable[[float], Any] | None = None, started: float | None = None,
                   confirm: Callable[[], Any] | None = None) -> float:
    """Poll the host's task until progress reaches 1.

    Raises ``HostTaskFailed`` when the task reports a failure, when the server refuses the progress
    query with an error envelope, or when ``timeout`` passes (or progress stays unchanged for
    ``stall_timeout`` seconds).  Transient transport errors are retried by the client.
    ``started`` (a ``clock()`` reading) is when the task was started, if earlier than this call: the
    timeouts count from there (several hosts' tasks started together are waited for one after the other).

    Polls 0.5 s after the first reading, then backs off to ``interval``; when the progress moves, the
    next poll comes early if the rate seen since the first reading predicts the end sooner than that
    (at most ``MAX_PREDICTIONS`` times per wait, so a progress that slows down near the end costs a few
    requests, not a fast poll): a predicted poll that finds the task not finished is followed by another at
    the end the rate now predicts, at least ``FAST_POLL`` s later.

    ``confirm``, for a task this run has just started: the documents' progress answer carries nothing but
    ``progress`` (no task id, kind or start), so a 1.0 read before any lower reading may be the host's previous
    task's, read before the platform registered the new one. Such a reading counts as the end only once
    ``confirm()`` finds the operation's effect (the VM deployed, the host at its version); until then the polls go
    on, within ``timeout``. A 1.0 that follows a lower reading is this task's end, taken at once.
    """
    start = clock() if started is None else started
    seen_below = False  # a reading under 1.0: the progress is this task's
    last_progress, last_change = -1.0, start
    delay = min(0.5, interval)
    first = None  # (clock, progress) of the first reading
    predictions = 0
    while True:
        try:
            state = read_host_task(client, cluster_uuid, host_uuid,
                                   previous=last_progress if last_progress >= 0 else None)
        except TosApiError as exc:
            if exc.kind != "api":
                raise
            raise HostTaskFailed(host_label, exc.message, progress=max(last_progress, 0.0))
        progress, failure = state["progress"], state["reason"] if state["failed"] else None
        if progress < 1.0:
            seen_below = True
        elif not failure and confirm is not None and not seen_below and not confirm():
            progress = 0.0  # a 1.0 before any lower reading, whose effect is not there: the previous task's
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
            raise HostTaskFailed(host_label, "task made no progress for %ss (stuck at %.0f%%; the platform "
                                 "reports no failure field, so a task that stopped may have failed)" % (
                                     stall_timeout, progress * 100), progress=progress, timed_out=True)
        pause = delay
        if first is None:
            first = (now, progress)
        elif predictions < MAX_PREDICTIONS:
            eta = predicted_end(first, (now, progress))
            if eta is not None and eta < delay:
                pause, predictions = max(eta, FAST_POLL), predictions + 1
        sleep(pause)
        delay = min(interval, delay * 2)


def predicted_end(first: Any, last: Any) -> float | None:
    """Seconds from ``last`` until the task should reach progress 1 at the rate seen between two readings
    ``(clock, progress)``, with a small margin (PREDICTION_MARGIN of the time left, and 5 ms); None when the
    progress did not move.

    The margin is kept small because the two ways of missing cost very differently: a poll that comes too
    early costs one request (about a millisecond on a LAN), and the next comes at most FAST_POLL later; a poll
    that comes late costs the whole margin in waiting, on every host, and a host upgrade takes minutes (1 %
    of a 10-minute upgrade is 6 s a host)."""
    (t0, p0), (t1, p1) = first, last
    if p1 <= p0 or t1 <= t0:
        return None
    return (1.0 - p1) * (t1 - t0) / (p1 - p0) * (1.0 + PREDICTION_MARGIN) + 0.005


def busy_hosts(client: TosClient, cluster_uuid: str, detail: dict[str, Any]) -> list[str]:
    """Labels of the physical hosts whose latest task is still running (a deploy or an upgrade)."""
    busy = []
    for node in physical_nodes(detail):
        state = read_host_task(client, cluster_uuid, node.get("UUID"))
        if state["running"]:
            busy.append("%s (%s at %.0f%%)" % (node.get("name"), state["kind"] or "task", state["progress"] * 100))
    return busy
