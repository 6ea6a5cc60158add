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
        when a manager cannot be reached, and warns which URL answered and why the one before it did not.
      - A trailing V(/v1) (as in the API documents' example URLs) is accepted and dropped.
      - If not set, the value of the E(TOS_API_URL) environment variable is used.
      - The proxy variables of the environment (E(https_proxy), E(http_proxy), E(all_proxy), E(no_proxy)) are
        honoured as requests honours them, read once per task for each URL.
    type: list
    elements: str
    required: true
  api_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>)."
      - If not set, the value of the E(TOS_API_TOKEN) environment variable is used.
      - Whitespace around the token (such as the newline that C(echo token | ansible-vault encrypt_string) keeps) is
        removed; a token with spaces, control or non-ASCII characters inside is refused.
      - Never shown in results, diffs, warnings or error messages.
      - Sending it over plain V(http://) to an address other than the loopback warns.
      - A C(~/.netrc) entry for the manager's host is never used (requests would send its credentials instead of
        the token).
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
      - If not set, the value of the E(TOS_CA_PATH) environment variable is used, else E(REQUESTS_CA_BUNDLE) or
        E(CURL_CA_BUNDLE) as requests does, else the system's default bundle.
    type: path
  timeout:
    description:
      - Seconds each HTTP request may take (1 to 3600), from sending it to the last byte of its answer (a
        deadline for the whole answer, not for each read of the network).
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
  - In diff mode, C(diff.before) and C(diff.after) are JSON text, so that C(--diff) shows Chinese names as they are;
    a playbook reads them with C(result.diff.after | from_json).
  - Every option is checked before the first request; a wrong value fails the task with a message naming the option
    and nothing is sent.
  - A connection option set to an empty or blank string (an AWX credential's empty field, an unanswered survey
    question passed through C(module_defaults)) counts as unset, and so does an empty E(TOS_*) environment
    variable; the next source or the default applies.
"""

    INVENTORY = r"""
options:
  api_url:
    description:
      - Base URL of the manager's API, for example V(https://192.0.2.10:9990).
      - With several URLs the client fails over to the next one when a manager cannot be reached, and warns which
        URL answered and why the one before it did not.
      - A trailing V(/v1) is accepted and dropped.
      - The proxy variables of the environment (E(https_proxy), E(http_proxy), E(all_proxy), E(no_proxy)) are
        honoured, read once per run for each URL.
    type: list
    elements: str
    required: true
    env:
      - name: TOS_API_URL
  api_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>)."
      - A C(~/.netrc) entry for the manager's host is never used.
    type: str
    env:
      - name: TOS_API_TOKEN
  validate_certs:
    description:
      - Whether to verify the manager's TLS certificate.
      - An empty or blank E(TOS_VALIDATE_CERTS) (or any other E(TOS_*) variable of these options) counts as
        unset, so the certificate is verified; ansible-core alone would read it as V(false).
    type: bool
    default: true
    env:
      - name: TOS_VALIDATE_CERTS
  ca_path:
    description:
      - A CA bundle (PEM) used to verify the manager's certificate.
      - If not set, E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) as requests does, else the system's default bundle.
    type: path
    env:
      - name: TOS_CA_PATH
  timeout:
    description:
      - Seconds each HTTP request may take (1 to 3600), from sending it to the last byte of its answer (a
        deadline for the whole answer, not for each read of the network).
    type: int
    default: 30
    env:
      - name: TOS_TIMEOUT
"""

    LOOKUP = r"""
options:
  api_url:
    description:
      - Base URL of the manager's API, for example V(https://192.0.2.10:9990).
      - With several URLs (a list, or one string with commas) the client fails over to the next one
        when a manager cannot be reached.
      - The proxy variables of the environment (E(https_proxy), E(http_proxy), E(all_proxy), E(no_proxy)) are
        honoured, read once per lookup for each URL.
    type: list
    elements: str
    required: true
    env:
      - name: TOS_API_URL
    vars:
      - name: tos_api_url
  api_token:
    description:
      - "Token sent as C(Authorization: Bearer <token>). Never shown in an error message."
      - A C(~/.netrc) entry for the manager's host is never used.
    type: str
    env:
      - name: TOS_API_TOKEN
    vars:
      - name: tos_api_token
  validate_certs:
    description:
      - Whether to verify the manager's TLS certificate.
    type: bool
    default: true
    env:
      - name: TOS_VALIDATE_CERTS
    vars:
      - name: tos_validate_certs
  ca_path:
    description:
      - A CA bundle (PEM) used to verify the manager's certificate.
      - If not set, E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) as requests does, else the system's default bundle.
    type: path
    env:
      - name: TOS_CA_PATH
    vars:
      - name: tos_ca_path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 30
    env:
      - name: TOS_TIMEOUT
    vars:
      - name: tos_timeout
  cache:
    description:
      - Keep each answer of the manager for the rest of the play, shared by every task and fork of the run, so
        that a question is asked at most once per play.
      - V(false) asks the manager on every call.
    type: bool
    default: true
  refresh:
    description:
      - Ask the manager again even when the play has the answer, and keep the new one (after a task changed it).
    type: bool
    default: false
notes:
  - Lookups run on the controller, in the worker process of the task that uses them. The answers are cached
    in a directory of the C(ansible-playbook) run (under the system's temporary directory, or
    E(TOS_LOOKUP_CACHE_DIR)), one file per question, readable by its owner only, removed by a later run.
  - The cache is per play (by its name); a later play of the same run asks again.
  - Options are taken from the lookup's keywords, else the variables C(tos_api_url), C(tos_api_token),
    C(tos_validate_certs), C(tos_ca_path), C(tos_timeout), else the E(TOS_*) environment variables. An empty or
    blank value counts as unset at each step, as for the modules.
requirements:
  - requests >= 2.25 (on the controller)
"""
