"""How the simulator answers: documented-only (the default) or with its own additions, and which
reading of the points the vendor's documents leave open it plays.

One simulator runs per process, so the readings are a module-level object that ``Simulator`` sets
at start-up (``configure``) and that the parameter parser, the pagination and the handlers read.

Extensions (``--extensions``), each "not in the documents" (simulator/README.md lists them):

- ``fields``: answer fields the documents do not show (host task ``status``/``task_type``/``message``...,
  ``TopoHostNode[].MachineUUID``, ``cloud/manage`` ``name``, ``snapshot/save`` ``file_name``...)
- ``codes``: refusals the documents do not describe (2005 cluster not empty, 3001 CVM exists on a
  deploying host, snapshot durations in whole hours, DPM thresholds as fractions, an inspection
  with no check)
- ``loose``: lenient parameter parsing (``yes``/``no``/``on``/``off`` booleans, ``4.0`` as an int)
- ``messagecn``: ``messageCn`` repeats ``message_cn`` on success (the examples send ``""``)

``all`` turns every extension on (the simulator's behaviour before the documented-only mode).

Readings of open points (each a plausible server; the suites run the collection under each):

- ``page_base`` 0 or 1: the number of the first page (the tables' default ``page_num`` is 0)
- ``page_size_zero`` ``all`` or ``default``: what ``page_size=0`` (the tables' default) means;
  ``default`` answers a page of ``DEFAULT_PAGE_SIZE`` items
- ``task_failure`` ``stop``, ``reset`` or ``error``: how ``host/task/progress`` shows a failed task
  when ``fields`` is off: progress stays where it stopped, drops back to 0, or the query answers an
  error envelope (code 3010)
- ``cvm_host`` ``machine_uuid`` or ``topology``: where a cloud-management VM's host is named. ``machine_uuid``:
  ``cloud/manage`` ``machine_uuid`` names it (and, with ``fields``, the CVM's topology node's ``MachineUUID``);
  ``topology``: ``machine_uuid`` is ``""`` as in the documents' example and the CVM's node has no
  ``MachineUUID``, so only ``all_cluster/topology`` (the CVM among the ``Hosts`` of its host's address) places it
- ``progress_lag`` seconds (at speed 1, as the operations' durations; 0: none): for that long after a host task
  starts, ``host/task/progress`` still answers what it answered before (the previous task's final progress, 1.0
  for a finished one; 0 when the host had none). The documents' progress answer carries only ``progress``, so
  nothing tells the two tasks apart; applies when ``fields`` is off
"""
from __future__ import annotations

from dataclasses import dataclass, field

EXTENSIONS = ("fields", "codes", "loose", "messagecn")
PAGE_BASES = (0, 1)
PAGE_SIZE_ZERO = ("all", "default")
TASK_FAILURES = ("stop", "reset", "error")
CVM_HOSTS = ("machine_uuid", "topology")
DEFAULT_PAGE_SIZE = 10


@dataclass
class Readings:
    extensions: frozenset[str] = field(default_factory=frozenset)
    page_base: int = 1
    page_size_zero: str = "all"
    task_failure: str = "stop"
    cvm_host: str = "machine_uuid"
    progress_lag: float = 0.0

    def has(self, extension: str) -> bool:
        return extension in self.extensions


CURRENT = Readings()


def parse_extensions(text: str | None) -> frozenset[str]:
    """``--extensions`` value: comma-separated names, ``all`` or ``none``/empty."""
    names = {part.strip() for part in (text or "").split(",") if part.strip()}
    if "all" in names:
        return frozenset(EXTENSIONS)
    names.discard("none")
    unknown = names - set(EXTENSIONS)
    if unknown:
        raise ValueError(f"unknown extension(s): {', '.join(sorted(unknown))} (known: {', '.join(EXTENSIONS)}, all)")
    return frozenset(names)


def configure(readings: Readings) -> None:
    global CURRENT
    CURRENT = readings


def current() -> Readings:
    return CURRENT
