# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Adding thousands of hosts to ansible-core's inventory without paying its per-call overhead (tos.cloud.hosts).

For each host, ``InventoryData.add_host(name, group=...)`` (once per group) and ``set_variable(name, key, value)``
(once per variable) look the host and the group up again, recheck the name, stat the inventory file twice
(``basedir``) for ``inventory_dir``, walk each group's ancestors twice, validate each variable's name and log a
debug line: at 10,000 hosts of 6 groups and 16 variables, 200,000 calls and 0.6 s of CPU, half of a cached parse.
``HostAdder.add`` leaves the same objects in the same state (the same ``Host``, its ``vars`` in the same order, its
``groups`` list in the same order, the same group members and caches reset) with one pass per host.

It does ansible-core's work itself, so it is only used where that work is known: ``HostAdder.for_inventory`` returns
None (the caller then uses the public API) unless the source of every function it stands in for is one this module
was checked against (ansible-core 2.19, 2.20 and 2.21: the same source in all three), the inventory is a plain
``InventoryData``, and debug logging is off (the public calls would log each step). ``add`` returns False, having
changed nothing, for a host the public API must handle: a name that is taken (a host, a group: ``set_variable``
would set the group's variable) or is localhost, an unknown group, a variable name that is not valid or is one the
inventory sets itself. tests/unit/plugins/inventory/test_inventory_bulk.py compares both paths on a generated
10,000-host inventory, on every ansible-core version of the matrix.
"""

from __future__ import annotations

import hashlib
import inspect

from ansible import constants as C
from ansible.inventory import data as _data
from ansible.inventory import group as _group
from ansible.inventory import helpers as _helpers
from ansible.inventory import host as _host
from ansible.utils.path import basedir
from ansible.utils.vars import validate_variable_name

# What HostAdder.add does the work of. The property's getter is compared too: add relies on it returning the set
# that add_host then extends.
REPLACED = (
    (_data.InventoryData, "add_host"),
    (_data.InventoryData, "set_variable"),
    (_host.Host, "__init__"),
    (_host.Host, "set_variable"),
    (_host.Host, "add_group"),
    (_group.Group, "add_host"),
    (_group.Group, "clear_hosts_cache"),
    (_group.Group, "get_ancestors"),
    (_group.Group, "host_names"),
)

# sha256 of the sources of REPLACED (see core_digest), as ansible-core 2.19.14, 2.20.10 and 2.21.5 have them
KNOWN_DIGESTS = frozenset({
    "19c7f30279172642f7b21a85a9f03ce13adc2fead02cc08b0f7c724bd734556b",
})

# set by the inventory itself when it makes a host
OWN_VARIABLES = ("inventory_file", "inventory_dir")

_matches: bool | None = None


def core_digest() -> str:
    """sha256 of the source of every function in REPLACED, as this ansible-core has them."""
    digest = hashlib.sha256()
    for owner, name in REPLACED:
        member = owner.__dict__.get(name)
        member = getattr(member, "fget", member)
        digest.update(("%s.%s\n" % (owner.__name__, name)).encode())
        digest.update(inspect.getsource(member).encode())
    return digest.hexdigest()


def core_matches() -> bool:
    """Whether ansible-core's code is the code HostAdder was checked against (computed once per process)."""
    global _matches
    if _matches is None:
        try:
            _matches = core_digest() in KNOWN_DIGESTS
        except (OSError, TypeError):  # no source to read (a zipped or compiled-only install): take no chance
            _matches = False
    return _matches


class HostAdder:
    """``add(name, groups, variables)``: a new host, a member of ``groups`` (in that order), with ``variables``."""

    def __init__(self, data: _data.InventoryData, cache_ancestors: bool = True) -> None:
        self._data = data
        source = data.current_source
        # what InventoryData.add_host sets on every new host
        self._own = (source, basedir(source)) if source else (None, None)
        # a group's ancestors only change when a group is made a child of another: within one populate that only
        # happens in constructed options (keyed_groups' parent_group), so without them each group's are read once
        self._ancestors: dict | None = {} if cache_ancestors else None
        self._valid_keys: set = set()

    @classmethod
    def for_inventory(cls, inventory, cache_ancestors: bool = True) -> HostAdder | None:
        """An adder for ``inventory`` (an inventory plugin's ``self.inventory``), or None: use the public API."""
        data = getattr(inventory, "__wrapped__", inventory)
        if type(data) is not _data.InventoryData or C.DEFAULT_DEBUG or not core_matches():  # pylint: disable=unidiomatic-typecheck
            return None
        return cls(data, cache_ancestors)

    def _ancestors_of(self, group: _group.Group):
        if self._ancestors is None:
            return group.get_ancestors()
        found = self._ancestors.get(group.name)
        if found is None or found[0] is not group:
            found = self._ancestors[group.name] = (group, group.get_ancestors())
        return found[1]

    def _keys_valid(self, variables: dict) -> bool:
        valid = self._valid_keys
        for key in variables:
            if key in valid:
                continue
            if type(key) is not str or key in OWN_VARIABLES or _helpers.remove_trust(key) is not key:  # pylint: disable=unidiomatic-typecheck
                return False
            try:
                validate_variable_name(key)
            except Exception:  # pylint: disable=broad-except
                return False
            valid.add(key)
        return True

    def add(self, name: str, groups: list, variables: dict) -> bool:
        """What ``add_host(name, group=g)`` for each of ``groups``, then ``set_variable(name, key, value)`` for each
        item of ``variables`` do for a new host; False, having done nothing, when the public API must do it."""
        data = self._data
        name = _helpers.remove_trust(name)
        if (not name or type(name) is not str or name in data.hosts or name in data.groups or name in C.LOCALHOST  # pylint: disable=unidiomatic-typecheck
                or not self._keys_valid(variables)):
            return False
        try:
            targets = [data.groups[group] for group in groups]
        except (KeyError, TypeError):
            return False

        host = _host.Host(name)
        if host.vars or host.groups:  # not the Host this module knows
            return False
        data.hosts[name] = host
        own = host.vars
        own["inventory_file"], own["inventory_dir"] = self._own
        mine = host.groups
        for group in targets:
            # Group.add_host, Host.add_group, Group.clear_hosts_cache
            members = group.host_names
            if name in members:
                continue
            group.hosts.append(host)
            members.add(name)
            ancestors = self._ancestors_of(group)
            for parent in ancestors:
                if parent not in mine:
                    mine.append(parent)
            if group not in mine:
                mine.append(group)
            group._hosts_cache = None
            for parent in ancestors:
                parent._hosts_cache = None
            data._groups_dict_cache = {}
        own.update(variables)
        return True
