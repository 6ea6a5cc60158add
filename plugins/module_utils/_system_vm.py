# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cluster's system VMs: cloud-management VMs (CVMs, the center nodes) and storage-service VMs.

How they are listed and described, and ONE engine for both kinds (``SystemVm``): read the current VM,
deploy it, wait for its deploy (joining one another run started), remove it, tell who already owns an
address, and predict all of it in check mode.  ``tos.cloud.cvm`` and ``tos.cloud.storage_service_vm``
are thin modules over it, each through its kind (``Cvm``, ``StorageVm``: endpoints, bodies and views).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ansible_collections.tos.cloud.plugins.module_utils._api import by_field
from ansible_collections.tos.cloud.plugins.module_utils._checks import ip_of, normalize_cidr
from ansible_collections.tos.cloud.plugins.module_utils._host_tasks import (
    ANOTHER_RUN,
    THIS_RUN,
    HostTaskFailed,
    busy_hosts,
    join_host_task,
    read_host_task,
    task_is,
)
from ansible_collections.tos.cloud.plugins.module_utils._topology import (
    describe_physical_hosts,
    enabled_roles,
    find_physical_host,
    get_cluster,
    host_addresses,
    list_clusters,
    physical_nodes,
    read_cloud_manage,
    read_vm_hosts,
    require_cluster,
    system_nodes,
    topology,
)

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.tos.cloud.plugins.module_utils._api import TosClient
    from ansible_collections.tos.cloud.plugins.module_utils._module import TosModule

CVM_DEPLOY = "/v1/cluster/deploy/cvm"
CVM_DELETE = "/v1/cluster/delete/cvm"
STORAGE_VM_DEPLOY = "/v1/cluster/deploy/storage_service/vm"
STORAGE_VM_LIST = "/v1/cluster/storage_service/vm/list"
STORAGE_VM_DELETE = "/v1/cluster/storage_service/vm/delete"


# ---- cloud-management VMs --------------------------------------------------------------------------

def list_cvms(detail: dict[str, Any], manage: list[Any]) -> list[dict[str, Any]]:
    """The cluster's cloud-management VMs, from ``cloud/manage`` and the topology.

    Each: ``uuid``, ``name``, ``ip``, ``address`` (CIDR when the topology tells it), ``host_uuid``
    (the physical host it runs on), ``is_leader``, ``status``.  A platform that reports the center
    on the physical host itself (``uuid`` is a host's) is read the same way.
    """
    nodes = topology(detail)
    by_uuid = dict((n.get("UUID"), n) for n in nodes)
    physical = set(n.get("UUID") for n in physical_nodes(detail))
    cvms = []
    seen = set()
    for info in manage or []:
        uuid = info.get("uuid")
        node = by_uuid.get(uuid) or {}
        host_uuid = info.get("machine_uuid") or node.get("MachineUUID") or (uuid if uuid in physical else None)
        addrs = ((node.get("managerNet") or {}).get("Addrs") or []) if node.get("IsSystemService") else []
        ip = info.get("ip")
        cvms.append({
            "uuid": uuid,
            "name": info.get("name") or node.get("name"),
            "ip": ip,
            "address": next((a for a in addrs if ip_of(a) == ip), None),
            "host_uuid": host_uuid,
            "is_leader": bool(info.get("is_leader")),
            "status": info.get("status"),
        })
        seen.add(uuid)
    # a topology center node that cloud/manage did not list (tolerate either source lagging)
    for node in system_nodes(detail):
        if node.get("UUID") in seen or "center" not in enabled_roles(node):
            continue
        addrs = (node.get("managerNet") or {}).get("Addrs") or []
        cvms.append({
            "uuid": node.get("UUID"),
            "name": node.get("name"),
            "ip": ip_of(addrs[0]) if addrs else None,
            "address": addrs[0] if addrs else None,
            "host_uuid": node.get("MachineUUID") or None,
            "is_leader": False,
            "status": None,
        })
    return cvms


def read_cvms(client: TosClient, cluster_uuid: str, detail: dict[str, Any],
              manage: list[Any] | None = None) -> list[dict[str, Any]]:
    """``list_cvms`` of the cluster (``manage``: its ``cloud/manage`` list, read when not given), each CVM placed
    on its host.  A CVM whose host neither ``cloud/manage`` (``machine_uuid``) nor its topology node
    (``MachineUUID``) names, as with the documents' answers (``"machine_uuid": ""``), is placed by
    ``all_cluster/topology``: one request more, sent only then.  One still unplaced keeps ``host_uuid`` None."""
    cvms = list_cvms(detail, read_cloud_manage(client, cluster_uuid) if manage is None else manage)
    unplaced = unplaced_cvms(cvms)
    if unplaced:
        hosts = read_vm_hosts(client, cluster_uuid, detail)
        for cvm in unplaced:
            cvm["host_uuid"] = hosts.get(str(cvm["uuid"]))
    return cvms


def unplaced_cvms(cvms: list[Any]) -> list[dict[str, Any]]:
    """The CVMs whose host is unknown (see ``read_cvms``)."""
    return [cvm for cvm in cvms if cvm["host_uuid"] is None]


def cvm_on_host(cvms: list[Any], host_uuid: str) -> dict[str, Any] | None:
    for cvm in cvms:
        if cvm["host_uuid"] == host_uuid:
            return cvm
    return None


# ---- storage-service VMs ---------------------------------------------------------------------------

def _first(item: Any, *keys: Iterable[str]) -> Any:
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return value
    return None


def _split(cidr: str, ip: str) -> tuple[Any, Any]:
    """(cidr, ip) from whichever of the two is known."""
    if cidr and not ip:
        ip = str(cidr).split("/", maxsplit=1)[0]
    return cidr, ip


def describe_storage_vm(item: Any) -> dict[str, Any]:
    """A ``storage_service/vm/list`` item with stable keys (tolerating the fields' spellings)."""
    manage_cidr, manage_ip = _split(_first(item, "manage_cidr", "ManageCidr", "manage_addr"),
                                    _first(item, "manage_ip", "ManageIP", "ip"))
    storage_cidr, storage_ip = _split(_first(item, "storage_cidr", "StorageCidr", "storage_addr"),
                                      _first(item, "storage_ip", "StorageIP"))
    return {
        "uuid": _first(item, "uuid", "UUID", "vm_uuid"),
        "name": _first(item, "name", "Name", "vm_name"),
        "vm_type": _first(item, "vm_type", "VmType", "type"),
        "manage_address": manage_cidr,
        "manage_ip": manage_ip,
        "manage_gateway": _first(item, "manage_gateway", "ManageGateway"),
        "storage_address": storage_cidr,
        "storage_ip": storage_ip,
        "storage_gateway": _first(item, "storage_gateway", "StorageGateway"),
        "host_uuid": _first(item, "host_uuid", "machine_uuid", "MachineUUID"),
        "host_ip": _first(item, "host_ip"),
        "host_name": _first(item, "host_name"),
        "status": _first(item, "status", "state"),
        "progress": item.get("progress"),
    }


def list_storage_vms(client: TosClient, cluster_uuid: str, filter_ip: str | None = None) -> list[dict[str, Any]]:
    """Every storage-service VM of the cluster (all pages), described."""
    params = {"cluster_uuid": cluster_uuid}
    if filter_ip:
        params["filter_ip"] = filter_ip
    return [describe_storage_vm(item) for item in client.paginate(STORAGE_VM_LIST, params, key=by_field("uuid"))]


def storage_vm_by_manage_ip(client: TosClient, cluster_uuid: str, ip: str) -> dict[str, Any] | None:
    """The storage-service VM whose management address is exactly ``ip`` (the filter is loose)."""
    for vm in list_storage_vms(client, cluster_uuid, filter_ip=ip):
        if vm["manage_ip"] == ip:
            return vm
    return None


# ---- addresses ---------------------------------------------------------------------------------------

def address_owner(detail: dict[str, Any], ip: str, claims: list[Any] = ()) -> str | None:
    """Who already uses ``ip`` in the cluster, or None: a VM of ``claims`` (``(ips, label)`` pairs of the VMs of
    the kind being deployed), else a host or system VM of the topology."""
    for ips, label in claims:
        if ip in ips:
            return label
    for node in topology(detail):
        if ip in host_addresses(node).values():
            return "%s %s" % ("system VM" if node.get("IsSystemService") else "host", node.get("name"))
    return None


def cvm_claims(cvms: Iterable[dict[str, Any]]) -> list[Any]:
    """The addresses ``cvms`` hold, as ``address_owner`` takes them."""
    return [({c["ip"]}, "the cloud-management VM %s" % (c["name"] or c["uuid"])) for c in cvms]


def other_clusters_owners(tm: TosModule, cluster_uuid: str, ips: Iterable[str]) -> dict[str, str]:
    """``{ip: who uses it and in which cluster}`` for those of ``ips`` that another cluster already uses (a host, a
    system VM of its topology, a CVM), each cluster read once for all of them.  The platform refuses such an address
    (3003) whatever the cluster; a real run lets it (reading every cluster for each deploy would grow with the
    square of the clusters a bring-up creates), check mode reads the clusters (no write in between: the run's cache
    answers them once) so that it predicts that refusal instead of "changed"."""
    wanted = {ip for ip in ips if ip}
    found: dict[str, str] = {}
    with tm.scope("read the other clusters' hosts and VMs"):
        for entry in list_clusters(tm.client):
            if not wanted - set(found):
                break
            if entry["uuid"] == cluster_uuid:
                continue
            detail = get_cluster(tm.client, entry["uuid"])
            claims = cvm_claims(list_cvms(
                detail, read_cloud_manage(tm.client, entry["uuid"]) if system_nodes(detail) else []))
            for ip in sorted(wanted - set(found)):
                owner = address_owner(detail, ip, claims)
                if owner:
                    found[ip] = "%s in cluster %r" % (owner, entry["name"])
    return found


# ---- the engine ----------------------------------------------------------------------------------------

class SystemVm:
    """One system VM of one cluster, as a ``state: present/absent`` module manages it.

    The engine holds the rule every kind follows: a VM found deploying is JOINED (waited for, read-only),
    never deployed again (``started_by: another_run``); a deployed VM is never changed (the API cannot), a
    difference fails naming it; check mode reads the same state and predicts the same result.  A kind
    gives its noun, endpoints, bodies and views through the methods below marked "kind".
    """

    noun = "system VM"
    deploy_path = None
    delete_path = None
    # whether a removal is waited for until the VM is gone (with O(wait))
    waits_for_removal = False
    # what a failure of the deploy or the removal request says the module was doing (noun, label)
    deploy_operation = "deploy the %s %s"
    remove_operation = "remove the %s %s"

    def __init__(self, tm: TosModule, cluster: dict[str, Any], label: str) -> None:
        self.tm = tm
        self.client = tm.client
        self.cluster = cluster
        self.label = label

    # -- kind: a subclass gives ``noun``, ``result_key``, ``deploy_path``, ``delete_path`` and
    #   read()                        the VM as the kind's view, or None
    #   is_deploying(view)            whether the VM is still being deployed
    #   task_host(view)               (host uuid, label) whose host task is the deploy, or None to poll the VM
    #   mismatch(view)                why the existing VM is not the one asked for, or None
    #   deploy_refusal()              why the VM cannot be deployed as asked (missing options, address in use)
    #   predicted()                   the VM a deploy would make
    #   deploy_body(), delete_body(view), deployed_view(answer, predicted), diff_view(view)
    def join_first(self) -> bool:
        """Whether a deploy found running is joined before the VM is compared (when only the finished VM
        tells what there is to compare)."""
        return False

    def removal_refusal(self, view: dict[str, Any]) -> Any:
        """Why the VM must not be removed (a message), or None."""
        return None

    # -- engine ----------------------------------------------------------------------------------------
    def current(self) -> Any:
        with self.tm.scope("look up the %s %s" % (self.noun, self.label)):
            return self.read()

    def deployed(self) -> Any:
        view = self.current()
        return view if view is not None and not self.is_deploying(view) else None

    def gone(self) -> bool:
        return self.current() is None

    def wait_deploy(self, view: dict[str, Any], started_by: str) -> Any:
        """Wait for the VM's deploy (``started_by`` this run or another); the VM after it, or None when the host's
        task ended without the VM being there (a task another run started that was not this VM's deploy: the
        documents' progress answer does not say which operation runs on a host)."""
        timeout = self.tm.params["wait_timeout"]
        what = "the deploy of the %s %s" % (self.noun, self.label)
        with self.tm.scope("wait for the %s %s to deploy" % (self.noun, self.label)):
            task = self.task_host(view)
            if task is None:
                return self.tm.wait_for(self.deployed, timeout, what=what)
            begun = time.monotonic()
            # confirm, for this run's own deploy: a progress of 1.0 read at once may be the host's previous task's
            # (_host_tasks.wait_host_task); a task found running ends at its own 1.0
            confirm = (lambda: self.deployed() is not None) if started_by == THIS_RUN else None
            self.tm.run_or_fail(lambda: join_host_task(self.client, self.cluster["uuid"], task[0], task[1], timeout,
                                                       confirm=confirm),
                                HostTaskFailed, lambda failure: self.deploy_failed(failure, started_by, view))
            # the host's task is over: a VM still listed as deploying says so a moment later
            current = self.current()
            if current is not None and self.is_deploying(current):
                current = self.tm.wait_for(self.deployed, max(timeout - (time.monotonic() - begun), 1.0), what=what)
        return current

    def other_task(self) -> Any:
        """kind: ``(host uuid, label, task)`` of another operation running where the VM would be deployed (one the
        platform names, e.g. an upgrade, that it would refuse a deploy beside), as the last ``read()`` found it; or
        None."""
        return None

    def wait_other_task(self, busy: Any) -> None:
        """Wait (read-only, in check mode too, as for a deploy found running) for ``busy`` (``other_task``) to end;
        fails, sending nothing, when it does not."""
        host_uuid, label, task = busy
        kind = task["kind"] or "task"
        with self.tm.scope("wait for the %s task running on host %s" % (kind, label)):
            self.tm.run_or_fail(
                lambda: join_host_task(self.client, self.cluster["uuid"], host_uuid, label,
                                       self.tm.params["wait_timeout"]),
                HostTaskFailed, lambda failure: (
                    "The %s task running on host %s (started by another run) did not finish: %s; the %s %s was not "
                    "deployed and nothing was sent." % (kind, label, failure.reason, self.noun, self.label),
                    {"progress": failure.progress, "started_by": ANOTHER_RUN}))

    def deploy_failed(self, failure: Any, started_by: str, view: Any = None) -> Any:
        what = "The deploy of the %s %s (started by %s)" % (self.noun, self.label, started_by.replace("_", " "))
        if started_by == ANOTHER_RUN and view is not None and self.known_by_task_only(view):
            what = ("The task running on host %s (started by another run; taken for the deploy of its %s, since the "
                    "manager does not say which operation a host task is: it may as well be an upgrade)" % (
                        self.task_host(view)[1], self.noun))
        return ("%s did not finish: %s%s" % (what, failure.reason, "; nothing was sent" if started_by == ANOTHER_RUN
                                             else ""),
                {"progress": failure.progress, "started_by": started_by})

    def known_by_task_only(self, view: dict[str, Any]) -> bool:
        """kind: whether ``view`` is a VM inferred from its host's running task alone (no list names it)."""
        return False

    def deploy(self, predicted: dict[str, Any]) -> Any:
        with self.tm.scope(self.deploy_operation % (self.noun, self.label)):
            answer = self.client.post_verified(self.deploy_path, self.deploy_body(), landed=self.current) or {}
            self.tm.track({}, self.diff_view(predicted))  # after the request: a refused deploy changed nothing
            view = self.deployed_view(answer, predicted)
        if self.tm.params["wait"] and self.is_deploying(view):
            view = self.wait_deploy(view, THIS_RUN) or view
        return view

    def remove(self, view: dict[str, Any]) -> None:
        with self.tm.scope(self.remove_operation % (self.noun, self.label)):
            self.client.post_verified(self.delete_path, self.delete_body(view), landed=self.gone)
            self.tm.track(self.diff_view(view), {})
        if self.waits_for_removal and self.tm.params["wait"]:
            with self.tm.scope("wait for the %s %s to be gone" % (self.noun, self.label)):
                self.tm.wait_for(self.gone, self.tm.params["wait_timeout"],
                                 what="the removal of the %s %s" % (self.noun, self.label))

    def ensure_present(self) -> dict[str, Any]:
        """The VM as it is (or will be) and which run started its deploy (``started_by``; None: nothing ran)."""
        tm, params = self.tm, self.tm.params
        current = self.current()
        if current is not None:
            started_by = ANOTHER_RUN if self.is_deploying(current) else None
            joined = started_by is not None and self.join_first()
            if joined:
                current = self.wait_deploy(current, ANOTHER_RUN)
                if current is None:  # the task joined was another operation (an upgrade): decide again
                    return self.ensure_present()
            mismatch = self.mismatch(current)
            if mismatch:
                tm.fail(mismatch, **{self.result_key: current, "started_by": started_by})
            if started_by and not joined and params["wait"] and not tm.check_mode:
                current = self.wait_deploy(current, ANOTHER_RUN) or current
            tm.track(self.diff_view(current), self.diff_view(current))
            return {self.result_key: current, "started_by": started_by}
        refusal = self.deploy_refusal()
        if refusal:
            tm.fail(refusal)
        busy = self.other_task()
        if busy is not None:  # the platform refuses a deploy beside it: wait for it, then decide again
            self.wait_other_task(busy)
            return self.ensure_present()
        predicted = self.predicted()
        if tm.check_mode:
            tm.track({}, self.diff_view(predicted))
            return {self.result_key: predicted, "started_by": THIS_RUN}
        return {self.result_key: self.deploy(predicted), "started_by": THIS_RUN}

    def ensure_absent(self) -> dict[str, Any]:
        current = self.current()
        if current is None:
            self.tm.track({}, {})
            return {self.result_key: {}, "started_by": None}
        if self.is_deploying(current) and self.known_by_task_only(current):
            # only its host's task tells of this VM, and the documents' progress does not say which operation that
            # is (an upgrade as well): whether there is a VM to remove shows once the task ends, so it is waited for
            # (read-only, in check mode too), as a deploy found running is before a present VM is compared
            self.wait_deploy(current, ANOTHER_RUN)
            return self.ensure_absent()
        refusal = self.removal_refusal(current)
        if refusal:
            self.tm.fail(refusal, **{self.result_key: current})
        if self.tm.check_mode:
            self.tm.track(self.diff_view(current), {})
        else:
            self.remove(current)
        return {self.result_key: current, "started_by": None}


def manage(tm: TosModule, validate: Callable[..., Any], engine: Callable[..., Any]) -> None:
    """``run`` of a system VM module: validate, find the cluster and the VM (``engine(tm, cluster)``), then
    the state."""
    tm.run_state(validate, lambda tm: engine(tm, require_cluster(tm, tm.params["cluster"])),
                 lambda tm, vm: vm.ensure_present(), lambda tm, vm: vm.ensure_absent())


# ---- the kinds -------------------------------------------------------------------------------------------

def cvm_view(cvm: dict[str, Any], node: dict[str, Any], state: dict[str, Any] = "running") -> dict[str, Any]:
    view = {"uuid": cvm.get("uuid"), "name": cvm.get("name"), "ip": cvm.get("ip"), "address": cvm.get("address"),
            "is_leader": bool(cvm.get("is_leader")), "status": cvm.get("status"), "state": state}
    view.update(host_uuid=node.get("UUID"), host_name=node.get("name"), host_ip=host_addresses(node)["management"])
    return view


def address_mismatch(current: Any, address: str) -> bool:
    """True when the CVM's known address differs from the requested one."""
    if address is None:
        return False
    if current.get("address"):
        return normalize_cidr(current["address"]) != normalize_cidr(address)
    return current.get("ip") not in (None, ip_of(address))


class Cvm(SystemVm):
    """The cloud-management VM of one physical host (``tos.cloud.cvm``)."""

    noun = "cloud-management VM"
    result_key = "cvm"
    deploy_path = CVM_DEPLOY
    delete_path = CVM_DELETE
    waits_for_removal = True
    deploy_operation = "deploy a %s %s"

    def __init__(self, tm: TosModule, cluster: dict[str, Any]) -> None:
        with tm.scope("read cluster %r" % cluster["name"]):
            self.detail = get_cluster(tm.client, cluster["uuid"])
        self.node = find_physical_host(self.detail, tm.params["host"])
        if self.node is None:
            tm.fail("host: no physical host %r in cluster %r (hosts: %s)." % (
                tm.params["host"], cluster["name"], describe_physical_hosts(self.detail)))
        self.host_uuid = self.node.get("UUID")
        self.host_label = "%s (%s)" % (self.node.get("name"), host_addresses(self.node)["management"])
        super().__init__(tm, cluster, "on host %s" % self.host_label)
        self.all_cvms = []
        self._other_task = None  # a running task of another kind on the host (read()), when a server names it
        self._detail_fresh = True  # the first look-up uses the topology just read

    def read(self) -> Any:
        """This host's CVM (running or deploying) or None; ``self.all_cvms`` keeps the cluster's CVMs, and
        ``other_task()`` a task of another kind found running on the host (only a server that names it)."""
        self._other_task = None
        with self.tm.scope("read the cloud-management VMs of cluster %r" % self.cluster["name"]):
            if not self._detail_fresh:
                self.detail = get_cluster(self.client, self.cluster["uuid"])
            self._detail_fresh = False
            self.all_cvms = read_cvms(self.client, self.cluster["uuid"], self.detail)
        found = cvm_on_host(self.all_cvms, self.host_uuid)
        if found is not None:
            return cvm_view(found, self.node)
        unknown = unplaced_cvms(self.all_cvms)
        if unknown:  # one of them may be this host's: neither "absent" nor a deploy can be decided
            self.tm.fail("Cannot tell whether host %s runs a cloud-management VM: the manager does not say which host "
                         "runs %s (cloud/manage machine_uuid is empty, and neither the cluster's topology nor its "
                         "network topology map (all_cluster/topology) places it). Nothing was changed; check the "
                         "CVMs in the manager's console." % (self.host_label, ", ".join(
                             "%s (%s)" % (c["name"] or c["uuid"], c["ip"]) for c in unknown)))
        # With the documented ``progress`` alone a running task cannot be told from an upgrade: on a host without
        # a listed CVM, any running task counts as the deploy (waiting for it is safe, deploying a second time is
        # refused by the platform); a ``task_type`` naming another task rules it out (that task is then waited for
        # before a deploy: ``other_task``). A joined task that ends without a CVM was not its deploy (ensure_present).
        with self.tm.scope("read the task of host %s" % self.host_label):
            task = read_host_task(self.client, self.cluster["uuid"], self.host_uuid)
        if task_is(task, "deploy_cvm"):
            return cvm_view({"uuid": None}, self.node, state="deploying")
        if task["running"]:
            self._other_task = (self.host_uuid, self.host_label, task)
        return None

    def other_task(self) -> Any:
        return self._other_task

    def known_by_task_only(self, view: dict[str, Any]) -> bool:
        return view["state"] == "deploying" and not view.get("uuid")

    def is_deploying(self, view: dict[str, Any]) -> bool:
        return view["state"] == "deploying"

    def task_host(self, view: dict[str, Any]) -> Any:
        return self.host_uuid, self.host_label

    def join_first(self) -> Any:
        # the platform tells a CVM's address only once it is deployed: with an address to compare, the deploy
        # is waited for (read-only, in check mode and with wait=false too); without one, as the real run with
        # wait=true would (so that check mode reports the same address and diff)
        return self.tm.params["address"] is not None or self.tm.params["wait"]

    def mismatch(self, view: dict[str, Any]) -> Any:
        address = self.tm.params["address"]
        if not address_mismatch(view, address):
            return None
        have = view["address"] or view["ip"]
        return ("Host %s already runs the cloud-management VM %s, not %s. The API cannot change a CVM's address: to "
                "move it, remove it first (state: absent) and deploy it again, or set address to %s." % (
                    self.host_label, have, address, have))

    def deploy_refusal(self) -> Any:
        address = self.tm.params["address"]
        if address is None:
            return "address and gateway are required to deploy a cloud-management VM on host %s, which has none." % (
                self.host_label)
        claims = cvm_claims(c for c in self.all_cvms if c["host_uuid"] != self.host_uuid)
        owner = address_owner(self.detail, ip_of(address), claims)
        if owner:
            return "address: %s is already used by %s in cluster %r." % (ip_of(address), owner, self.cluster["name"])
        if self.tm.check_mode:
            elsewhere = other_clusters_owners(self.tm, self.cluster["uuid"], [ip_of(address)])
            if elsewhere:
                return "address: %s is already used by %s." % (ip_of(address), elsewhere[ip_of(address)])
        return None

    def predicted(self) -> Any:
        address = self.tm.params["address"]
        # the first CVM of the cluster becomes its leader
        return cvm_view({"uuid": None, "name": None, "ip": ip_of(address), "address": normalize_cidr(address),
                         "is_leader": not self.all_cvms}, self.node,
                        state="running" if self.tm.params["wait"] else "deploying")

    def deploy_body(self) -> dict[str, Any]:
        params = self.tm.params
        return {"cluster_uuid": self.cluster["uuid"], "MachineUUID": self.host_uuid,
                "Networks": [{"Addr": normalize_cidr(params["address"]), "Gateway": params["gateway"]}]}

    def deployed_view(self, answer: dict[str, Any], predicted: dict[str, Any]) -> Any:
        address = self.tm.params["address"]
        return cvm_view({"uuid": answer.get("uuid"), "name": answer.get("name"), "ip": ip_of(address),
                         "address": normalize_cidr(address), "is_leader": predicted["is_leader"]},
                        self.node, state="deploying")

    def delete_body(self, view: dict[str, Any]) -> Any:
        body = {"cluster_uuid": self.cluster["uuid"], "MachineUUID": self.host_uuid}
        if view.get("ip"):
            body["center_candidate_ip"] = view["ip"]
        return body

    def removal_refusal(self, view: dict[str, Any]) -> Any:
        others = [c for c in self.all_cvms if c["host_uuid"] != self.host_uuid]
        if view["state"] != "running" or others:
            return None
        return ("Refusing to remove the cloud-management VM %s on host %s: it is the last center node of cluster %r, "
                "which would lose its cloud management. Deploy another CVM first, or delete the whole cluster "
                "(tos.cloud.cluster with state: absent and force: true)." % (
                    view["ip"], self.host_label, self.cluster["name"]))

    def diff_view(self, view: dict[str, Any]) -> dict[str, Any]:
        if not view:
            return {}
        return {"host": view["host_name"], "address": view["address"] or view["ip"]}


STORAGE_VM_DIFF = ("vm_type", "manage_address", "manage_gateway", "storage_address", "storage_gateway")
STORAGE_VM_DEPLOY_OPTIONS = ("manage_gateway", "storage_address", "storage_gateway")
STORAGE_VM_DEPLOYING = ("deploying", "running_task", "creating")


def storage_vm_wanted(params: dict[str, Any]) -> dict[str, Any]:
    """The storage-service VM the options ask for, in the view's keys."""
    return {
        "vm_type": params["vm_type"],
        "manage_address": normalize_cidr(params["manage_address"]),
        "manage_gateway": params.get("manage_gateway"),
        "storage_address": normalize_cidr(params["storage_address"]) if params.get("storage_address") else None,
        "storage_gateway": params.get("storage_gateway"),
    }


def differences(current: Any, params: dict[str, Any]) -> list[str]:
    """The options whose value differs from the existing storage-service VM's (unset options are left alone)."""
    found = []
    for key, want in storage_vm_wanted(params).items():
        have = current.get(key)
        if want is None or have is None:
            continue
        same = normalize_cidr(have) == want if key.endswith("_address") else str(have) == str(want)
        if not same:
            found.append("%s is %s (not %s)" % (key, have, want))
    return found


def is_deploying(vm: dict[str, Any]) -> Any:
    """Whether a storage-service VM is still being deployed (its ``status``, else its ``progress``)."""
    status = str(vm.get("status") or "").lower()
    if status:
        return status in STORAGE_VM_DEPLOYING
    progress = vm.get("progress")
    return isinstance(progress, (int, float)) and progress < 1


class StorageVm(SystemVm):
    """The storage-service VM with one management address (``tos.cloud.storage_service_vm``)."""

    noun = "storage-service VM"
    result_key = "storage_vm"
    deploy_path = STORAGE_VM_DEPLOY
    delete_path = STORAGE_VM_DELETE
    remove_operation = "delete the %s %s"

    def __init__(self, tm: TosModule, cluster: dict[str, Any]) -> None:
        self.ip = ip_of(tm.params["manage_address"])
        super().__init__(tm, cluster, "%s (cluster %r)" % (self.ip, cluster["name"]))

    def read(self) -> Any:
        return storage_vm_by_manage_ip(self.client, self.cluster["uuid"], self.ip)

    def is_deploying(self, view: dict[str, Any]) -> Any:
        return is_deploying(view)

    def task_host(self, view: dict[str, Any]) -> Any:
        if not view.get("host_uuid"):
            return None
        # the host's label in "the task on host <label>" and in a failure: "tos-a1 (storage-service VM 192.0.2.121)"
        return view["host_uuid"], "%s (storage-service VM %s)" % (view.get("host_name") or view["host_uuid"], self.ip)

    def mismatch(self, view: dict[str, Any]) -> Any:
        diffs = differences(view, self.tm.params)
        if not diffs:
            return None
        return ("The storage-service VM %s exists but %s. The API cannot change a deployed VM: delete it first "
                "(state: absent) and deploy it again, or change the options to match." % (self.label, "; ".join(diffs)))

    def deploy_refusal(self) -> Any:
        params = self.tm.params
        missing = [name for name in STORAGE_VM_DEPLOY_OPTIONS if not params.get(name)]
        if missing:
            return "%s required to deploy the storage-service VM %s, which does not exist." % (
                " and ".join(missing) + (" are" if len(missing) > 1 else " is"), self.label)
        with self.tm.scope("read cluster %r" % self.cluster["name"]):
            detail = get_cluster(self.client, self.cluster["uuid"])
        storage_hosts = [node for node in physical_nodes(detail) if "usm" in enabled_roles(node)]
        if not storage_hosts:
            return "No host of cluster %r runs the storage service, so it cannot take a storage-service VM." % (
                self.cluster["name"])
        claims = [({vm["manage_ip"], vm["storage_ip"]}, "storage-service VM %s" % vm["name"])
                  for vm in list_storage_vms(self.client, self.cluster["uuid"])]
        for option in ("manage_address", "storage_address"):
            ip = ip_of(params[option])
            owner = address_owner(detail, ip, claims)
            if owner:
                return "%s: %s is already used by %s in cluster %r." % (option, ip, owner, self.cluster["name"])
        if self.tm.check_mode:
            # the platform places the VM on a storage host without a running task and refuses the deploy when there
            # is none (an upgrade of every storage host): check mode reads their tasks to predict it, as it predicts
            # an address another cluster uses; a real run lets the platform say it
            with self.tm.scope("read the tasks of the storage hosts of cluster %r" % self.cluster["name"]):
                busy = busy_hosts(self.client, self.cluster["uuid"], {"TopoHostNode": storage_hosts})
            if len(busy) == len(storage_hosts):
                return ("Every host of cluster %r that runs the storage service is busy with a task (%s): the platform "
                        "places a storage-service VM on a host without one, so it would refuse the deploy of %s. Run "
                        "again once a task has finished." % (self.cluster["name"], ", ".join(busy), self.label))
            options = ("manage_address", "storage_address")
            elsewhere = other_clusters_owners(self.tm, self.cluster["uuid"], [ip_of(params[o]) for o in options])
            for option in options:
                ip = ip_of(params[option])
                if ip in elsewhere:
                    return "%s: %s is already used by %s." % (option, ip, elsewhere[ip])
        return None

    def predicted(self) -> Any:
        params = self.tm.params
        view = dict.fromkeys(("uuid", "name", "host_uuid", "host_ip", "host_name"))
        view.update(storage_vm_wanted(params), manage_ip=self.ip, storage_ip=ip_of(params["storage_address"]),
                    status="running" if params["wait"] else "deploying", progress=1.0 if params["wait"] else 0.0)
        return view

    def deploy_body(self) -> dict[str, Any]:
        params = self.tm.params
        return {"cluster_uuid": self.cluster["uuid"], "vm_type": params["vm_type"],
                "manage_cidr": normalize_cidr(params["manage_address"]), "manage_gateway": params["manage_gateway"],
                "storage_cidr": normalize_cidr(params["storage_address"]), "storage_gateway": params["storage_gateway"]}

    def deployed_view(self, answer: dict[str, Any], predicted: dict[str, Any]) -> Any:
        view = self.current()
        if view is None:
            self.tm.fail("The platform accepted the storage-service VM %s but does not list it." % self.label)
        return view

    def delete_body(self, view: dict[str, Any]) -> Any:
        body = {"cluster_uuid": self.cluster["uuid"], "uuid": view["uuid"], "force": self.tm.params["force"]}
        if view.get("name"):
            body["name"] = view["name"]
        return body

    def removal_refusal(self, view: dict[str, Any]) -> Any:
        if not is_deploying(view) or self.tm.params["force"]:
            return None
        return ("The storage-service VM %s is still being deployed: set force: true to cancel the deploy and delete "
                "it, or wait for the deploy to finish." % self.label)

    def diff_view(self, view: dict[str, Any]) -> dict[str, Any]:
        if not view:
            return {}
        return {key: view.get(key) for key in STORAGE_VM_DIFF}
