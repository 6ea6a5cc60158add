# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host facts of a KVM host, the way the platform's agent reports them (HostInfo), for ``host_facts``.

Pure helpers (parsing /etc/os-release, the platform family, virtualization detection, CPU usage and
rates from two counter readings) plus ``gather`` which reads the host with psutil and a few files
under /proc and /sys.  Nothing here starts a subprocess: the module must stay as cheap as
``setup gather_subset=min``.

This file is also the collector that the ``tos.cloud.host_facts`` action runs on the managed host
without AnsiballZ (plugins/action/host_facts.py): its source plus one call of ``collect`` is piped to
the host's Python.  So it imports nothing but the standard library (psutil inside ``collect``), and
its syntax stays that of Python 3.8, the oldest managed-host Python of ansible-core 2.19
(tests/unit/plugins/modules/test_host_facts_action.py parses it with ``feature_version=(3, 8)``).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Any, Callable, Collection, Iterable, TextIO, Tuple

# The types of the injected readers (tests pass their own): a file's text or None; whether a path exists.
# Aliases are evaluated at import time, so they use typing's names, which Python 3.8 knows.
Reader = Callable[[str], "str | None"]
Exists = Callable[[str], bool]
Fields = Tuple[Tuple[str, str], ...]

SECTIONS = ("host", "cpu", "memory", "disks", "nics", "rates")
# The module's options, for AnsibleModule and for the action's validation (the same validator, the same messages).
ARGUMENT_SPEC = {
    "gather": {"type": "list", "elements": "str", "choices": list(SECTIONS), "default": list(SECTIONS)},
    "sample_seconds": {"type": "float", "default": 0.5},
}
# The one line a host without psutil answers, on either path.
MISSING_PSUTIL = ("host_facts needs the Python package psutil on the managed host (for %s): "
                  "install python3-psutil or pip install psutil")


def check_params(params: dict[str, Any]) -> str | None:
    """What is wrong with validated ``params`` beyond the argument spec (a message), or None."""
    sample = params["sample_seconds"]
    if sample < 0 or sample > 60:
        return "Invalid input: sample_seconds: %s is outside the allowed range [0, 60]." % sample
    if not params["gather"]:
        return "Invalid input: gather: choose at least one of %s." % ", ".join(SECTIONS)
    return None


# gopsutil's platform families (the platform's agent is written in Go and uses it).
_FAMILIES = {
    "debian": ("debian", "ubuntu", "linuxmint", "raspbian", "kylin", "uos", "deepin"),
    "fedora": ("fedora",),
    "rhel": ("oracle", "centos", "redhat", "scientific", "enterpriseenterprise", "amazon", "xenserver",
             "cloudlinux", "ibm_powerkvm", "rocky", "almalinux", "openeuler", "euleros"),
    "suse": ("suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "opensuse-tumbleweed-kubic",
             "sles", "sled", "caasp"),
    "gentoo": ("gentoo",),
    "slackware": ("slackware",),
    "arch": ("arch", "manjaro"),
    "exherbo": ("exherbo",),
    "alpine": ("alpine",),
    "coreos": ("coreos",),
    "solus": ("solus",),
    "neokylin": ("neokylin",),
    "anolis": ("anolis",),
}
# /etc/os-release IDs that gopsutil renames.
_PLATFORM_NAMES = {"rhel": "redhat", "ol": "oracle", "amzn": "amazon", "sles_sap": "sles"}


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    """The text of a small file, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _unquote(value: str) -> str:
    """A shell-style value: double quotes allow backslash escapes, single quotes are literal."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escape = [], False
        for char in value[1:-1]:
            if escape:
                out.append(char)
                escape = False
            elif char == "\\":
                escape = True
            else:
                out.append(char)
        return "".join(out)
    return value


def parse_os_release(text: str | None) -> dict[str, str]:
    """``/etc/os-release`` (shell-style ``KEY=value`` lines, values maybe quoted) as a dict."""
    result = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        result[key.strip()] = _unquote(value)
    return result


def platform_info(os_release: dict[str, str] | None) -> tuple[str, str, str]:
    """``(platform, platform_family, platform_version)`` from parsed os-release, as gopsutil names them."""
    os_release = os_release or {}
    platform = (os_release.get("ID") or "").strip().lower()
    platform = _PLATFORM_NAMES.get(platform, platform)
    version = os_release.get("VERSION_ID") or ""
    family = ""
    for name, members in _FAMILIES.items():
        if platform in members:
            family = name
            break
    if not family:
        for like in (os_release.get("ID_LIKE") or "").lower().split():
            like = _PLATFORM_NAMES.get(like, like)
            for name, members in _FAMILIES.items():
                if like == name or like in members:
                    family = name
                    break
            if family:
                break
    return platform, family, version


_CONTAINER_MARKERS = (("docker", "docker"), ("kubepods", "docker"), ("containerd", "containerd"),
                      ("libpod", "podman"), ("lxc", "lxc"), ("machine-rkt", "rkt"))
_DMI_VENDORS = (("qemu", "kvm"), ("kvm", "kvm"), ("amazon ec2", "kvm"), ("openstack", "kvm"),
                ("vmware", "vmware"), ("virtualbox", "vbox"), ("innotek", "vbox"), ("xen", "xen"),
                ("microsoft corporation virtual machine", "hyperv"), ("parallels", "parallels"),
                ("bochs", "bochs"), ("google compute engine", "kvm"))


def detect_virtualization(read: Reader = read_text, exists: Exists = os.path.exists) -> tuple[str, str]:
    """``(virtualization_system, virtualization_role)`` like gopsutil: ``("kvm", "host")`` on a KVM host,
    ``("kvm", "guest")`` in a VM, ``("docker", "guest")`` in a container, ``("", "")`` when unknown.

    ``read(path)`` returns a file's text or None; ``exists(path)`` tells whether a path exists.
    """
    environ = read("/proc/1/environ") or ""
    for entry in environ.split("\0"):
        if entry.startswith("container="):
            kind = entry.partition("=")[2] or "container"
            return ("lxc" if kind.startswith("lxc") else kind), "guest"
    if exists("/.dockerenv"):
        return "docker", "guest"
    if exists("/run/.containerenv"):
        return "podman", "guest"
    cgroup = read("/proc/1/cgroup") or ""
    for marker, system in _CONTAINER_MARKERS:
        if "/%s" % marker in cgroup or ":%s" % marker in cgroup:
            return system, "guest"
    if exists("/proc/xen"):
        caps = read("/proc/xen/capabilities") or ""
        return "xen", "host" if "control_d" in caps else "guest"
    dmi = " ".join(filter(None, ((read("/sys/class/dmi/id/sys_vendor") or "").strip(),
                                 (read("/sys/class/dmi/id/product_name") or "").strip()))).lower()
    cpuinfo = read("/proc/cpuinfo") or ""
    hypervisor_flag = any(line.startswith("flags") and " hypervisor" in line for line in cpuinfo.splitlines()[:40])
    for marker, system in _DMI_VENDORS:
        if marker in dmi:
            return system, "guest"
    if "QEMU Virtual CPU" in cpuinfo or "Common KVM processor" in cpuinfo:
        return "kvm", "guest"
    if hypervisor_flag:
        return "", "guest"
    modules = read("/proc/modules") or ""
    names = {line.split(" ", 1)[0] for line in modules.splitlines()}
    if names & {"kvm", "kvm_intel", "kvm_amd"}:
        return "kvm", "host"
    if "vboxdrv" in names:
        return "vbox", "host"
    if exists("/proc/bc/0"):
        return "openvz", "host"
    if exists("/proc/vz"):
        return "openvz", "guest"
    return "", ""


def host_id(read: Reader = read_text) -> str:
    """The host's stable ID as gopsutil reads it: DMI product UUID, else machine-id, else boot id."""
    for path in ("/sys/class/dmi/id/product_uuid", "/etc/machine-id", "/proc/sys/kernel/random/boot_id"):
        value = (read(path) or "").strip().lower()
        if value:
            return value
    return ""


def cpu_model(cpuinfo: str | None) -> str:
    for line in (cpuinfo or "").splitlines():
        key, _sep, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model", "Processor"):
            return value.strip()
    return ""


def _times(cpu_times: Any) -> tuple[float, float]:
    """``(busy, total)`` seconds of a psutil ``cpu_times()`` reading (or a dict of the same fields).

    guest and guest_nice are already counted in user and nice, so they are left out of the total.
    """
    fields = cpu_times._asdict() if hasattr(cpu_times, "_asdict") else dict(cpu_times)
    total = sum(v for k, v in fields.items() if k not in ("guest", "guest_nice"))
    idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
    return total - idle, total


def cpu_usage(before: Any, after: Any = None) -> float:
    """CPU usage in percent between two ``cpu_times()`` readings, or since boot with one."""
    busy, total = _times(before)
    if after is not None:
        busy2, total2 = _times(after)
        busy, total = busy2 - busy, total2 - total
    if total <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100.0 * busy / total)), 1)


DISK_RATE_FIELDS = (("read_bytes", "read_bytes_per_second"), ("write_bytes", "write_bytes_per_second"),
                    ("read_count", "read_iops"), ("write_count", "write_iops"))
NET_RATE_FIELDS = (("bytes_recv", "rx_bytes_per_second"), ("bytes_sent", "tx_bytes_per_second"),
                   ("packets_recv", "rx_packets_per_second"), ("packets_sent", "tx_packets_per_second"))


def _values(counter: Any, fields: Fields) -> dict[str, Any]:
    """The counter fields of a psutil tuple (or a dict) as a dict; zeros when it is None."""
    if counter is None:
        return {field: 0 for field, _name in fields}
    if isinstance(counter, dict):
        return {field: counter.get(field, 0) for field, _name in fields}
    return {field: getattr(counter, field, 0) for field, _name in fields}


def _per_second(before: Any, after: Any, seconds: float, fields: Fields) -> dict[str, float]:
    b, a = _values(before, fields), _values(after, fields)
    return {name: round(max(0, a[field] - b[field]) / seconds, 1) if seconds > 0 else 0.0
            for field, name in fields}


def _total(counters: Iterable[Any], fields: Fields) -> dict[str, Any]:
    total = {field: 0 for field, _name in fields}
    for counter in counters:
        for field, value in _values(counter, fields).items():
            total[field] += value
    return total


def rates(before: tuple[Any, dict[str, Any]], after: tuple[Any, dict[str, Any]],
          seconds: float) -> dict[str, Any]:
    """Disk and network rates from two ``(disk_io, {nic: net_io})`` readings ``seconds`` apart.

    The network total leaves out the loopback interface.
    """
    disk0, nets0 = before
    disk1, nets1 = after
    common = sorted(set(nets0) & set(nets1))
    real = [n for n in common if n != "lo"]
    return {
        "sample_seconds": round(seconds, 3),
        "disk": _per_second(disk0, disk1, seconds, DISK_RATE_FIELDS),
        "network": _per_second(_total((nets0[n] for n in real), NET_RATE_FIELDS),
                               _total((nets1[n] for n in real), NET_RATE_FIELDS), seconds, NET_RATE_FIELDS),
        "nics": {n: _per_second(nets0[n], nets1[n], seconds, NET_RATE_FIELDS) for n in common},
    }


# -- reading the host (psutil) -------------------------------------------------------------------


def host_section(psutil: Any, read: Reader = read_text, exists: Exists = os.path.exists,
                 now: Callable[[], float] = time.time) -> dict[str, Any]:
    """The HostInfo fields of the documents."""
    boot = int(psutil.boot_time())
    hostname = (read("/proc/sys/kernel/hostname") or "").strip() or socket.gethostname()
    kernel = (read("/proc/sys/kernel/osrelease") or "").strip() or os.uname().release
    os_release = parse_os_release(read("/etc/os-release") or read("/usr/lib/os-release"))
    platform, family, version = platform_info(os_release)
    system, role = detect_virtualization(read, exists)
    return {
        "hostname": hostname,
        "uptime": max(0, int(now() - boot)),
        "boot_time": boot,
        "procs": len(psutil.pids()),
        "os": sys.platform if not sys.platform.startswith("linux") else "linux",
        "platform": platform,
        "platform_family": family,
        "platform_version": version,
        "kernel_version": kernel,
        "virtualization_system": system,
        "virtualization_role": role,
        "host_id": host_id(read),
    }


def memory_section(psutil: Any) -> dict[str, Any]:
    mem = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return {
        "total": int(mem.total),
        "available": int(mem.available),
        "used": int(mem.used),
        "free": int(mem.free),
        "usage": round(float(mem.percent), 1),
        "swap_total": int(swap.total),
        "swap_used": int(swap.used),
        "swap_usage": round(float(swap.percent), 1),
    }


def disks_section(psutil: Any) -> list[dict[str, Any]]:
    disks, seen = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.mountpoint in seen:
            continue
        seen.add(part.mountpoint)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        disks.append({
            "mount": part.mountpoint,
            "device": part.device,
            "fstype": part.fstype,
            "size": int(usage.total),
            "used": int(usage.used),
            "free": int(usage.free),
            "usage": round(float(usage.percent), 1),
        })
    return disks


def nics_section(psutil: Any) -> list[dict[str, Any]]:
    families = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
    link = getattr(psutil, "AF_LINK", None)
    stats = psutil.net_if_stats()
    nics = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        stat = stats.get(name)
        mac = ""
        addresses = []
        for addr in addrs:
            if addr.family == link:
                mac = addr.address or ""
            elif addr.family in families:
                addresses.append({"family": families[addr.family], "address": addr.address.split("%")[0],
                                  "netmask": addr.netmask})
        nics.append({
            "name": name,
            "addresses": addresses,
            "mac": mac,
            "mtu": int(stat.mtu) if stat else 0,
            "speed": int(stat.speed) if stat else 0,
            "up": bool(stat.isup) if stat else False,
        })
    return nics


def _counters(psutil: Any) -> tuple[Any, dict[str, Any]]:
    try:
        disk = psutil.disk_io_counters(perdisk=False)
    except (OSError, RuntimeError):
        disk = None
    try:
        nets = psutil.net_io_counters(pernic=True)
    except (OSError, RuntimeError):
        nets = {}
    return disk, nets


def gather(psutil: Any, sections: Collection[str], sample_seconds: float, read: Reader = read_text,
           exists: Exists = os.path.exists, sleep: Callable[[float], Any] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Everything asked for in ``sections``; CPU usage and rates are measured over ``sample_seconds``
    (when 0, CPU usage is the average since boot and there are no rates)."""
    facts = {}
    sample = sample_seconds > 0 and ("rates" in sections or "cpu" in sections)
    cpu0 = counters0 = None
    start = clock()
    if sample:
        cpu0 = psutil.cpu_times() if "cpu" in sections else None
        counters0 = _counters(psutil) if "rates" in sections else None
    if "host" in sections:
        facts.update(host_section(psutil, read, exists))
    if "memory" in sections:
        facts["memory"] = memory_section(psutil)
    if "disks" in sections:
        facts["disks"] = disks_section(psutil)
    if "nics" in sections:
        facts["nics"] = nics_section(psutil)
    if "cpu" in sections:
        load = os.getloadavg()
        facts["load"] = {"avg1": round(load[0], 2), "avg5": round(load[1], 2), "avg15": round(load[2], 2)}
    if sample:
        remaining = sample_seconds - (clock() - start)
        if remaining > 0:
            sleep(remaining)
    elapsed = clock() - start
    if "cpu" in sections:
        times = psutil.cpu_times()
        facts["cpu"] = {
            "count": psutil.cpu_count() or 0,
            "model": cpu_model(read("/proc/cpuinfo")),
            "usage": cpu_usage(cpu0, times) if cpu0 is not None else cpu_usage(times),
        }
    if "rates" in sections and counters0 is not None:
        facts["rates"] = rates(counters0, _counters(psutil), elapsed)
    return facts


def collect(params: dict[str, Any], out: TextIO | None = None) -> None:
    """The collector's entry point on the managed host (the action appends ``collect({...})`` to this file's
    source): prints the module's result as JSON, ``failed`` with one line when psutil is missing or the host
    cannot be read."""
    import json

    out = out or sys.stdout
    try:
        import psutil  # pylint: disable=import-outside-toplevel
    except ImportError:
        result = {"failed": True, "msg": MISSING_PSUTIL % sys.executable}
    else:
        try:
            result = {"changed": False,
                      "ansible_facts": {"tos_host": gather(psutil, set(params["gather"]), params["sample_seconds"])}}
        except OSError as exc:
            result = {"failed": True, "msg": "Could not read the host's facts: %s" % exc}
    out.write(json.dumps(result))
    out.write("\n")
