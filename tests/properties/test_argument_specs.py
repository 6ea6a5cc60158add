# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests over every API module's real argument spec (issue 18): invalid arguments drawn from each
option's type, bounds and shape never end in a traceback, always name the option, and never reach the
manager as a write.

Each module runs in this process (as the in-process action runs it) against one simulator on 127.0.0.1
that has a cluster, so that a bad value that slipped through validation would really be written. Every
case gives one bad option on top of valid arguments; the simulator's request log must show no mutating
request afterwards. Two passes per module: a fixed seed (the same cases every run) and a rotating one
(new cases each run; printed in the failure, replay with ``--property-seed N``).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
import sys
import traceback
from pathlib import Path
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from ansible.module_utils.testing import patch_module_args

from ansible_collections.tos.cloud.plugins.module_utils import _module
from ansible_collections.tos.cloud.plugins.module_utils._checks import INT32_MAX

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.testing import run_simulator  # noqa: E402  (needs ROOT on sys.path)

FIXED_SEED = 20261206
EXAMPLES = int(os.environ.get("TOS_PROPERTY_EXAMPLES", "15"))  # per module and seed: 14 x 2 x 15 = 420 cases
CLUSTER = "prop"
SEED_HOST = "192.0.2.11"
# POST endpoints that only read; any other non-GET request changes the manager
READ_ONLY_POSTS = frozenset(("/v1/cluster/all_cluster/topology",))

# Valid arguments of each module, so that the one bad option drawn is the only thing wrong.
BASE = {
    "cluster": {"name": "prop-new", "ip": "192.0.2.12"},
    "cluster_info": {"cluster": CLUSTER},
    "cvm": {"cluster": CLUSTER, "host": "tos-a2", "address": "192.0.2.201/24", "gateway": "192.0.2.1"},
    "storage_service_vm": {"cluster": CLUSTER, "manage_address": "192.0.2.202/24", "manage_gateway": "192.0.2.1",
                           "storage_address": "192.0.2.203/24", "storage_gateway": "192.0.2.1"},
    "drs_config": {"cluster": CLUSTER},
    "global_config": {"cluster": CLUSTER},
    "snapshot_policy": {"cluster": CLUSTER},
    "metadata_snapshot": {"cluster": CLUSTER},
    "mail_setting": {},
    "system_setting": {},
    "system_info": {},
    "inspection": {"cluster": CLUSTER},
    "upgrade": {"cluster": CLUSTER},
    "upgrade_info": {"cluster": CLUSTER},
}
MODULES = sorted(BASE)

# Values each documented or stated bound refuses, by option path (module-independent names).
INTS_OUTSIDE = {
    "timeout": st.one_of(st.integers(max_value=0), st.integers(min_value=3601)),
    # cluster-api.md, DRS object: int32 counts; the module asks at least 1
    "drs.max_step": st.one_of(st.integers(max_value=0), st.integers(min_value=INT32_MAX + 1)),
    "drs.max_concurrent_migration": st.one_of(st.integers(max_value=0), st.integers(min_value=INT32_MAX + 1)),
    "drs.max_host_concurrent_migration": st.one_of(st.integers(max_value=0), st.integers(min_value=INT32_MAX + 1)),
    "smtp_port": st.one_of(st.integers(max_value=0), st.integers(min_value=65536)),
    # the modules' own ranges (cluster/top count: a number of rankings; upgrade batches; snapshots kept)
    "top_count": st.one_of(st.integers(max_value=0), st.integers(min_value=10001)),
    "batch_size": st.one_of(st.integers(max_value=0), st.integers(min_value=1001)),
    "stall_timeout": st.integers(max_value=-1),
    "retain": st.integers(max_value=-1),
    "login_policy.login_fail_retry_times": st.integers(max_value=-1),
    "login_policy.login_fail_punish_seconds": st.integers(max_value=-1),
    "login_policy.token_expire_seconds": st.integers(max_value=59),
    "password_policy.minimum_length": st.integers(max_value=0),
    "password_policy.max_expired_age": st.integers(max_value=-1),
    "password_policy.expired_warn_age": st.integers(max_value=-1),
}
BAD_FLOATS = st.one_of(st.sampled_from([math.inf, -math.inf, math.nan]), st.floats(max_value=-1e-9))
# DPM thresholds: 0-100 (a fraction or a percentage, docs/api-notes.md register entry 15);
# over-allocation thresholds: (0, 100]
FRACTION_OUTSIDE = st.one_of(BAD_FLOATS, st.floats(min_value=100.001, allow_infinity=False))
THRESHOLD_OUTSIDE = st.one_of(BAD_FLOATS, st.just(0.0), st.floats(min_value=100.001, allow_infinity=False))
FLOATS_OUTSIDE = {
    "dpm.high_threshold": FRACTION_OUTSIDE,
    "dpm.low_threshold": FRACTION_OUTSIDE,
    "storage": THRESHOLD_OUTSIDE,
    "cpu": THRESHOLD_OUTSIDE,
    "memory": THRESHOLD_OUTSIDE,
    "usd": THRESHOLD_OUTSIDE,
}
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
UNICODE_WORD = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=8)
NOT_AN_IP = st.one_of(st.sampled_from(["192.0.2.300", "192.0.2", "2001:db8::zz", "10.0.0.1/99", "", " "]),
                      UNICODE_WORD, st.text("abcxyz-_ ", min_size=1, max_size=20))
SECRET = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=10, max_size=24).map(lambda t: "Sx" + t)
SEMANTIC = {
    "api_url": st.one_of(
        st.sampled_from(["http://", "https://", "http://[::1", "https://exa mple.com", "ftp://192.0.2.10",
                         "192.0.2.10:9990", "http://a..b", "http://u:p@192.0.2.10"]),
        st.integers(min_value=65536, max_value=10 ** 9).map(lambda port: "http://127.0.0.1:%d" % port),
        UNICODE_WORD.map(lambda word: "http://exa %s.com" % word)),
    "api_token": st.tuples(SECRET, st.sampled_from(" \t\n\x00\u5317\u00e9"), SECRET).map("".join),
    "ca_path": st.text("abcdefgh", min_size=1, max_size=12).map(lambda name: "/nonexistent/%s.pem" % name),
    "cluster": st.sampled_from(["", " ", "\t", "  \n"]),
    "host": st.sampled_from(["", " ", "\t"]),
    "hosts": st.lists(st.sampled_from(["", " ", "\t"]), min_size=1, max_size=2).map(lambda blank: ["tos-a1"] + blank),
    "ip": NOT_AN_IP, "address": NOT_AN_IP, "gateway": NOT_AN_IP, "center_ip": NOT_AN_IP,
    "manage_address": NOT_AN_IP, "storage_address": NOT_AN_IP,
    "access_control.ip_ranges": st.lists(st.sampled_from(["2001:db8::1-2001:db8::9", "2001:db8::/64", "::1",
                                                          "192.0.2.9-192.0.2.1", "not-a-range"]), min_size=1, max_size=3),
    "sender_mail": st.one_of(st.sampled_from(["no-at-sign", "a@b", "@example.com"]),
                             st.integers(min_value=255, max_value=5000).map(lambda n: "a" * n + "@example.com")),
    "smtp_server": st.one_of(st.sampled_from(["", " ", "smtp example.com"]),
                             st.integers(min_value=254, max_value=5000).map(lambda n: "s" * n)),
    "drs.threshold_level": st.one_of(st.integers().filter(lambda n: not 1 <= n <= 5), UNICODE_WORD,
                                     st.lists(st.integers(), max_size=2)),
    "drs.min_benefit_level": st.one_of(st.integers().filter(lambda n: not 1 <= n <= 5), UNICODE_WORD),
    "interval": st.one_of(st.integers(max_value=0), UNICODE_WORD, st.sampled_from(["0h", "-1d", "6x", ""]),
                          st.lists(st.integers(), max_size=2)),
    "wait_timeout": st.integers(max_value=0),
}
SHAPES = {
    "str": st.one_of(st.lists(TEXT, max_size=3), st.dictionaries(UNICODE_WORD, TEXT, min_size=1, max_size=2)),
    "path": st.lists(TEXT, min_size=1, max_size=2),
    "int": st.one_of(st.lists(st.integers(), max_size=2), TEXT.filter(lambda t: not t.strip().lstrip("+-").isdigit()),
                     st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())),
    "float": st.one_of(st.lists(st.floats(), max_size=2), UNICODE_WORD, st.dictionaries(TEXT, TEXT, min_size=1, max_size=1)),
    "bool": st.one_of(st.lists(st.booleans(), min_size=1, max_size=2), UNICODE_WORD, st.integers(min_value=2)),
    "dict": st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.booleans(), st.floats(allow_nan=False),
                      st.sampled_from(["", "garbage", "{not json", "[1]"])),
    "list": st.one_of(st.dictionaries(UNICODE_WORD, TEXT, min_size=1, max_size=2), st.booleans()),
}


def _capture_spec(name):
    """The full argument spec (connection options included) a module hands to AnsibleModule."""
    captured = {}

    class Captured(Exception):
        pass

    def fake(argument_spec, **kwargs):
        captured.update(argument_spec)
        raise Captured()
    module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
    with mock.patch.object(_module, "AnsibleModule", fake), mock.patch.object(_module, "_raw_arguments", lambda: None):
        with pytest.raises(Captured):
            module.main()
    return captured


def _options(spec, prefix=""):
    """(path, leaf name, option) for every option and suboption of ``spec``."""
    for name, option in spec.items():
        yield prefix + name, name, option
        if option.get("options"):
            yield from _options(option["options"], prefix + name + ".")


def _bad_values(path, option):
    """A strategy of values that ``option`` must refuse."""
    kind = option.get("type", "str")
    strategies = []
    if option.get("no_log"):
        # realistic secrets: ansible-core masks every occurrence of a no_log value, a one-letter one included
        return st.one_of(st.lists(SECRET, min_size=1, max_size=2), st.dictionaries(SECRET, SECRET, min_size=1, max_size=1),
                         SEMANTIC.get(path, st.nothing()))
    if kind in SHAPES:
        strategies.append(SHAPES[kind])
    if kind == "list" and option.get("elements") in ("str", "path"):
        strategies.append(st.lists(st.lists(TEXT, max_size=2), min_size=1, max_size=2))
    if option.get("choices"):
        choices = [str(c) for c in option["choices"]]
        word = st.one_of(UNICODE_WORD, TEXT.filter(lambda t: t not in choices), st.sampled_from([c.upper() + "x" for c in choices]))
        strategies.append(st.lists(word, min_size=1, max_size=2) if kind == "list" else word)
    for table in (INTS_OUTSIDE, FLOATS_OUTSIDE, SEMANTIC):
        if path in table:
            strategies.append(table[path])
    return st.one_of(*strategies) if strategies else None


def _cases(name):
    """A strategy of (path, leaf, value) for module ``name``: one bad option of its real argument spec."""
    spec = _capture_spec(name)
    drawn = []
    for path, leaf, option in _options(spec):
        bad = _bad_values(path, option)
        if bad is not None:
            drawn.append(st.tuples(st.just(path), st.just(leaf), bad))
    return st.one_of(*drawn)


def _secrets(path, value, no_log_paths):
    """The secret texts inside ``value`` when ``path`` is a no_log option (parts of a refused token too)."""
    if path not in no_log_paths:
        return []
    if isinstance(value, str):
        return [part for part in value.replace("\u5317", " ").replace("\u00e9", " ").split() if len(part) >= 8]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and len(item) >= 8]
    if isinstance(value, dict):
        return [text for pair in value.items() for text in pair if isinstance(text, str) and len(text) >= 8]
    return []


def _args(base, path, value):
    args = dict(base)
    parent, _dot, leaf = path.rpartition(".")
    if parent:
        args[parent] = {leaf: value}
    else:
        args[leaf] = value
    return args


def run_in_process(name, args):
    """Run module ``name`` with ``args`` in this process; return (result or None, output, traceback or None)."""
    module = importlib.import_module("ansible_collections.tos.cloud.plugins.modules.%s" % name)
    out, err = io.StringIO(), io.StringIO()
    crash = None
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            module.main()
    except SystemExit:
        pass
    except Exception:  # noqa: BLE001  pylint: disable=broad-exception-caught
        crash = traceback.format_exc()
    text = out.getvalue()
    try:
        result = json.loads(text) if text.strip() else None
    except ValueError:
        result = None
    return result, text + err.getvalue(), crash


@pytest.fixture(scope="session")
def sim():
    """One simulator with cluster CLUSTER; yields (base URL, a function giving the writes since the last call)."""
    with run_simulator(speed=100) as url:
        add = requests.post(url + "/v1/cluster/add", json={"ip": SEED_HOST, "name": CLUSTER}, timeout=10).json()
        assert add.get("scode", add.get("status_code")) == 0, add
        last = {"seq": max([e["seq"] for e in requests.get(url + "/_sim/requests", timeout=10).json()["requests"]] or [0])}

        def writes():
            entries = requests.get(url + "/_sim/requests", params={"since": last["seq"]}, timeout=10).json()["requests"]
            if entries:
                last["seq"] = entries[-1]["seq"]
            return ["%s %s" % (e["method"], e["path"]) for e in entries
                    if e["method"] != "GET" and e["path"] not in READ_ONLY_POSTS]
        yield url, writes


def _rotating_seed(config):
    return config.getoption("--property-seed")  # set from the clock by conftest.py unless given


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("which", ["fixed", "rotating"])
def test_invalid_arguments_fail_cleanly_naming_the_option_before_any_write(name, which, sim, pytestconfig):
    url, writes = sim
    used_seed = FIXED_SEED if which == "fixed" else _rotating_seed(pytestconfig)
    cases = _cases(name)
    spec_no_log = {path for path, _leaf, option in _options(_capture_spec(name)) if option.get("no_log")}
    base = dict(BASE[name], api_url=url)
    writes()

    @seed(used_seed)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(case=cases)
    def check(case):
        path, leaf, value = case
        args = _args(base, path, value)
        writes()  # what came before is not this case's
        result, output, crash = run_in_process(name, args)
        where = "%s %s=%r (seed %s: replay with --property-seed %s)" % (name, path, value, used_seed, used_seed)
        assert crash is None, "%s crashed:\n%s" % (where, crash)
        assert result is not None, "%s printed no result: %s" % (where, output[:2000])
        assert result.get("failed"), "%s was accepted: %s" % (where, result)
        assert "Traceback" not in output and "MODULE FAILURE" not in result.get("msg", ""), where
        assert "exception" not in result, "%s: %s" % (where, result.get("exception"))
        assert leaf in result["msg"] or path.split(".")[0] in result["msg"], "%s: message names no option: %s" % (
            where, result["msg"])
        for secret in _secrets(path, value, spec_no_log):
            assert secret not in output, "%s: the secret is in the output" % where
        sent = writes()
        assert sent == [], "%s sent writes %s" % (where, sent)

    check()
