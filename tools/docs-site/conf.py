# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sphinx configuration of the documentation site (make docs, mk/docs.mk).

antsibull-docs writes the collection, plugin and role pages (reStructuredText, from the plugins' own
DOCUMENTATION and the roles' argument specs); MyST reads the Markdown guides copied from docs/. The build is
offline: the intersphinx inventory of the Ansible documentation's few labels that the pages use is written
by tools/docs_site.py, never fetched.
"""

import os

project = "tos.cloud"
copyright = "tos.cloud contributors"  # noqa: A001 - the name Sphinx reads
title = "tos.cloud collection"
html_short_title = "tos.cloud"

extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext", "myst_parser"]
# the Ansible documentation's labels the pages use, from an inventory tools/docs_site.py writes (offline)
intersphinx_mapping = {"ansible": ("https://docs.ansible.com/projects/ansible/latest/",
                                   os.path.join(os.path.dirname(os.path.abspath(__file__)), "ansible.inv"))}
intersphinx_disabled_reftypes = []
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# the guides link each other's headings (`page.md#a-heading`)
myst_heading_anchors = 4
suppress_warnings = ["myst.xref_missing"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {"collapse_navigation": False}
html_context = {
    "display_github": False,
    "current_version": "",
}

default_role = "any"
nitpicky = False
