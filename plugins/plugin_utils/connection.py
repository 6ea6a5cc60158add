# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options of the inventory and lookup plugins, read as the modules read theirs: a blank value
counts as unset wherever it comes from (``blank`` in module_utils/_options.py).

ansible-core's configuration reads an environment variable set to ``""`` as false for a boolean option and as the
working directory for a path, and refuses ``" "`` for a number: ``TOS_VALIDATE_CERTS=""`` (an AWX credential's
empty field) would turn certificate verification off. Here such a variable is unset while ansible-core reads the
options, so the option takes its default or its next source, as an unset variable does."""

from __future__ import annotations

import contextlib
import os

from ansible_collections.tos.cloud.plugins.module_utils._options import CONNECTION_ENV, blank

# The variables the lookups read the connection options from (doc fragment tos.cloud.connection, LOOKUP).
CONNECTION_VARS = {name: "tos_%s" % name for name in CONNECTION_ENV}


@contextlib.contextmanager
def blank_environment_unset(environ=None):
    """Within the block, the connection options' TOS_* variables that are set to a blank string are unset."""
    environ = os.environ if environ is None else environ
    hidden = {name: environ.pop(name) for name in CONNECTION_ENV.values() if blank(environ.get(name))}
    try:
        yield
    finally:
        environ.update(hidden)


def without_blank_inputs(variables, kwargs):
    """``(variables, kwargs)`` of a lookup without the connection options given blank, before ansible-core
    converts them (a blank ``tos_timeout`` would fail as "an invalid value", a blank ``tos_validate_certs``
    would read as false). ``variables`` is copied only when one of them is blank."""
    kwargs = {name: value for name, value in (kwargs or {}).items() if not (name in CONNECTION_ENV and blank(value))}
    if variables and any(blank(variables.get(var)) for var in CONNECTION_VARS.values()):
        variables = {name: value for name, value in variables.items()
                     if not (name in CONNECTION_VARS.values() and blank(value))}
    return variables, kwargs


def connection_options(plugin):
    """The plugin's connection options (set already), as ``client_from_options`` takes them."""
    return {name: plugin.get_option(name) for name in CONNECTION_ENV}
