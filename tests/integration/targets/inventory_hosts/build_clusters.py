# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reset the simulator and build, through raw /v1 calls, the two clusters the target reads:

- ``prod-a`` from rack-a (192.0.2.11-14), with cloud-management VMs on tos-a1 (192.0.2.101, the first,
  so the leader) and tos-a3 (192.0.2.103), and one storage-service VM (192.0.2.111; the simulator puts it
  on the least loaded free storage host, tos-a1);
- ``生产-集群`` from rack-b (198.51.100.11-14), without any VM.

Usage: build_clusters.py SIM_URL
"""

from __future__ import annotations

import sys
import time

import requests


class Api:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.session = requests.Session()

    def call(self, method, path, **kwargs):
        answer = self.session.request(method, self.url + path, timeout=30, **kwargs)
        answer.raise_for_status()
        body = answer.json()
        code = body.get("scode", body.get("status_code"))
        if code:
            raise SystemExit("%s %s failed: %s" % (method, path, body))
        return body.get("data")

    def control(self, method, path, body=None):
        answer = self.session.request(method, self.url + path, json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()


def main(url):
    api = Api(url)
    api.control("POST", "/_sim/reset", {})
    api.call("POST", "/v1/cluster/add", json={"ip": "192.0.2.11", "name": "prod-a", "desc": "rack a"})
    api.call("POST", "/v1/cluster/add", json={"ip": "198.51.100.11", "name": "生产-集群", "desc": ""})
    clusters = {c["cluster_name"]: c["cluster_uuid"]
                for c in api.call("GET", "/v1/cluster/list", params={"page_num": 0, "page_size": 100})["list"]}
    prod = clusters["prod-a"]
    nodes = api.call("GET", "/v1/cluster/get", params={"cluster_uuid": prod})["TopoHostNode"]
    by_name = {node["name"]: node["UUID"] for node in nodes}
    for host, address in (("tos-a1", "192.0.2.101/24"), ("tos-a3", "192.0.2.103/24")):
        api.call("POST", "/v1/cluster/deploy/cvm", json={
            "cluster_uuid": prod, "MachineUUID": by_name[host],
            "Networks": [{"Addr": address, "Gateway": "192.0.2.1"}]})
        # the first CVM to finish becomes the leader: let it finish before the second starts
        wait_for_nodes(api, prod, len(nodes) + (1 if host == "tos-a1" else 2))
    api.call("POST", "/v1/cluster/deploy/storage_service/vm", json={
        "cluster_uuid": prod, "vm_type": "GST",
        "manage_cidr": "192.0.2.111/24", "manage_gateway": "192.0.2.1",
        "storage_cidr": "192.0.2.151/24", "storage_gateway": "192.0.2.1"})
    wait_for_nodes(api, prod, len(nodes) + 3)


def wait_for_nodes(api, cluster_uuid, count, timeout=60):
    """Let simulated time pass until the topology shows ``count`` nodes (finished deploys)."""
    deadline = time.monotonic() + timeout
    while True:
        api.control("POST", "/_sim/time", {"advance": 60})
        nodes = api.call("GET", "/v1/cluster/get", params={"cluster_uuid": cluster_uuid})["TopoHostNode"]
        if len(nodes) >= count:
            return
        if time.monotonic() > deadline:
            raise SystemExit("the topology of %s has %d nodes, not %d, after %ss" % (
                cluster_uuid, len(nodes), count, timeout))
        time.sleep(0.1)


if __name__ == "__main__":
    main(sys.argv[1])
