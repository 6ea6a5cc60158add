# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils.inventory_bulk.HostAdder: the inventory it builds is the one ansible-core's public calls build.

Each case parses a generated inventory (2,000 hosts, 300 with constructed options, and the awkward ones: taken names, localhost, a host named like
a group, unsafe names, groups that already have parents) twice, once through HostAdder and once through
``add_host``/``set_variable``, and compares every host, group and variable, with their order and their types.
The matrix (mk/matrix.mk) runs this file on every ansible-core version the collection supports."""

from __future__ import annotations

import os
import uuid

import pytest
import yaml

from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.utils.collection_loader import AnsibleCollectionConfig

if AnsibleCollectionConfig.collection_finder is None:  # plain pytest: let the plugin loader find tos.cloud
    import ansible_collections

    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[os.path.dirname(path) for path in ansible_collections.__path__],
                             scan_sys_paths=False)._install()

from ansible.plugins.loader import inventory_loader  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.tos.cloud.plugins.inventory import hosts as plugin_module  # noqa: E402
from ansible_collections.tos.cloud.plugins.plugin_utils import inventory_bulk  # noqa: E402


def _uuid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def _net(name, address, mtu=1500):
    return {"Name": name, "Addrs": ["%s/24" % address], "MTU": mtu}


def _services(node_uuid, roles, agent=1, mode=0):
    out = {"UUID": node_uuid, "agentStatus": agent, "hostMode": mode}
    for role in ("manager", "center", "usm", "vsm", "network", "hyper"):
        out[role] = {"enabled": True, "mode": 5 if role == "center" else 0, "status": 1} if role in roles else None
    return out


def generated(clusters=20, hosts=100):
    """API data as ``fetch`` returns it: ``clusters`` clusters of ``hosts`` physical hosts, each with a CVM on its
    first host, a storage VM on its second, versions, and some awkward names."""
    out = []
    for c in range(clusters):
        cuuid = _uuid("cluster", c)
        nodes = []
        for h in range(hosts):
            huuid = _uuid("host", c, h)
            roles = ["manager", "usm", "network"] if h < 3 else ["usm", "hyper"] if h % 2 else ["hyper"]
            name = "c%02d-h%03d" % (c, h)
            management = "10.%d.%d.%d" % (c, h // 250, h % 250 + 1)
            if (c, h) == (1, 5):
                name = "{{ lookup('env', 'HOME') }}"  # an unsafe name
            if (c, h) == (2, 7):
                management = "10.0.0.1"  # the same address as c00-h000: a duplicate, skipped
            if (c, h) == (3, 0):
                management = "localhost"  # public API only
            if (c, h) == (3, 1):
                management = "tos_compute"  # a group's name: public API only (set_variable sets the group's)
            if (c, h) == (4, 2):
                management = "taken.example"  # a host of the static source before this one
            node = {"UUID": huuid, "name": name, "IsSystemService": False, "MachineUUID": "",
                    "services": _services(huuid, roles, mode=1 if h == 9 else 0),
                    "managerNet": _net("eth0", management), "storageNet": _net("eth1", "172.16.%d.%d" % (c, h % 250)),
                    "backupNet": _net("eth2", "172.17.%d.%d" % (c, h % 250)), "computeNet": None}
            if (c, h) == (5, 3):
                del node["managerNet"]  # no management address: named by its name
            nodes.append(node)
        cvm = _uuid("cvm", c)
        nodes.append({"UUID": cvm, "name": "LCM" + cvm, "IsSystemService": True, "MachineUUID": nodes[0]["UUID"],
                      "services": _services(cvm, ["center"]), "managerNet": _net("eth0", "10.%d.9.250" % c)})
        vsm = _uuid("vsm", c)
        nodes.append({"UUID": vsm, "name": "VSM" + vsm, "IsSystemService": True, "MachineUUID": nodes[1]["UUID"],
                      "services": _services(vsm, ["vsm"]), "managerNet": _net("eth0", "10.%d.9.251" % c),
                      "storageNet": _net("eth1", "172.16.%d.251" % c)})
        out.append({
            "uuid": cuuid, "name": "生产-%d" % c if c == 6 else "cluster-%02d" % c,
            "detail": {"TopoHostNode": nodes},
            "cloud_manage": [{"uuid": cvm, "machine_uuid": nodes[0]["UUID"], "ip": "10.%d.9.250" % c,
                              "is_leader": c % 3 != 1}],
            "versions": [{"host_ip": "10.%d.0.%d" % (c, h + 1), "type_version": {"compute": "3.2.%d" % (h % 3)}}
                         for h in range(0, hosts, 7)],
            "system_vms": None,
        })
    return {"clusters": out}


def earlier_source(inventory):
    """What a static source parsed before ours may leave: a host, and a role group that already has a parent."""
    inventory.current_source = "/etc/ansible/hosts"
    inventory.add_group("prod")
    inventory.add_group("tos_compute")
    inventory.add_child("prod", "tos_compute")
    inventory.add_host("taken.example", group="prod")
    inventory.set_variable("taken.example", "from_static", {"a": [1]})
    inventory.get_groups_dict()  # fills every group's host cache: adding a host must reset it


def parse(tmp_path, monkeypatch, fast, data, before=None, **config):
    """The inventory the plugin builds from ``data``; ``fast``: whether HostAdder may be used."""
    config.setdefault("plugin", "tos.cloud.hosts")
    config.setdefault("api_url", "http://192.0.2.10:9990")
    path = tmp_path / "inventory.tos.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    inventory = InventoryData()
    if before:
        before(inventory)
    inventory.current_source = str(path)
    plugin = inventory_loader.get("tos.cloud.hosts")
    monkeypatch.setattr(type(plugin), "fetch", lambda self: data)
    monkeypatch.setattr(plugin_module.display, "warning", lambda *a, **kw: None)
    added = []
    real = inventory_bulk.HostAdder.add

    def spy(self, name, groups, variables):
        done = real(self, name, groups, variables)
        added.append(done)
        return done

    monkeypatch.setattr(inventory_bulk.HostAdder, "add", spy)
    if not fast:
        monkeypatch.setattr(inventory_bulk.HostAdder, "for_inventory", classmethod(lambda cls, *a, **kw: None))
    plugin.parse(inventory, DataLoader(), str(path), cache=False)
    inventory.reconcile_inventory()
    monkeypatch.undo()
    return inventory, added


def typed(value):
    """``value`` with the type (and the data tags, where ansible-core has them) of every part, to compare."""
    tags = ()
    try:
        from ansible.module_utils._internal._datatag import AnsibleTagHelper

        tags = tuple(sorted(type(tag).__name__ for tag in AnsibleTagHelper.tags(value)))
    except ImportError:  # pragma: no cover - ansible-core < 2.19
        pass
    if isinstance(value, dict):
        inner = [(typed(k), typed(v)) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        inner = [typed(v) for v in value]
    else:
        inner = value
    return (type(value).__name__, tags, inner)


def snapshot(inventory):
    """Everything ansible-core keeps of an inventory, in its order."""
    # a host's groups: in order, except the ancestors a group brings along, which ansible-core adds in the order of a
    # set of Group objects, whose hash is their id (so two identical inventories can differ there)
    hosts = [(name, h.name, h.address, h.implicit, typed(h.vars), sorted(g.name for g in h.groups),
              [g.name for g in h.groups if all(p.name == "all" for p in g.parent_groups)],
              h.get_vars() == h.vars or sorted(h.get_vars()))
             for name, h in inventory.hosts.items()]
    groups = [(name, g.name, g.depth, g.priority, typed(g.vars), [h.name for h in g.hosts], sorted(g.host_names),
               [c.name for c in g.child_groups], [p.name for p in g.parent_groups], [h.name for h in g.get_hosts()])
              for name, g in inventory.groups.items()]
    return {"hosts": hosts, "groups": groups, "localhost": getattr(inventory.localhost, "name", None),
            "groups_dict": inventory.get_groups_dict()}


CASES = {
    "defaults": {},
    "everything": {"want_networks": True, "want_services": True, "want_versions": True},
    "names": {"hostname_key": "name", "cluster_group_key": "uuid", "role_group_prefix": "r_"},
    "constructed": {"hostname_key": "uuid", "compose": {"ansible_user": "'root'", "rack": "tos_name[-1]"},
                    "groups": {"upgrade_last": "tos_center_leader"},
                    "keyed_groups": [{"key": "tos_roles", "prefix": "role", "parent_group": "tos_compute"},
                                     {"key": "rack", "prefix": "rack"}]},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_host_adder_builds_what_the_public_calls_build(tmp_path, monkeypatch, case):
    # constructed options template every host: fewer of them
    size = (6, 50) if case == "constructed" else (20, 100)
    data = generated(*size)
    fast, added = parse(tmp_path, monkeypatch, True, data, before=earlier_source, **CASES[case])
    slow, none = parse(tmp_path, monkeypatch, False, data, before=earlier_source, **CASES[case])
    assert not none
    assert added.count(True) > 0.95 * size[0] * size[1]  # the fast path did the work...
    if case == "defaults":
        # ...except for the host named like a group (localhost is skipped before: get_host finds the implicit one)
        assert added.count(False) == 1
    assert len(fast.hosts) > 0.99 * size[0] * size[1]
    assert snapshot(fast) == snapshot(slow)


def test_fast_and_public_paths_mix_in_one_inventory(tmp_path, monkeypatch):
    # a public-path host between fast ones, in a group whose cache the fast path resets
    data = generated(clusters=5, hosts=10)
    fast, added = parse(tmp_path, monkeypatch, True, data, before=earlier_source)
    slow, _none = parse(tmp_path, monkeypatch, False, data, before=earlier_source)
    assert False in added and True in added
    assert snapshot(fast) == snapshot(slow)


def test_ansible_core_is_one_the_adder_was_checked_against():
    # a failure here on a new ansible-core: compare its inventory code with the functions in REPLACED, adapt
    # HostAdder if needed, and add the new digest to KNOWN_DIGESTS
    assert inventory_bulk.core_matches(), inventory_bulk.core_digest()


def test_changed_core_code_means_the_public_api(monkeypatch):
    before = inventory_bulk.core_digest()

    def add_host(self, host, group=None, port=None):  # a different add_host
        return host

    monkeypatch.setattr(InventoryData, "add_host", add_host)
    assert inventory_bulk.core_digest() != before
    monkeypatch.setattr(inventory_bulk, "_matches", None)
    assert inventory_bulk.HostAdder.for_inventory(InventoryData()) is None


def test_debug_or_another_inventory_class_means_the_public_api(monkeypatch):
    assert inventory_bulk.HostAdder.for_inventory(InventoryData()) is not None

    class Other(InventoryData):
        pass

    assert inventory_bulk.HostAdder.for_inventory(Other()) is None
    monkeypatch.setattr(inventory_bulk.C, "DEFAULT_DEBUG", True)
    assert inventory_bulk.HostAdder.for_inventory(InventoryData()) is None


@pytest.mark.parametrize("name, groups, variables", [
    ("", ["all"], {}),
    ("h1", ["no-such-group"], {}),
    ("h1", ["all"], {"not valid": 1}),
    ("h1", ["all"], {"inventory_file": "x"}),
    ("localhost", ["all"], {}),
    ("all", ["all"], {}),
])
def test_what_the_adder_leaves_to_the_public_api(name, groups, variables):
    inventory = InventoryData()
    adder = inventory_bulk.HostAdder.for_inventory(inventory)
    assert adder.add(name, groups, variables) is False
    assert not inventory.hosts
    assert not inventory.groups["all"].hosts
