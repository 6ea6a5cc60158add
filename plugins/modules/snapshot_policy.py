#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot_policy
short_description: Set how often a cluster snapshots its metadata, and run or stop the snapshot daemon
version_added: 0.1.0
description:
  - Reads the metadata backup policy (C(/v1/cluster/data/snapshot/config/inspect)) and the state of the snapshot
    daemon (C(/v1/cluster/data/daemon/state)) of a cluster, and changes them
    (C(/v1/cluster/data/snapshot/config/update), C(/v1/cluster/data/daemon/start), C(/v1/cluster/data/daemon/stop))
    when they differ from what is asked.
  - Options you leave unset are left as they are.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
  - tos.cloud.cluster
  - tos.cloud.cluster.CENTER_IP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  interval:
    description:
      - How often a snapshot is taken, as seconds (V(86400)) or as a number with a unit, V(s), V(m), V(h), V(d) or
        V(w) (V(30m), V(6h), V(1d), V(1w)); units may be combined (V(1h30m)).
      - The API takes the interval in seconds (C(duration), "单位为秒") and states no other rule, so any
        whole number of seconds of at least one second is sent as given (V(90m) is 5400); a platform that
        schedules in whole hours only refuses other values with its own message.
      - The API's C(display_option) is derived from it, the largest of V(week), V(day) and V(hour) that divides the
        interval evenly (V(36h) is V(hour), V(2d) is V(day)); the exact interval is always sent in seconds.
    type: raw
  daemon:
    description:
      - Whether the metadata snapshot daemon runs (V(started)) or not (V(stopped)).
    type: str
    choices: [started, stopped]
"""

EXAMPLES = r"""
- name: Snapshot the metadata every 6 hours and make sure the daemon runs
  tos.cloud.snapshot_policy:
    api_url: http://127.0.0.1:9990
    cluster: prod
    interval: 6h
    daemon: started

- name: Stop taking snapshots for a maintenance window
  tos.cloud.snapshot_policy:
    api_url: http://127.0.0.1:9990
    cluster: prod
    daemon: stopped
"""

RETURN = r"""
policy:
  description: The policy after the change (in check mode, as it would be).
  returned: success
  type: dict
  contains:
    interval:
      description: Seconds between snapshots.
      type: int
      sample: 21600
    interval_text:
      description: The interval in the short form O(interval) accepts.
      type: str
      sample: 6h
    display_option:
      description: The unit the platform's UI shows the interval in.
      type: str
      sample: hour
    daemon:
      description: Whether the snapshot daemon runs.
      type: str
      sample: started
center_ip:
  description: The center node the requests went to.
  returned: success
  type: str
  sample: 192.0.2.50
cluster:
  description: The cluster.
  returned: success
  type: dict
  sample: {"name": "prod", "uuid": "3afdbbfc-e45a-430e-abba-842074a8b035"}
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import (
    check_ip,
    first_error,
    format_interval,
)
from ansible_collections.tos.cloud.plugins.module_utils._config import (
    DAEMON,
    DAEMON_STATE,
    SNAPSHOT_CONFIG,
    SNAPSHOT_CONFIG_UPDATE,
    daemon_of,
    display_option,
    snapshot_config_of,
    snapshot_interval,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CENTER_IP_ARGSPEC,
    CLUSTER_ARGSPEC,
    require_center_ip,
    require_cluster,
)


def run(tm):
    interval, errors = snapshot_interval("interval", tm.params["interval"])
    error = first_error(*errors, check_ip("center_ip", tm.params["center_ip"]))
    if error:
        tm.fail(error)
    cluster = require_cluster(tm, tm.params["cluster"])
    ip = require_center_ip(tm, cluster)
    query = {"cluster_uuid": cluster["uuid"], "ip": ip}

    def read_config():
        config = snapshot_config_of(tm.client.get(SNAPSHOT_CONFIG, query))
        return {"interval": config["interval"], "display_option": config["display_option"]}

    def read_daemon():
        return daemon_of(tm.client.get(DAEMON_STATE, query))

    with tm.scope("read the snapshot policy of cluster %r" % cluster["name"]):
        before = dict(read_config(), daemon=read_daemon())
    after = dict(before)
    if interval is not None:
        after.update(interval=interval, display_option=display_option(interval))
    if tm.params["daemon"]:
        after["daemon"] = tm.params["daemon"]
    tm.track(before, after)
    if not tm.check_mode:
        wanted = {"interval": after["interval"], "display_option": after["display_option"]}
        if wanted != {"interval": before["interval"], "display_option": before["display_option"]}:
            with tm.scope("set the snapshot interval of cluster %r to %s" % (cluster["name"], format_interval(interval))):
                body = dict(query, duration=interval, display_option=after["display_option"])
                tm.client.post_verified(SNAPSHOT_CONFIG_UPDATE, body, landed=lambda: read_config() == wanted)
        if after["daemon"] != before["daemon"]:
            verb = "start" if after["daemon"] == "started" else "stop"
            with tm.scope("%s the snapshot daemon of cluster %r" % (verb, cluster["name"])):
                tm.client.post_verified(DAEMON[after["daemon"]], dict(query),
                                        landed=lambda: read_daemon() == after["daemon"])
    policy = dict(after, interval_text=format_interval(after["interval"]))
    tm.exit(policy=policy, center_ip=ip, cluster={"name": cluster["name"], "uuid": cluster["uuid"]})


def main():
    spec = dict(
        CLUSTER_ARGSPEC,
        **CENTER_IP_ARGSPEC,
        interval=dict(type="raw"),
        daemon=dict(type="str", choices=["started", "stopped"]),
    )
    TosModule(argument_spec=spec).execute(run)


if __name__ == "__main__":
    main()
