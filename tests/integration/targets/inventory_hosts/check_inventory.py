# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assertions of the inventory_hosts target on ansible-inventory's output and the simulator's log.

Usage: check_inventory.py CHECK ARGS...   (see the functions below; each exits non-zero with a reason)
"""

from __future__ import annotations

import json
import sys

import requests

PROD = ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
CHINA = ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]


def expect(condition, message, *context):
    if not condition:
        shown = [json.dumps(item, ensure_ascii=False, default=str)[:2000] for item in context]
        raise SystemExit("FAILED: %s\n%s" % (message, "\n".join(shown)))


def plain(value):
    """ansible-inventory may mark untrusted strings as {"__ansible_unsafe": "..."} (it depends on its settings)."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def load(path):
    with open(path, encoding="utf-8") as handle:
        return plain(json.load(handle))


def members(inventory, group):
    return sorted((inventory.get(group) or {}).get("hosts") or [])


def two_clusters(path):
    """--list of the two clusters built by build_clusters.py, with the target's constructed options."""
    inv = load(path)
    hostvars = inv["_meta"]["hostvars"]
    expect(sorted(hostvars) == sorted(PROD + CHINA), "every physical host, named by management IP", sorted(hostvars))
    expect(members(inv, "tos_cluster_prod_a") == PROD, "group of prod-a", inv.get("tos_cluster_prod_a"))
    expect(members(inv, "tos_cluster_生产_集群") == CHINA, "group of the Chinese-named cluster", sorted(inv))
    expect(members(inv, "tos_center") == ["192.0.2.11", "192.0.2.13"], "hosts running a CVM", inv.get("tos_center"))
    expect(members(inv, "tos_center_leader") == ["192.0.2.11"], "host of the leader CVM", inv.get("tos_center_leader"))
    expect(members(inv, "tos_manager") == ["192.0.2.11", "192.0.2.12", "192.0.2.13"], "manager role",
           inv.get("tos_manager"))
    expect(members(inv, "tos_compute") == sorted(PROD + CHINA), "compute role", inv.get("tos_compute"))
    expect(members(inv, "tos_storage") == sorted(PROD + CHINA), "storage role", inv.get("tos_storage"))
    expect(len(members(inv, "tos_storage_service")) == 1, "one host runs the storage-service VM",
           inv.get("tos_storage_service"))

    a1 = hostvars["192.0.2.11"]
    expect(a1["ansible_host"] == "192.0.2.11", "ansible_host is the management address", a1)
    expect(a1["tos_name"] == "tos-a1" and a1["tos_cluster_name"] == "prod-a", "names", a1)
    expect(a1["tos_storage_ip"] == "192.0.2.51" and a1["tos_backup_ip"] == "192.0.2.91", "addresses", a1)
    expect(a1["tos_cvm"]["ip"] == "192.0.2.101" and a1["tos_cvm"]["leader"] is True, "the leader CVM", a1)
    expect(a1["tos_center"] is True and a1["tos_center_leader"] is True, "center flags", a1)
    expect(a1["tos_services"]["hyper"]["enabled"] is True, "services as the topology names them", a1)
    expect(a1["tos_networks"]["storage"]["addresses"] == ["192.0.2.51/24"], "networks (want_networks)", a1)
    expect(a1["tos_versions"]["compute"] == "3.2.4", "versions (want_versions)", a1)
    a3 = hostvars["192.0.2.13"]
    expect(a3["tos_cvm"]["ip"] == "192.0.2.103" and a3["tos_center_leader"] is False, "the other CVM", a3)
    b4 = hostvars["198.51.100.14"]
    expect(b4["tos_cluster_name"] == "生产-集群" and b4["tos_center"] is False, "the Chinese-named cluster", b4)
    storage_vm_host = members(inv, "tos_storage_service")[0]
    expect([vm["management_ip"] for vm in hostvars[storage_vm_host]["tos_storage_vms"]] == ["192.0.2.111"],
           "the storage-service VM on its host", hostvars[storage_vm_host])
    uuids = {hv["tos_uuid"] for hv in hostvars.values()}
    expect(len(uuids) == 8, "a UUID per host", sorted(uuids))

    # constructed: keyed_groups, groups, compose (see runme.sh)
    expect(members(inv, "cluster_prod_a") == PROD, "keyed group on tos_cluster_name", sorted(inv))
    expect(members(inv, "storage_version_3_2_3") == ["198.51.100.14"], "keyed group on tos_versions.storage",
           inv.get("storage_version_3_2_3"), sorted(inv))
    expect(members(inv, "upgrade_last") == ["192.0.2.11"], "composed group", inv.get("upgrade_last"))
    expect(all(hv.get("ansible_user") == "root" for hv in hostvars.values()), "composed variable", b4)
    expect(b4.get("tos_rack") == "b", "composed variable from a host name", b4)


def graph(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for needle in ("@tos_cluster_prod_a:", "@tos_cluster_生产_集群:", "@tos_center_leader:", "@tos_compute:",
                   "|--198.51.100.14", "@cluster_prod_a:"):
        expect(needle in text, "--graph shows %s" % needle, text)


def by_name(path):
    inv = load(path)
    hostvars = inv["_meta"]["hostvars"]
    expect(sorted(hostvars) == ["tos-a1", "tos-a2", "tos-a3", "tos-a4"], "hostname_key name + clusters filter",
           sorted(hostvars))
    expect(hostvars["tos-a1"]["ansible_host"] == "192.0.2.11", "ansible_host stays the address", hostvars["tos-a1"])
    expect("tos_versions" not in hostvars["tos-a1"], "no versions unless asked", hostvars["tos-a1"])
    for name in ("tos_networks", "tos_services"):
        expect(name not in hostvars["tos-a1"], "no %s unless asked" % name, hostvars["tos-a1"])


def one_cluster_skipped(path, stderr):
    inv = load(path)
    hostvars = inv["_meta"]["hostvars"]
    with open(stderr, encoding="utf-8") as handle:
        errors = handle.read()
    expect(sorted(hostvars) in (PROD, CHINA), "the other cluster still loads", sorted(hostvars))
    expect("skipping cluster" in errors and "injected fault" in errors, "a warning names the skipped cluster", errors)


def large(path, clusters, per_cluster):
    inv = load(path)
    clusters, per_cluster = int(clusters), int(per_cluster)
    hostvars = inv["_meta"]["hostvars"]
    expect(len(hostvars) == clusters * per_cluster, "every host of the large fixture", len(hostvars))
    cluster_groups = [g for g in inv if g.startswith("tos_cluster_")]
    expect(len(cluster_groups) == clusters, "a group per cluster", cluster_groups)
    expect(all(len(members(inv, g)) == per_cluster for g in cluster_groups), "hosts per cluster group")
    expect(len(members(inv, "tos_center_leader")) == clusters, "a leader per cluster", inv.get("tos_center_leader"))


def sim_requests(url, expected):
    """``none``: the simulator received no /v1 request since its log was cleared; ``some``: it did."""
    log = requests.get(url.rstrip("/") + "/_sim/requests", timeout=30).json()["requests"]
    api = [entry for entry in log if entry["path"].startswith("/v1/")]
    if expected == "none":
        expect(not api, "no /v1 request (the inventory came from the cache)", api)
    else:
        expect(api, "/v1 requests (a refresh asks the manager again)", log)


PAGE_SIZE = 100  # the plugin's cluster/list page size


def cold_requests(url, clusters):
    """A cold run over ``clusters`` genfixture clusters (each with a CVM, no storage VM) sent exactly what
    docs/inventory.md says: ``max(1, ceil(C / P))`` cluster/list pages (plus the repeated first page on a manager
    counting pages from 1, once there is a second), one cluster/get and one cluster/cloud/manage per cluster."""
    clusters = int(clusters)
    base = url.rstrip("/")
    page_base = requests.get(base + "/_sim/health", timeout=30).json()["readings"]["page_base"]
    pages = max(1, -(-clusters // PAGE_SIZE)) + (1 if page_base == 1 and clusters > PAGE_SIZE else 0)
    log = requests.get(base + "/_sim/requests", timeout=30).json()["requests"]
    sent = {}
    for entry in log:
        if entry["path"].startswith("/v1/"):
            sent[entry["path"]] = sent.get(entry["path"], 0) + 1
    expected = {"/v1/cluster/list": pages, "/v1/cluster/get": clusters, "/v1/cluster/cloud/manage": clusters}
    expect(sent == expected, "%d clusters, page base %d: %d requests" % (clusters, page_base, sum(expected.values())),
           sent)


def main(argv):
    checks = {"two-clusters": two_clusters, "graph": graph, "by-name": by_name, "skipped": one_cluster_skipped,
              "large": large, "requests": sim_requests, "cold-requests": cold_requests}
    checks[argv[1]](*argv[2:])
    print("ok: %s" % " ".join(argv[1:2]))


if __name__ == "__main__":
    main(sys.argv)
