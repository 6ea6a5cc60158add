# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The name_list filter: a list variable of a role as an operator gives it, read as a list of names."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.tos.cloud.plugins.module_utils._shapes import text_list


def name_list(value):
    """``value`` as a list: a list as it is, a string read as the modules read a list option given as text
    (``text_list``: a JSON list, else split at its commas and line breaks: ``-e formats=json,markdown``, a survey's
    text answer ``"json, markdown"``, an AWX multiple-choice answer ``"json\\nmarkdown"``), ``None`` as empty; each
    string entry without the whitespace around it, and the empty entries left out (an unanswered survey question
    gives ``""``)."""
    if value is None:
        return []
    if isinstance(value, str):
        items = text_list(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise AnsibleFilterError("name_list: expected a list or a comma-separated string, got %s %r" % (
            type(value).__name__, value))
    out = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            if not item:
                continue
        out.append(item)
    return out


class FilterModule:
    def filters(self):
        return {"name_list": name_list}
