# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets that an operator puts in the wrong place or shape never show, in any front end.

- a password written into api_url (``https://user:password@host``, maybe mistyped: no scheme, a space, a comma
  inside the password that the comma split would cut) is refused without quoting the URL by the module, the
  inventory plugin, the lookups and the EDA source alike (all share ``connection_problems``), and the module's
  ``invocation.module_args.api_url`` (-vvv, AWX's job events) shows it masked;
- a lookup's ``api_token`` that is not a string (a list or a dict from a variable) is masked in the message of
  ansible-core's option check;
- report_mail's ``password`` given as a dictionary (no_log masks a dict's values, not its keys) is refused
  naming the option, and the invocation shows it masked.

Each test failed before the fix (1.0.x).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from ansible_collections.tos.cloud.plugins.module_utils._api import TosApiError, TosClient, connection_problems
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_plain_module

URL_PASSWORD = "PW-url-zz9"
TOKEN = "S3cr3t-T0ken-zz9"
MAIL_PASSWORD = "PW-mail-zz9"

# URLs an operator mistypes, each holding the password
MALFORMED_URLS = [
    "htps://admin:%s@192.0.2.10:9990" % URL_PASSWORD,  # scheme typo
    "https://admin:%s @192.0.2.10:9990" % URL_PASSWORD,  # a space (copied from a document)
    "https://admin:%s,x@192.0.2.10:9990" % URL_PASSWORD,  # a comma in the password: api_url splits on it
    "ftp://admin:%s@192.0.2.10:9990" % URL_PASSWORD,
]


@pytest.mark.parametrize("url", MALFORMED_URLS)
def test_connection_problems_never_echo_a_url_password(url):
    _urls, _token, problems = connection_problems(url, TOKEN, 30)
    assert problems, "the URL was accepted"
    assert URL_PASSWORD not in "; ".join(problems), problems


@pytest.mark.parametrize("url", MALFORMED_URLS[:2])
def test_client_error_never_echoes_a_url_password(url):
    with pytest.raises(TosApiError) as info:
        TosClient(url, api_token=TOKEN)
    assert URL_PASSWORD not in info.value.message


@pytest.mark.parametrize("url", ["https://admin:%s@127.0.0.1:9" % URL_PASSWORD, MALFORMED_URLS[0]])
def test_module_result_never_holds_a_url_password(url, capsys):
    """The whole JSON a module returns (msg and invocation.module_args, what -vvv and AWX's job events show)."""
    from ansible_collections.tos.cloud.plugins.modules import system_info

    out = run_plain_module(system_info.main, {"api_url": url, "api_token": TOKEN}, capsys)
    result = json.loads(out)
    assert result.get("failed"), result
    assert URL_PASSWORD not in out, out


def test_report_mail_never_holds_a_password_given_as_a_dictionary(capsys):
    from ansible_collections.tos.cloud.plugins.modules import report_mail

    args = {"to": ["ops@example.com"], "sender": "tos@example.com", "subject": "s", "smtp_host": "127.0.0.1",
            "smtp_port": 9, "timeout": 2, "username": "u", "password": {MAIL_PASSWORD: "x"}}
    out = run_plain_module(report_mail.main, args, capsys)
    assert MAIL_PASSWORD not in out, out


def _lookup(name):
    from ansible.plugins.loader import init_plugin_loader, lookup_loader

    init_plugin_loader()
    return lookup_loader.get(name)


@pytest.mark.parametrize("token", [[TOKEN], {TOKEN: 1}])
def test_lookup_error_never_holds_a_token_of_the_wrong_type(token):
    lookup = _lookup("tos.cloud.manager")
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever ansible-core raises
        lookup.run([], variables={"tos_api_url": "http://127.0.0.1:9", "tos_api_token": token})
    assert TOKEN not in str(info.value), str(info.value)


def test_lookup_error_never_holds_a_url_password():
    lookup = _lookup("tos.cloud.manager")
    with pytest.raises(Exception) as info:  # noqa: PT011
        lookup.run([], variables={"tos_api_url": MALFORMED_URLS[0], "tos_api_token": TOKEN})
    assert URL_PASSWORD not in str(info.value), str(info.value)


def test_eda_source_error_never_holds_a_url_password(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.path.insert(0, os.path.join(root, "extensions", "eda", "plugins", "event_source"))
    try:
        import events
    finally:
        sys.path.pop(0)

    class Queue:
        async def put(self, event):
            raise AssertionError("no event expected: %r" % (event,))

    args = {"api_url": MALFORMED_URLS[0], "api_token": TOKEN, "max_polls": 1, "state_file": str(tmp_path / "s.json")}
    with pytest.raises(Exception) as info:  # noqa: PT011 - ansible-rulebook logs whatever main() raises
        asyncio.run(events.main(Queue(), args))
    assert URL_PASSWORD not in str(info.value), str(info.value)
