#!/usr/bin/env python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare two host_facts results (JSON files: the action's, then the module's): the same keys at every level,
the same types, the same values except those that move between two readings (usage, load, free space,
rates)."""

from __future__ import annotations

import json
import sys

# paths (dotted; [] for every list item) whose values may differ between two readings a moment apart, and every
# value under rates (measured over two different windows)
MOVING = {"uptime", "procs", "cpu.usage", "load.avg1", "load.avg5", "load.avg15", "memory.available", "memory.used",
          "memory.free", "memory.usage", "memory.swap_used", "memory.swap_usage", "disks[].used", "disks[].free",
          "disks[].usage"}


def compare(a, b, path, problems):
    if type(a) is not type(b):
        problems.append("%s: %s in the action's facts, %s in the module's" % (path, type(a).__name__, type(b).__name__))
    elif isinstance(a, dict):
        if set(a) != set(b):
            problems.append("%s: keys %s vs %s" % (path, sorted(a), sorted(b)))
        for key in sorted(set(a) & set(b)):
            compare(a[key], b[key], "%s.%s" % (path, key) if path else key, problems)
    elif isinstance(a, list):
        if len(a) != len(b):
            problems.append("%s: %d items vs %d" % (path, len(a), len(b)))
        for x, y in zip(a, b, strict=False):  # a length difference is reported above
            compare(x, y, path + "[]", problems)
    elif path == "uptime":
        if abs(a - b) > 5:
            problems.append("uptime: %s vs %s" % (a, b))
    elif path not in MOVING and not path.startswith("rates.") and a != b:
        problems.append("%s: %r vs %r" % (path, a, b))


def main():
    action, module = (json.load(open(p)) for p in sys.argv[1:3])
    problems = []
    compare(action, module, "", problems)
    if problems:
        print("the action's facts differ from the module's:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("same facts: %d top-level keys" % len(action))


if __name__ == "__main__":
    main()
