# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module unit tests."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time

import pytest


@pytest.fixture
def virtual_clock(monkeypatch):
    """Waits against a fake platform take no real time: every function of the collection's module_utils whose
    ``sleep`` or ``clock`` defaults to ``time.sleep`` / ``time.monotonic`` gets one virtual clock instead, which a
    sleep moves forward. The fake platforms move on per request, not per second, so only the real seconds go
    (polls and pauses of test_upgrade, test_inspection, test_cvm, test_cvm_placement and test_storage_service_vm,
    which use it); timeouts still count, in virtual seconds. Not for a test whose platform moves with the real
    clock (the simulator's): its waits would time out at once.
    Returns the list of the sleeps taken, in seconds."""
    from ansible_collections.tos.cloud.plugins import module_utils  # pylint: disable=import-outside-toplevel

    now = [time.monotonic()]
    slept = []

    def clock():
        return now[0]

    def sleep(seconds):
        slept.append(seconds)
        now[0] += max(float(seconds), 0.0)

    virtual = {time.sleep: sleep, time.monotonic: clock}

    def swap(default):
        return virtual.get(default, default) if callable(default) else default

    for info in pkgutil.iter_modules(module_utils.__path__, module_utils.__name__ + "."):
        mod = importlib.import_module(info.name)
        functions = [f for f in vars(mod).values() if inspect.isfunction(f) and f.__module__ == mod.__name__]
        for cls in (c for c in vars(mod).values() if inspect.isclass(c) and c.__module__ == mod.__name__):
            functions += [f for f in vars(cls).values() if inspect.isfunction(f)]
        for func in functions:
            defaults = tuple(map(swap, func.__defaults__ or ()))
            if defaults != (func.__defaults__ or ()):
                monkeypatch.setattr(func, "__defaults__", defaults)
            kwdefaults = {k: swap(d) for k, d in (func.__kwdefaults__ or {}).items()}
            if kwdefaults != (func.__kwdefaults__ or {}):
                monkeypatch.setattr(func, "__kwdefaults__", kwdefaults)
    return slept
