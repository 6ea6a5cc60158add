# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets out of text, and comparing secrets the API returns (module_utils/_redact.py)."""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.tos.cloud.plugins.module_utils._redact import MASK, redact, redact_value, same_secret, secret_forms, secret_hidden


def test_same_secret():
    assert same_secret("qwer1234", "qwer1234")
    assert not same_secret("qwer1234", "qwer12345")
    assert same_secret(None, "")
    assert same_secret("密码", "密码")
    assert not same_secret("密码", "密碼")


def test_secret_hidden():
    assert secret_hidden(None)
    assert secret_hidden("******")
    assert not secret_hidden("")
    assert not secret_hidden("qwer1234")


def test_every_form_of_a_secret_is_masked():
    secret = "tok en\n"
    text = "header %r, json %s, url %s" % ("Bearer " + secret, json.dumps(secret), quote(secret))
    assert "tok en" not in redact(text, [secret]) and "tok%20en" not in redact(text, [secret])
    assert redact_value({"a": ["x tok en y"]}, [secret]) == {"a": ["x %s y" % MASK]}


def test_short_values_are_not_masked_everywhere():
    assert secret_forms("abc") == [] and redact("abc abc", ["abc"]) == "abc abc"
