# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options of every API module (plugins/module_utils/_module.py CONNECTION_ARGSPEC).
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the manager's API, for example V(https://192.0.2.10:9990).
      - With several URLs (a list, or one string with commas) the client fails over to the next one
        when a manager cannot be reached.
      - If not set, the value of the E(TOS_API_URL) environment variable is used.
    type: list
    elements: str
    required: true
  api_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>)."
      - If not set, the value of the E(TOS_API_TOKEN) environment variable is used.
      - Never shown in results, diffs, warnings or error messages.
      - Sending it over plain V(http://) to an address other than the loopback warns.
    type: str
  validate_certs:
    description:
      - Whether to verify the manager's TLS certificate.
      - Set to V(false) only on a trusted network; the module then warns.
      - If not set, the value of the E(TOS_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) used to verify the manager's certificate, for a private CA.
      - If not set, the value of the E(TOS_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds each HTTP request may take, from sending it to the last byte of its answer (a deadline for the
        whole answer, not for each read of the network).
      - Reads that time out are retried with exponential backoff; writes are never repeated blindly.
      - If not set, the value of the E(TOS_TIMEOUT) environment variable is used.
    type: int
    default: 30
requirements:
  - requests >= 2.25 (on the host that runs the module, normally the controller)
notes:
  - All API modules belong to the action group C(tos.cloud.api), so the connection can be set once with
    C(module_defaults) and C(group/tos.cloud.api).
  - "API modules talk to the manager from where they run: use C(delegate_to: localhost) or run the play
    against C(localhost)."
"""

    INVENTORY = r"""
options:
  api_url:
    description:
      - Base URL of the manager's API, for example V(https://192.0.2.10:9990).
      - With several URLs the client fails over to the next one when a manager cannot be reached.
    type: list
    elements: str
    required: true
    env:
      - name: TOS_API_URL
  api_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>)."
    type: str
    env:
      - name: TOS_API_TOKEN
  validate_certs:
    description:
      - Whether to verify the manager's TLS certificate.
    type: bool
    default: true
    env:
      - name: TOS_VALIDATE_CERTS
  ca_path:
    description:
      - A CA bundle (PEM) used to verify the manager's certificate.
    type: path
    env:
      - name: TOS_CA_PATH
  timeout:
    description:
      - Seconds each HTTP request may take, from sending it to the last byte of its answer (a deadline for the
        whole answer, not for each read of the network).
    type: int
    default: 30
    env:
      - name: TOS_TIMEOUT
"""
