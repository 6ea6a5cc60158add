#!/usr/bin/env bash
# The lookups tos.cloud.cluster, tos.cloud.host and tos.cloud.manager against the simulator: what they return
# (compared with the simulator's state), and that a play asks each distinct question once, however many tasks,
# hosts and forks ask it (the cache of the run, plugins/plugin_utils/lookup_api.py), counted on the request log.
set -eu -o pipefail

config=${TOS_INTEGRATION_CONFIG:-../../integration_config.yml}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export ANSIBLE_ROLES_PATH=..
export TOS_LOOKUP_CACHE_DIR="$out/cache"
# the lookups take the manager from the variable tos_api_url (the integration config), not the environment
unset TOS_API_URL

printf '[forks]\nf1\nf2\nf3\nf4\n[forks:vars]\nansible_connection=local\nansible_python_interpreter=%s\n' \
  "$(command -v python3 || command -v python)" >"$out/inventory.ini"
if ! ansible-playbook -i "$out/inventory.ini" -f 4 -e "@$config" lookups.yml >"$out/run.log" 2>&1; then
  tail -80 "$out/run.log" >&2
  exit 1
fi
# the run's cache directory: one file per distinct question, readable by its owner only
test "$(find "$out/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 1
test -z "$(find "$out/cache" -name '*.json' -perm /077)"
if grep -rq "lookup-test-token" "$out/cache"; then
  echo "FAIL: the token is in the cache" >&2
  exit 1
fi
echo "lookups: ok"
