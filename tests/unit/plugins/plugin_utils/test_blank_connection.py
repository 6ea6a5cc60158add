# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A connection option given as a blank string counts as unset, from every source of every entry point: the modules'
argument spec (environment fallback), the action in front of them (task args and module_defaults), the lookups
(keyword, variable, environment) and the inventory plugin (environment). ansible-core alone reads a blank
TOS_VALIDATE_CERTS as false (the certificate no longer verified) and a blank TOS_CA_PATH as the working directory;
the real plugins are loaded and their options set as ansible-core sets them, and nothing is sent."""

from __future__ import annotations

import itertools

import pytest

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.loader import inventory_loader, lookup_loader

from ansible_collections.tos.cloud.plugins.module_utils._module import CONNECTION_ARGSPEC
from ansible_collections.tos.cloud.plugins.module_utils._options import CONNECTION_ENV, blank, without_blank
from ansible_collections.tos.cloud.plugins.plugin_utils import lookup_api

URL = "http://192.0.2.10:9990"
BLANKS = ("", " ", "\n", "\t \r\n")
# What each option is when unset everywhere (the documented defaults; api_url has none, so it is given).
DEFAULTS = {"api_token": None, "validate_certs": True, "ca_path": None, "timeout": 30}
# A value of each option that differs from its default, as the environment or a variable would give it.
GIVEN = {"api_token": "t0ken-blank-tests", "validate_certs": "false", "ca_path": "/etc/ssl/certs/ca.pem", "timeout": "7"}
CONVERTED = {"api_token": "t0ken-blank-tests", "validate_certs": False, "ca_path": "/etc/ssl/certs/ca.pem", "timeout": 7}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in CONNECTION_ENV.values():
        monkeypatch.delenv(name, raising=False)


def test_blank_is_exactly_a_string_of_whitespace():
    assert all(blank(text) for text in BLANKS)
    assert not any(blank(value) for value in (None, 0, False, [], {}, "x", " x ", "0", "false", [""]))


@pytest.mark.parametrize("name, text", list(itertools.product(sorted(DEFAULTS), BLANKS)))
def test_module_environment_fallback_skips_a_blank_variable(monkeypatch, name, text):
    monkeypatch.setenv(CONNECTION_ENV[name], text)
    result = ArgumentSpecValidator(CONNECTION_ARGSPEC).validate({"api_url": [URL]})
    assert not result.error_messages, result.error_messages
    assert result.validated_parameters[name] == DEFAULTS[name]


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_module_environment_fallback_still_reads_a_value(monkeypatch, name):
    monkeypatch.setenv(CONNECTION_ENV[name], GIVEN[name])
    result = ArgumentSpecValidator(CONNECTION_ARGSPEC).validate({"api_url": [URL]})
    assert not result.error_messages, result.error_messages
    assert result.validated_parameters[name] == CONVERTED[name]


def test_a_blank_api_url_in_the_environment_is_reported_as_missing(monkeypatch):
    monkeypatch.setenv("TOS_API_URL", " ")
    result = ArgumentSpecValidator(CONNECTION_ARGSPEC).validate({})
    assert any("api_url" in message for message in result.error_messages)


@pytest.mark.parametrize("text", BLANKS)
def test_task_args_drop_only_the_blank_connection_options(text):
    args = dict({name: text for name in CONNECTION_ENV}, name=text, description=text, hosts=[text], wait=False)
    assert without_blank(args) == {"name": text, "description": text, "hosts": [text], "wait": False}
    given = dict(GIVEN, api_url=URL)
    assert without_blank(given) == given


def lookup_options(variables=None, **kwargs):
    plugin = lookup_loader.get("tos.cloud.manager")
    reader = lookup_api.reader(plugin, variables or {}, **{k: v for k, v in kwargs.items() if v is not None})
    return reader.options, reader.identity


def resolved(options, name):
    """What the client is built with (client_from_options reads ``options.get(name, default)``)."""
    value = options.get(name, DEFAULTS[name])
    return DEFAULTS[name] if value is None else value


@pytest.mark.parametrize("name, text, source", list(itertools.product(sorted(DEFAULTS), BLANKS, ("env", "var", "keyword"))))
def test_lookup_options_skip_a_blank_source(monkeypatch, name, text, source):
    variables, kwargs = {"tos_api_url": URL}, {}
    if source == "env":
        monkeypatch.setenv(CONNECTION_ENV[name], text)
    elif source == "var":
        variables["tos_%s" % name] = text
    else:
        kwargs[name] = text
    options, identity = lookup_options(variables, **kwargs)
    assert resolved(options, name) == DEFAULTS[name]
    assert identity["validate_certs"] is True


@pytest.mark.parametrize("name, text", list(itertools.product(sorted(DEFAULTS), BLANKS)))
def test_lookup_a_blank_variable_gives_way_to_the_environment(monkeypatch, name, text):
    monkeypatch.setenv(CONNECTION_ENV[name], GIVEN[name])
    options, _identity = lookup_options({"tos_api_url": URL, "tos_%s" % name: text})
    assert resolved(options, name) == CONVERTED[name]


@pytest.mark.parametrize("text", [None] + list(BLANKS))
def test_lookup_without_a_url_is_refused_naming_its_sources(monkeypatch, text):
    if text is not None:
        monkeypatch.setenv("TOS_API_URL", text)
    with pytest.raises(AnsibleLookupError, match="no manager URL: set api_url, the variable tos_api_url or the "
                                                 "environment variable TOS_API_URL"):
        lookup_options({"tos_api_url": text} if text is not None else {}, api_url=text)


class Built(Exception):
    """Raised by the stand-in client builder: the options are seen, nothing is sent."""


def inventory_options(tmp_path, monkeypatch):
    """The connection options the inventory plugin builds its client with, in a real parse of a config file."""
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader

    from ansible_collections.tos.cloud.plugins.inventory import hosts as plugin_module

    def build(options, warn=None):
        raise Built(options)

    monkeypatch.setattr(plugin_module, "client_from_options", build)
    path = tmp_path / "blank.tos.yml"
    path.write_text("plugin: tos.cloud.hosts\napi_url: %s\n" % URL, encoding="utf-8")
    with pytest.raises(Built) as built:
        inventory_loader.get("tos.cloud.hosts").parse(InventoryData(), DataLoader(), str(path), cache=False)
    return built.value.args[0]


@pytest.mark.parametrize("name, text", list(itertools.product(sorted(DEFAULTS), BLANKS)))
def test_inventory_options_skip_a_blank_environment_variable(tmp_path, monkeypatch, name, text):
    monkeypatch.setenv(CONNECTION_ENV[name], text)
    assert resolved(inventory_options(tmp_path, monkeypatch), name) == DEFAULTS[name]


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_inventory_options_still_read_the_environment(tmp_path, monkeypatch, name):
    monkeypatch.setenv(CONNECTION_ENV[name], GIVEN[name])
    assert resolved(inventory_options(tmp_path, monkeypatch), name) == CONVERTED[name]
