# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Import the collection through Ansible's collection loader, as ansible-test units does.

Without it, whichever test first imports ``ansible_collections.tos.cloud`` through the plain path
finder decides how the package is loaded, and a later test that goes through Ansible's plugin
loader (the inventory plugin's) fails with "collection metadata was not loaded".
"""

from __future__ import annotations

import os

import pytest

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# the Makefile exports ANSIBLE_COLLECTIONS_PATH (build/collections, a link to this tree)
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PATH = os.path.abspath(os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0] or os.path.join(_ROOT, "build", "collections"))
_AnsibleCollectionFinder(paths=[_PATH])._install()  # pylint: disable=protected-access


@pytest.fixture(autouse=True)
def _fresh_module_process_state():
    """Each test starts as a worker process starts: no waits and no lookup answers left by an earlier test.

    A module process (and the in-process action, which resets it per task) begins with no progress records;
    the unit tests run many modules in one interpreter, so without this a test sees the waits of whichever
    test ran before it on the same worker (the order pytest-xdist picks).
    """
    from ansible_collections.tos.cloud.plugins.module_utils import _progress  # pylint: disable=import-outside-toplevel
    from ansible_collections.tos.cloud.plugins.plugin_utils import lookup_api  # pylint: disable=import-outside-toplevel

    def fresh() -> None:
        _progress.reset()
        _progress.EMIT = None
        lookup_api._MEMORY.clear()  # pylint: disable=protected-access  # the lookups' per-process answers

    fresh()
    yield
    fresh()
