#!/usr/bin/env bash
# The tos.cloud.hosts inventory plugin through ansible-inventory against the simulator.
set -euo pipefail

config=../../integration_config.yml
setting() { python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }
sim=$(setting tos_sim_url)
TOS_API_URL=$(setting tos_api_url)
export TOS_API_URL
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true

inventory() {  # inventory CONFIG ARGS... : ansible-inventory with CONFIG, stderr kept in $work/stderr
    local source=$1; shift
    ansible-inventory -i "$source" "$@" 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
}
clear_log() { python -c 'import requests, sys; requests.delete(sys.argv[1] + "/_sim/requests", timeout=30).raise_for_status()' "$sim"; }
fault() { python -c 'import json, requests, sys; requests.post(sys.argv[1] + "/_sim/faults", json=json.loads(sys.argv[2]), timeout=30).raise_for_status()' "$sim" "$1"; }
clear_faults() { python -c 'import requests, sys; requests.delete(sys.argv[1] + "/_sim/faults", timeout=30).raise_for_status()' "$sim"; }
check() { python check_inventory.py "$@"; }

echo "== two clusters, one with a Chinese name, CVMs and a storage-service VM"
python build_clusters.py "$sim"

cat > "$work/inventory.tos.yml" <<YAML
plugin: tos.cloud.hosts
want_versions: true
want_networks: true
want_services: true
keyed_groups:
  - key: tos_cluster_name
    prefix: cluster
  - key: tos_versions.storage | default('none')
    prefix: storage_version
groups:
  upgrade_last: tos_center_leader
compose:
  ansible_user: "'root'"
  tos_rack: tos_name[4]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: $work/cache
cache_timeout: 3600
YAML

echo "== --list and --graph"
inventory "$work/inventory.tos.yml" --list >"$work/list.json"
check two-clusters "$work/list.json"
inventory "$work/inventory.tos.yml" --graph >"$work/graph.txt"
check graph "$work/graph.txt"

echo "== a second run with the cache enabled sends no request"
clear_log
inventory "$work/inventory.tos.yml" --list >"$work/cached.json"
check requests "$sim" none
check two-clusters "$work/cached.json"
echo "== --flush-cache asks the manager again"
inventory "$work/inventory.tos.yml" --list --flush-cache >/dev/null
check requests "$sim" some

echo "== hostname_key name, one cluster by name, no versions, networks or services"
cat > "$work/byname.tos.yml" <<YAML
plugin: tos.cloud.hosts
hostname_key: name
clusters: [prod-a]
YAML
inventory "$work/byname.tos.yml" --list >"$work/byname.json"
check by-name "$work/byname.json"

echo "== a cluster whose cluster/get fails is skipped with a warning"
fault '{"kind": "envelope", "path": "/v1/cluster/get", "count": 1}'
cat > "$work/plain.tos.yml" <<YAML
plugin: tos.cloud.hosts
YAML
inventory "$work/plain.tos.yml" --list >"$work/skipped.json"
check skipped "$work/skipped.json" "$work/stderr"
clear_faults

echo "== a rejected token names api_token / TOS_API_TOKEN"
fault '{"kind": "http", "status": 401, "path": "/v1/cluster/list", "count": 1}'
if TOS_API_TOKEN=n0t-the-t0ken ansible-inventory -i "$work/plain.tos.yml" --list >/dev/null 2>"$work/stderr"; then
  echo "FAILED: a 401 did not fail the inventory" >&2; exit 1
fi
grep -q "TOS_API_TOKEN" "$work/stderr" || { cat "$work/stderr" >&2; echo "FAILED: no TOS_API_TOKEN in the error" >&2; exit 1; }
if grep -q "n0t-the-t0ken" "$work/stderr"; then echo "FAILED: the token is shown" >&2; exit 1; fi
clear_faults

echo "== an unreachable manager is named"
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if TOS_API_URL="http://127.0.0.1:$port" ansible-inventory -i "$work/plain.tos.yml" --list >/dev/null 2>"$work/stderr"; then
  echo "FAILED: an unreachable URL did not fail the inventory" >&2; exit 1
fi
grep -q "http://127.0.0.1:$port" "$work/stderr" || { cat "$work/stderr" >&2; echo "FAILED: the URL is not named" >&2; exit 1; }

echo "== 1,000 hosts: 50 clusters of 20"
# a plain reset afterwards goes back to the simulator's start-up fixture, for the next targets
sim_reset() { python -c 'import json, requests, sys; requests.post(sys.argv[1] + "/_sim/reset", json=json.loads(sys.argv[2]), timeout=60).raise_for_status()' "$sim" "$1"; }
trap 'sim_reset "{}"; rm -rf "$work"' EXIT
collection=
for root in ${ANSIBLE_COLLECTIONS_PATH//:/ }; do
  if [ -d "$root/ansible_collections/tos/cloud/simulator" ]; then collection=$root/ansible_collections/tos/cloud; break; fi
done
[ -n "$collection" ] || { echo "FAILED: the collection's simulator/ (for simulator.genfixture) is not found" >&2; exit 1; }
(cd "$collection" && python -m simulator.genfixture --clusters 50 --hosts-per-cluster 20 --precreate -o "$work/large.json")
sim_reset "{\"fixture\": \"$work/large.json\"}"
clear_log
start=$(date +%s.%N)
inventory "$work/plain.tos.yml" --list >"$work/large-list.json"
end=$(date +%s.%N)
check large "$work/large-list.json" 50 20
check cold-requests "$sim" 50
python -c 'import sys; print("1,000 hosts in %.2fs (ansible-inventory --list, cold)" % (float(sys.argv[2]) - float(sys.argv[1])))' "$start" "$end"

echo "== 120 clusters: cluster/list takes a second page, the requests are still the formula's"
(cd "$collection" && python -m simulator.genfixture --clusters 120 --hosts-per-cluster 1 --precreate -o "$work/paged.json")
sim_reset "{\"fixture\": \"$work/paged.json\"}"
clear_log
inventory "$work/plain.tos.yml" --list >"$work/paged-list.json"
check large "$work/paged-list.json" 120 1
check cold-requests "$sim" 120
