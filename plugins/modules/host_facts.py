#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_facts
short_description: Gather a KVM host's facts the way the platform reports them
version_added: 0.1.0
description:
  - Runs on the managed host itself (not through the manager's API) and sets C(ansible_facts.tos_host)
    with the host information the platform's documents describe (the C(HostInfo) object of
    C(/v1/cluster/top)), plus CPU and memory usage, load, disks, network interfaces and disk and network
    rates.
  - Uses the Python library psutil and reads C(/etc/os-release), C(/proc) and C(/sys) directly; it starts
    no other program.
  - Runs without AnsiballZ. Its action validates the options on the controller, then pipes a self-contained
    collector (standard library and psutil, no Ansible code) to the host's Python in one command through the
    connection, with the task's C(become), C(environment) and interpreter (C(ansible_python_interpreter) or
    interpreter discovery). It costs less than half of C(ansible.builtin.setup) with C(gather_subset=min) in
    CPU (docs/performance.md, scenario 5); the facts are those the module returns.
  - The module itself runs, the usual way, with C(async), on a connection that cannot pipe a script to a
    command, with a C(become_method) that cannot either (C(su)), with C(ANSIBLE_KEEP_REMOTE_FILES), or when
    C(tos_cloud_in_process) is V(false) (a host, group, play or extra variable). The facts are the same.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.attributes
  - tos.cloud.attributes.FACTS
attributes:
  check_mode:
    support: full
    details:
      - Only reads the host.
  diff_mode:
    support: N/A
    details:
      - Only reads the host.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - Python 3.8 or later on the managed host (every managed-host Python of ansible-core 2.19, 3.8 to 3.13)
  - psutil >= 5.8 on the managed host (C(python3-psutil) or C(pip install psutil)); without it the task fails
    with one line saying so
options:
  gather:
    description:
      - What to collect.
      - V(host) the C(HostInfo) fields (hostname, uptime, boot time, processes, OS, platform, kernel,
        virtualization, host ID).
      - V(cpu) CPU count, model and usage, and the load averages.
      - V(memory) memory and swap.
      - V(disks) mounted file systems.
      - V(nics) network interfaces.
      - V(rates) disk and network throughput over O(sample_seconds).
    type: list
    elements: str
    choices: [host, cpu, memory, disks, nics, rates]
    default: [host, cpu, memory, disks, nics, rates]
  sample_seconds:
    description:
      - Seconds over which CPU usage and the disk and network rates are measured.
      - V(0) measures nothing over time; CPU usage is then the average since boot and there are no rates.
    type: float
    default: 0.5
notes:
  - Linux only for the C(host) section's platform fields (they come from C(/etc/os-release) and C(/proc)).
  - Runs on the managed host, unlike the API modules; it is not part of the C(tos.cloud.api) action group.
seealso:
  - module: ansible.builtin.setup
"""

EXAMPLES = r"""
- name: Gather the platform's view of each KVM host
  tos.cloud.host_facts:

- name: Show kernel and virtualization
  ansible.builtin.debug:
    msg: "{{ tos_host.hostname }}: {{ tos_host.kernel_version }} ({{ tos_host.virtualization_system }} {{ tos_host.virtualization_role }})"

- name: Only the host information, without sampling
  tos.cloud.host_facts:
    gather: [host]
    sample_seconds: 0
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to the host's facts.
  returned: always
  type: dict
  contains:
    tos_host:
      description: The host's facts. A section left out of O(gather) is missing.
      returned: always
      type: dict
      contains:
        hostname:
          description: Host name (C(/proc/sys/kernel/hostname)).
          type: str
          returned: when O(gather) has V(host)
          sample: TOS-192.0.2.11
        uptime:
          description: Seconds since boot.
          type: int
          returned: when O(gather) has V(host)
          sample: 189312
        boot_time:
          description: Boot time (Unix time).
          type: int
          returned: when O(gather) has V(host)
          sample: 1545717186
        procs:
          description: Number of processes.
          type: int
          returned: when O(gather) has V(host)
          sample: 310
        os:
          description: Operating system, V(linux).
          type: str
          returned: when O(gather) has V(host)
          sample: linux
        platform:
          description: Distribution ID (C(ID) of os-release, named as the platform's agent names it).
          type: str
          returned: when O(gather) has V(host)
          sample: ubuntu
        platform_family:
          description: Distribution family (debian, rhel, suse, ...).
          type: str
          returned: when O(gather) has V(host)
          sample: debian
        platform_version:
          description: Distribution version (C(VERSION_ID) of os-release).
          type: str
          returned: when O(gather) has V(host)
          sample: "16.04"
        kernel_version:
          description: Kernel release (C(/proc/sys/kernel/osrelease)).
          type: str
          returned: when O(gather) has V(host)
          sample: 4.14.254
        virtualization_system:
          description: Virtualization technology (kvm, xen, vmware, docker, lxc, ...), empty if none is detected.
          type: str
          returned: when O(gather) has V(host)
          sample: kvm
        virtualization_role:
          description: V(host) (runs virtual machines), V(guest) (is one), empty if unknown.
          type: str
          returned: when O(gather) has V(host)
          sample: host
        host_id:
          description: Stable host ID (DMI product UUID, else machine-id, else the boot ID).
          type: str
          returned: when O(gather) has V(host)
        cpu:
          description: CPU count, model and usage in percent over O(sample_seconds) (since boot with V(0)).
          type: dict
          returned: when O(gather) has V(cpu)
          sample: {"count": 32, "model": "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", "usage": 6.3}
        load:
          description: Load averages over 1, 5 and 15 minutes.
          type: dict
          returned: when O(gather) has V(cpu)
          sample: {"avg1": 0.5, "avg5": 0.4, "avg15": 0.3}
        memory:
          description: Memory and swap in bytes, usage in percent.
          type: dict
          returned: when O(gather) has V(memory)
          sample: {"total": 137438953472, "available": 116952350720, "used": 20486602752, "free": 100000000000,
                   "usage": 14.9, "swap_total": 0, "swap_used": 0, "swap_usage": 0.0}
        disks:
          description: Mounted file systems.
          type: list
          elements: dict
          returned: when O(gather) has V(disks)
          contains:
            mount:
              description: Mount point.
              type: str
              sample: /
            device:
              description: Device.
              type: str
              sample: /dev/sda1
            fstype:
              description: File system type.
              type: str
              sample: ext4
            size:
              description: Size in bytes.
              type: int
            used:
              description: Bytes used.
              type: int
            free:
              description: Bytes free.
              type: int
            usage:
              description: Usage in percent.
              type: float
        nics:
          description: Network interfaces.
          type: list
          elements: dict
          returned: when O(gather) has V(nics)
          contains:
            name:
              description: Interface name.
              type: str
              sample: eth0
            addresses:
              description: IP addresses, each with C(family) (ipv4, ipv6), C(address) and C(netmask).
              type: list
              elements: dict
              sample: [{"family": "ipv4", "address": "192.0.2.11", "netmask": "255.255.255.0"}]
            mac:
              description: Hardware address.
              type: str
            mtu:
              description: MTU.
              type: int
              sample: 1500
            speed:
              description: Link speed in Mbit/s, 0 when unknown.
              type: int
              sample: 10000
            up:
              description: Whether the interface is up.
              type: bool
        rates:
          description:
            - Disk and network throughput measured over O(sample_seconds).
            - C(disk) has C(read_bytes_per_second), C(write_bytes_per_second), C(read_iops), C(write_iops);
              C(network) (all interfaces but loopback) and each entry of C(nics) (by name) have
              C(rx_bytes_per_second), C(tx_bytes_per_second), C(rx_packets_per_second), C(tx_packets_per_second).
          type: dict
          returned: when O(gather) has V(rates) and O(sample_seconds) is more than 0
"""

import copy
import sys
import traceback

from ansible_collections.tos.cloud.plugins.module_utils._facts import (
    ARGUMENT_SPEC,
    MISSING_PSUTIL,
    check_params,
    gather,
)
from ansible_collections.tos.cloud.plugins.module_utils._shapes import checked_module

try:
    import psutil

    HAS_PSUTIL = True
    PSUTIL_IMPORT_ERROR = None
except ImportError:
    psutil = None
    HAS_PSUTIL = False
    PSUTIL_IMPORT_ERROR = traceback.format_exc()


def main():
    module = checked_module(argument_spec=copy.deepcopy(ARGUMENT_SPEC), supports_check_mode=True)
    problem = check_params(module.params)
    if problem:
        module.fail_json(msg=problem)
    if not HAS_PSUTIL:
        module.fail_json(msg=MISSING_PSUTIL % sys.executable, exception=PSUTIL_IMPORT_ERROR)
    try:
        facts = gather(psutil, set(module.params["gather"]), module.params["sample_seconds"])
    except OSError as exc:
        module.fail_json(msg="Could not read the host's facts: %s" % exc, exception=traceback.format_exc())
    module.exit_json(changed=False, ansible_facts={"tos_host": facts})


if __name__ == "__main__":
    main()
