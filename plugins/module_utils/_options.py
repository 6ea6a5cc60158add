# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options' names and environment variables, and the rule that a blank value counts as unset.

Its own file, without imports, so that the inventory plugin can read its options without importing the HTTP
client (requests and urllib3 take about 50 ms to import; an inventory served from its cache never needs them)."""

from __future__ import annotations

from typing import Any

# The connection options and the environment variable each falls back to (documented once, in the doc fragment
# tos.cloud.connection).
CONNECTION_ENV = {"api_url": "TOS_API_URL", "api_token": "TOS_API_TOKEN", "validate_certs": "TOS_VALIDATE_CERTS",
                  "ca_path": "TOS_CA_PATH", "timeout": "TOS_TIMEOUT"}


def blank(value: Any) -> bool:
    """Whether a connection option's value is an empty or blank string, which counts as unset wherever it comes
    from (an option, a variable, ``module_defaults`` or the environment): an AWX credential type injects an empty
    field as ``""``, and a survey question left unanswered gives ``""``. Read as given, ansible-core would take
    ``""`` as false for validate_certs (the certificate no longer verified) and as the working directory for
    ca_path."""
    return isinstance(value, str) and not value.strip()


def without_blank(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the connection options given blank (see ``blank``): each then takes its default."""
    return {name: value for name, value in options.items() if not (name in CONNECTION_ENV and blank(value))}
