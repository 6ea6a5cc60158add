# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a simulator fixture with CLUSTERS pre-created clusters of HOSTS hosts each, one CVM per cluster.

Usage: make_large_fixture.py OUT [CLUSTERS [HOSTS]]   (default 50 x 20 = 1,000 hosts)

The documentation ranges hold too few addresses for 1,000 hosts: hosts use 198.18.0.0/15, the range
reserved for benchmarks (RFC 2544), one /24 per cluster: hosts .11 upwards, the CVM at .250.
"""

from __future__ import annotations

import sys

import yaml


def fixture(clusters, hosts):
    groups = []
    precreated = []
    for c in range(clusters):
        net = "198.18.%d" % c
        members = [{"name": "bench-%02d-%02d" % (c, h), "management": {"ip": "%s.%d" % (net, 11 + h), "nic": "eth0"}}
                   for h in range(hosts)]
        groups.append({"name": "bench-group-%02d" % c, "prefix": 24, "hosts": members})
        precreated.append({"name": "bench-%02d" % c, "seed": members[0]["name"],
                           "cvms": [{"host": members[0]["name"], "address": "%s.250/24" % net, "gateway": "%s.1" % net}]})
    return {
        "manager": {"members": ["198.18.0.11"], "leader": "198.18.0.11", "ready": True},
        "host_defaults": {"type_version": {"compute": "3.2.4", "storage": "3.2.4"}},
        "groups": groups,
        "clusters": precreated,
    }


def main(argv):
    out = argv[1]
    clusters = int(argv[2]) if len(argv) > 2 else 50
    hosts = int(argv[3]) if len(argv) > 3 else 20
    with open(out, "w", encoding="utf-8") as handle:
        yaml.safe_dump(fixture(clusters, hosts), handle, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv)
