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

from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    INT32_MAX,
    check_at_least,
    check_fraction,
    check_low_below_high,
    first_error,
    parse_level,
)
from ansible_collections.tos.cloud.plugins.module_utils._config import same_config, settle
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule, from_api, merge, pick, to_api
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC, require_cluster

GET = "/v1/cluster/compute/service/drsconfig/get"
UPDATE = "/v1/cluster/compute/service/drsconfig/update"

# option -> API field, per section (section option -> API object)
SECTIONS = {
    "drs": ("DRS", {
        "enabled": "Enabled",
        "max_step": "MaxStep",
        "max_concurrent_migration": "MaxConcurrentMigration",
        "max_host_concurrent_migration": "MaxHostConcurrentMigration",
        "threshold_level": "ThresholdLevel",
        "min_benefit_level": "MinBenefitLevel",
    }),
    "dpm": ("DPM", {
        "enabled": "Enabled",
        "high_threshold": "HighThreshold",
        "low_threshold": "LowThreshold",
    }),
}
LEVELS = ("threshold_level", "min_benefit_level")
COUNTS = ("max_step", "max_concurrent_migration", "max_host_concurrent_migration")


def desired_options(params):
    """The options the user set, per section, with levels as numbers; and the input errors."""
    errors = []
    desired = {}
    for section, (_field, mapping) in SECTIONS.items():
        values = pick(params.get(section) or {}, list(mapping))
        for name in LEVELS:
            if name in values:
                values[name], error = parse_level("%s.%s" % (section, name), values[name])
                errors.append(error)
        for name in COUNTS:
            # cluster-api.md, drsconfig/get and update, DRS object: MaxStep, MaxConcurrentMigration and
            # MaxHostConcurrentMigration are int32 (no other bound is documented)
            errors.append(check_at_least("%s.%s" % (section, name), values.get(name), 1, INT32_MAX))
        for name in ("high_threshold", "low_threshold"):
            errors.append(check_fraction("%s.%s" % (section, name), values.get(name)))
        desired[section] = values
    return desired, [e for e in errors if e]


def as_options(config):
    """The API's config object in option names."""
    return {section: from_api((config or {}).get(field) or {}, mapping)
            for section, (field, mapping) in SECTIONS.items()}


def as_api(options):
    return {field: to_api(options.get(section) or {}, mapping) for section, (field, mapping) in SECTIONS.items()}


def merged_errors(desired, after):
    """Checks of the merged configuration that involve what the user set: DPM low < high, and no
    more migrations per host than in the whole cluster."""
    errors = []
    dpm, drs = desired.get("dpm") or {}, desired.get("drs") or {}
    if "low_threshold" in dpm or "high_threshold" in dpm:
        merged = after.get("DPM") or {}
        errors.append(check_low_below_high("dpm.low_threshold", merged.get("LowThreshold"),
                                           "dpm.high_threshold", merged.get("HighThreshold"),
                                           set_by_user=["dpm.%s" % name for name in dpm]))
    if "max_host_concurrent_migration" in drs or "max_concurrent_migration" in drs:
        merged = after.get("DRS") or {}
        per_host, total = merged.get("MaxHostConcurrentMigration"), merged.get("MaxConcurrentMigration")
        if isinstance(per_host, int) and isinstance(total, int) and per_host > total:
            errors.append("drs.max_host_concurrent_migration: %s%s must not exceed drs.max_concurrent_migration %s%s" % (
                per_host, "" if "max_host_concurrent_migration" in drs else " (current value)",
                total, "" if "max_concurrent_migration" in drs else " (current value)"))
    return [e for e in errors if e]


def run(tm):
    desired, errors = desired_options(tm.params)
    if errors:
        tm.fail(first_error(*errors))
    cluster = require_cluster(tm, tm.params["cluster"])
    tm.doing("read the DRS/DPM configuration of cluster %r" % cluster["name"])

    def read():
        return (tm.client.get(GET, {"cluster_uuid": cluster["uuid"]}) or {}).get("config") or {}

    current = read()
    after = merge(current, settle(current, as_api(desired)))
    errors = merged_errors(desired, after)
    if errors:
        tm.fail(first_error(*errors))
    changed = tm.track(as_options(current), as_options(after))
    if changed and not tm.check_mode:
        tm.doing("update the DRS/DPM configuration of cluster %r" % cluster["name"])
        body = {"cluster_uuid": cluster["uuid"], "cluster_name": cluster["name"], "config": after}
        tm.client.post_verified(UPDATE, body, landed=lambda: same_config(read(), after))
    tm.exit(config=as_options(after), cluster={"name": cluster["name"], "uuid": cluster["uuid"]})


def main():
    spec = dict(
        CLUSTER_ARGSPEC,
        drs=dict(type="dict", options=dict(
            enabled=dict(type="bool"),
            max_step=dict(type="int"),
            max_concurrent_migration=dict(type="int"),
            max_host_concurrent_migration=dict(type="int"),
            threshold_level=dict(type="raw"),
            min_benefit_level=dict(type="raw"),
        )),
        dpm=dict(type="dict", options=dict(
            enabled=dict(type="bool"),
            high_threshold=dict(type="float"),
            low_threshold=dict(type="float"),
        )),
    )
    TosModule(argument_spec=spec).execute(run)


if __name__ == "__main__":
    main()
