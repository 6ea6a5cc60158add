"""Run recorded module invocations again, all in this one process: python bench/replay.py INVOCATIONS.json.

What a module costs once the process, the interpreter and the imports are paid: each module's main() is called
with the arguments a playbook run recorded (bench_timer with BENCH_RECORD_ARGS), one after the other, in one
interpreter that has imported everything once. Prints one JSON line: {"seconds": time of all the calls,
"imports": time of the first import of every module, "calls": N, "changed": N, "failed": N}.
The benchmark uses it to estimate what running the API modules inside the controller would save.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
import time

from ansible.module_utils import basic


def module_name(action: str) -> str:
    if action.startswith("tos.cloud."):
        return "ansible_collections.tos.cloud.plugins.modules." + action.split(".")[-1]
    return "ansible.modules." + action.split(".")[-1]


def call(module, args: dict) -> dict:
    # invocation.module_args lists every option, unset ones as null: leave those out as the controller does
    args = {key: value for key, value in args.items() if value is not None}
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue().strip()
    return json.loads(text[text.index("{"):]) if "{" in text else {"failed": True, "msg": text}


def main() -> int:
    invocations = json.load(open(sys.argv[1], encoding="utf-8"))
    t0 = time.perf_counter()
    modules = {inv["action"]: importlib.import_module(module_name(inv["action"])) for inv in invocations}
    imports = time.perf_counter() - t0
    changed = failed = 0
    start = time.perf_counter()
    for inv in invocations:
        result = call(modules[inv["action"]], inv["args"])
        changed += bool(result.get("changed"))
        failed += bool(result.get("failed"))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "imports": imports, "calls": len(invocations), "changed": changed, "failed": failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
