# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Import the collection through Ansible's collection loader (as tests/unit/conftest.py does).

Without it, whichever test first imports ``ansible_collections.tos.cloud`` through the plain path
finder decides how the package is loaded, and a later test that goes through Ansible's plugin
loader (the inventory plugin's) fails with "collection metadata was not loaded".
"""

from __future__ import annotations

import os

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# the Makefile exports ANSIBLE_COLLECTIONS_PATH (build/collections, a link to this tree)
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PATH = os.path.abspath(os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0] or os.path.join(_ROOT, "build", "collections"))
_AnsibleCollectionFinder(paths=[_PATH])._install()  # pylint: disable=protected-access


def pytest_addoption(parser):
    parser.addoption("--property-seed", type=int, default=None,
                     help="the rotating seed of the property tests (default: from the clock, printed on failure)")


def pytest_configure(config):
    import time

    if config.getoption("--property-seed") is None:
        config.option.property_seed = int(time.time()) % 100000


def pytest_report_header(config):
    return "property tests: fixed seed and rotating seed %s (replay: --property-seed %s, or make properties "\
           "PROPERTY_SEED=%s)" % ((config.getoption("--property-seed"),) * 3)
