#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: drs_config
short_description: Configure DRS (load balancing) and DPM (power management) of a cluster
version_added: 0.1.0
description:
  - Reads the compute service's DRS and DPM configuration of a cluster (C(/v1/cluster/compute/service/drsconfig/get))
    and updates it (C(/v1/cluster/compute/service/drsconfig/update)) when it differs from what is asked.
  - Only the options you set are enforced; every other field keeps its current value. The module always sends
    the whole configuration (DRS and DPM) back, as the API expects.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  drs:
    description:
      - Distributed resource scheduling (automatic migration of VMs between hosts).
    type: dict
    suboptions:
      enabled:
        description: Whether DRS runs.
        type: bool
      max_step:
        description: Most VMs migrated per DRS run (at least 1).
        type: int
      max_concurrent_migration:
        description: Most migrations running at once in the cluster (at least 1).
        type: int
      max_host_concurrent_migration:
        description:
          - Most migrations running at once per host (at least 1).
          - Must not exceed O(drs.max_concurrent_migration), whether you set that or it is the current one.
        type: int
      threshold_level:
        description:
          - How readily DRS triggers, from V(1) (most conservative) to V(5) (most aggressive).
          - Also accepted by name, V(most_conservative), V(conservative), V(normal), V(aggressive) or V(most_aggressive).
        type: raw
      min_benefit_level:
        description:
          - How much a migration must improve the balance to be done, from V(1) (most conservative) to
            V(5) (most aggressive).
          - Also accepted by name, as O(drs.threshold_level).
        type: raw
  dpm:
    description:
      - Distributed power management (hosts put to sleep and woken up with the load).
    type: dict
    suboptions:
      enabled:
        description: Whether DPM runs.
        type: bool
      high_threshold:
        description:
          - Resource usage above which a host wakes another one up. The API's table says 0~100 % while its example
            sends V(0.8); both are accepted and sent as written, so write it in the scale your platform uses
            (the current value in the result shows it).
          - Must stay greater than the low threshold, whether you set that or it is the current one.
        type: float
      low_threshold:
        description:
          - Resource usage below which hosts may be put to sleep, in the same scale as O(dpm.high_threshold).
          - Must stay lower than the high threshold, whether you set that or it is the current one.
        type: float
notes:
  - Levels are returned as numbers 1-5 whichever form you used.
"""

EXAMPLES = r"""
- name: Enable DRS with aggressive triggering and keep everything else as it is
  tos.cloud.drs_config:
    api_url: http://127.0.0.1:9990
    cluster: prod
    drs:
      enabled: true
      threshold_level: aggressive

- name: Enable DPM between 30 % and 85 % usage
  tos.cloud.drs_config:
    api_url: http://127.0.0.1:9990
    cluster: prod
    dpm:
      enabled: true
      low_threshold: 0.3
      high_threshold: 0.85
"""

RETURN = r"""
config:
  description: The DRS and DPM configuration after the change (in check mode, as it would be).
  returned: success
  type: dict
  contains:
    drs:
      description: The DRS settings, with the option names of O(drs).
      type: dict
      sample: {"enabled": true, "max_step": 4, "max_concurrent_migration": 4, "max_host_concurrent_migration": 2,
               "threshold_level": 4, "min_benefit_level": 3}
    dpm:
      description: The DPM settings, with the option names of O(dpm).
      type: dict
      sample: {"enabled": true, "high_threshold": 0.85, "low_threshold": 0.3}
cluster:
  description: The cluster.
  returned: success
  type: dict
  sample: {"name": "prod", "uuid": "3afdbbfc-e45a-430e-abba-842074a8b035"}
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import (
    DRS_GET,
    DRS_UPDATE,
    drs_argument_spec,
    drs_as_api,
    drs_as_options,
    drs_desired,
    drs_merged_errors,
    same_config,
    settle,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule, merge
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC, require_cluster

# the options, their API fields and their checks: _config.DRS_OPTIONS (shared with the cluster_bringup role's filter)
as_api = drs_as_api
as_options = drs_as_options


def desired_options(params):
    """The options the user set, per section, with levels as numbers; and the input errors."""
    return drs_desired(params)


def run(tm):
    desired, errors = desired_options(tm.params)
    if errors:
        tm.fail(first_error(*errors))
    cluster = require_cluster(tm, tm.params["cluster"])

    def read():
        return (tm.client.get(DRS_GET, {"cluster_uuid": cluster["uuid"]}) or {}).get("config") or {}

    with tm.scope("read the DRS/DPM configuration of cluster %r" % cluster["name"]):
        current = read()
    after = merge(current, settle(current, as_api(desired)))
    errors = drs_merged_errors(desired, after)
    if errors:
        tm.fail(first_error(*errors))
    changed = tm.track(as_options(current), as_options(after))
    if changed and not tm.check_mode:
        with tm.scope("update the DRS/DPM configuration of cluster %r" % cluster["name"]):
            body = {"cluster_uuid": cluster["uuid"], "cluster_name": cluster["name"], "config": after}
            tm.client.post_verified(DRS_UPDATE, body, landed=lambda: same_config(read(), after))
    tm.exit(config=as_options(after), cluster={"name": cluster["name"], "uuid": cluster["uuid"]})


def main():
    TosModule(argument_spec=dict(CLUSTER_ARGSPEC, **drs_argument_spec())).execute(run)


if __name__ == "__main__":
    main()
