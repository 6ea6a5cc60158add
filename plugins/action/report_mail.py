# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs tos.cloud.report_mail in the task's worker process on a local connection (plugins/plugin_utils/in_process.py)."""

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.plugin_utils.in_process import ActionModule, preload  # noqa: F401  pylint: disable=unused-import

preload(__name__)
