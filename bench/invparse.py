"""Time the inventory plugin alone, in a fresh process: python bench/invparse.py SOURCE [--phases].

Prints one JSON line: {"parse": seconds to build the inventory from SOURCE (the plugin's work: requests or
cache, parsing, host variables, groups), "cpu": CPU seconds of this process (every thread) in that time, "hosts": N,
"groups": N, "startup": seconds from interpreter start to the moment parsing begins (imports of ansible and the
plugin loader)}. SOURCE may be any inventory source (a static file gives the floor: ansible-core alone).

With ``--phases`` (a tos.cloud.hosts source) it adds "phases": CPU seconds of each part of the parse, from plain
``time.process_time`` deltas, never a profiler (cProfile charges each of the 200,000 small calls of a 10,000-host
inventory its own overhead, and so made ansible-core's ``set_variable`` and ``add_host`` look like 85 % of the time):

- ``cache read`` (``_cached``: the cache plugin's file and ``json.loads``), ``fetch`` (the requests, cold only),
  ``populate`` (building the inventory), within it ``cluster_hosts`` (host variables from the API data);
- ``core add_host`` and ``core set_variable``: the same calls populate made (every host into every group it is in,
  every variable it set), replayed in a plain loop on a new ``InventoryData`` after the parse, so the timer brackets
  the loop and not each call: what the public API would cost; ``core work in HostAdder``: what the plugin's one-pass
  equivalent (plugin_utils/inventory_bulk.py) cost; ``ours in populate`` is populate minus that (or, when the
  public API was used, minus the two replays);
- ``outside the plugin``: the parse minus the plugin's ``parse`` (InventoryManager, plugin loading, reconcile).
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


def timed_methods(cls, module, spent: dict) -> None:
    """Wrap the plugin's coarse phases (a handful of calls each, so the wrappers cost nothing measurable)."""
    def wrap(owner, name, label):
        original = getattr(owner, name)

        def timer(*args, **kwargs):
            began = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - began

        setattr(owner, name, timer)

    for name, label in (("parse", "plugin parse"), ("_cached", "cache read"), ("fetch", "fetch"),
                        ("populate", "populate")):
        wrap(cls, name, label)
    wrap(module, "cluster_hosts", "cluster_hosts")  # 1 call per cluster
    adder = getattr(module, "HostAdder", None)
    if adder is not None:  # 1 call per host: ansible-core's add_host/set_variable work done in one pass
        wrap(adder, "add", "core work in HostAdder")


def replay_core(inventory, source: str) -> dict:
    """CPU seconds of ansible-core's ``add_host`` and ``set_variable`` for what ``inventory`` holds, in plain loops."""
    from ansible.inventory.data import InventoryData

    hosts = [h for h in inventory.get_hosts() if h.vars.get("inventory_file") == source]
    fresh = InventoryData()
    fresh.current_source = source
    groups = {g.name for h in hosts for g in h.get_groups() if g.name not in ("all", "ungrouped")}
    for name in sorted(groups):
        fresh.add_group(name)
    memberships = [(h.name, g.name) for h in hosts for g in h.get_groups() if g.name in groups]
    variables = [(h.name, k, v) for h in hosts for k, v in h.vars.items() if k not in ("inventory_file", "inventory_dir")]
    began = time.process_time()
    for name, group in memberships:
        fresh.add_host(name, group=group)
    added = time.process_time()
    for name, key, value in variables:
        fresh.set_variable(name, key, value)
    done = time.process_time()
    return {"core add_host": added - began, "core set_variable": done - added,
            "add_host calls": len(memberships), "set_variable calls": len(variables)}


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    source = args[0]
    phases = "--phases" in sys.argv[1:]
    context.CLIARGS = ImmutableDict(verbosity=0)
    init_plugin_loader()
    from ansible.inventory.manager import InventoryManager

    spent: dict = {}
    if phases:
        from ansible.plugins.loader import inventory_loader

        plugin = inventory_loader.get("tos.cloud.hosts")
        timed_methods(type(plugin), sys.modules[type(plugin).__module__], spent)

    loader = DataLoader()
    ready = time.perf_counter()
    cpu = time.process_time()
    inventory = InventoryManager(loader=loader, sources=[source])
    hosts = inventory.get_hosts()
    parse = time.perf_counter() - ready
    cpu = time.process_time() - cpu
    out = {"parse": parse, "cpu": cpu, "hosts": len(hosts), "groups": len(inventory.groups), "startup": ready - START}
    if phases:
        import os

        core = replay_core(inventory, os.path.abspath(source))
        spent.update(core)
        # the core work populate did: in HostAdder (one pass per host), else the public calls (the replay's time)
        core_work = spent.get("core work in HostAdder") or core["core add_host"] + core["core set_variable"]
        spent["ours in populate"] = spent.get("populate", 0.0) - core_work
        spent["outside the plugin"] = cpu - spent.get("plugin parse", 0.0)
        out["phases"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in spent.items()}
    print(json.dumps(out))
    return 0 if hosts else 1


if __name__ == "__main__":
    sys.exit(main())
