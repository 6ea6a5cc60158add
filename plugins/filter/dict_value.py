# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The dict_value filter: a dictionary variable of a role as an operator gives it, read as a dictionary."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.module_utils.common.validation import check_type_dict


def dict_value(value):
    """``value`` as a dictionary: a dictionary as it is, ``None`` or a blank string as empty, and a string of JSON or
    key=value pairs (``-e 'cluster_bringup_mail={"enabled": true}'``, an AWX survey's text answer) read as
    ansible-core reads it for a role's argument spec (type dict), which accepted it. Anything else comes back as it
    is, for the role's input check to name."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            return check_type_dict(value.strip())
        except (TypeError, ValueError):
            return value
    return value


class FilterModule:
    def filters(self):
        return {"dict_value": dict_value}
