#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: Read clusters, their hosts and their statistics
version_added: 0.1.0
description:
  - Returns one cluster (O(cluster)) or every cluster (all pages of C(/v1/cluster/list)), each with its
    description, center nodes and the hosts and system VMs of its topology (C(/v1/cluster/get)).
  - O(gather) adds sections read from the read-only statistics endpoints; each is returned under a key of the
    same name in every cluster. No section is read unless asked for.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.attributes.INFO_MODULE
options:
  cluster:
    description:
      - Name (exact) or UUID of the one cluster to read.
      - When not set, every cluster is read.
      - An unknown cluster fails the module with a message that names it.
    type: str
  gather:
    description:
      - Extra sections to read for each cluster, returned under the key of the same name.
      - V(all) reads every section.
      - V(topology) - the network topology map (C(/v1/cluster/all_cluster/topology), the cluster's entry of
        C(info)). This endpoint is read with a C(POST) request, although it changes nothing.
      - V(top) - hosts ranked by usage (C(/v1/cluster/top), O(top_count) of each).
      - V(storage) - converged and external storage summary (C(/v1/cluster/system/service/storage)).
      - V(network) - network service summary (C(/v1/cluster/system/service/network)).
      - V(cloud_manage) - the center nodes with their etcd figures (C(host_info) of C(/v1/cluster/cloud/manage)).
      - V(cvms) - the cloud-management VMs, as M(tos.cloud.cvm) returns them.
      - V(storage_vms) - the storage-service VMs, as M(tos.cloud.storage_service_vm) returns them.
      - V(compute) - compute statistics (C(/v1/cluster/compute/service/statistic), every page; C(HostStatistics)
        holds all hosts).
      - V(compute_hosts) - per-host compute statistics (C(/v1/cluster/compute/service/statistic/host)), a list
        with the host's C(uuid) and C(name) added to each entry.
      - V(chassis) - the network chassis (C(/v1/cluster/chassis/list), every page).
      - V(global_config) - the over-allocation thresholds (C(/v1/cluster/get/global/config)).
      - V(drs) - the DRS and DPM configuration (C(config) of C(/v1/cluster/compute/service/drsconfig/get)).
      - V(overview) - the dashboard figures (C(/v1/cluster/overview/inspect)).
      - V(hardware_resources) - every section of C(/v1/cluster/hardware_resources/inspect).
      - V(detail_status) - every section of C(/v1/cluster/detail_status/inspect).
      - V(overall_status) - every section of C(/v1/cluster/overall_status/inspect).
      - V(vmserver) - the network-service VMs (C(/v1/cluster/vmserver/service/get)).
      - V(snapshots) - the metadata snapshot file names (C(/v1/cluster/data/snapshot/list), asked of the leader
        center node); empty while the cluster has no center node.
      - V(snapshot_policy) - the metadata snapshot policy and daemon state (C(duration), C(display_option),
        C(mtime), C(daemon_state)); null while the cluster has no center node.
      - V(inspection) - the latest one-click inspection (C(/v1/cluster/inspection/progress)).
    type: list
    elements: str
    default: []
    choices: [all, topology, top, storage, network, cloud_manage, cvms, storage_vms, compute, compute_hosts, chassis,
              global_config, drs, overview, hardware_resources, detail_status, overall_status, vmserver, snapshots,
              snapshot_policy, inspection]
  top_count:
    description:
      - How many hosts each ranking of V(top) holds.
    type: int
    default: 10
seealso:
  - module: tos.cloud.cluster
"""

EXAMPLES = r"""
- name: Read every cluster with its hosts
  tos.cloud.cluster_info:
    api_url: http://127.0.0.1:9990
  register: tos_clusters

- name: List the cluster names
  ansible.builtin.debug:
    msg: "{{ tos_clusters.clusters | map(attribute='name') | list }}"

- name: Read one cluster with its storage summary and its cloud-management VMs
  tos.cloud.cluster_info:
    api_url: http://127.0.0.1:9990
    cluster: 生产集群
    gather: [storage, cvms]
  register: tos_one
  when: "'生产集群' in tos_clusters.clusters | map(attribute='name')"
"""

RETURN = r"""
clusters:
  description:
    - The clusters read, in the order of the cluster list (one when O(cluster) is set).
    - Each has the keys of RV(cluster) and, for each section of O(gather), a key of the same name.
  returned: always
  type: list
  elements: dict
cluster:
  description: The cluster named by O(cluster).
  returned: when O(cluster) is set
  type: dict
  contains:
    uuid:
      description: UUID of the cluster.
      type: str
    name:
      description: Name of the cluster.
      type: str
    desc:
      description: Description of the cluster.
      type: str
    ctime:
      description: Creation time (Unix seconds).
      type: int
    candidates:
      description: Addresses of the center nodes.
      type: list
      elements: str
    tenants:
      description: UUIDs of the cluster's tenants.
      type: list
      elements: str
    hosts:
      description:
        - The physical hosts of the topology, each with C(uuid), C(name), C(ip) (management), C(storage_ip),
          C(backup_ip), C(roles), C(agent_status) and C(maintenance), as M(tos.cloud.cluster) returns them.
      type: list
      elements: dict
    system_vms:
      description: The running system VMs of the topology, with C(host_uuid), the host they run on.
      type: list
      elements: dict
    top:
      description: The C(/v1/cluster/top) answer.
      returned: when V(top) is gathered
      type: dict
    storage:
      description: The C(/v1/cluster/system/service/storage) answer (C(inner), C(external)).
      returned: when V(storage) is gathered
      type: dict
    network:
      description: The C(/v1/cluster/system/service/network) answer.
      returned: when V(network) is gathered
      type: dict
    cloud_manage:
      description: The C(host_info) list of C(/v1/cluster/cloud/manage).
      returned: when V(cloud_manage) is gathered
      type: list
      elements: dict
    cvms:
      description: The cloud-management VMs (C(uuid), C(name), C(ip), C(address), C(host_uuid), C(is_leader), C(status)).
      returned: when V(cvms) is gathered
      type: list
      elements: dict
    storage_vms:
      description: The storage-service VMs (C(uuid), C(name), C(vm_type), C(manage_address), C(storage_address), ...).
      returned: when V(storage_vms) is gathered
      type: list
      elements: dict
    compute:
      description: The C(/v1/cluster/compute/service/statistic) answer with every page's C(HostStatistics).
      returned: when V(compute) is gathered
      type: dict
    compute_hosts:
      description: The per-host compute statistics, one entry per physical host.
      returned: when V(compute_hosts) is gathered
      type: list
      elements: dict
    chassis:
      description: The network chassis.
      returned: when V(chassis) is gathered
      type: list
      elements: dict
    global_config:
      description: The over-allocation thresholds.
      returned: when V(global_config) is gathered
      type: dict
      sample: {"CPUOverAllocationThreshold": 0.8, "MemOverAllocationThreshold": 0.8,
               "StorOverAllocationThreshold": 0.9, "USDOverAllocationThreshold": 0.9}
    drs:
      description: The DRS and DPM configuration (C(DRS), C(DPM)).
      returned: when V(drs) is gathered
      type: dict
    overview:
      description: The C(/v1/cluster/overview/inspect) answer.
      returned: when V(overview) is gathered
      type: dict
    hardware_resources:
      description: The C(/v1/cluster/hardware_resources/inspect) answer.
      returned: when V(hardware_resources) is gathered
      type: dict
    detail_status:
      description: The C(/v1/cluster/detail_status/inspect) answer.
      returned: when V(detail_status) is gathered
      type: dict
    overall_status:
      description: The C(/v1/cluster/overall_status/inspect) answer.
      returned: when V(overall_status) is gathered
      type: dict
    vmserver:
      description: The C(/v1/cluster/vmserver/service/get) answer.
      returned: when V(vmserver) is gathered
      type: dict
    topology:
      description: The cluster's entry of the network topology map (C(ClusterName), C(HostIFacesInfo)).
      returned: when V(topology) is gathered
      type: dict
    snapshots:
      description: Metadata snapshot file names, oldest first.
      returned: when V(snapshots) is gathered
      type: list
      elements: str
      sample: ["snapshot1572928633.db"]
    snapshot_policy:
      description: The metadata snapshot policy and daemon state.
      returned: when V(snapshot_policy) is gathered
      type: dict
      sample: {"duration": 3600, "display_option": "hour", "mtime": 1568947728, "daemon_state": "running"}
    inspection:
      description: The C(/v1/cluster/inspection/progress) answer.
      returned: when V(inspection) is gathered
      type: dict
"""

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, by_field
from ansible_collections.tos.cloud.plugins.module_utils._checks import check_range, first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import SNAPSHOT_LIST, read_snapshot_policy, snapshot_names
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._system_vm import list_storage_vms, read_cvms
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    describe_cluster,
    get_cluster,
    leader_ip,
    list_clusters,
    physical_nodes,
    read_cloud_manage,
    read_topology_map,
    require_cluster,
)

HARDWARE_FLAGS = ("storage_status", "storage_top", "cpu_status", "cpu_top", "memory_status", "memory_top",
                  "network_status", "network_top", "vsm_status", "io_status")
DETAIL_FLAGS = ("vm_status", "vm_top", "storage_status", "storage_iops_top", "storage_mbps_top", "storage_pool_top",
                "container_status", "container_top", "network_equipment_status", "security_network_element_status",
                "tenant_status")
OVERALL_FLAGS = ("manager_cloud_status", "compute_status", "storage_status", "network_status", "cloud_manage_status")


class Gatherer:
    """Reads the sections of one cluster; caches what several sections share."""

    def __init__(self, tm, entry, detail):
        self.tm = tm
        self.client = tm.client
        self.uuid = entry["uuid"]
        self.name = entry["name"]
        self.detail = detail
        self._manage = None

    def query(self, **extra):
        return dict(extra, cluster_uuid=self.uuid)

    def get(self, path, **extra):
        with self.tm.scope("read %s of cluster %r" % (path, self.name)):
            return self.client.get(path, self.query(**extra)) or {}

    def manage(self):
        if self._manage is None:
            with self.tm.scope("read the center nodes of cluster %r" % self.name):
                self._manage = read_cloud_manage(self.client, self.uuid)
        return self._manage

    def center_ip(self):
        """The leader center node's address (else the first), or None without a center node."""
        return leader_ip(self.manage(), self.detail)

    # -- the sections, one method each, named like the gather choice -------------------------

    def topology(self):
        with self.tm.scope("read the network topology of cluster %r" % self.name):
            return read_topology_map(self.client, self.uuid)

    def top(self):
        return self.get("/v1/cluster/top", count=self.tm.params["top_count"])

    def storage(self):
        return self.get("/v1/cluster/system/service/storage")

    def network(self):
        return self.get("/v1/cluster/system/service/network")

    def cloud_manage(self):
        return self.manage()

    def cvms(self):
        with self.tm.scope("place the cloud-management VMs of cluster %r" % self.name):
            return read_cvms(self.client, self.uuid, self.detail, self.manage())

    def storage_vms(self):
        with self.tm.scope("list the storage-service VMs of cluster %r" % self.name):
            return list_storage_vms(self.client, self.uuid)

    def compute(self):
        path = "/v1/cluster/compute/service/statistic"
        pages = []
        with self.tm.scope("read %s of cluster %r" % (path, self.name)):
            hosts = list(self.client.paginate(path, self.query(), items_key="HostStatistics",
                                              key=by_field("HostUUID", "UUID"), on_page=pages.append))
        first = dict(pages[0]) if pages and isinstance(pages[0], dict) else {}
        first["HostStatistics"] = hosts
        return first

    def compute_hosts(self):
        result = []
        for node in physical_nodes(self.detail):
            entry = {"uuid": node.get("UUID"), "name": node.get("name")}
            try:
                data = self.get("/v1/cluster/compute/service/statistic/host", machine=node.get("UUID"))
            except TosApiError as exc:
                if exc.kind != "api":
                    raise
                entry["error"] = exc.message
            else:
                entry.update(data)
                entry.update(uuid=node.get("UUID"), name=node.get("name"))
            result.append(entry)
        return result

    def chassis(self):
        # the table: tenant_uuid and filter_ip required with default "" (the example sends filter_ip=)
        with self.tm.scope("list the chassis of cluster %r" % self.name):
            return list(self.client.paginate("/v1/cluster/chassis/list",
                                             dict(self.query(), tenant_uuid="", filter_ip=""),
                                             key=by_field("chassis.chassis_uuid", "encap.chassis_uuid")))

    def global_config(self):
        return self.get("/v1/cluster/get/global/config")

    def drs(self):
        data = self.get("/v1/cluster/compute/service/drsconfig/get")
        return data.get("config", data)

    def overview(self):
        return self.get("/v1/cluster/overview/inspect")

    def hardware_resources(self):
        return self.get("/v1/cluster/hardware_resources/inspect", **dict.fromkeys(HARDWARE_FLAGS, "true"))

    def detail_status(self):
        return self.get("/v1/cluster/detail_status/inspect", **dict.fromkeys(DETAIL_FLAGS, "true"))

    def overall_status(self):
        return self.get("/v1/cluster/overall_status/inspect", **dict.fromkeys(OVERALL_FLAGS, "true"))

    def vmserver(self):
        return self.get("/v1/cluster/vmserver/service/get")

    def snapshots(self):
        ip = self.center_ip()
        if ip is None:
            return []
        return snapshot_names(self.get(SNAPSHOT_LIST, ip=ip))

    def snapshot_policy(self):
        ip = self.center_ip()
        if ip is None:
            return None
        with self.tm.scope("read the snapshot policy of cluster %r" % self.name):
            policy = read_snapshot_policy(self.client, self.query(ip=ip))
        return {"duration": policy["interval"], "display_option": policy["display_option"], "mtime": policy["mtime"],
                "daemon_state": policy["daemon_state"]}

    def inspection(self):
        return self.get("/v1/cluster/inspection/progress")


SECTIONS = ("topology", "top", "storage", "network", "cloud_manage", "cvms", "storage_vms", "compute", "compute_hosts",
            "chassis", "global_config", "drs", "overview", "hardware_resources", "detail_status", "overall_status",
            "vmserver", "snapshots", "snapshot_policy", "inspection")


def sections_to_gather(gather):
    """The sections asked for, in the documented order, ``all`` expanded, duplicates dropped."""
    wanted = set(gather or [])
    if "all" in wanted:
        return list(SECTIONS)
    return [name for name in SECTIONS if name in wanted]


def read_cluster(tm, entry, sections):
    with tm.scope("read cluster %r" % entry["name"]):
        detail = get_cluster(tm.client, entry["uuid"])
    cluster = describe_cluster(entry, detail)
    gatherer = Gatherer(tm, entry, detail)
    for name in sections:
        cluster[name] = getattr(gatherer, name)()
    return cluster


def run(tm):
    params = tm.params
    error = first_error(check_range("top_count", params["top_count"], 1, 10000))
    if error:
        tm.fail(error)
    sections = sections_to_gather(params["gather"])
    if params["cluster"] is not None:
        entry = require_cluster(tm, params["cluster"])
        cluster = read_cluster(tm, entry, sections)
        tm.exit(changed=False, clusters=[cluster], cluster=cluster)
    with tm.scope("list the clusters"):
        entries = list_clusters(tm.client)
    clusters = [read_cluster(tm, entry, sections) for entry in entries]
    tm.exit(changed=False, clusters=clusters)


def main():
    TosModule(argument_spec=dict(
        cluster=dict(type="str"),
        gather=dict(type="list", elements="str", default=[], choices=["all"] + list(SECTIONS)),
        top_count=dict(type="int", default=10),
    )).execute(run)


if __name__ == "__main__":
    main()
