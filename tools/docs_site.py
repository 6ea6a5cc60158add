#!/usr/bin/env python3
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Lay out the Sphinx source of the documentation site next to what antsibull-docs wrote.

    tools/docs_site.py SOURCE_DIR

SOURCE_DIR/rst/collections/ holds antsibull-docs' output already. This adds conf.py, the guides of docs/
(Markdown, read by MyST) under rst/guide/, and the start page. A guide's link to a file outside docs/
(../bench/README.md) points at the repository instead, so every link inside the site is a page of the site.
"""

from __future__ import annotations

import re
import shutil
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from version import galaxy_version  # noqa: E402  (tools/ is not a package)


def repository_url():
    match = re.search(r"^repository:\s*(\S+)", (ROOT / "galaxy.yml").read_text(encoding="utf-8"), re.M)
    return match.group(1).rstrip("/")


def rewrite_links(text, repo):
    """Links out of docs/ go to the repository's copy of the file; links between guides stay."""
    def outside(match):
        return "](%s/blob/main/%s)" % (repo, match.group(1))
    return re.sub(r"\]\(\.\./([^)\s]+)\)", outside, text)


# Labels of the Ansible documentation that antsibull-docs' pages refer to, and where they are. Written into an
# intersphinx inventory on disk, so the build stays offline and these become links to docs.ansible.com.
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/latest/"
ANSIBLE_LABELS = {
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "list_of_collections": ("collections/index.html", "Collection Index"),
}
REF_RE = re.compile(r":ref:`(?:[^`<]*<)?([^`<>]+)>?`")


def ansible_inventory(rst):
    """An intersphinx inventory (objects.inv format 2) for the Ansible labels the pages use."""
    entries = {}
    for page in rst.rglob("*.rst"):
        for label in REF_RE.findall(page.read_text(encoding="utf-8")):
            if label in ANSIBLE_LABELS:
                entries[label] = ANSIBLE_LABELS[label]
            builtin = re.fullmatch(r"ansible_collections\.ansible\.builtin\.(\w+)_(module|lookup|filter|test|inventory)", label)
            if builtin:
                name, kind = builtin.groups()
                entries[label] = ("collections/ansible/builtin/%s_%s.html" % (name, kind), "ansible.builtin.%s %s" % (name, kind))
    body = "".join("%s std:label -1 %s %s\n" % (label, uri, title) for label, (uri, title) in sorted(entries.items()))
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: latest\n# The remainder of this file is compressed using zlib.\n"
    return header.encode() + zlib.compress(body.encode())


def guides():
    pages = sorted((ROOT / "docs").glob("*.md"))
    return [page for page in pages if page.name == "README.md"] + [page for page in pages if page.name != "README.md"]


INDEX = """\
tos.cloud {version}
{underline}

Ansible collection for a tos private cloud: modules, an inventory plugin, filters and roles that drive the
cluster manager through its ``/v1`` API. Install it with ``ansible-galaxy collection install tos.cloud``;
the source is at `{repo} <{repo}>`_.

.. toctree::
   :maxdepth: 1
   :caption: Guides

{guides}

.. toctree::
   :maxdepth: 2
   :caption: Reference

   collections/index

.. toctree::
   :maxdepth: 1
   :caption: Plugin indexes
   :glob:

   collections/index_*

.. toctree::
   :maxdepth: 1
   :caption: Reference indexes

   collections/environment_variables
"""


def main(argv):
    source = Path(argv[1]).resolve()
    rst = source / "rst"
    if not (rst / "collections" / "tos" / "cloud" / "index.rst").exists():
        raise SystemExit("%s has no antsibull-docs output (rst/collections/tos/cloud/index.rst)" % rst)
    shutil.copy(ROOT / "tools" / "docs-site" / "conf.py", source / "conf.py")
    (source / "ansible.inv").write_bytes(ansible_inventory(rst))
    guide_dir = rst / "guide"
    shutil.rmtree(guide_dir, ignore_errors=True)
    guide_dir.mkdir()
    repo = repository_url()
    names = []
    for page in guides():
        (guide_dir / page.name).write_text(rewrite_links(page.read_text(encoding="utf-8"), repo), encoding="utf-8")
        names.append("   guide/" + page.stem)
    version = galaxy_version()
    title = "tos.cloud %s" % version
    (rst / "index.rst").write_text(
        INDEX.format(version=version, underline="=" * len(title), repo=repo, guides="\n".join(names)), encoding="utf-8")
    print("docs site source: %s (%d guides)" % (source, len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
