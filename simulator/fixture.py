"""Loading a fixture (YAML: physical hosts, manager members, upgrade package, optional initial
clusters and settings) into a fresh :class:`World`. The format is described in README.md."""
from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import re
import uuid as uuidlib
from pathlib import Path
from typing import Any

import yaml

from . import ops
from .errors import ApiError
from .model import SERVICE_TYPES, Host
from .params import parse_cidr
from .state import World

DEFAULT_FIXTURE = Path(__file__).parent / "fixtures" / "default.yml"
NAMESPACE = uuidlib.UUID("6c1e3b0e-4d43-4b8e-9a59-2f3c0c7a5d10")

DEFAULT_VERSION = (
    "3.2.5.rc2  @go1.16.15 linux/amd64  SRC#a7b9ecf9f35bde6cf7d7b0ad2531e5d4d33073c5  "
    "CMN#6a7e043276b14099b653b06c31e9df90630d4be3"
)

HOST_DEFAULTS: dict[str, Any] = {
    "cpu_cores": 32,
    "cpu_usage": 20.0,
    "cpu_baseline": "Westmere",
    "memory_total": "128GiB",
    "memory_usage": 30.0,
    "disks": [
        {"name": "sda", "type": "ssd", "role": "system", "size": "480GiB", "used": "60GiB"},
        {"name": "sdb", "type": "ssd", "role": "cache", "size": "960GiB", "used": "0"},
        {"name": "sdc", "type": "hdd", "role": "data", "size": "4TiB", "used": "1TiB"},
        {"name": "sdd", "type": "hdd", "role": "data", "size": "4TiB", "used": "1TiB"},
    ],
    "type_version": {"compute": "3.2.4", "storage": "3.2.4"},
    "backups": [],
    "labels": {},
    "vms": {"running": 4, "shutoff": 1},
    "os": {
        "os": "linux",
        "platform": "ubuntu",
        "platform_family": "debian",
        "platform_version": "20.04",
        "kernel_version": "5.4.0-150-generic",
    },
    "uptime": 30 * 86400,
    "procs": 310,
    "status": "up",
    "maintenance": False,
    "iommu": False,
}

DEFAULT_MAIL: dict[str, Any] = {
    "enabled": False,
    "asynchronous_send_enabled": False,
    "sender_mail": "",
    "sender_name": "",
    "smtp_server_ip": "",
    "smtp_server_port": 25,
    "smtp_tls_enabled": False,
    "smtp_account": "",
    "smtp_password": "",
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "login_policy": {"login_fail_retry_times": 5, "login_fail_punish_seconds": 300, "token_expire_second": 2592000},
    "password_complexity_policy": {
        "password_expire_force_modify": False,
        "password_max_expired_age": 0,
        "password_expired_warn_age": 0,
        "password_expired_warn_windows_popup": False,
        "password_expired_warn_email_notify": False,
        "password_must_include_special_char": False,
        "password_minimum_length": 8,
        "notify_user_password_when_create": False,
    },
    "multi_authentication_setting": {"enabled": False, "authentication_type": ""},
    "access_control_policy": {
        "ip_access_control_policy": {"ip_ranges": {"ranges": []}, "whitelist": False, "enabled": False},
        "time_access_control_policy": None,
    },
    "front_style_setting": {"login_image": "", "navigate_color": "", "main_body_color": "", "login_url": ""},
    "storage_setting": {"hop_hc": 1},
    "snmp_settings": {"snmps": None},
}

IO_FIELDS = (
    "net_riops", "net_wiops", "net_rmbps", "net_wmbps",
    "disk_riops", "disk_wiops", "disk_rspeed", "disk_wspeed", "disk_riowait", "disk_wiowait",
)
IO_SCALE = {
    "net_riops": 500, "net_wiops": 500, "net_rmbps": 8000, "net_wmbps": 8000,
    "disk_riops": 2000, "disk_wiops": 2000, "disk_rspeed": 400, "disk_wspeed": 400,
    "disk_riowait": 50, "disk_wiowait": 50,
}
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(i?B?)\s*$", re.IGNORECASE)


class FixtureError(ValueError):
    pass


def parse_size(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise FixtureError(f"{where}: not a size: {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = SIZE_RE.match(str(value))
    if not match:
        raise FixtureError(f"{where}: not a size: {value!r} (use bytes or e.g. 128GiB, 4TiB)")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** "_KMGTP".index(unit or "_"))


def stable_uuid(kind: str, name: str) -> str:
    return str(uuidlib.uuid5(NAMESPACE, f"{kind}:{name}"))


def _mac(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def _net(spec: Any, default: dict[str, Any] | None, nic: str, mtu: int, prefix: int, where: str) -> dict[str, Any]:
    if spec is None:
        if default is None:
            raise FixtureError(f"{where}: missing")
        return dict(default)
    if isinstance(spec, str):
        spec = {"ip": spec}
    if not isinstance(spec, dict) or "ip" not in spec:
        raise FixtureError(f"{where}: expected an IP string or a mapping with 'ip'")
    ip_text = str(spec["ip"])
    if "/" in ip_text:
        ip_text, prefix_text = ip_text.split("/", 1)
        prefix = int(prefix_text)
    try:
        ip = str(ipaddress.IPv4Address(ip_text))
    except ValueError:
        raise FixtureError(f"{where}: not an IPv4 address: {spec['ip']!r}") from None
    return {
        "ip": ip,
        "prefix": int(spec.get("prefix", prefix)),
        "nic": str(spec.get("nic", nic)),
        "mtu": int(spec.get("mtu", mtu)),
        "mac": str(spec.get("mac", _mac(f"{where}/{ip}"))),
    }


def _host(spec: dict[str, Any], group: str, prefix: int, defaults: dict[str, Any], load_time: int) -> Host:
    if not isinstance(spec, dict) or not spec.get("name"):
        raise FixtureError(f"group {group}: every host needs a 'name'")
    name = str(spec["name"])
    where = f"host {name}"
    merged = {**defaults, **spec}  # shallow: every nested value is copied into new objects below
    uuid = str(merged.get("uuid") or stable_uuid("host", name))
    management = _net(merged.get("management"), None, "eth0", 1500, prefix, f"{where}.management")
    storage = _net(merged.get("storage"), management, "eth1", 9000, prefix, f"{where}.storage")
    backup = _net(merged.get("backup"), storage, "eth2", 1500, prefix, f"{where}.backup")
    memory_total = parse_size(merged["memory_total"], f"{where}.memory_total")
    if "memory_used" in spec:
        memory_used = parse_size(merged["memory_used"], f"{where}.memory_used")
    else:
        memory_used = int(memory_total * float(merged["memory_usage"]) / 100)
    disks = []
    for i, disk in enumerate(merged["disks"]):
        disks.append(
            {
                "name": str(disk.get("name", f"sd{chr(97 + i)}")),
                "type": str(disk.get("type", "hdd")),
                "role": str(disk.get("role", "data")),
                "size": parse_size(disk["size"], f"{where}.disks[{i}].size"),
                "used": parse_size(disk.get("used", 0), f"{where}.disks[{i}].used"),
            }
        )
    type_version = {str(k): str(v) for k, v in merged["type_version"].items()}
    unknown = set(type_version) - set(SERVICE_TYPES)
    if unknown:
        raise FixtureError(f"{where}.type_version: unknown service types {sorted(unknown)}")
    digest = hashlib.sha256(uuid.encode()).digest()
    io = {f: int(digest[i] / 255 * IO_SCALE[f]) for i, f in enumerate(IO_FIELDS)}
    io.update({k: int(v) for k, v in (merged.get("io") or {}).items()})
    os_info = dict(HOST_DEFAULTS["os"])
    os_info.update({k: str(v) for k, v in (merged.get("os") or {}).items()})
    status = str(merged.get("status", "up"))
    if status not in ("up", "down"):
        raise FixtureError(f"{where}.status: must be up or down")
    boot_time = int(merged.get("boot_time", load_time - int(merged["uptime"])))
    return Host(
        uuid=uuid,
        name=name,
        group=group,
        management=management,
        storage=storage,
        backup=backup,
        cpu_cores=int(merged["cpu_cores"]),
        cpu_usage=float(merged["cpu_usage"]),
        memory_total=memory_total,
        memory_used=memory_used,
        disks=disks,
        type_version=type_version,
        backups=[dict(b) for b in merged.get("backups") or []],
        labels={str(k): str(v) for k, v in (merged.get("labels") or {}).items()},
        vms={str(k): int(v) for k, v in (merged.get("vms") or {}).items()},
        io=io,
        os=os_info,
        boot_time=boot_time,
        procs=int(merged["procs"]),
        ctime=int(merged.get("ctime", boot_time)),
        cpu_baseline=str(merged["cpu_baseline"]),
        status=status,
        maintenance=bool(merged["maintenance"]),
        iommu=bool(merged["iommu"]),
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read(path: str | Path) -> dict[str, Any]:
    """A fixture file: YAML, or JSON (a subset of YAML that loads much faster: large
    generated fixtures, see genfixture)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            if str(path).endswith(".json"):
                data = json.load(fh)
            else:
                data = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise FixtureError(f"fixture {path} is not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise FixtureError(f"fixture {path}: expected a mapping with a 'groups' list")
    return data


def build(data: dict[str, Any], now: float) -> World:
    load_time = int(now)
    defaults = _merge(HOST_DEFAULTS, data.get("host_defaults") or {})
    hosts: dict[str, Host] = {}
    seen: dict[str, str] = {}
    for group in data["groups"]:
        group_name = str(group.get("name") or f"group{len(seen)}")
        group_defaults = _merge(defaults, group.get("host_defaults") or {})
        for spec in group.get("hosts") or []:
            host = _host(spec, group_name, int(group.get("prefix", 24)), group_defaults, load_time)
            for key in (host.uuid, host.name, host.management["ip"], host.storage["ip"], host.backup["ip"]):
                if key in seen and seen[key] != host.uuid:
                    raise FixtureError(f"host {host.name}: '{key}' is also used by host {seen[key]}")
                seen[key] = host.uuid
            hosts[host.uuid] = host
    if not hosts:
        raise FixtureError("the fixture defines no host")
    manager = dict(data.get("manager") or {})
    members = [str(m) for m in manager.get("members") or [next(iter(hosts.values())).ip]]
    leader = manager.get("leader", members[0])
    manager = {"members": members, "leader": str(leader) if leader else None, "ready": bool(manager.get("ready", True))}
    settings = _merge(DEFAULT_SETTINGS, data.get("settings") or {})
    if not settings["front_style_setting"]["login_url"]:
        settings["front_style_setting"]["login_url"] = f"http://{manager['leader'] or members[0]}:8080/#/login"
    package = data.get("upgrade_package")
    world = World(
        hosts=hosts,
        manager=manager,
        platform_version=str(data.get("platform_version") or DEFAULT_VERSION),
        upgrade_package=dict(package) if package else None,
        mail=_merge(DEFAULT_MAIL, data.get("mail") or {}),
        settings=settings,
    )
    for spec in data.get("clusters") or []:
        _precreate(world, spec)
    return world


def _precreate(w: World, spec: dict[str, Any]) -> None:
    name = str(spec.get("name") or "")
    where = f"cluster {name or '?'}"
    seed = w.find_host(str(spec.get("seed", "")))
    if not name or seed is None:
        raise FixtureError(f"{where}: needs a 'name' and a 'seed' (a host name, IP or uuid)")
    try:
        cluster = ops.add_cluster(w, seed.ip, name, str(spec.get("desc", "")), spec.get("uuid") or stable_uuid("cluster", name))
        for key in ("drs", "dpm", "global_config", "snapshot_config"):
            if spec.get(key):
                getattr(cluster, key).update(spec[key])
        for i, cvm in enumerate(spec.get("cvms") or []):
            host = w.cluster_host(cluster, str(cvm["host"]), f"cvms[{i}].host")
            _, task = ops.deploy_cvm(w, cluster, host, parse_cidr("address", str(cvm["address"])), str(cvm["gateway"]))
            ops.finish_task(w, task, w.now())
        for vm in spec.get("storage_vms") or []:
            _, task = ops.deploy_storage_vm(
                w, cluster, str(vm.get("vm_type", "GST")),
                parse_cidr("manage_cidr", str(vm["manage_cidr"])), str(vm["manage_gateway"]),
                parse_cidr("storage_cidr", str(vm["storage_cidr"])), str(vm["storage_gateway"]),
            )
            ops.finish_task(w, task, w.now())
        for _ in range(int(spec.get("snapshots", 0))):
            ops.save_snapshot(w, cluster)
        if "daemon_state" in spec:
            cluster.daemon_state = str(spec["daemon_state"])
    except ApiError as exc:
        raise FixtureError(f"{where}: {exc.message_en}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"{where}: bad entry ({exc})") from None


def load(path: str | Path | None, now: float) -> World:
    return build(read(path or DEFAULT_FIXTURE), now)
