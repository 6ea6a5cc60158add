# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: hosts
short_description: The hosts of tos clusters as an inventory
version_added: 0.1.0
author: tos.cloud maintainers (@tos-cloud)
description:
  - Reads every cluster of a tos manager through its /v1 API (C(cluster/list), then C(cluster/get) per cluster)
    and makes every physical host of each cluster's topology an inventory host.
  - Uses a YAML configuration file whose name ends with C(tos.yml) or C(tos.yaml), for example C(inventory.tos.yml).
  - Host variables start with C(tos_); C(ansible_host) is the host's management address.
  - "Groups: one per cluster (O(cluster_group_prefix) plus the cluster's name), one per service role
    (O(role_group_prefix) plus V(manager), V(center), V(compute), V(storage), V(storage_service), V(network)),
    and V(tos_center_leader) (with O(role_group_prefix)) for the host of the leader cloud-management VM;
    plus what O(compose), O(groups) and O(keyed_groups) construct."
  - Cloud-management VMs and storage-service VMs appear in the topology as system-service nodes that run on a
    physical host; they are not inventory hosts of their own but variables (C(tos_cvm), C(tos_storage_vms))
    and roles (V(center), V(storage_service)) of the host they run on. The documented topology does not name
    that host, so it comes from C(cluster/cloud/manage) (C(machine_uuid) of each CVM) and
    C(cluster/storage_service/vm/list) (C(host_uuid)), read once per cluster that has such nodes; a CVM that
    C(machine_uuid) leaves unplaced (empty, as the documents' example shows) is placed by the network topology
    map (C(cluster/all_cluster/topology)), read once per cluster that has one.
  - With the inventory cache enabled, a run within O(cache_timeout) of the last one sends no request to the manager.
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - tos.cloud.connection.INVENTORY
options:
  plugin:
    description: Marks the file as a source of this plugin.
    type: str
    required: true
    choices: [tos.cloud.hosts]
  clusters:
    description:
      - Only the clusters named here, each by its exact name or its UUID.
      - An entry that matches no cluster is reported with a warning.
      - When empty, every cluster of the manager.
    type: list
    elements: str
    default: []
  hostname_key:
    description:
      - What names a host in the inventory.
      - V(management_ip) is the host's management address, V(name) its host name, V(uuid) its UUID.
      - A host that lacks the chosen key (no management address, no name) is named by its name, then its UUID.
    type: str
    choices: [management_ip, name, uuid]
    default: management_ip
  cluster_group_prefix:
    description:
      - Prefix of the group made for each cluster.
      - The rest of the group name is the cluster's name (or UUID, see O(cluster_group_key)) with every character
        that is not a letter, a digit or C(_) replaced by C(_). Letters include Chinese characters, which Ansible
        accepts in group names, so a cluster named C(生产-1) becomes group C(tos_cluster_生产_1).
      - When two clusters would get the same group name, the second one's group gets the first 8 characters of
        its UUID appended, with a warning.
    type: str
    default: tos_cluster_
  cluster_group_key:
    description:
      - Whether cluster groups are named after the cluster's V(name) or its V(uuid).
      - V(uuid) gives ASCII group names that survive renames.
    type: str
    choices: [name, uuid]
    default: name
  role_group_prefix:
    description:
      - Prefix of the groups made for each service role, and of the leader group.
    type: str
    default: tos_
  want_leader:
    description:
      - Ask C(cluster/cloud/manage) which cloud-management VM is the leader, to set C(tos_cvm.leader),
        C(tos_center_leader) and the leader group.
      - One request per cluster, only for clusters whose topology has a cloud-management VM.
      - When false, C(tos_center_leader) is V(null) for every host.
    type: bool
    default: true
  want_versions:
    description:
      - Read the installed version of every service type of every host (C(tos_versions)) from
        C(system/upgrade_package/list), one request per cluster.
    type: bool
    default: false
  want_networks:
    description:
      - Set C(tos_networks), every network of the host (C(management), C(storage), C(backup), C(compute)) with its
        C(nic), C(addresses) (with prefix length) and C(mtu).
      - Off by default because it is the largest host variable, and Ansible copies and encodes every value of every
        host variable (for example in C(ansible-inventory --list)), so with many hosts it costs a noticeable share of
        the time. The addresses without prefix length are always set (C(tos_management_ip), C(tos_storage_ip),
        C(tos_backup_ip), C(tos_compute_ip)).
      - Needs no request and does not invalidate the cache.
    type: bool
    default: false
    version_added: 1.0.0
  want_services:
    description:
      - Set C(tos_services), the topology node's services as the API names them (C(manager), C(usm), C(hyper), ...),
        each with C(enabled), C(mode) and C(status).
      - Off by default for the same reason as O(want_networks). The service roles are always there, as groups and
        as C(tos_roles).
      - Needs no request and does not invalidate the cache.
    type: bool
    default: false
    version_added: 1.0.0
  fetch_workers:
    description:
      - How many clusters are read at the same time (each worker has its own HTTP session).
      - V(1) reads them one after the other.
    type: int
    default: 4
notes:
  - "Host variables: C(tos_cluster_name), C(tos_cluster_uuid), C(tos_uuid), C(tos_name), C(tos_management_ip),
    C(tos_storage_ip), C(tos_backup_ip), C(tos_compute_ip), C(tos_roles) (the role names of the
    groups), C(tos_agent_status), C(tos_host_mode), C(tos_center) (runs a cloud-management VM),
    C(tos_center_leader) (that VM is the leader; V(null) when unknown), C(tos_cvm) (C(uuid), C(name), C(ip),
    C(status), C(leader)), C(tos_storage_vms); with O(want_networks) C(tos_networks) (per network: C(nic),
    C(addresses) with prefix length, C(mtu)), with O(want_services) C(tos_services) (the topology node's services
    as the API names them - C(manager), C(usm), C(hyper), ... - each with C(enabled), C(mode), C(status)), and with
    O(want_versions) C(tos_versions) (service type to version)."
  - "Before version 0.2.0, C(tos_networks) and C(tos_services) were always set; set O(want_networks) and
    O(want_services) to V(true) to keep them."
  - "Service roles from the API's service names: C(manager) -> V(manager), C(center) -> V(center),
    C(hyper) -> V(compute), C(usm) -> V(storage), C(vsm) -> V(storage_service), C(network) -> V(network);
    any other service keeps its API name."
  - Every value read from the API is marked unsafe, so a host or cluster name containing C({{) is never templated.
  - "AWX: create an inventory source of type I(Sourced from a Project) with this file, and a custom credential
    type that injects the environment variables E(TOS_API_URL) and E(TOS_API_TOKEN) (and E(TOS_CA_PATH) or
    E(TOS_VALIDATE_CERTS) when needed); leave O(api_url) and O(api_token) out of the file."
requirements:
  - requests >= 2.25 (on the controller)
"""

EXAMPLES = r"""
# inventory.tos.yml: every host of every cluster; the manager from TOS_API_URL / TOS_API_TOKEN
plugin: tos.cloud.hosts

---
# Two clusters only, hosts named by host name, versions as variables, cached for an hour
plugin: tos.cloud.hosts
api_url: https://192.0.2.10:9990
clusters: [prod-a, 9505d119-0fa8-4a57-b693-5e8ab7b64466]
hostname_key: name
want_versions: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/tos-inventory
cache_timeout: 3600

---
# Also the per-network details and the services of every host (tos_networks, tos_services)
plugin: tos.cloud.hosts
want_networks: true
want_services: true

---
# Constructed groups and variables
plugin: tos.cloud.hosts
keyed_groups:
  - key: tos_versions.compute | default('unknown')
    prefix: compute_version
groups:
  upgrade_last: tos_center_leader
compose:
  ansible_user: "'root'"
"""

import concurrent.futures
import json
import threading

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.tos.cloud.plugins.module_utils._redact import redact
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    CLOUD_MANAGE,
    center_index,
    get_cluster,
    host_addresses,
    list_clusters,
    read_vm_hosts,
    role_names,
    service_enabled,
    topology,
)
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    node_services as services_of,
)
from ansible_collections.tos.cloud.plugins.plugin_utils.connection import blank_environment_unset, connection_options
from ansible_collections.tos.cloud.plugins.plugin_utils.inventory_bulk import HostAdder

display = Display()

UPGRADE_PACKAGES = "/v1/system/upgrade_package/list"
STORAGE_VM_LIST = "/v1/cluster/storage_service/vm/list"

# What the cache holds; a different number means the cached data is ignored.
# 3: the API data as one JSON string, topology nodes cut to the fields the variables use (see _cache_form).
CACHE_FORMAT = 3

NETWORKS = (("management", "managerNet"), ("storage", "storageNet"), ("backup", "backupNet"),
            ("compute", "computeNet"))
# Errors that would hit every cluster alike: no point going on with the next one.
FATAL_KINDS = ("auth", "connection", "tls")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "tos.cloud.hosts"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        if path.endswith(("tos.yml", "tos.yaml")):
            return True
        display.vvv("Skipping %s: tos.cloud.hosts only reads files whose name ends with tos.yml or tos.yaml." % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        with blank_environment_unset():  # a blank TOS_* variable counts as unset (plugin_utils/connection.py)
            self._read_config_data(path)

        fingerprint = self._fingerprint()
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        data = self._cached(cache_key, fingerprint) if use_cache and cache else None
        if data is None:
            data = self.fetch()
            if use_cache and data.get("incomplete"):
                # a cluster skipped, a leader or versions lost to a failure: kept, that loss would outlast the failure
                # for cache_timeout with no warning; the entry is voided so that the next run reads the manager
                self._cache[cache_key] = {"fingerprint": None}
                display.warning("tos.cloud.hosts: the inventory cache was not updated, because this run could not "
                                "read everything (see the warnings above); the next run reads the manager again.")
            elif use_cache:
                self._cache[cache_key] = {"fingerprint": fingerprint, "data": json.dumps(_cache_form(data))}
        self.populate(data)

    def _cached(self, cache_key: str, fingerprint: dict) -> dict | None:
        """The data of the cache entry ``cache_key`` when it was written with ``fingerprint``, else None.

        The entry holds the API data as one JSON string: ansible-core's cache codec then sees one value instead of
        every value of 10,000 hosts (it tags and checks each), and ``json.loads`` reads the string in C."""
        try:
            cached = self._cache[cache_key]
        except KeyError:
            return None
        if not isinstance(cached, dict) or cached.get("fingerprint") != fingerprint:
            return None
        try:
            data = json.loads(cached["data"])
        except (KeyError, TypeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- reading the API ----------------------------------------------------------------------

    def _fingerprint(self):
        """What the cached data depends on besides the file's path."""
        return {
            "format": CACHE_FORMAT,
            "api_url": list(self.get_option("api_url") or []),
            "clusters": list(self.get_option("clusters") or []),
            "want_leader": bool(self.get_option("want_leader")),
            "want_versions": bool(self.get_option("want_versions")),
        }

    def _connection_options(self):
        return connection_options(self)

    def _mask(self, text):
        """``text`` without the token (in any escaped form): the manager's error text may echo it back.

        The client masks its errors already; this covers whatever else reaches a warning or an error."""
        return redact(text, [self.get_option("api_token")])

    def _new_client(self, warn=True):
        api_error = _api_error()
        try:
            return client_from_options(self._connection_options(), warn=display.warning if warn else None)
        except api_error as exc:
            raise AnsibleParserError("tos.cloud.hosts: %s" % self._mask(exc.message))

    def fetch(self):
        """Everything the inventory is made of, as plain API data (what the cache stores)."""
        client = self._new_client()
        api_error = _api_error()
        try:
            clusters = self._select(list_clusters(client))
        except api_error as exc:
            raise AnsibleParserError("tos.cloud.hosts: could not list the clusters: %s" % self._mask(exc.message))

        workers = max(1, min(int(self.get_option("fetch_workers") or 1), len(clusters) or 1))
        if workers == 1:
            results = [self._fetch_cluster(client, cluster) for cluster in clusters]
        else:
            # requests.Session is not thread-safe: one client per worker thread
            local = threading.local()

            def work(cluster):
                if getattr(local, "client", None) is None:
                    local.client = self._new_client(warn=False)
                return self._fetch_cluster(local.client, cluster)

            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(work, clusters))

        loaded = []
        incomplete = False
        for cluster, (entry, problems) in zip(clusters, results):
            incomplete = incomplete or bool(problems)
            for exc in problems:
                if exc.kind in FATAL_KINDS:
                    raise AnsibleParserError("tos.cloud.hosts: could not read cluster '%s': %s" % (
                        cluster["name"], self._mask(exc.message)))
            if entry is None:
                display.warning("tos.cloud.hosts: skipping cluster '%s' (%s): %s" % (
                    cluster["name"], cluster["uuid"], self._mask(problems[0].message)))
                continue
            for exc in problems:
                display.warning("tos.cloud.hosts: cluster '%s': %s" % (cluster["name"], self._mask(exc.message)))
            loaded.append(entry)
        return {"clusters": loaded, "incomplete": incomplete} if incomplete else {"clusters": loaded}

    def _select(self, clusters):
        """The listed clusters the ``clusters`` option names (all when it is empty), in list order."""
        wanted = [str(item) for item in self.get_option("clusters") or []]
        if not wanted:
            return clusters
        chosen = set()
        for key in wanted:
            match = next((c for c in clusters if c["name"] == key), None) \
                or next((c for c in clusters if c["uuid"] == key), None)
            if match is None:
                display.warning("tos.cloud.hosts: no cluster is named '%s' or has that UUID; known clusters: %s" % (
                    key, ", ".join(c["name"] for c in clusters) or "none"))
            else:
                chosen.add(match["uuid"])
        return [c for c in clusters if c["uuid"] in chosen]

    def _fetch_cluster(self, client, cluster):
        """``(entry, problems)`` for one cluster: its detail and, when wanted, its cloud-management
        nodes and versions. ``entry`` is None when ``cluster/get`` failed; a failure of an optional
        extra only loses that extra. Runs in worker threads: it reports, the caller warns or fails.
        """
        uuid = cluster["uuid"]
        api_error = _api_error()
        try:
            detail = get_cluster(client, uuid)
        except api_error as exc:
            return None, [exc]
        entry = {"uuid": uuid, "name": detail.get("name") or cluster["name"], "detail": detail,
                 "cloud_manage": None, "versions": None, "system_vms": None}
        problems = []
        extras = []
        if self.get_option("want_leader") and _has_center(detail):
            extras.append(("cloud_manage", CLOUD_MANAGE, "host_info", ("uuid", "machine_uuid", "ip", "is_leader")))
        if self.get_option("want_versions"):
            extras.append(("versions", UPGRADE_PACKAGES, "list", ("host_ip", "type_version")))
        for field, path, key, keep in extras:
            try:
                data = client.get(path, {"cluster_uuid": uuid}) or {}
            except api_error as exc:
                problems.append(exc)
                continue
            items = data.get(key) if isinstance(data, dict) else None
            # only what the variables use: the cache stays small and quick to read
            entry[field] = [{name: item.get(name) for name in keep} for item in items or [] if isinstance(item, dict)]
        if _unplaced_system_nodes(detail):
            # which host a CVM or storage VM runs on: the documented topology does not say
            # (MachineUUID is the simulator's); cloud/manage machine_uuid and the storage VM list do
            try:
                entry["system_vms"] = system_vm_hosts(client, uuid, detail, entry["cloud_manage"])
            except api_error as exc:
                problems.append(exc)
        return entry, problems

    # -- building the inventory ---------------------------------------------------------------

    def populate(self, data: dict) -> None:
        want = {"networks": bool(self.get_option("want_networks")), "services": bool(self.get_option("want_services"))}
        constructed = self._constructed_options()
        role_group = self._role_groups()
        set_variable = self._variable_setter()
        # the same hosts, groups and variables as the public calls in _add_host, in one pass per host (when this
        # ansible-core is one it was checked against; inventory_bulk.py)
        adder = HostAdder.for_inventory(self.inventory, cache_ancestors=constructed is None)
        get_host = self.inventory.get_host
        cluster_groups: dict = {}
        for cluster in data.get("clusters") or []:
            group = self._cluster_group(cluster, cluster_groups)
            for hostvars in cluster_hosts(cluster, **want):
                name = self._host_name(hostvars)
                if get_host(name) is not None:
                    display.warning("tos.cloud.hosts: two hosts are named '%s' (hostname_key=%s); keeping the first, "
                                    "skipping the one in cluster '%s'." % (
                                        name, self.get_option("hostname_key"), cluster["name"]))
                    continue
                groups = [group] + [role_group(role) for role in _host_roles(hostvars)]
                # every value made unsafe, which also copies it: the inventory shares no list or dict with the API
                # data or with another host
                variables = {key: make_unsafe(value) for key, value in hostvars.items()}
                if adder is None or not adder.add(name, groups, variables):
                    self._add_host(name, groups, variables, set_variable)
                if constructed:
                    self._construct(name, *constructed)

    def _add_host(self, name: str, groups: list, variables: dict, set_variable) -> None:
        """Add one host to ``groups`` with ``variables``, through ansible-core's public calls."""
        inventory = self.inventory
        for group in groups:
            inventory.add_host(name, group=group)
        for key, value in variables.items():
            set_variable(name, key, value)

    def _variable_setter(self):
        """``set_variable(host, key, value)`` of the inventory itself, past ansible-core's proxy.

        ansible-core (2.19+) hands inventory plugins a proxy whose ``set_variable`` runs every value through a visitor
        that checks its type, copies it and tags every string, number and container of it with the source file's
        origin; for 10,000 hosts of 16 variables that is 1.6 s of CPU, most of a cached parse (docs/inventory.md).
        The values here need none of it: they are JSON data (the types the visitor allows), freshly copied by
        ``make_unsafe``, and not trusted as templates (the proxy would not trust them either: the plugin does not
        set ``trusted_by_default``). What is lost is only the origin tag, which names the inventory file in an
        error about a value. ``compose`` and the other constructed options still go through the proxy."""
        inventory = self.inventory
        return getattr(inventory, "__wrapped__", inventory).set_variable

    def _role_groups(self):
        """``group_of(role)``: the name of the role's group, added on first use (a cluster has a handful of roles,
        thousands of hosts use them)."""
        prefix = self.get_option("role_group_prefix") or ""
        made: dict = {}

        def group_of(role: str) -> str:
            group = made.get(role)
            if group is None:
                group = made[role] = self.inventory.add_group(safe_group_name(prefix + role))
            return group

        return group_of

    def _constructed_options(self) -> tuple | None:
        """``(compose, groups, keyed_groups, strict)`` when any of the first three is set, else None."""
        compose, groups, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        if not (compose or groups or keyed):
            return None
        return compose, groups, keyed, self.get_option("strict")

    def _construct(self, name: str, compose, groups, keyed_groups, strict: bool) -> None:
        variables = self.inventory.get_host(name).get_vars()
        self._set_composite_vars(compose, variables, name, strict=strict)
        # the host's variables with the composed ones: read once, given to both (the default would read them again
        # for every entry of groups and keyed_groups)
        variables = self.inventory.get_host(name).get_vars()
        self._add_host_to_composed_groups(groups, variables, name, strict=strict, fetch_hostvars=False)
        self._add_host_to_keyed_groups(keyed_groups, variables, name, strict=strict, fetch_hostvars=False)

    def _cluster_group(self, cluster, taken):
        """Add the cluster's group; ``taken`` maps group names made so far to their cluster."""
        key = cluster["uuid"] if self.get_option("cluster_group_key") == "uuid" else cluster["name"]
        name = safe_group_name("%s%s" % (self.get_option("cluster_group_prefix") or "", key))
        other = taken.get(name)
        if other is not None and other["uuid"] != cluster["uuid"]:
            unique = safe_group_name("%s_%s" % (name, (cluster["uuid"] or "")[:8]))
            display.warning("tos.cloud.hosts: clusters '%s' and '%s' both make group '%s'; the group of '%s' is "
                            "'%s'." % (other["name"], cluster["name"], name, cluster["name"], unique))
            name = unique
        taken[name] = cluster
        return self.inventory.add_group(name)

    def _host_name(self, hostvars):
        key = self.get_option("hostname_key")
        by = {"management_ip": hostvars["tos_management_ip"], "name": hostvars["tos_name"], "uuid": hostvars["tos_uuid"]}
        return make_unsafe(by.get(key) or hostvars["tos_name"] or hostvars["tos_uuid"])


def _host_roles(hostvars: dict) -> list:
    """The roles whose groups a host is in: its ``tos_roles``, and ``center_leader`` for the leader's host."""
    roles = hostvars["tos_roles"]
    return roles + ["center_leader"] if hostvars["tos_center_leader"] else roles


def client_from_options(options, warn=None):
    """The API client (``module_utils._module.client_from_options``), imported on first use: an inventory
    served from the cache never loads the HTTP client (requests and urllib3 take about 50 ms to import)."""
    from ansible_collections.tos.cloud.plugins.module_utils._module import client_from_options as build

    return build(options, warn=warn)


def _api_error():
    """``TosApiError``, imported when the API is used (see ``client_from_options``)."""
    from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError

    return TosApiError


def make_unsafe(value):
    """``value`` with every string that could be a template marked unsafe, at any depth (keys too).

    The pattern of community.library_inventory_filtering_v1: Ansible only templates a string that
    contains a ``{`` (``{{``, ``{%``, ``{#``), so the others are left as they are, which keeps 1,000 hosts
    cheap; the rest go through ``wrap_var``.
    """
    if isinstance(value, str):
        return wrap_var(value) if "{" in value or "}" in value else value
    if isinstance(value, dict):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [make_unsafe(item) for item in value]
    return value


def safe_group_name(name):
    """A valid group name: characters other than letters (any script), digits and ``_`` become ``_``."""
    return to_safe_group_name(make_unsafe(name), force=True, silent=True)


# What the host variables read of a topology node (cluster_hosts and the helpers it calls): all the cache keeps.
NODE_FIELDS = ("UUID", "uuid", "name", "IsSystemService", "MachineUUID", "machine_uuid", "services")
NET_FIELDS = ("Name", "Addrs", "MTU")


def _cache_form(data: dict) -> dict:
    """``data`` (what ``fetch`` returns) with each cluster's detail cut to its topology, and each node to the fields
    the variables use: a 10,000-host cache is then about half as large, and as quick to read again."""
    clusters = []
    for cluster in data.get("clusters") or []:
        nodes = [_node_form(node) for node in topology(cluster.get("detail") or {})]
        clusters.append(dict(cluster, detail={"TopoHostNode": nodes}))
    return dict(data, clusters=clusters)


def _node_form(node):
    if not isinstance(node, dict):
        return node
    out = {key: node[key] for key in NODE_FIELDS if key in node}
    for _name, key in NETWORKS:
        if key in node:
            net = node[key]
            out[key] = {field: net[field] for field in NET_FIELDS if field in net} if isinstance(net, dict) else net
    return out


def _has_center(detail):
    return any(service_enabled(node, "center") for node in topology(detail))


def _node_uuid(node):
    return node.get("UUID") or node.get("uuid")


def _machine(node, system_vms=None):
    """The physical host a system-service node (a CVM or storage-service VM) runs on, if known: from
    ``system_vms`` (documented data, see ``system_vm_hosts``), else the node's own ``MachineUUID``."""
    if not node.get("IsSystemService"):
        return None
    for key in (_node_uuid(node), host_addresses(node)["management"]):
        if key and key in (system_vms or {}):
            return system_vms[key]
    return node.get("MachineUUID") or node.get("machine_uuid") or None


def _unplaced_system_nodes(detail):
    """System-service nodes whose topology entry does not name their host."""
    return [n for n in topology(detail) if n.get("IsSystemService") and not (n.get("MachineUUID") or n.get("machine_uuid"))]


def system_vm_hosts(client, cluster_uuid, detail, cloud_manage=None):
    """``{vm uuid or management ip: host uuid}`` of the cluster's CVMs and storage VMs, from documented
    data: ``cluster/cloud/manage`` ``uuid``/``ip`` -> ``machine_uuid`` (the host, when it is not the
    node itself), and ``storage_service/vm/list`` ``uuid``/``manage_ip`` -> ``host_uuid`` (that list
    shows no answer in the documents; the fields the modules read too); a CVM still unplaced (``machine_uuid``
    empty, as the documents' example) from ``all_cluster/topology`` (``_topology.read_vm_hosts``)."""
    physical = {_node_uuid(n) for n in topology(detail) if not n.get("IsSystemService")}
    found = {}
    nodes = _unplaced_system_nodes(detail)
    if any(service_enabled(n, "center") for n in nodes):
        if cloud_manage is None:  # not read already for the leader (want_leader)
            data = client.get(CLOUD_MANAGE, {"cluster_uuid": cluster_uuid}) or {}
            cloud_manage = (data.get("host_info") if isinstance(data, dict) else None) or []
        for item in cloud_manage:
            host = isinstance(item, dict) and item.get("machine_uuid")
            if host and host in physical:
                for key in (item.get("uuid"), item.get("ip")):
                    if key and key != host:
                        found[key] = host
    if any(service_enabled(n, "vsm") for n in nodes):
        for item in client.paginate(STORAGE_VM_LIST, {"cluster_uuid": cluster_uuid}, key=lambda item: item.get("uuid")):
            host = isinstance(item, dict) and item.get("host_uuid")
            if host and host in physical:
                for key in (item.get("uuid"), item.get("manage_ip")):
                    if key:
                        found[key] = host
    if any(service_enabled(n, "center") and _node_uuid(n) not in found
           and host_addresses(n)["management"] not in found for n in nodes):
        # cloud/manage left a CVM's host unnamed ("machine_uuid": "", as the documents' example): the network
        # topology map lists each VM under its host's address (one request more, only then)
        for vm, host in read_vm_hosts(client, cluster_uuid, detail).items():
            if host in physical:
                found.setdefault(vm, host)
    return found


def _networks(node):
    out = {}
    for name, key in NETWORKS:
        net = node.get(key)
        if isinstance(net, dict):
            out[name] = {"nic": net.get("Name"), "addresses": list(net.get("Addrs") or []), "mtu": net.get("MTU")}
    return out


def cluster_hosts(cluster: dict, networks: bool = False, services: bool = False) -> list[dict]:
    """The host variables of every physical host of one cluster entry (as ``fetch`` stores it).

    ``networks`` and ``services`` add ``tos_networks`` and ``tos_services`` (the options ``want_networks`` and
    ``want_services``).
    """
    physical, on_host = _placement(topology(cluster.get("detail") or {}), cluster.get("system_vms") or {})
    cloud_manage = cluster.get("cloud_manage")
    leaders = center_index(cloud_manage)
    versions = _versions(cluster.get("versions"))
    hosts = []
    for node in physical:
        hostvars = _host_vars(cluster, node, on_host.get(_node_uuid(node), ()), cloud_manage, leaders)
        if networks:
            hostvars["tos_networks"] = _networks(node)
        if services:
            hostvars["tos_services"] = services_of(node)
        if versions is not None:
            hostvars["tos_versions"] = versions.get(hostvars["tos_management_ip"], {})
        if hostvars["ansible_host"] is None:
            del hostvars["ansible_host"]
        hosts.append(hostvars)
    return hosts


def _placement(nodes: list, system_vms: dict) -> tuple[list, dict]:
    """``(hosts, vms)``: the nodes that are inventory hosts, and ``{host uuid: [system-service nodes on it]}``."""
    physical = [n for n in nodes if not _machine(n, system_vms)]
    known = {_node_uuid(n) for n in physical}
    on_host: dict = {}
    for node in nodes:
        machine = _machine(node, system_vms)
        if machine in known:
            on_host.setdefault(machine, []).append(node)
        elif machine:
            # a system VM on a host this topology does not show: keep it visible as a host of its own
            physical.append(node)
    return physical, on_host


def _versions(items: list | None) -> dict | None:
    """``{host ip: {service type: version}}`` from ``upgrade_package/list``; None when not read."""
    if items is None:
        return None
    versions = {}
    for item in items:
        if isinstance(item, dict) and item.get("host_ip"):
            versions[item["host_ip"]] = dict(item.get("type_version") or {})
    return versions


def _host_vars(cluster: dict, node: dict, vms, cloud_manage: list | None, leaders: dict) -> dict:
    """The variables of one host that every configuration has (see ``cluster_hosts`` for the optional ones)."""
    addresses = host_addresses(node)
    roles = role_names(services_of(node))
    cvm, storage_vms = _system_vms(vms, roles)
    center = cvm is not None or "center" in roles
    leader = _leader(node, addresses, cvm, cloud_manage, leaders) if center else False
    if cvm is not None:
        cvm["leader"] = leader
    services_meta = node.get("services") or {}
    return {
        "ansible_host": addresses["management"],
        "tos_cluster_name": cluster.get("name"),
        "tos_cluster_uuid": cluster.get("uuid"),
        "tos_uuid": _node_uuid(node),
        "tos_name": node.get("name"),
        "tos_management_ip": addresses["management"],
        "tos_storage_ip": addresses["storage"],
        "tos_backup_ip": addresses["backup"],
        "tos_compute_ip": addresses["compute"],
        "tos_roles": roles,
        "tos_agent_status": services_meta.get("agentStatus"),
        "tos_host_mode": services_meta.get("hostMode"),
        "tos_center": center,
        "tos_center_leader": leader,
        "tos_cvm": cvm,
        "tos_storage_vms": storage_vms,
    }


def _system_vms(vms, roles: list) -> tuple[dict | None, list]:
    """``(cvm, storage_vms)`` of a host from the system-service nodes on it; their roles are added to ``roles``."""
    cvm = None
    storage_vms = []
    for vm in vms:
        vm_services = services_of(vm)
        vm_addresses = host_addresses(vm)
        if "center" in vm_services:
            cvm = {"uuid": _node_uuid(vm), "name": vm.get("name"), "ip": vm_addresses["management"],
                   "status": vm_services["center"]["status"], "leader": None}
        else:
            storage_vms.append({"uuid": _node_uuid(vm), "name": vm.get("name"),
                                "management_ip": vm_addresses["management"],
                                "storage_ip": vm_addresses["storage"], "services": vm_services})
        for role in role_names(vm_services):
            if role not in roles:
                roles.append(role)
    return cvm, storage_vms


def _leader(node: dict, addresses: dict, cvm: dict | None, cloud_manage: list | None, leaders: dict) -> bool | None:
    """Whether the CVM of a center host is the leader; None when ``cloud/manage`` was not read."""
    if cloud_manage is None:
        return None
    # by the CVM's identity, else by the host's (cloud/manage may name either)
    keys = [_node_uuid(node), addresses["management"]]
    if cvm is not None:
        keys[:0] = [cvm["uuid"], cvm["ip"]]
    info = next((leaders[k] for k in keys if k in leaders), None)
    return bool(info and info.get("is_leader"))
