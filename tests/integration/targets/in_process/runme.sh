#!/usr/bin/env bash
# The API modules run inside the task's worker process when the connection is local
# (plugins/plugin_utils/in_process.py). Prove that this path is taken, that it returns and sends exactly what
# a module process does (same results, diffs, failures, masked secrets, same requests in the same order),
# and that the cases it must not handle start a module process.
set -eu -o pipefail

# make matrix (mk/matrix.mk) and make compat run this script outside ansible-test with its own config
config=${TOS_INTEGRATION_CONFIG:-../../integration_config.yml}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export ANSIBLE_ROLES_PATH=..

play() {
  local name=$1
  shift
  if ! ansible-playbook -i "${INVENTORY_PATH:-localhost,}" -e "@$config" -vvv "$@" >"$out/$name.log" 2>&1; then
    echo "run '$name' failed:" >&2
    tail -60 "$out/$name.log" >&2
    exit 1
  fi
}

play in_process parity.yml -e parity_out="$out/in_process.json"
play process parity.yml -e parity_out="$out/process.json" -e tos_cloud_in_process=false
play fallback fallback.yml
play run_cache run_cache.yml

marker="running the module in the worker process"
grep -q "tos.cloud.global_config: $marker" "$out/in_process.log"
if grep -q "AnsiballZ_global_config" "$out/in_process.log"; then
  echo "FAIL: the in-process run started a module process for global_config" >&2
  exit 1
fi
grep -q "AnsiballZ_global_config" "$out/process.log"
if grep -q "$marker" "$out/process.log"; then
  echo "FAIL: tos_cloud_in_process=false still ran a module in-process" >&2
  exit 1
fi
if grep -q "$marker" "$out/fallback.log"; then
  echo "FAIL: a task with environment or async ran in-process" >&2
  exit 1
fi
test "$(grep -c "AnsiballZ_system_info" "$out/fallback.log")" -ge 2
# the password is a no_log option: masked wherever the -vvv output shows the module's invocation (as often
# in-process as in a module process; ansible-core 2.21 no longer shows it), absent everywhere
masked_in=$(grep -c "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" "$out/in_process.log" || true)
masked_out=$(grep -c "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" "$out/process.log" || true)
if [ "$masked_in" != "$masked_out" ]; then
  echo "FAIL: the masked no_log value shows $masked_in time(s) in-process, $masked_out time(s) as a process" >&2
  exit 1
fi
if grep -qF "parity-secret-value" "$out"/*.log; then
  echo "FAIL: the SMTP password appears in the output" >&2
  exit 1
fi

python - "$out/in_process.json" "$out/process.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
if a != b:
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            print("differs: %s\n  in-process: %s\n  process:    %s" % (key, a.get(key), b.get(key)), file=sys.stderr)
    sys.exit(1)
assert a["change"]["changed"] and not a["again"]["changed"] and a["check"]["changed"], a
assert a["bad"]["failed"] and "threshold_level" in a["bad"]["msg"], a["bad"]
assert a["unknown"]["failed"] and "no-such-cluster" in a["unknown"]["msg"], a["unknown"]
assert a["spec"]["failed"] and "no_such_option" in a["spec"]["msg"], a["spec"]
assert sum(1 for r in a["requests"] if not r.startswith("GET ")) == 2, a["requests"]
print("in_process: %d results and %d requests identical in both modes" % (len(a), len(a["requests"])))
PY
