# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The operations modules' fakes (inspection, upgrade, upgrade_info): one cluster, hosts with versions and
upgrade tasks; run the modules with harness.run_module."""

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import UPGRADE
from ansible_collections.tos.cloud.tests.unit.plugins.modules import harness
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import FakeClient

TARGET = "3.2.5.rc2"
PACKAGE = {"package_name": "updatepackage_3.2.5.rc2.tar.gz", "md5": "41ff13b3b85609c5f5a932b106c5130d",
           "version": TARGET, "update_time": 1615374182, "size": 340416119}

CLUSTER = {"cluster_uuid": "3afdbbfc-e45a-430e-abba-842074a8b035", "cluster_name": "demo", "ctime": 1}


def cluster_list(params):
    return harness.cluster_list(params, [CLUSTER])


class OneClusterClient(FakeClient):
    """A fake client whose manager has the one cluster CLUSTER."""

    def paginate(self, path, params=None, **kwargs):
        yield from cluster_list(params)["list"]


class FakePlatform(OneClusterClient):
    """Hosts with versions and one task each; every progress read advances a running task by ``step``."""

    def __init__(self, versions, step=0.5, fail=None, lose_answer_of=(), running=None, leader=None):
        self.leader = leader  # the host (uuid) whose center node leads, reported by cluster/cloud/manage
        self.versions = {ip: dict(v) for ip, v in versions.items()}
        self.uuid_ip = {"u%d" % i: ip for i, ip in enumerate(sorted(versions), 1)}
        self.tasks = {}
        self.step = step
        self.fail = dict(fail or {})  # ip -> (at, message)
        self.lose_answer_of = set(lose_answer_of)
        self.calls = []
        for uuid, types in (running or {}).items():
            self.tasks[uuid] = {"progress": 0.2, "status": "running", "types": types}
        self.versions_at_post = []
        self.names = {uuid: "h%s" % ip.rsplit(".", 1)[1] for uuid, ip in self.uuid_ip.items()}
        self.package = dict(PACKAGE)
        # the health gate's readings: the manager's members, the center nodes' etcd, the overall status
        # (a section in fault for the first ``fault_reads`` readings)
        self.members = {"leader": "192.0.2.11", "candidates": [], "ready": True}
        self.etcd = "healthy"
        self.fault_reads = 0

    def topology(self):
        return [{"UUID": uuid, "name": self.names[uuid], "IsSystemService": False,
                 "managerNet": {"Addrs": ["%s/24" % ip]}} for uuid, ip in sorted(self.uuid_ip.items())]

    def get(self, path, params=None):
        self.calls.append(("GET", path, params))
        if path == "/v1/cluster/get":
            return {"cluster_uuid": CLUSTER["cluster_uuid"], "name": "demo", "TopoHostNode": self.topology()}
        if path == "/v1/system/upgrade_package/current/inspect":
            if not self.package:
                raise TosApiError("GET %s was refused by the manager (code 4301): no upgrade package." % path,
                                  kind="api", code=4301)
            return dict(self.package)
        if path == "/v1/cluster/cloud/manage":
            return {"host_info": [{"uuid": self.leader, "ip": self.uuid_ip[self.leader], "is_leader": True,
                                   "status": 1, "etcd_base_info": {"etcd_cluter_health": self.etcd}}]
                    if self.leader else []}
        if path == "/v1/system/member/list":
            return dict(self.members)
        if path == "/v1/cluster/overall_status/inspect":
            self.fault_reads -= 1
            return {"storage_status": {"status": "fault" if self.fault_reads >= 0 else "normal"},
                    "compute_status": {"status": "normal"}}
        if path == "/v1/system/upgrade_package/list":
            return {"list": [{"host_ip": ip, "type_version": dict(v)} for ip, v in self.versions.items()]}
        if path == "/v1/cluster/host/task/progress":
            task = self.tasks.get(params["host_uuid"])
            if task is None:
                return {"progress": 0.0, "status": "idle"}
            if task["status"] == "running":
                task["progress"] = min(1.0, task["progress"] + self.step)
                ip = self.uuid_ip[params["host_uuid"]]
                at, message = self.fail.get(ip, (None, None))
                if at is not None and task["progress"] >= at:
                    task.update(status="failed", progress=at, message=message)
                elif task["progress"] >= 1.0:
                    task["status"] = "finished"
                    for service_type in task["types"]:
                        self.versions[ip][service_type] = TARGET
            return dict(task)
        raise AssertionError(path)

    def post(self, path, body=None):
        self.calls.append(("POST", path, body))
        self.versions_at_post.append({ip: dict(v) for ip, v in self.versions.items()})
        assert path == UPGRADE
        ip = body["list"][0]["host_ip"]
        uuid = next(u for u, i in self.uuid_ip.items() if i == ip)
        if self.tasks.get(uuid, {}).get("status") == "running":
            raise TosApiError("host busy", kind="api", code=4409, message_en="host %s is busy" % ip)
        self.tasks[uuid] = {"progress": 0.0, "status": "running", "types": [i["service_type"] for i in body["list"]]}
        if ip in self.lose_answer_of:
            self.lose_answer_of.discard(ip)
            raise TosApiError("lost", method="POST", path=path, kind="connection", may_have_landed=True)
        return {"list": []}

    def reads(self, path):
        """How many times ``path`` was read."""
        return sum(1 for method, read, _params in self.calls if method == "GET" and read == path)

    @property
    def posts(self):
        return [body["list"][0]["host_ip"] for method, _path, body in self.calls if method == "POST"]
