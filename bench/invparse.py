"""Time the inventory plugin alone, in a fresh process: python bench/invparse.py SOURCE [cProfile-output].

Prints one JSON line: {"parse": seconds to build the inventory from SOURCE (the plugin's work: requests or
cache, parsing, host variables, groups), "cpu": CPU seconds of this process (every thread) in that time, "hosts": N,
"groups": N, "startup": seconds from interpreter start to the moment parsing begins (imports of ansible and the
plugin loader)}. SOURCE may be any inventory source (a static file gives the floor: ansible-core alone).
"""
from __future__ import annotations

import json
import sys
import time

START = time.perf_counter()

from ansible import context  # noqa: E402
from ansible.module_utils.common.collections import ImmutableDict  # noqa: E402
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.plugins.loader import init_plugin_loader  # noqa: E402


def main() -> int:
    source = sys.argv[1]
    profile_out = sys.argv[2] if len(sys.argv) > 2 else None
    context.CLIARGS = ImmutableDict(verbosity=0)
    init_plugin_loader()
    from ansible.inventory.manager import InventoryManager

    loader = DataLoader()
    ready = time.perf_counter()
    cpu = time.process_time()
    if profile_out:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    inventory = InventoryManager(loader=loader, sources=[source])
    hosts = inventory.get_hosts()
    parse = time.perf_counter() - ready
    cpu = time.process_time() - cpu
    if profile_out:
        prof.disable()
        prof.dump_stats(profile_out)
    print(json.dumps({"parse": parse, "cpu": cpu, "hosts": len(hosts), "groups": len(inventory.groups), "startup": ready - START}))
    return 0 if hosts else 1


if __name__ == "__main__":
    sys.exit(main())
