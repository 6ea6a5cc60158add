# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of host_facts: os-release, platform family, virtualization, host ID, CPU usage and rates."""

from __future__ import annotations

from collections import namedtuple

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._facts import (
    SECTIONS,
    cpu_model,
    cpu_usage,
    detect_virtualization,
    gather,
    host_id,
    parse_os_release,
    platform_info,
    rates,
)

UBUNTU = '''NAME="Ubuntu"
VERSION="16.04.7 LTS (Xenial Xerus)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 16.04.7 LTS"
VERSION_ID="16.04"
# a comment
HOME_URL="https://www.ubuntu.com/"
'''


def test_parse_os_release_unquotes_values_and_skips_comments():
    parsed = parse_os_release(UBUNTU)
    assert parsed["ID"] == "ubuntu" and parsed["VERSION_ID"] == "16.04"
    assert parsed["PRETTY_NAME"] == "Ubuntu 16.04.7 LTS"
    assert "# a comment" not in parsed and len(parsed) == 7


def test_parse_os_release_handles_escapes_and_single_quotes():
    parsed = parse_os_release('A="say \\"hi\\" \\$x"\nB=\'lit\\eral\'\nC=plain\n\nbroken line\n')
    assert parsed == {"A": 'say "hi" $x', "B": "lit\\eral", "C": "plain"}
    assert parse_os_release(None) == {}


@pytest.mark.parametrize("release, expected", [
    ({"ID": "ubuntu", "VERSION_ID": "16.04"}, ("ubuntu", "debian", "16.04")),
    ({"ID": "debian", "VERSION_ID": "12"}, ("debian", "debian", "12")),
    ({"ID": "centos", "VERSION_ID": "7"}, ("centos", "rhel", "7")),
    ({"ID": "rhel", "VERSION_ID": "9.2"}, ("redhat", "rhel", "9.2")),
    ({"ID": "ol", "VERSION_ID": "8"}, ("oracle", "rhel", "8")),
    ({"ID": "opensuse-leap", "VERSION_ID": "15.5"}, ("opensuse-leap", "suse", "15.5")),
    ({"ID": "kylinsec", "ID_LIKE": "rhel fedora", "VERSION_ID": "3"}, ("kylinsec", "rhel", "3")),
    ({"ID": "somethingnew"}, ("somethingnew", "", "")),
    ({}, ("", "", "")),
])
def test_platform_info_names_platform_and_family_like_the_agent(release, expected):
    assert platform_info(release) == expected


def files(mapping):
    return mapping.get, (lambda path: path in mapping)


@pytest.mark.parametrize("mapping, expected", [
    ({"/proc/modules": "kvm_intel 286720 0 - Live\nkvm 1052672 1 kvm_intel, Live\n",
      "/proc/cpuinfo": "flags\t: fpu vme vmx\n"}, ("kvm", "host")),
    ({"/proc/cpuinfo": "model name\t: QEMU Virtual CPU version 2.5+\nflags\t: fpu hypervisor\n"}, ("kvm", "guest")),
    ({"/sys/class/dmi/id/sys_vendor": "QEMU\n", "/proc/modules": "kvm 1 0 - Live\n"}, ("kvm", "guest")),
    ({"/sys/class/dmi/id/product_name": "VMware Virtual Platform\n"}, ("vmware", "guest")),
    ({"/proc/cpuinfo": "flags\t: fpu hypervisor\n"}, ("", "guest")),
    ({"/.dockerenv": ""}, ("docker", "guest")),
    ({"/proc/1/environ": "PATH=/bin\0container=lxc\0"}, ("lxc", "guest")),
    ({"/proc/1/environ": "container=podman\0"}, ("podman", "guest")),
    ({"/proc/1/cgroup": "0::/kubepods/besteffort/pod1\n"}, ("docker", "guest")),
    ({"/proc/xen": "", "/proc/xen/capabilities": "control_d\n"}, ("xen", "host")),
    ({}, ("", "")),
])
def test_detect_virtualization(mapping, expected):
    read, exists = files(mapping)
    assert detect_virtualization(read, exists) == expected


def test_host_id_prefers_dmi_then_machine_id_then_boot_id():
    assert host_id(files({"/sys/class/dmi/id/product_uuid": "ABC-1\n", "/etc/machine-id": "m\n"})[0]) == "abc-1"
    assert host_id(files({"/etc/machine-id": "3d12\n"})[0]) == "3d12"
    assert host_id(files({"/proc/sys/kernel/random/boot_id": "b-1\n"})[0]) == "b-1"
    assert host_id(files({})[0]) == ""


def test_cpu_model_from_cpuinfo():
    assert cpu_model("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6130\n") == "Intel(R) Xeon(R) Gold 6130"
    assert cpu_model("") == ""


Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def test_cpu_usage_over_a_window_and_since_boot():
    before = Times(100, 0, 50, 800, 50, 0, 0, 0, 10, 0)
    after = Times(130, 0, 60, 850, 60, 0, 0, 0, 20, 0)
    # busy 40 of 100 seconds; guest time is part of user and not counted twice
    assert cpu_usage(before, after) == 40.0
    assert cpu_usage(before) == 15.0
    assert cpu_usage(before, before) == 0.0


Disk = namedtuple("Disk", "read_count write_count read_bytes write_bytes")
Net = namedtuple("Net", "bytes_sent bytes_recv packets_sent packets_recv")


def test_rates_per_second_leave_loopback_out_of_the_network_total():
    before = (Disk(10, 20, 1000, 2000), {"eth0": Net(100, 200, 1, 2), "lo": Net(0, 0, 0, 0)})
    after = (Disk(20, 40, 3000, 6000), {"eth0": Net(300, 600, 3, 6), "lo": Net(1000, 1000, 10, 10)})
    out = rates(before, after, 2.0)
    assert out["sample_seconds"] == 2.0
    assert out["disk"] == {"read_bytes_per_second": 1000.0, "write_bytes_per_second": 2000.0,
                           "read_iops": 5.0, "write_iops": 10.0}
    assert out["network"] == {"rx_bytes_per_second": 200.0, "tx_bytes_per_second": 100.0,
                              "rx_packets_per_second": 2.0, "tx_packets_per_second": 1.0}
    assert out["nics"]["lo"]["rx_bytes_per_second"] == 500.0


def test_rates_survive_missing_disk_counters_and_counter_resets():
    before = (None, {"eth0": Net(500, 500, 5, 5)})
    after = (None, {"eth0": Net(0, 0, 0, 0), "eth1": Net(9, 9, 9, 9)})
    out = rates(before, after, 1.0)
    assert set(out["disk"].values()) == {0.0}
    assert out["network"]["rx_bytes_per_second"] == 0.0
    assert set(out["nics"]) == {"eth0"}


def test_gather_with_real_psutil_reads_only_what_is_asked():
    psutil = pytest.importorskip("psutil")
    facts = gather(psutil, {"host"}, 0)
    assert set(facts) == {"hostname", "uptime", "boot_time", "procs", "os", "platform", "platform_family",
                          "platform_version", "kernel_version", "virtualization_system", "virtualization_role",
                          "host_id"}
    facts = gather(psutil, set(SECTIONS), 0.05)
    assert {"cpu", "load", "memory", "disks", "nics", "rates"} <= set(facts)
    assert 0.0 <= facts["cpu"]["usage"] <= 100.0
    assert facts["rates"]["sample_seconds"] >= 0.05
    assert "rates" not in gather(psutil, {"rates"}, 0)
