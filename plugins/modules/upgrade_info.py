#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: upgrade_info
short_description: Read a cluster's upgrade packages, host versions and backups
version_added: 0.1.0
description:
  - Reads the upgrade packages (C(/v1/system/upgrade_package/list)), the package currently uploaded
    (C(/v1/system/upgrade_package/current/inspect)), the versions each host runs per service type and,
    per host, the backup versions kept by earlier upgrades (C(/v1/system/compute/version/list)).
  - Tells for each host which service types are older than the uploaded package.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
  - tos.cloud.attributes.INFO_MODULE
options:
  hosts:
    description:
      - Only these hosts, each by name, management IP or UUID as the cluster's topology shows it.
      - Default is every host of the cluster.
    type: list
    elements: str
  gather_backups:
    description:
      - Also read each selected host's backup versions (one request per host).
    type: bool
    default: true
seealso:
  - module: tos.cloud.upgrade
"""

EXAMPLES = r"""
- name: Read the upgrade state of a cluster
  tos.cloud.upgrade_info:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
  register: upgrade_state

- name: Show the hosts still to upgrade
  ansible.builtin.debug:
    msg: "{{ upgrade_state.hosts | selectattr('up_to_date', 'equalto', false) | map(attribute='host') | list }}"

- name: Read one host's backup versions
  tos.cloud.upgrade_info:
    api_url: http://127.0.0.1:9990
    cluster: demo-a
    hosts: [192.0.2.11]
"""

RETURN = r"""
cluster:
  description: The cluster.
  returned: always
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
    uuid:
      description: Cluster UUID.
      type: str
current_package:
  description: The upgrade package currently uploaded, or null when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: Package file name.
      type: str
      sample: updatepackage_3.2.5.rc2.tar.gz
    version:
      description: Package version.
      type: str
      sample: 3.2.5.rc2
    md5:
      description: MD5 of the package.
      type: str
      sample: 41ff13b3b85609c5f5a932b106c5130d
    size:
      description: Size in bytes.
      type: int
      sample: 340416119
    update_time:
      description: When the package was uploaded (Unix time).
      type: int
      sample: 1615374182
packages:
  description: The upgrade packages the manager lists (C(package_list)), as it returns them; empty when it lists none.
  returned: always
  type: list
  elements: dict
host_list:
  description: Management IPs of the hosts the upgrade service knows (C(host_list)).
  returned: always
  type: list
  elements: str
hosts:
  description: One entry per selected host, in topology order.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: Host name.
      type: str
      sample: tos-a1
    ip:
      description: Management IP.
      type: str
      sample: 192.0.2.11
    uuid:
      description: Host UUID.
      type: str
    type_version:
      description: Installed version per service type (compute, storage, cloud).
      type: dict
      sample: {"compute": "3.2.4", "storage": "3.2.4"}
    upgrade_packages:
      description: The host's C(upgrade_package_list) as the manager returns it.
      type: list
      elements: dict
    outdated:
      description: Service types older than the uploaded package.
      type: list
      elements: str
      sample: [compute, storage]
    up_to_date:
      description: Whether no service type is older than the uploaded package (true when there is no package).
      type: bool
    backups:
      description: Backup versions kept on the host (C(compute/version/list)).
      returned: when O(gather_backups=true)
      type: list
      elements: dict
      contains:
        package_name:
          description: Backup file name.
          type: str
          sample: backup_3.2.3_20240311_1020.tar.gz
        version:
          description: Backed-up version.
          type: str
          sample: 3.2.3
        md5:
          description: MD5 of the backup.
          type: str
        size:
          description: Size in bytes.
          type: int
        update_time:
          description: When the backup was made (Unix time).
          type: int
"""

from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC, get_cluster, require_cluster
from ansible_collections.tos.cloud.plugins.module_utils._upgrade import (
    compare_versions,
    read_backups,
    read_current_package,
    read_package_list,
    require_hosts,
)


def run(tm):
    params = tm.params
    if params["hosts"] == []:
        tm.fail("Invalid input: hosts: must not be an empty list (leave it unset for every host).")
    cluster = require_cluster(tm, params["cluster"])
    uuid = cluster["uuid"]
    detail = get_cluster(tm.client, uuid)
    tm.doing("read the upgrade package of cluster '%s'" % cluster["name"])
    package = read_current_package(tm.client, uuid, missing_ok=True)
    tm.doing("read the upgrade package list of cluster '%s'" % cluster["name"])
    listing = read_package_list(tm.client, uuid)
    hosts = require_hosts(tm, cluster, detail, listing["hosts"], params["hosts"])
    result_hosts = []
    for host in hosts:
        entry = listing["hosts"].get(host["ip"]) or {}
        type_version = entry.get("type_version") or {}
        outdated = [t for t, v in type_version.items() if package and compare_versions(v, package["version"]) < 0]
        item = dict(host, type_version=type_version, upgrade_packages=entry.get("upgrade_package_list") or [],
                    outdated=outdated, up_to_date=not outdated)
        if params["gather_backups"] and host["ip"]:
            tm.doing("read the backup versions of host %s" % host["host"])
            item["backups"] = read_backups(tm.client, uuid, host["ip"])
        result_hosts.append(item)
    tm.exit(
        cluster={"name": cluster["name"], "uuid": uuid},
        current_package=package,
        packages=listing["packages"],
        host_list=listing["host_list"],
        hosts=result_hosts,
    )


def main():
    TosModule(
        argument_spec=dict(
            CLUSTER_ARGSPEC,
            hosts=dict(type="list", elements="str"),
            gather_backups=dict(type="bool", default=True),
        ),
    ).execute(run)


if __name__ == "__main__":
    main()
