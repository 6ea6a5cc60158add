#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: global_config
short_description: Set the over-allocation thresholds of a cluster
version_added: 0.1.0
description:
  - Reads the global configuration of a cluster (C(/v1/cluster/get/global/config)) and sets it
    (C(/v1/cluster/set/global/config)) when it differs from what is asked.
  - Only the thresholds you set are enforced; the others keep their current value. The module always sends
    all four thresholds, as the API requires.
  - A threshold is a ratio of the physical capacity that may be allocated, V(0.8) is 80 %; values above V(1)
    allow over-allocation (V(4) lets the VMs have four times the physical CPUs). It must be greater than V(0)
    and at most V(100).
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
  storage:
    description:
      - Storage allocation threshold (API field C(StorOverAllocationThreshold)).
    type: float
  cpu:
    description:
      - CPU allocation threshold (API field C(CPUOverAllocationThreshold)).
    type: float
  memory:
    description:
      - Memory allocation threshold (API field C(MemOverAllocationThreshold)).
    type: float
  usd:
    description:
      - Data disk (USD) allocation threshold (API field C(USDOverAllocationThreshold)).
    type: float
notes:
  - The API stores the thresholds as 32-bit floats; values equal up to that precision count as unchanged.
"""

EXAMPLES = r"""
- name: Allow four times the physical CPUs, keep the other thresholds
  tos.cloud.global_config:
    api_url: http://127.0.0.1:9990
    cluster: prod
    cpu: 4.0

- name: Set every threshold
  tos.cloud.global_config:
    api_url: http://127.0.0.1:9990
    cluster: prod
    storage: 0.85
    cpu: 2.0
    memory: 0.9
    usd: 0.85
"""

RETURN = r"""
config:
  description: The thresholds after the change (in check mode, as they would be).
  returned: success
  type: dict
  sample: {"storage": 0.85, "cpu": 2.0, "memory": 0.9, "usd": 0.85}
cluster:
  description: The cluster.
  returned: success
  type: dict
  sample: {"name": "prod", "uuid": "3afdbbfc-e45a-430e-abba-842074a8b035"}
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import (
    GLOBAL_CONFIG_FIELDS,
    GLOBAL_CONFIG_GET,
    GLOBAL_CONFIG_SET,
    global_config_errors,
    same_config,
    settle,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule, from_api, merge, pick, to_api
from ansible_collections.tos.cloud.plugins.module_utils._topology import CLUSTER_ARGSPEC, require_cluster

FIELDS = GLOBAL_CONFIG_FIELDS


def config_of(data):
    """The thresholds from a get/global/config answer: at the top of ``data`` or under a
    ``config``/``global_config`` key (the document shows no example)."""
    data = data if isinstance(data, dict) else {}
    for key in ("config", "global_config", "GlobalConfig"):
        if isinstance(data.get(key), dict):
            data = data[key]
            break
    return {field: data[field] for field in FIELDS.values() if field in data}


def run(tm):
    desired = pick(tm.params, list(FIELDS))
    error = first_error(*global_config_errors(desired))
    if error:
        tm.fail(error)
    cluster = require_cluster(tm, tm.params["cluster"])

    def read():
        return config_of(tm.client.get(GLOBAL_CONFIG_GET, {"cluster_uuid": cluster["uuid"]}))

    with tm.scope("read the global configuration of cluster %r" % cluster["name"]):
        current = read()
    after = merge(current, settle(current, to_api(desired, FIELDS)))
    missing = [name for name, field in FIELDS.items() if after.get(field) is None]
    if missing:
        tm.fail("The manager did not return the current %s threshold(s) and the API needs all four: set %s."
                % (", ".join(missing), ", ".join(missing)))
    changed = tm.track(from_api(current, FIELDS), from_api(after, FIELDS))
    if changed and not tm.check_mode:
        with tm.scope("set the global configuration of cluster %r" % cluster["name"]):
            body = dict(after, cluster_uuid=cluster["uuid"])
            tm.client.post_verified(GLOBAL_CONFIG_SET, body, landed=lambda: same_config(read(), after))
    tm.exit(config=from_api(after, FIELDS), cluster={"name": cluster["name"], "uuid": cluster["uuid"]})


def main():
    spec = dict(CLUSTER_ARGSPEC)
    spec.update({name: dict(type="float") for name in FIELDS})
    TosModule(argument_spec=spec).execute(run)


if __name__ == "__main__":
    main()
