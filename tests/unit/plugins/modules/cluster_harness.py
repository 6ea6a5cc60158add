# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster modules' fake: an in-memory platform (clusters, CVMs, storage VMs, host tasks); run the modules
with harness.run_module.

``FakePlatform`` is a ``TosClient`` whose ``request`` answers from a small world instead of HTTP, so the
real ``post_verified`` and ``paginate`` run. Every request is recorded in ``calls`` as ``(method, path)``.
"""

from __future__ import annotations

import copy

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient
from ansible_collections.tos.cloud.plugins.module_utils._topology import READ_ONLY_POSTS
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import api_error

HOSTS = [
    # uuid, name, management ip, storage ip, group, has storage service
    ("h-a1", "tos-a1", "192.0.2.11", "192.0.2.51", "a", True),
    ("h-a2", "tos-a2", "192.0.2.12", "192.0.2.52", "a", True),
    ("h-a3", "tos-a3", "192.0.2.13", "192.0.2.53", "a", False),
    ("h-b1", "tos-b1", "198.51.100.11", "198.51.100.51", "b", True),
]


def net(cidr):
    return {"Name": "eth0", "Addrs": [cidr], "MTU": 1500, "BridgeUUID": "", "BridgeName": ""}


class FakePlatform(TosClient):
    """A tiny stateful platform; deploy tasks advance by ``step`` on every progress read."""

    def __init__(self, step=0.5, lose_answer_of=()):  # pylint: disable=super-init-not-called
        self.hosts = {u: {"uuid": u, "name": n, "ip": ip, "storage_ip": sip, "group": g, "storage": s}
                      for u, n, ip, sip, g, s in HOSTS}
        self.clusters = {}
        self.cvms = {}
        self.storage_vms = {}
        self.tasks = {}
        self.step = step
        self.lose_answer_of = set(lose_answer_of)
        self.calls = []
        self.counter = 0
        self._sleep = lambda seconds: None
        self.backoff = 0
        self.page_size_seen = []

    # -- building state directly -------------------------------------------------------------

    def new_uuid(self, kind):
        self.counter += 1
        return "%08x-0000-4000-8000-%012d" % (len(kind), self.counter)

    def add_cluster(self, name, ip, desc=""):
        seed = next(h for h in self.hosts.values() if h["ip"] == ip)
        uuid = self.new_uuid("c")
        members = [h["uuid"] for h in self.hosts.values() if h["group"] == seed["group"]
                   and not any(h["uuid"] in c["hosts"] for c in self.clusters.values())]
        self.clusters[uuid] = {"uuid": uuid, "name": name, "desc": desc, "hosts": members}
        return uuid

    def add_cvm(self, cluster_uuid, host_uuid, address, deploying=False):
        uuid = self.new_uuid("cvm")
        self.cvms[uuid] = {"uuid": uuid, "cluster": cluster_uuid, "host": host_uuid, "address": address,
                           "running": not deploying}
        if deploying:
            self.tasks[host_uuid] = {"status": "running", "progress": 0.0, "task_type": "deploy_cvm", "target": uuid}
        return uuid

    def add_storage_vm(self, cluster_uuid, manage, storage, gateway="192.0.2.1", deploying=False):
        uuid = self.new_uuid("gst")
        host = next(u for u in self.clusters[cluster_uuid]["hosts"] if self.hosts[u]["storage"])
        self.storage_vms[uuid] = {"uuid": uuid, "name": "GST%d" % self.counter, "cluster": cluster_uuid, "host": host,
                                  "manage_cidr": manage, "storage_cidr": storage, "manage_gateway": gateway,
                                  "storage_gateway": gateway, "running": not deploying}
        if deploying:
            self.tasks[host] = {"status": "running", "progress": 0.0, "task_type": "deploy_storage_vm",
                                "target": uuid}
        return uuid

    # -- what tests assert on ------------------------------------------------------------------

    def mutations(self):
        return [call for call in self.calls if call[0] == "POST" and call[1] not in READ_ONLY_POSTS]

    # -- the API ---------------------------------------------------------------------------------

    def request(self, method, path, params=None, body=None):
        self.calls.append((method, path))
        handler = getattr(self, "_" + path[len("/v1/cluster/"):].replace("/", "_"))
        data = handler(copy.deepcopy(params if method == "GET" else body) or {})
        if path in self.lose_answer_of:
            self.lose_answer_of.discard(path)
            raise TosApiError("The connection was lost during POST %s; the request may have been applied." % path,
                              method=method, path=path, kind="connection", may_have_landed=True)
        return data

    def _list(self, p):
        wanted = (p.get("filter_name") or "").lower()
        items = [{"cluster_uuid": c["uuid"], "cluster_name": c["name"], "ctime": 1}
                 for c in self.clusters.values() if wanted in c["name"].lower()]
        return self._page(items, p)

    def _page(self, items, p):
        size = int(p.get("page_size") or 0)
        page = max(int(p.get("page_num") or 1), 1)
        self.page_size_seen.append(size)
        shown = items[(page - 1) * size:page * size] if size else items
        return {"list": shown, "total_count": len(items)}

    def _running_cvms(self, cluster_uuid):
        return [v for v in self.cvms.values() if v["cluster"] == cluster_uuid and v["running"]]

    def _get(self, p):
        cluster = self.clusters[p["cluster_uuid"]]
        nodes = []
        for uuid in cluster["hosts"]:
            host = self.hosts[uuid]
            services = {"manager": None, "center": None, "vsm": None, "network": None, "hyper": {"enabled": True},
                        "usm": {"enabled": True} if host["storage"] else None, "agentStatus": 1, "hostMode": 0}
            nodes.append({"UUID": uuid, "name": host["name"], "managerNet": net(host["ip"] + "/24"),
                          "storageNet": net(host["storage_ip"] + "/24"), "backupNet": None,
                          "IsSystemService": False, "services": services})
        for cvm in self._running_cvms(cluster["uuid"]):
            nodes.append({"UUID": cvm["uuid"], "name": "LCM" + cvm["uuid"], "managerNet": net(cvm["address"]),
                          "IsSystemService": True, "MachineUUID": cvm["host"],
                          "services": {"center": {"enabled": True}}})
        return {"cluster_uuid": cluster["uuid"], "name": cluster["name"], "desc": cluster["desc"],
                "candidates": [c["address"].split("/")[0] for c in self._running_cvms(cluster["uuid"])],
                "TopoHostNode": nodes}

    def _add(self, body):
        if any(c["name"] == body["name"] for c in self.clusters.values()):
            raise api_error("name exists", code=3003, path="/v1/cluster/add")
        uuid = self.add_cluster(body["name"], body["ip"], body.get("desc", ""))
        return {"uuid": uuid, "name": body["name"], "desc": body.get("desc", ""), "ip": body["ip"]}

    def _delete(self, body):
        cluster = self.clusters[body["cluster_uuid"]]
        held = [v for v in list(self.cvms.values()) + list(self.storage_vms.values()) if v["cluster"] == cluster["uuid"]]
        if held and not body.get("force"):
            raise api_error("cluster not empty", code=3003, path="/v1/cluster/delete")
        for table in (self.cvms, self.storage_vms):
            for uuid in [u for u, v in table.items() if v["cluster"] == cluster["uuid"]]:
                del table[uuid]
        del self.clusters[cluster["uuid"]]
        return {"uuid": cluster["uuid"], "name": cluster["name"]}

    def _cloud_manage(self, p):
        running = self._running_cvms(p["cluster_uuid"])
        return {"host_info": [{"ip": c["address"].split("/")[0], "uuid": c["uuid"], "machine_uuid": c["host"],
                               "is_leader": i == 0, "status": 1} for i, c in enumerate(running)]}

    def _all_cluster_topology(self, body):
        """The network topology map: each host's address, and the VMs on it (CVMs, storage VMs) as ``Hosts``."""
        cluster = self.clusters[body["cluster_uuid"]]
        faces = {}
        for uuid in cluster["hosts"]:
            host = self.hosts[uuid]
            members = [{"Type": "cvm", "UUID": c["uuid"], "Name": "LCM" + c["uuid"]}
                       for c in self._running_cvms(cluster["uuid"]) if c["host"] == uuid]
            members += [{"Type": "GST", "UUID": v["uuid"], "Name": v["name"]}
                        for v in self.storage_vms.values() if v["cluster"] == cluster["uuid"] and v["host"] == uuid]
            faces[host["ip"] + "/24"] = {"IFacesInfo": {host["ip"] + "/24": {"IP": host["ip"] + "/24"}}, "Hosts": members}
        return {"info": {cluster["uuid"]: {"ClusterName": cluster["name"], "HostIFacesInfo": faces}}}

    def _deploy_cvm(self, body):
        if any(v["host"] == body["MachineUUID"] for v in self.cvms.values()):
            raise api_error("cvm exists", code=3003, path="/v1/cluster/deploy/cvm")
        uuid = self.add_cvm(body["cluster_uuid"], body["MachineUUID"], body["Networks"][0]["Addr"], deploying=True)
        return {"uuid": uuid, "name": "LCM" + uuid}

    def _delete_cvm(self, body):
        uuid = next(u for u, v in self.cvms.items() if body["MachineUUID"] in (u, v["host"]))
        del self.cvms[uuid]
        return {"uuid": uuid}

    def _host_task_progress(self, p):
        task = self.tasks.get(p["host_uuid"])
        if task is None:
            return {"progress": 0.0, "status": "idle"}
        if task["status"] == "running":
            task["progress"] = min(1.0, task["progress"] + self.step)
            if task["progress"] >= 1.0:
                task["status"] = "finished"
                target = self.cvms.get(task["target"]) or self.storage_vms.get(task["target"])
                if target is not None:
                    target["running"] = True
        return {"progress": task["progress"], "status": task["status"], "task_type": task["task_type"],
                "target_uuid": task["target"]}

    def _storage_vm_view(self, vm):
        host = self.hosts[vm["host"]]
        return {"uuid": vm["uuid"], "name": vm["name"], "vm_type": "GST", "manage_cidr": vm["manage_cidr"],
                "manage_ip": vm["manage_cidr"].split("/")[0], "manage_gateway": vm["manage_gateway"],
                "storage_cidr": vm["storage_cidr"], "storage_ip": vm["storage_cidr"].split("/")[0],
                "storage_gateway": vm["storage_gateway"], "host_uuid": host["uuid"], "host_ip": host["ip"],
                "host_name": host["name"], "status": "running" if vm["running"] else "deploying"}

    def _storage_service_vm_list(self, p):
        wanted = p.get("filter_ip") or ""
        items = [self._storage_vm_view(v) for v in self.storage_vms.values() if v["cluster"] == p["cluster_uuid"]
                 and (wanted in v["manage_cidr"] or wanted in v["storage_cidr"])]
        return self._page(items, p)

    def _deploy_storage_service_vm(self, body):
        uuid = self.add_storage_vm(body["cluster_uuid"], body["manage_cidr"], body["storage_cidr"],
                                   body["manage_gateway"], deploying=True)
        return self._storage_vm_view(self.storage_vms[uuid])

    def _storage_service_vm_delete(self, body):
        vm = self.storage_vms[body["uuid"]]
        if not vm["running"] and not body.get("force"):
            raise api_error("still deploying", code=3003, path="/v1/cluster/storage_service/vm/delete")
        del self.storage_vms[body["uuid"]]
        return {"uuid": body["uuid"]}

    def _compute_service_statistic(self, p):
        hosts = [{"HostUUID": "h%d" % i} for i in range(5)]
        size = int(p.get("page_size") or 0)
        page = int(p.get("page_num") or 1)
        # a platform that caps pages at 2 items whatever page_size says
        shown = hosts[(page - 1) * 2:page * 2] if size else hosts
        return {"total_count": len(hosts), "HostStatistics": shown, "HostSummary": {"Total": 5}}

    def _system_service_storage(self, p):
        return {"inner": {"total_size": 1}, "external": {"total_size": 0}}

    def _data_snapshot_list(self, p):
        return {"meta_data": {"Snapshot": ["snapshot1.db"], "status": {"code": 0}}}
