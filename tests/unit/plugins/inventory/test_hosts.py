# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tos.cloud.hosts inventory plugin fed with recorded API answers (no HTTP at all, except the
one test that proves an unreachable URL is named)."""

from __future__ import annotations

import copy
import io
import json
import os
import socket
import sys
import threading

import pytest
import yaml

from ansible import context
from ansible.cli.inventory import InventoryCLI
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecretsContext
from ansible.template import Templar
from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.context_objects import GlobalCLIArgs

try:  # ansible-core 2.19+: a template given as a plain str is not trusted, so not templated
    from ansible.template import trust_as_template
except ImportError:  # older: every str is a template
    def trust_as_template(value):
        return value

if AnsibleCollectionConfig.collection_finder is None:  # plain pytest: let the plugin loader find tos.cloud
    import ansible_collections

    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[os.path.dirname(path) for path in ansible_collections.__path__],
                             scan_sys_paths=False)._install()

from ansible.plugins.loader import inventory_loader  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.tos.cloud.plugins.inventory import hosts as plugin_module  # noqa: E402
from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient  # noqa: E402

HERE = os.path.dirname(__file__)
RECORDED = os.path.join(HERE, "fixtures", "simulator.json")
DOCUMENTED = os.path.join(HERE, "fixtures", "documented.json")


# -- recorded answers -----------------------------------------------------------------------------

def load_recording(path):
    """``{"GET /v1/...?key=value": data}``: the data of each answer (see fixtures/README.md)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class RecordedClient(TosClient):
    """The real client with its HTTP layer replaced by recorded answers.

    An answer that is a dict with ``"_error"`` raises a TosApiError of that kind instead.
    """

    def __init__(self, answers, log):
        super().__init__("http://192.0.2.10:9990", api_token="t0ken", sleep=lambda seconds: None)
        self.answers = answers
        self.log = log

    def _once(self, method, path, url, params, body):
        params = dict(params or {})
        params.pop("page_size", None)
        page = params.pop("page_num", 1)
        key = "%s %s" % (method, path)
        if params:
            key += "?" + "&".join("%s=%s" % item for item in sorted(params.items()))
        self.log.append(key)
        if key not in self.answers:
            raise TosApiError("%s was not recorded" % key, method=method, path=path, kind="api", code=1)
        data = copy.deepcopy(self.answers[key])
        if isinstance(data, dict) and "_error" in data:
            raise TosApiError(data["_error"]["message"], method=method, path=path, kind=data["_error"]["kind"],
                              http_status=data["_error"].get("http_status"))
        if path == "/v1/cluster/list" and page != 1:
            return {"list": [], "total_count": data.get("total_count")}
        return data


class Harness:
    def __init__(self, tmp_path, monkeypatch, answers):
        self.tmp_path = tmp_path
        self.answers = answers
        self.log = []
        self.clients = []

        def fake_client(options, warn=None):
            client = RecordedClient(self.answers, self.log)
            client.options = options
            self.clients.append(client)
            return client

        monkeypatch.setattr(plugin_module, "client_from_options", fake_client)
        self.warnings = []
        monkeypatch.setattr(plugin_module.display, "warning", lambda msg, *a, **kw: self.warnings.append(msg))

    def load(self, read_cache=True, name="inventory.tos.yml", **config):
        """Parse a config file made of ``config``; ``read_cache=False`` is a refresh (--flush-cache)."""
        config.setdefault("plugin", "tos.cloud.hosts")
        config.setdefault("api_url", "http://192.0.2.10:9990")
        config.setdefault("fetch_workers", 1)
        path = self.tmp_path / name
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        inventory = InventoryData()
        plugin = inventory_loader.get("tos.cloud.hosts")
        assert plugin.verify_file(str(path))
        plugin.parse(inventory, DataLoader(), str(path), cache=read_cache)
        if getattr(plugin, "_cache", None) is not None and plugin.get_option("cache"):
            plugin.update_cache_if_changed()
        return inventory

    @staticmethod
    def hostvars(inventory, host):
        return inventory.get_host(host).get_vars()

    @staticmethod
    def members(inventory, group):
        return sorted(h.name for h in inventory.groups[group].get_hosts())


@pytest.fixture
def sim(tmp_path, monkeypatch):
    return Harness(tmp_path, monkeypatch, load_recording(RECORDED))


@pytest.fixture
def documented(tmp_path, monkeypatch):
    return Harness(tmp_path, monkeypatch, load_recording(DOCUMENTED))


def cluster_uuid(answers, name):
    return next(c["cluster_uuid"] for c in answers["GET /v1/cluster/list"]["list"] if c["cluster_name"] == name)


# -- files ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, accepted", [
    ("inventory.tos.yml", True), ("prod.tos.yaml", True), ("tos.yml", True),
    ("inventory.yml", False), ("tos.yml.bak", False), ("hosts.ini", False),
])
def test_only_files_ending_in_tos_yml_are_read(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: tos.cloud.hosts\n")
    assert inventory_loader.get("tos.cloud.hosts").verify_file(str(path)) is accepted


# -- hosts and variables --------------------------------------------------------------------------

def test_every_physical_host_of_every_cluster_becomes_a_host(sim):
    inventory = sim.load()
    assert sorted(inventory.hosts) == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14",
                                       "198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]
    # the CVM and the storage-service VM are system-service nodes: variables of their host, not hosts
    assert "192.0.2.101" not in inventory.hosts
    assert sim.log[0].startswith("GET /v1/cluster/list")


def test_host_variables_describe_the_host(sim):
    inventory = sim.load()
    hv = sim.hostvars(inventory, "192.0.2.12")
    prod = cluster_uuid(sim.answers, "prod-a")
    assert hv["ansible_host"] == "192.0.2.12"
    assert hv["tos_cluster_name"] == "prod-a"
    assert hv["tos_cluster_uuid"] == prod
    assert hv["tos_name"] == "tos-a2"
    assert hv["tos_uuid"]
    assert hv["tos_management_ip"] == "192.0.2.12"
    assert hv["tos_storage_ip"] == "192.0.2.52"
    assert hv["tos_backup_ip"] == "192.0.2.92"
    assert hv["tos_compute_ip"] is None
    assert sorted(hv["tos_roles"]) == ["compute", "manager", "network", "storage"]
    assert hv["tos_agent_status"] == 1
    assert hv["tos_host_mode"] == 0
    assert hv["tos_center"] is False
    assert hv["tos_center_leader"] is False
    assert hv["tos_cvm"] is None
    assert "tos_versions" not in hv
    # the big nested ones are opt-in (want_networks, want_services)
    assert "tos_networks" not in hv
    assert "tos_services" not in hv


def test_want_networks_and_want_services_add_the_nested_variables(sim):
    inventory = sim.load(want_networks=True, want_services=True)
    hv = sim.hostvars(inventory, "192.0.2.12")
    assert hv["tos_networks"]["storage"] == {"nic": "eth1", "addresses": ["192.0.2.52/24"], "mtu": 9000}
    assert hv["tos_networks"]["management"]["addresses"] == ["192.0.2.12/24"]
    assert "compute" not in hv["tos_networks"]
    assert hv["tos_services"]["hyper"] == {"enabled": True, "mode": 0, "status": 1}
    assert hv["tos_services"]["manager"]["enabled"] is True
    assert "center" not in hv["tos_services"]
    # the rest is what the defaults give
    assert sorted(hv["tos_roles"]) == ["compute", "manager", "network", "storage"]
    assert hv["tos_storage_ip"] == "192.0.2.52"


@pytest.mark.parametrize("option, present, absent", [
    ("want_networks", "tos_networks", "tos_services"),
    ("want_services", "tos_services", "tos_networks"),
])
def test_want_networks_and_want_services_are_independent(sim, option, present, absent):
    inventory = sim.load(**{option: True})
    for name in inventory.hosts:
        hv = sim.hostvars(inventory, name)
        assert present in hv and absent not in hv, name


def test_the_default_host_variables_are_exactly_the_documented_ones(sim):
    inventory = sim.load()
    expected = {"ansible_host", "tos_cluster_name", "tos_cluster_uuid", "tos_uuid", "tos_name", "tos_management_ip",
                "tos_storage_ip", "tos_backup_ip", "tos_compute_ip", "tos_roles", "tos_agent_status", "tos_host_mode",
                "tos_center", "tos_center_leader", "tos_cvm", "tos_storage_vms"}
    for name in inventory.hosts:
        assert set(inventory.get_host(name).vars) - {"inventory_file", "inventory_dir"} == expected, name


def test_cvm_belongs_to_the_host_it_runs_on_and_leader_comes_from_cloud_manage(sim):
    inventory = sim.load()
    hv = sim.hostvars(inventory, "192.0.2.11")
    assert hv["tos_center"] is True
    assert hv["tos_center_leader"] is True
    assert hv["tos_cvm"]["ip"] == "192.0.2.101"
    assert hv["tos_cvm"]["leader"] is True
    assert hv["tos_cvm"]["status"] == 1
    assert "center" in hv["tos_roles"]
    assert sim.members(inventory, "tos_center") == ["192.0.2.11", "192.0.2.13"]
    assert sim.members(inventory, "tos_center_leader") == ["192.0.2.11"]
    other = sim.hostvars(inventory, "192.0.2.13")
    assert other["tos_center"] is True and other["tos_center_leader"] is False
    assert other["tos_cvm"]["leader"] is False


def test_storage_service_vm_belongs_to_its_host(sim):
    inventory = sim.load()
    hv = sim.hostvars(inventory, "192.0.2.11")
    assert [vm["management_ip"] for vm in hv["tos_storage_vms"]] == ["192.0.2.111"]
    assert [vm["storage_ip"] for vm in hv["tos_storage_vms"]] == ["192.0.2.151"]
    assert sim.members(inventory, "tos_storage_service") == ["192.0.2.11"]
    assert sim.hostvars(inventory, "192.0.2.12")["tos_storage_vms"] == []


def test_groups_per_cluster_and_per_role(sim):
    inventory = sim.load()
    assert sim.members(inventory, "tos_cluster_prod_a") == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
    assert sim.members(inventory, "tos_manager") == ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
    assert "192.0.2.14" in sim.members(inventory, "tos_compute")
    assert "192.0.2.14" in sim.members(inventory, "tos_storage")
    assert "198.51.100.11" in sim.members(inventory, "tos_network")
    # hyper and usm are API names: the groups use the role names
    assert "tos_hyper" not in inventory.groups and "tos_usm" not in inventory.groups


def test_chinese_cluster_name_makes_a_valid_group(sim):
    inventory = sim.load()
    group = "tos_cluster_生产_集群"
    assert sim.members(inventory, group) == ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]
    assert sim.hostvars(inventory, "198.51.100.11")["tos_cluster_name"] == "生产-集群"
    assert not sim.warnings


def test_cluster_groups_by_uuid_and_custom_prefixes(sim):
    inventory = sim.load(cluster_group_key="uuid", cluster_group_prefix="c_", role_group_prefix="role_")
    prod = cluster_uuid(sim.answers, "prod-a")
    assert sim.members(inventory, "c_" + prod.replace("-", "_"))[0] == "192.0.2.11"
    assert "role_center" in inventory.groups and "role_center_leader" in inventory.groups
    assert "tos_center" not in inventory.groups


def test_clusters_whose_names_sanitize_alike_get_distinct_groups(sim):
    answers = sim.answers
    listing = answers["GET /v1/cluster/list"]["list"]
    prod = next(c for c in listing if c["cluster_name"] == "prod-a")
    twin = dict(prod, cluster_uuid="0000aaaa-0000-4000-8000-000000000000", cluster_name="prod.a")
    listing.append(twin)
    answers["GET /v1/cluster/list"]["total_count"] += 1
    detail = copy.deepcopy(answers["GET /v1/cluster/get?cluster_uuid=%s" % prod["cluster_uuid"]])
    detail.update(cluster_uuid=twin["cluster_uuid"], name="prod.a", TopoHostNode=[])
    answers["GET /v1/cluster/get?cluster_uuid=%s" % twin["cluster_uuid"]] = detail
    inventory = sim.load()
    assert "tos_cluster_prod_a" in inventory.groups
    assert "tos_cluster_prod_a_0000aaaa" in inventory.groups
    assert any("both make group 'tos_cluster_prod_a'" in w for w in sim.warnings)


@pytest.mark.parametrize("key, expected", [
    ("management_ip", "192.0.2.11"),
    ("name", "tos-a1"),
    ("uuid", None),
])
def test_hostname_key_chooses_the_inventory_name(sim, key, expected):
    inventory = sim.load(hostname_key=key)
    assert len(inventory.hosts) == 8
    if expected is None:
        host = next(h for h in inventory.hosts.values() if h.vars["tos_name"] == "tos-a1")
        assert host.name == host.vars["tos_uuid"]
    else:
        assert inventory.get_host(expected).vars["tos_name"] == "tos-a1"
    assert inventory.get_host(expected or host.name).vars["ansible_host"] == "192.0.2.11"


def test_a_host_without_management_address_is_named_by_its_name(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "生产-集群")
    sim.answers[key]["TopoHostNode"][0]["managerNet"] = None
    inventory = sim.load()
    hv = sim.hostvars(inventory, "tos-b1")
    assert hv["tos_management_ip"] is None
    assert "ansible_host" not in hv
    assert hv["tos_storage_ip"]


def test_same_host_name_in_two_clusters_keeps_the_first_with_a_warning(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "生产-集群")
    sim.answers[key]["TopoHostNode"][0]["name"] = "tos-a1"
    inventory = sim.load(hostname_key="name")
    assert inventory.get_host("tos-a1").vars["tos_cluster_name"] == "prod-a"
    assert any("two hosts are named 'tos-a1'" in w for w in sim.warnings)


# -- unsafe ---------------------------------------------------------------------------------------

def test_values_from_the_api_are_never_templated(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    sim.answers[key]["TopoHostNode"][3]["name"] = "{{ 6 * 7 }}"
    sim.answers[key]["name"] = "{{ lookup('env', 'HOME') }}"
    inventory = sim.load(want_networks=True)
    hv = inventory.get_host("192.0.2.14").get_vars()
    templar = Templar(loader=DataLoader(), variables=hv)
    assert templar.template(trust_as_template("{{ tos_name }}")) == "{{ 6 * 7 }}"
    assert templar.template(trust_as_template("{{ tos_cluster_name }}")) == "{{ lookup('env', 'HOME') }}"
    assert templar.template(trust_as_template("{{ tos_networks.management.addresses[0] }}")) == "192.0.2.14/24"


def test_every_host_variable_passes_through_make_unsafe(sim, monkeypatch):
    seen = []
    real = plugin_module.make_unsafe

    def spy(value):
        seen.append(value)
        return real(value)

    monkeypatch.setattr(plugin_module, "make_unsafe", spy)
    inventory = sim.load()
    hv = inventory.get_host("192.0.2.11").vars
    for name, value in hv.items():
        if name.startswith("tos_") or name == "ansible_host":
            assert any(item is value or item == value for item in seen), name


def test_hosts_share_no_list_or_dict_of_their_variables(sim):
    # ansible-core's set_variable proxy copied every value; the plugin stores beneath it, so its own copy
    # (make_unsafe) must leave no container shared between two hosts (a change to one would show in the other)
    inventory = sim.load(want_versions=True, want_networks=True, want_services=True)
    owner = {}

    def containers(value):
        if isinstance(value, (dict, list)):
            yield value
            for item in value.values() if isinstance(value, dict) else value:
                yield from containers(item)

    for host in inventory.hosts.values():
        for name, value in host.vars.items():
            for item in containers(value):
                assert owner.setdefault(id(item), (host.name, name)) == (host.name, name), (host.name, name)
    assert len(owner) > 4 * len(inventory.hosts)


# -- constructed ----------------------------------------------------------------------------------

def test_keyed_groups_compose_and_groups(sim):
    inventory = sim.load(
        want_versions=True,
        keyed_groups=[{"key": "tos_versions.compute | default('none')", "prefix": "compute"},
                      {"key": "tos_cluster_name", "prefix": "cluster", "separator": "="}],
        compose={"ansible_user": "'root'", "tos_rack": "tos_name[4]"},
        groups={"upgrade_last": "tos_center_leader", "big": "tos_name == 'tos-a4'"},
    )
    assert len(sim.members(inventory, "compute_3_2_4")) == 8
    assert "cluster=prod-a" in inventory.groups or "cluster_prod_a" in inventory.groups
    assert sim.members(inventory, "upgrade_last") == ["192.0.2.11"]
    assert sim.members(inventory, "big") == ["192.0.2.14"]
    assert sim.hostvars(inventory, "192.0.2.12")["ansible_user"] == "root"
    assert sim.hostvars(inventory, "192.0.2.12")["tos_rack"] == "a"


def test_composed_variables_reach_groups_and_keyed_groups(sim):
    inventory = sim.load(
        compose={"tos_rack": "tos_name[4]"},
        keyed_groups=[{"key": "tos_rack", "prefix": "rack"}, {"key": "tos_roles", "prefix": "role"}],
        groups={"rack_a_managers": "tos_rack == 'a' and 'manager' in tos_roles", "named": "inventory_hostname != ''"},
    )
    assert sim.members(inventory, "rack_a") == ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]
    assert sim.members(inventory, "rack_b") == ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]
    assert sim.members(inventory, "rack_a_managers") == ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
    assert len(sim.members(inventory, "named")) == 8
    assert "192.0.2.14" in sim.members(inventory, "role_compute")


def test_keyed_groups_on_services_need_want_services(sim):
    keyed = [{"key": "tos_services.hyper.status | string", "prefix": "hyper_status"}]
    inventory = sim.load(want_services=True, keyed_groups=keyed)
    assert len(sim.members(inventory, "hyper_status_1")) == 8
    with pytest.raises(AnsibleParserError):
        sim.load(strict=True, keyed_groups=keyed)


def test_strict_keyed_groups_fail_on_a_missing_key(sim):
    with pytest.raises(AnsibleParserError):
        sim.load(strict=True, keyed_groups=[{"key": "tos_no_such_variable"}])


# -- which requests ------------------------------------------------------------------------------

def test_minimal_requests_cluster_get_per_cluster_and_cloud_manage_only_with_a_center(sim):
    sim.load()
    gets = [r for r in sim.log if r.startswith("GET /v1/cluster/get")]
    manage = [r for r in sim.log if r.startswith("GET /v1/cluster/cloud/manage")]
    assert len(gets) == 2
    assert manage == ["GET /v1/cluster/cloud/manage?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")]
    assert not [r for r in sim.log if "upgrade_package" in r]


def test_want_leader_false_asks_no_cloud_manage_and_leaves_the_leader_unknown(sim):
    inventory = sim.load(want_leader=False)
    assert not [r for r in sim.log if "cloud/manage" in r]
    assert sim.hostvars(inventory, "192.0.2.11")["tos_center"] is True
    assert sim.hostvars(inventory, "192.0.2.11")["tos_center_leader"] is None
    assert "tos_center_leader" not in inventory.groups


def test_want_versions_reads_versions_once_per_cluster(sim):
    inventory = sim.load(want_versions=True)
    assert len([r for r in sim.log if "upgrade_package/list" in r]) == 2
    assert sim.hostvars(inventory, "192.0.2.11")["tos_versions"] == {"compute": "3.2.4", "storage": "3.2.4",
                                                                     "cloud": "3.2.4"}
    assert sim.hostvars(inventory, "198.51.100.11")["tos_versions"]["compute"]


def test_clusters_option_takes_names_and_uuids(sim):
    china = cluster_uuid(sim.answers, "生产-集群")
    inventory = sim.load(clusters=[china])
    assert sorted(inventory.hosts) == ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]
    assert len([r for r in sim.log if r.startswith("GET /v1/cluster/get")]) == 1
    inventory = sim.load(clusters=["prod-a", "no-such-cluster"])
    assert sorted(inventory.hosts)[0] == "192.0.2.11" and len(inventory.hosts) == 4
    assert any("no-such-cluster" in w and "prod-a" in w for w in sim.warnings)


def test_fetch_workers_below_one_reads_one_cluster_after_the_other(sim):
    inventory = sim.load(fetch_workers=0)
    assert len(inventory.hosts) == 8
    assert len(sim.clients) == 1


def test_concurrent_fetch_gives_the_same_inventory(sim):
    one = sim.load(want_versions=True)
    many = sim.load(want_versions=True, fetch_workers=4)
    assert sorted(one.hosts) == sorted(many.hosts)
    for name in one.hosts:
        assert one.get_host(name).vars == many.get_host(name).vars
    assert sorted(one.groups) == sorted(many.groups)


# -- errors ---------------------------------------------------------------------------------------

def test_a_cluster_whose_get_fails_is_skipped_with_a_warning(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    message = "GET /v1/cluster/get was refused by the manager (code 1004): cluster not found / 集群不存在"
    sim.answers[key] = {"_error": {"kind": "api", "message": message}}
    inventory = sim.load()
    assert sorted(inventory.hosts) == ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]
    assert any("skipping cluster 'prod-a'" in w and "cluster not found" in w for w in sim.warnings)


def test_a_failing_cloud_manage_loses_only_the_leader(sim):
    key = "GET /v1/cluster/cloud/manage?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    sim.answers[key] = {"_error": {"kind": "http", "message": "GET /v1/cluster/cloud/manage failed with HTTP 500"}}
    inventory = sim.load()
    assert sim.hostvars(inventory, "192.0.2.11")["tos_center_leader"] is None
    assert len(inventory.hosts) == 8
    assert any("HTTP 500" in w for w in sim.warnings)


def test_authentication_failure_names_the_token(sim):
    sim.answers["GET /v1/cluster/list"] = {"_error": {
        "kind": "auth", "http_status": 401,
        "message": "Authentication failed (HTTP 401) for GET /v1/cluster/list. Set api_token (or the TOS_API_TOKEN "
                   "environment variable) to a valid token for this manager."}}
    with pytest.raises(AnsibleParserError) as caught:
        sim.load()
    assert "api_token" in str(caught.value) and "TOS_API_TOKEN" in str(caught.value)
    assert "t0ken" not in str(caught.value)


def test_authentication_failure_on_a_cluster_is_fatal_not_skipped(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    message = "Authentication failed (HTTP 403) for GET /v1/cluster/get. Set api_token (or TOS_API_TOKEN)."
    sim.answers[key] = {"_error": {"kind": "auth", "http_status": 403, "message": message}}
    with pytest.raises(AnsibleParserError, match="prod-a.*api_token"):
        sim.load()


def test_unreachable_url_is_named(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = "http://127.0.0.1:%d" % port

    def quick_client(options, warn=None):
        return TosClient(options["api_url"], api_token=options["api_token"], timeout=2, retries=1,
                         sleep=lambda seconds: None)

    monkeypatch.setattr(plugin_module, "client_from_options", quick_client)
    path = tmp_path / "down.tos.yml"
    path.write_text("plugin: tos.cloud.hosts\napi_url: %s\napi_token: very-secret\n" % url)
    with pytest.raises(AnsibleParserError) as caught:
        inventory_loader.get("tos.cloud.hosts").parse(InventoryData(), DataLoader(), str(path))
    assert url in str(caught.value)
    assert "TOS_API_URL" in str(caught.value)
    assert "very-secret" not in str(caught.value)


def test_connection_options_come_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("TOS_API_URL", "http://198.51.100.200:9990,http://198.51.100.201:9990")
    monkeypatch.setenv("TOS_API_TOKEN", "from-env")
    monkeypatch.setenv("TOS_VALIDATE_CERTS", "false")
    monkeypatch.setenv("TOS_TIMEOUT", "7")
    path = sim.tmp_path / "env.tos.yml"
    path.write_text("plugin: tos.cloud.hosts\nfetch_workers: 1\n")
    inventory_loader.get("tos.cloud.hosts").parse(InventoryData(), DataLoader(), str(path))
    options = sim.clients[0].options
    assert options["api_url"] == ["http://198.51.100.200:9990", "http://198.51.100.201:9990"]
    assert options["api_token"] == "from-env"
    assert options["validate_certs"] is False
    assert options["timeout"] == 7


# -- cache ----------------------------------------------------------------------------------------

def test_second_run_with_cache_sends_no_request(sim):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 600}
    first = sim.load(**cache)
    assert sim.log
    del sim.log[:]
    second = sim.load(**cache)
    assert sim.log == []
    assert sorted(first.hosts) == sorted(second.hosts)
    assert second.get_host("192.0.2.11").vars["tos_center_leader"] is True
    assert len(sim.members(second, "tos_cluster_生产_集群")) == 4
    # refresh (cache=False, as with --flush-cache or meta: refresh_inventory) asks again
    sim.load(read_cache=False, **cache)
    assert sim.log


def test_cache_written_with_other_options_is_not_used(sim):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 600}
    sim.load(**cache)
    del sim.log[:]
    inventory = sim.load(want_versions=True, **cache)
    assert [r for r in sim.log if "upgrade_package/list" in r]
    assert "tos_versions" in inventory.get_host("192.0.2.11").vars


def test_want_networks_and_want_services_use_the_same_cache(sim):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 600}
    sim.load(**cache)
    del sim.log[:]
    inventory = sim.load(want_networks=True, want_services=True, **cache)
    assert sim.log == []
    hv = sim.hostvars(inventory, "192.0.2.12")
    assert hv["tos_networks"]["storage"]["mtu"] == 9000
    assert hv["tos_services"]["hyper"]["enabled"] is True


def test_a_cache_of_another_format_or_unreadable_is_read_again_from_the_manager(sim):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 600}
    current, plugin_module.CACHE_FORMAT = plugin_module.CACHE_FORMAT, 2  # as tos.cloud 1.0.0 wrote it
    try:
        sim.load(**cache)
    finally:
        plugin_module.CACHE_FORMAT = current
    del sim.log[:]
    inventory = sim.load(**cache)
    assert sim.log and len(inventory.hosts) == 8
    # an entry whose data is not JSON (edited by hand, truncated): read again, not an error
    (entry,) = (sim.tmp_path / "cache").iterdir()
    stored = json.loads(entry.read_text(encoding="utf-8"))
    payload = json.loads(stored["__payload__"])
    assert isinstance(payload["data"], str)
    stored["__payload__"] = json.dumps(dict(payload, data="{not json"))
    entry.write_text(json.dumps(stored), encoding="utf-8")
    del sim.log[:]
    inventory = sim.load(**cache)
    assert sim.log and len(inventory.hosts) == 8


def test_the_http_client_is_loaded_only_to_read_the_api(tmp_path):
    """The plugin imports requests (through the API client) only when it reads the API: a run from the cache never."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from ansible.plugins.loader import init_plugin_loader\n"
            "init_plugin_loader()\n"
            "from ansible_collections.tos.cloud.plugins.inventory import hosts\n"
            "hosts.cluster_hosts({'name': 'c', 'uuid': 'u', 'detail': {}})\n"
            "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))\n"
            "hosts._api_error()\n"
            "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))\n")
    module = plugin_module.__file__
    root = module[:module.rindex(os.sep + "ansible_collections" + os.sep)]  # the collections directory
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               ANSIBLE_COLLECTIONS_PATH=root)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tmp_path), env=env,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "['requests', 'urllib3']"], run.stdout


def test_cached_values_are_still_never_templated(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    sim.answers[key]["TopoHostNode"][3]["name"] = "{{ 6 * 7 }}"
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 600}
    sim.load(**cache)
    inventory = sim.load(**cache)
    hv = inventory.get_host("192.0.2.14").get_vars()
    assert Templar(loader=DataLoader(), variables=hv).template(trust_as_template("{{ tos_name }}")) == "{{ 6 * 7 }}"


# -- the documents' reading -----------------------------------------------------------------------

def test_documented_topology_center_service_on_the_node_itself(documented):
    """The API document's example: no MachineUUID, the center service on a node of the topology."""
    inventory = documented.load()
    assert sorted(inventory.hosts) == ["203.0.113.137", "203.0.113.6"]
    center = documented.hostvars(inventory, "203.0.113.6")
    assert center["tos_center"] is True
    assert center["tos_center_leader"] is True
    assert center["tos_cvm"] is None
    assert sorted(center["tos_roles"]) == ["center", "manager"]
    assert documented.members(inventory, "tos_center_leader") == ["203.0.113.6"]
    plain = documented.hostvars(inventory, "203.0.113.137")
    assert "tos_services" not in plain and plain["tos_roles"] == []
    assert documented.hostvars(documented.load(want_services=True), "203.0.113.137")["tos_services"] == {}
    assert plain["tos_center"] is False
    assert documented.members(inventory, "tos_cluster_cluster_6") == ["203.0.113.137", "203.0.113.6"]


def _placed_only_by_the_topology_map(answers):
    """``answers`` as a manager that reads the documents' way: ``cloud/manage`` ``"machine_uuid": ""`` and no
    ``MachineUUID`` on a CVM's node; ``all_cluster/topology`` lists each CVM under its host's address."""
    info = {}
    for key, data in answers.items():
        if key.startswith("GET /v1/cluster/cloud/manage"):
            for item in data["host_info"]:
                item["machine_uuid"] = ""
        if key.startswith("GET /v1/cluster/get"):
            nodes = data["TopoHostNode"]
            address = {n["UUID"]: n["managerNet"]["Addrs"][0] for n in nodes if not n["IsSystemService"]}
            faces = {cidr: {"IFacesInfo": {cidr: {"IP": cidr}}, "Hosts": []} for cidr in address.values()}
            for node in nodes:
                if node["IsSystemService"] and (node["services"].get("center") or {}).get("enabled"):
                    faces[address[node["MachineUUID"]]]["Hosts"].append(
                        {"Type": "cvm", "UUID": node["UUID"], "Name": node["name"]})
                    node["MachineUUID"] = ""
            info[data["cluster_uuid"]] = {"ClusterName": data["name"], "HostIFacesInfo": faces}
    answers["POST /v1/cluster/all_cluster/topology"] = {"info": info}
    return answers


def test_cvms_that_only_the_topology_map_places_belong_to_their_hosts(tmp_path, monkeypatch):
    """register entry 9, the documents' reading: the same inventory, one request more per cluster with a CVM."""
    named = Harness(tmp_path / "named", monkeypatch, load_recording(RECORDED))
    (tmp_path / "named").mkdir()
    expected = named.load()
    documented = Harness(tmp_path, monkeypatch, _placed_only_by_the_topology_map(load_recording(RECORDED)))
    inventory = documented.load()
    assert sorted(inventory.hosts) == sorted(expected.hosts)
    for host in expected.hosts:
        assert documented.hostvars(inventory, host) == named.hostvars(expected, host), host
    assert documented.members(inventory, "tos_center_leader") == ["192.0.2.11"]
    assert documented.log.count("POST /v1/cluster/all_cluster/topology") == 1  # prod-a: its CVMs; the other has none
    assert len(documented.log) == len(named.log) + 1


def test_threads_do_not_share_a_session(sim):
    seen = {}
    lock = threading.Lock()
    real_once = RecordedClient._once

    def once(self, *args):
        with lock:
            seen.setdefault(id(self), set()).add(threading.get_ident())
        return real_once(self, *args)

    RecordedClient._once = once
    try:
        sim.load(fetch_workers=2, want_versions=True)
    finally:
        RecordedClient._once = real_once
    assert all(len(threads) == 1 for threads in seen.values())


SECRET_TOKEN = "tok-INVENTORY-3e2d1c0b"


def test_a_manager_echoing_the_token_never_shows_it_in_warnings(sim):
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    message = "GET /v1/cluster/get was refused (code 1401): token %s is not valid (%r)" % (
        SECRET_TOKEN, SECRET_TOKEN + "\n")
    sim.answers[key] = {"_error": {"kind": "api", "message": message}}
    sim.load(api_token=SECRET_TOKEN)
    warned = [w for w in sim.warnings if "skipping cluster 'prod-a'" in w]
    assert warned and "********" in warned[0]
    assert not any(SECRET_TOKEN in w for w in sim.warnings)


def test_a_manager_echoing_the_token_never_shows_it_in_the_error(sim):
    sim.answers["GET /v1/cluster/list"] = {"_error": {
        "kind": "auth", "http_status": 401, "message": "token %s is not valid" % json.dumps(SECRET_TOKEN + "\t")}}
    with pytest.raises(AnsibleParserError) as info:
        sim.load(api_token=SECRET_TOKEN)
    assert SECRET_TOKEN not in str(info.value) and "********" in str(info.value)


# -- the whole ansible-inventory --list output, unchanged since release 1.0.0 ----------------------------------------
# The whole ``ansible-inventory --list`` output of tos.cloud.hosts, unchanged by the 10,000-host work (issue 23).
#
# ``fixtures/golden_list.json`` is what the plugin of release 1.0.0 printed (``ansible-inventory --list``, run in
# this process by ``InventoryCLI`` with the recorded answers of ``fixtures/*.json`` instead of HTTP), for every
# configuration of ``CASES``, cold and then from the cache. Any change of a host variable, of its type or of its
# unsafe marking, of a group, of a group's members or of their order shows as a difference here.
# It was written with release 1.0.0's collection first on PYTHONPATH and ANSIBLE_COLLECTIONS_PATH.
# Regenerate (only for a deliberate change, and say so in the changelog):
# ``TOS_WRITE_GOLDEN=1 python -m pytest tests/unit/plugins/inventory/test_hosts.py -k release_1_0_0``.
GOLDEN = os.path.join(HERE, "fixtures", "golden_list.json")

CONSTRUCTED = {
    "keyed_groups": [{"key": "tos_cluster_name", "prefix": "cluster"},
                     {"key": "tos_versions.storage | default('none')", "prefix": "storage_version"},
                     {"key": "tos_roles", "prefix": "role"}],
    "groups": {"upgrade_last": "tos_center_leader", "rack_a": "tos_name.startswith('tos-a')"},
    "compose": {"ansible_user": "'root'", "tos_rack": "tos_name[4]"},
}
CASES = {
    "default": (RECORDED, {}),
    "everything": (RECORDED, dict(want_versions=True, want_networks=True, want_services=True, **CONSTRUCTED)),
    "names": (RECORDED, {"hostname_key": "name", "cluster_group_key": "uuid", "cluster_group_prefix": "c-",
                         "role_group_prefix": "role_", "want_leader": False}),
    "uuids": (RECORDED, {"hostname_key": "uuid", "clusters": ["prod-a"], "want_services": True}),
    "documented": (DOCUMENTED, {"want_services": True, "want_networks": True}),
    "warned": (RECORDED, {"clusters": ["no-such-cluster", "生产-集群"], "fetch_workers": 4, "want_versions": True}),
}


def run_cli(path, *extra):
    """``ansible-inventory -i PATH --list`` in this process: its stdout as JSON."""
    # what the CLI sets once per process (GlobalCLIArgs is a singleton: a second CLI would get the first's arguments)
    saved = context.CLIARGS, VaultSecretsContext._current, GlobalCLIArgs._Singleton__instance
    VaultSecretsContext._current = GlobalCLIArgs._Singleton__instance = None
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        cli = InventoryCLI(["ansible-inventory", "-i", str(path), "--list", *extra])
        cli.parse()
        with pytest.raises(SystemExit) as done:
            cli.run()
        assert done.value.code == 0
    finally:
        sys.stdout = real
        context.CLIARGS, VaultSecretsContext._current, GlobalCLIArgs._Singleton__instance = saved
    return json.loads(out.getvalue())


def listing(tmp_path, monkeypatch, name):
    recording, options = CASES[name]
    harness = Harness(tmp_path, monkeypatch, load_recording(recording))
    config = dict(plugin="tos.cloud.hosts", api_url="http://192.0.2.10:9990", fetch_workers=1, cache=True,
                  cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"),
                  cache_timeout=3600)
    config.update(options)
    path = tmp_path / ("%s.tos.yml" % name)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    cold = run_cli(path)
    requests = len(harness.log)
    cached = run_cli(path)
    assert len(harness.log) == requests, "the run from the cache sent a request"
    assert cached == cold
    return {"list": cold, "requests": requests, "warnings": harness.warnings}


@pytest.mark.parametrize("name", sorted(CASES))
def test_list_output_is_what_release_1_0_0_printed(tmp_path, monkeypatch, name):
    got = listing(tmp_path, monkeypatch, name)
    if os.environ.get("TOS_WRITE_GOLDEN"):
        golden = {}
        if os.path.exists(GOLDEN):
            with open(GOLDEN, encoding="utf-8") as handle:
                golden = json.load(handle)
        golden[name] = got
        with open(GOLDEN, "w", encoding="utf-8") as handle:
            json.dump(golden, handle, indent=1, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
    with open(GOLDEN, encoding="utf-8") as handle:
        expected = json.load(handle)[name]
    assert got == expected


# -- the cache never keeps what a run lost to a failure ------------------------------------------
def _cache(sim):
    return {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
            "cache_connection": str(sim.tmp_path / "cache"), "cache_timeout": 3600}


def test_a_cluster_skipped_for_a_transient_failure_is_not_cached_as_gone(sim):
    """A run that skipped a cluster (cluster/get failed once) must not leave a cache without that cluster: the next
    run, within cache_timeout and with the manager healthy again, would silently lack its hosts for an hour."""
    key = "GET /v1/cluster/get?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    good = sim.answers[key]
    sim.answers[key] = {"_error": {"kind": "http", "message": "GET /v1/cluster/get failed with HTTP 503"}}
    first = sim.load(**_cache(sim))
    assert len(first.hosts) == 4 and any("skipping cluster 'prod-a'" in w for w in sim.warnings)
    assert any("inventory cache was not updated" in w for w in sim.warnings)
    sim.answers[key] = good  # the manager is healthy again
    del sim.warnings[:]
    second = sim.load(**_cache(sim))
    assert "192.0.2.11" in second.hosts, "prod-a's hosts are missing, served from a cache of a failed read"
    assert not any("inventory cache was not updated" in w for w in sim.warnings)
    requests = len(sim.log)
    sim.load(**_cache(sim))
    assert len(sim.log) == requests  # the complete run's data was cached


def test_a_leader_lost_to_a_transient_failure_is_not_cached(sim):
    key = "GET /v1/cluster/cloud/manage?cluster_uuid=%s" % cluster_uuid(sim.answers, "prod-a")
    good = sim.answers[key]
    sim.answers[key] = {"_error": {"kind": "http", "message": "GET /v1/cluster/cloud/manage failed with HTTP 500"}}
    first = sim.load(**_cache(sim))
    assert first.get_host("192.0.2.11").vars["tos_center_leader"] is None
    sim.answers[key] = good
    second = sim.load(**_cache(sim))
    assert second.get_host("192.0.2.11").vars["tos_center_leader"] is True
