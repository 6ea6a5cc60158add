# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The required cluster option of the cluster-scoped modules
    # (plugins/module_utils/_topology.py CLUSTER_ARGSPEC, resolved by require_cluster).
    DOCUMENTATION = r"""
options:
  cluster:
    description:
      - Name (exact) or UUID of the cluster.
    type: str
    required: true
"""

    # wait/wait_timeout of the modules that deploy something (plugins/module_utils/_module.py WAIT_ARGSPEC).
    # A module whose wait means more overrides only the description.
    WAIT = r"""
options:
  wait:
    description:
      - Wait until the deploy has finished.
      - With V(false), the module returns as soon as the platform accepted the request; a later run with
        V(true) waits for a deploy still running.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true) before failing.
    type: int
    default: 600
"""

    # The center node the metadata snapshot endpoints are asked through
    # (plugins/module_utils/_topology.py CENTER_IP_ARGSPEC, resolved by require_center_ip).
    CENTER_IP = r"""
options:
  center_ip:
    description:
      - IP address of the center node (cloud-management VM) that the requests go to.
      - Defaults to the cluster's leader center node, found from C(/v1/cluster/cloud/manage) (or, when that lists
        none, from the cluster topology).
      - When set, it must be one of the cluster's center nodes; the module reads them first and fails naming
        O(center_ip) otherwise, before any change.
    type: str
"""
