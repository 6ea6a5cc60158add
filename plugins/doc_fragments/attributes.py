# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Every module: check mode and the action group.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # API modules: they run wherever the task runs and talk to the manager over HTTP(S).
    API = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/tos.cloud.api) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - tos.cloud.api
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
"""

    # Modules that run on the controller and not against the manager (report_files, report_mail).
    CONTROLLER = r"""
options: {}
notes:
  - With a C(local) connection (C(localhost), C(delegate_to=localhost), as the roles run it) the module runs in the
    task's worker process, as the API modules do; set the variable C(tos_cloud_in_process) to V(false) for a module
    process.
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    FACTS = r"""
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
"""
