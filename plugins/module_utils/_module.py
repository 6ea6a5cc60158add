# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared machinery of the API modules.

- ``CONNECTION_ARGSPEC``: the connection options, defined once (docs: ``tos.cloud.connection``).
- ``TosModule``: an ``AnsibleModule`` plus the client, change/diff tracking and the one place
  where a ``TosApiError`` becomes ``fail_json``.
- ``merge``/``masked``/``changes``: desired-vs-current helpers so modules stay thin.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
import traceback
from typing import Any, Callable, Iterable, Iterator

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.tos.cloud.plugins.module_utils import _progress
from ansible_collections.tos.cloud.plugins.module_utils._api import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    TosApiError,
    TosClient,
    client_from_options,
    connection_problems,
    mask_url_credentials,
    url_has_credentials,
)
from ansible_collections.tos.cloud.plugins.module_utils._checks import (  # noqa: F401  pylint: disable=unused-import
    from_api,  # defined with the checks (the role's input filter uses them without the client); imported here too
    pick,
    to_api,
)
from ansible_collections.tos.cloud.plugins.module_utils._options import CONNECTION_ENV, blank
from ansible_collections.tos.cloud.plugins.module_utils._redact import MASK, redact, redact_value, secret_forms, secret_hidden
from ansible_collections.tos.cloud.plugins.module_utils._shapes import _raw_arguments, shape_problems


def nonblank_env_fallback(*names: str) -> str:
    """ansible-core's ``env_fallback``, except that a variable set to a blank string counts as unset (``blank``):
    an AWX credential type injects an empty field as ``""``."""
    for name in names:
        value = os.environ.get(name)
        if value is not None and not blank(value):
            return value
    raise AnsibleFallbackNotFound


CONNECTION_ARGSPEC = dict(
    api_url=dict(type="list", elements="str", required=True, fallback=(nonblank_env_fallback, [CONNECTION_ENV["api_url"]])),
    api_token=dict(type="str", no_log=True, fallback=(nonblank_env_fallback, [CONNECTION_ENV["api_token"]])),
    validate_certs=dict(type="bool", default=True, fallback=(nonblank_env_fallback, [CONNECTION_ENV["validate_certs"]])),
    ca_path=dict(type="path", fallback=(nonblank_env_fallback, [CONNECTION_ENV["ca_path"]])),
    timeout=dict(type="int", default=30, fallback=(nonblank_env_fallback, [CONNECTION_ENV["timeout"]])),
)

WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
)


class TosModule:
    """An API module: argument spec with the connection options, the client, and the result.

    Typical use::

        def run(tm):
            current = ...read...
            after = merge(current, desired)
            if tm.track(current, after) and not tm.check_mode:
                tm.client.post(...)
            tm.exit(config=after)

        def main():
            TosModule(argument_spec=..., secrets=("password",)).execute(run)
    """

    def __init__(self, argument_spec: dict[str, Any], secrets: Iterable[str] = (), **kwargs: Any) -> None:
        spec = dict(CONNECTION_ARGSPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        raw = _raw_arguments()
        problems, checked = shape_problems(spec, raw)
        # a secret of the wrong shape (a dict's keys are not masked by no_log) is not echoed in the invocation
        refused_secrets = [name for name, option in spec.items() if option.get("no_log") and checked[name] is not option]
        spec = checked
        if raw is not None and not _given(raw, spec["api_url"], "api_url") and not os.environ.get("TOS_API_URL"):
            # let connection_problems() say that it is missing, naming the option and TOS_API_URL
            spec["api_url"] = dict(spec["api_url"], required=False)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        # no_log masks a secret's literal value; a message can also carry it escaped (requests quotes the
        # repr() of a header, -vvv prints JSON): mask those forms too, everywhere in the result
        for value in list(self.module.no_log_values):
            self.module.no_log_values.update(secret_forms(value))
        self.params = self.module.params
        if url_has_credentials(self.params.get("api_url")):
            # refused below (connection_problems): the invocation the result carries shows it masked
            self.params["api_url"] = mask_url_credentials(self.params["api_url"])
        problems.extend(_blank(argument_spec, self.params))
        if problems:  # a connection option of the wrong shape was already named: no second message about it
            for name in refused_secrets:
                self.params[name] = MASK
            self.module.fail_json(msg="Invalid input: %s." % "; ".join(problems))
        _urls, token, connection = connection_problems(self.params.get("api_url"), self.params.get("api_token"),
                                                       self.params.get("timeout"))
        if connection:
            self.module.fail_json(msg="Invalid connection options: %s." % "; ".join(connection))
        if token:
            self.module.no_log_values.add(token)
        self.params["api_token"] = token
        self.check_mode = self.module.check_mode
        self.secrets = tuple(secrets)
        self.changed = False
        self.before = {}
        self.after = {}
        self.operation = None
        self.writes = 0  # POSTs the manager accepted in this task: a later failure still changed something
        self._client = None
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    @property
    def client(self) -> TosClient:
        if self._client is None:
            self._client = client_from_options(self.params, warn=self.warn)
            # sent, or found applied after a lost answer: a later failure still changed something
            self._client.post_verified = self._counting_writes(self._client.post_verified)
            self._client.post = self._counting_writes(self._client.post)
        return self._client

    def _counting_writes(self, post: Callable[..., Any]) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            data = post(*args, **kwargs)
            self.writes += 1
            return data
        return wrapper

    def warn(self, message: str) -> None:
        self.module.warn(redact(message, self._secret_values()))

    def fail(self, msg: str, **kwargs: Any) -> None:
        kwargs.setdefault("changed", self.changed_on_failure())
        if _progress.records():
            kwargs.setdefault("wait_progress", _progress.records())
        self.module.fail_json(msg=msg, **kwargs)

    def changed_on_failure(self, error: BaseException | None = None) -> bool:
        """A failed task changed something only when a write was accepted before the failure, or the
        failed write may have been applied (its answer was lost); a refused write changed nothing."""
        return self.changed and (self.writes > 0 or bool(error is not None and error.may_have_landed))

    def track(self, before: Any, after: Any, key: str | None = None) -> bool:
        """Record a before/after pair for ``--diff`` and return whether it changes anything.

        With ``key`` the pair is stored under that key (for modules managing several objects).
        """
        changed = before != after
        if key is None:
            self.before, self.after = before, after
        else:
            self.before[key], self.after[key] = before, after
        self.changed = self.changed or changed
        return changed

    def diff(self) -> dict[str, str]:
        """``before``/``after`` as text: the JSON ansible-core's callbacks would print for a dict, but with
        Chinese (any non-ASCII) text as it is instead of ``\\u5317``-escapes."""
        after = masked(self.after, self.secrets, reference=self.before)
        return dict(before=diff_text(masked(self.before, self.secrets)), after=diff_text(after))

    def exit(self, **result: Any) -> None:
        result.setdefault("changed", self.changed)
        if _progress.records():
            result.setdefault("wait_progress", _progress.records())
        result = masked(result, self.secrets)
        if self.module._diff:
            result["diff"] = self.diff()
        self.module.exit_json(**result)

    def execute(self, run: Callable[..., Any]) -> None:
        """Run ``run(self)``; the one place where a failure becomes ``fail_json``.

        A ``TosApiError`` is a message for the user.  Anything else is a bug of the collection: it fails
        with the exception and its traceback, secrets masked, never as a crash of the module process."""
        dummy, error = capture(run, Exception, self)
        if error is None:
            return
        secrets = self._secret_values()
        if not isinstance(error, TosApiError):  # a programming error: reported, not crashed on
            self.module.fail_json(
                msg=redact("tos.cloud.%s failed unexpectedly%s (%s: %s). This is a bug of the collection: please "
                           "report it with this message." % (self.module._name, " while trying to %s" % self.operation
                                                             if self.operation else "", type(error).__name__, error),
                           secrets),
                exception=redact("".join(traceback.format_exception(type(error), error, error.__traceback__)),
                                 secrets), changed=self.changed_on_failure())
        error.redact(secrets)
        what = ("Could not %s: " % self.operation) if self.operation else ""
        self.fail(what + error.message, api_error=redact_value(error.to_dict(), secrets),
                  changed=self.changed_on_failure(error))

    def run_or_fail(
            self,
            call: Callable[..., Any],
            errors: type[BaseException] | tuple[type[BaseException], ...],
            message: str,
    ) -> Any:
        """``call()``'s result; when it raises one of ``errors``, the module fails with ``message(exc)``, a
        ``(msg, extra result keys)`` pair.  The one failure path for an expected exception (a host task that
        did not finish, an API refusal that is a message): it fails outside the except block, since
        ansible-core 2.19+ would attach the active traceback to the result."""
        result, failure = capture(call, errors)
        if failure is not None:
            msg, extra = message(failure)
            self.fail(msg, **extra)
        return result

    def run_state(
            self,
            validate: Callable[..., Any],
            resolve: Callable[..., Any],
            present: Callable[..., Any],
            absent: Callable[..., Any],
    ) -> None:
        """The state dispatch of a ``state: present/absent`` module, written once: ``validate(params)``
        (a message or None: fails before any request), ``resolve(self)`` (the object the state applies to,
        e.g. the cluster; failing when unknown), then ``present(self, target)`` or ``absent(self, target)``,
        which return the result keys to exit with."""
        error = validate(self.params)
        if error:
            self.fail(error)
        target = resolve(self)
        ensure = present if self.params["state"] == "present" else absent
        self.exit(**ensure(self, target))

    def _secret_values(self) -> list[Any]:
        """The values of the no_log options (the token, passwords) as given."""
        return [value for value in self.module.no_log_values if isinstance(value, str)]

    @contextlib.contextmanager
    def scope(self, name: str) -> Iterator[TosModule]:
        """Name what the module is doing inside the block, for error messages ("create cluster 'c1'").

        A failure inside the block names this operation; when the block ends normally the outer name
        comes back, so a look-up made inside a write (a ``landed()`` re-read) leaves the write's name for
        a failure after it."""
        outer = self.operation
        self.operation = name
        yield self
        self.operation = outer

    def doing(self, operation: str) -> TosModule:
        """Name the step the module starts now, until the next step (the statement form of ``scope()``).

        Deprecated inside the collection: only ``upgrade`` and ``upgrade_info`` (through ``_upgrade``) still
        call it, until they move to ``scope()``; every other plugin names its requests with ``scope()``.
        Do not add callers."""
        self.operation = operation
        return self

    def wait_for(
            self,
            probe: Callable[..., Any],
            timeout: float,
            interval: float = 2.0,
            what: str = "the operation",
    ) -> Any:
        """Poll ``probe()`` until it returns a truthy value; fail after ``timeout`` seconds."""
        return wait_for(probe, timeout, interval=interval, what=what, on_timeout=self.fail)


def capture(
        call: Callable[..., Any],
        errors: type[BaseException] | tuple[type[BaseException], ...],
        *args: Any,
) -> tuple[Any, BaseException | None]:
    """``(call(*args), None)``, or ``(None, exc)`` when it raises one of ``errors``: the exception comes back
    to be handled outside the except block."""
    try:
        return call(*args), None
    except errors as exc:  # noqa: BLE001 - the caller names what it expects
        return None, exc


def _blank(spec: dict[str, Any], params: dict[str, Any]) -> Iterator[str]:
    """An option that names a cluster or a host (``cluster``, ``host``, the entries of ``hosts``) given as an empty or
    blank string: refused here, before a request would look for an object named '' (or, where ``cluster`` is
    optional, pick the first cluster)."""
    for name, what in (("cluster", "a cluster's name or UUID"), ("host", "a host's name, management IP or UUID"),
                       ("hosts", "hosts' names, management IPs or UUIDs")):
        value = params.get(name)
        if name not in spec or value is None:
            continue
        if isinstance(value, str) and not value.strip():
            yield "%s: must not be empty (give %s%s)" % (
                name, what, "" if spec[name].get("required") else ", or leave the option out")
        elif isinstance(value, list) and any(isinstance(item, str) and not item.strip() for item in value):
            yield "%s: must not hold an empty entry (give %s)" % (name, what)


def _given(raw: Any, option: str, name: str) -> bool:
    return any(raw.get(alias) not in (None, "", []) for alias in [name] + list(option.get("aliases") or ()))


def wait_for(
        probe: Callable[..., Any],
        timeout: float,
        interval: float = 2.0,
        what: str = "the operation",
        on_timeout: Callable[..., Any] | None = None,
        clock: Callable[..., Any] = time.monotonic,
        sleep: Callable[..., Any] = time.sleep,
) -> Any:
    deadline = clock() + timeout
    delay = min(0.5, interval)
    while True:
        result = probe()
        if result:
            return result
        if clock() >= deadline:
            msg = "Timed out after %ss waiting for %s. Raise wait_timeout, or set wait=false and check " \
                  "later." % (timeout, what)
            if on_timeout is None:
                raise TimeoutError(msg)
            on_timeout(msg)
            return None
        sleep(delay)
        delay = min(interval, delay * 2)


def diff_text(value: Any) -> str:
    """``value`` laid out as ansible-core lays out a dict in a diff (sorted keys, indent 4), non-ASCII kept."""
    return json.dumps(value, sort_keys=True, indent=4, separators=(",", ": "), ensure_ascii=False, default=str) + "\n"


def merge(current: Any, desired: Any) -> dict[str, Any]:
    """Deep-merge ``desired`` into a copy of ``current``; ``None`` in desired means "leave it"."""
    result = copy.deepcopy(current) if current is not None else {}
    for key, value in (desired or {}).items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def masked(value: Any, secrets: Iterable[str], reference: Any = None) -> Any:
    """Copy ``value`` with every key named in ``secrets`` replaced by a mask, at any depth.

    With ``reference`` (the "before" side of a diff), a secret that differs from the reference
    shows as ``"******** (changed)"`` so a diff tells that it changes without telling what to.
    """
    if not secrets:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            ref = reference.get(key) if isinstance(reference, dict) else None
            if key in secrets and item not in (None, ""):
                out[key] = MASK + (" (changed)" if reference is not None and ref != item else "")
            else:
                out[key] = masked(item, secrets, ref if reference is not None else None)
        return out
    if isinstance(value, list):
        return [masked(item, secrets) for item in value]
    return value


def hide_secret(tm: TosModule, value: Any) -> None:
    """Treat ``value`` (a secret read from the API, not given as a no_log option) like a no_log
    value: Ansible then replaces it in every string the module returns, errors included."""
    if isinstance(value, str) and value and not secret_hidden(value):
        tm.module.no_log_values.add(value)


def without(data: Any, keys: Iterable[str]) -> dict[str, Any]:
    """A copy of a dict without ``keys`` (to compare objects apart from their secrets)."""
    return {k: v for k, v in (data or {}).items() if k not in keys}
