# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests over VALID arguments of the settings modules (the counterpart of test_argument_specs.py):
check mode predicts exactly what the real run does, the second run changes nothing, and --diff tells the truth.

For each draw (a starting state of the manager and a desired state drawn from the module's real argument
spec: options left unset, values equal to the current ones, values at the documented bounds, others), the
module runs four times in this process against one simulator: check, real, real again, check again. The
properties, asserted on the simulator's state and request log as well as on the module's results:

- the check run sends no mutating request and leaves the state as it was; it reports the same ``changed``,
  the same diff and the same result (the configuration it would leave) as the real run after it;
- the real run leaves the state the drawn options describe (unset options as they were, also in the
  diff's after and in every body sent) and reports it; it sends a write only when it reports a change;
- the second real run and the last check run report no change and send no mutating request;
- the diff's before is the state the run found, its after the state it left (or would leave); secrets
  (the SMTP password, a drawn one and the one the manager holds) never appear in any output.

Two simulators: the documented-only default, and documented-only with the other readings of the open points
(page base 0, page_size 0 a default page, CVMs placed only by the topology map). Two seeds as
test_argument_specs.py: a fixed one and a rotating one (``--property-seed N`` replays it).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import os
import struct
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_argument_specs import READ_ONLY_POSTS, _capture_spec, _options, run_in_process  # noqa: E402

from simulator.testing import run_simulator  # noqa: E402  (needs ROOT on sys.path)

FIXED_SEED = 20261207
EXAMPLES = int(os.environ.get("TOS_PROPERTY_EXAMPLES", "8"))  # per module, reading and seed
CLUSTER = "prop"
MASK = "********"
INT32_MAX = 2 ** 31 - 1
LEVELS = ("most_conservative", "conservative", "normal", "aggressive", "most_aggressive")
READINGS = {
    "documented": {},
    "documented-base0-topology": {"page_base": 0, "page_size_zero": "default", "cvm_host": "topology"},
    "legacy-envelope": {"legacy_envelope": True},
    # every addition of the simulator's: its refusals too (DPM thresholds as fractions, whole hours)
    "extensions": {"extensions": "all"},
}
# option paths the properties do not draw: the connection, what addresses the object, the test mail (SMTP)
NOT_DRAWN = {"api_url", "api_token", "validate_certs", "ca_path", "timeout", "cluster", "center_ip", "test_recipient"}
UNSET, CURRENT = object(), object()
SECRET = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=10, max_size=20).map(lambda t: "Pw" + t)
THE_MANAGERS_PASSWORD = "PwHeldByTheManager42"


def _level():
    return st.one_of(st.integers(1, 5), st.sampled_from(LEVELS), st.sampled_from(LEVELS).map(
        lambda name: name.replace("_", "-").title()), st.integers(1, 5).map(str))


def _threshold():
    # (0, 100]: the documents' float32; a fraction as the example, a percentage as the table, the bound itself
    return st.one_of(st.sampled_from([100.0, 0.7, 0.8, 0.9, 1.0, 1e-6]), st.floats(1e-3, 100.0),
                     st.integers(1, 100).map(float))


def _fraction():
    return st.one_of(st.sampled_from([0.0, 100.0, 0.45, 0.8, 0.3, 0.85]), st.floats(0.0, 100.0))


def _count():
    # int32 is documented; the simulator's own bound is 100 (docs/api-notes.md: its refusal is reported)
    return st.one_of(st.sampled_from([1, 100]), st.integers(1, 100))


def _ip_ranges():
    one = st.one_of(
        st.integers(1, 254).map(lambda n: "192.0.2.%d" % n),
        st.sampled_from(["192.0.2.0/24", "198.51.100.0/25", "203.0.113.7/32", "0.0.0.0/0"]),
        st.tuples(st.integers(1, 127), st.integers(0, 127)).map(lambda t: "198.51.100.%d-198.51.100.%d" % (
            t[0], t[0] + t[1])))
    return st.lists(one, max_size=3, unique=True)


def _interval():
    return st.one_of(st.sampled_from([1, 3600, 86400, 604800, "1s", "90m", "6h", "1d", "2w", "1h30m", "36h"]),
                     st.integers(1, 10 * 604800), st.integers(1, 1000).map(lambda n: "%dm" % n))


def _text(max_size):
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=max_size)


# valid values by option path; an option without an entry is drawn from its type (bool, choices) or fails the test
VALID = {
    "drs.max_step": _count(), "drs.max_concurrent_migration": _count(), "drs.max_host_concurrent_migration": _count(),
    "drs.threshold_level": _level(), "drs.min_benefit_level": _level(),
    "dpm.high_threshold": _fraction(), "dpm.low_threshold": _fraction(),
    "storage": _threshold(), "cpu": _threshold(), "memory": _threshold(), "usd": _threshold(),
    "interval": _interval(),
    "sender_mail": st.one_of(st.just(""), st.sampled_from(["cloud@example.com", "a@b.example", "运维@example.com"])),
    "sender_name": st.one_of(st.just(""), _text(20)),
    "smtp_server": st.sampled_from(["smtp.example.com", "192.0.2.25", "mail", "s" * 253]),
    "smtp_port": st.one_of(st.sampled_from([1, 25, 587, 65535]), st.integers(1, 65535)),
    "smtp_account": st.one_of(st.just(""), st.sampled_from(["cloud@example.com", "relay"])),
    "smtp_password": st.one_of(SECRET, st.just(THE_MANAGERS_PASSWORD)),
    # the simulator's own upper bounds (none documented: the setting tables are TODO)
    "login_policy.login_fail_retry_times": st.one_of(st.sampled_from([0, 100]), st.integers(0, 100)),
    "login_policy.login_fail_punish_seconds": st.one_of(st.just(0), st.integers(0, 30 * 86400)),
    "login_policy.token_expire_seconds": st.one_of(st.just(60), st.integers(60, 10 * 365 * 86400)),
    "password_policy.minimum_length": st.one_of(st.just(1), st.integers(1, 128)),
    "password_policy.max_expired_age": st.one_of(st.just(0), st.integers(0, 3650)),
    "password_policy.expired_warn_age": st.one_of(st.just(0), st.integers(0, 3650)),
    "access_control.ip_ranges": _ip_ranges(),
}


def _flat(nested, prefix=""):
    out = {}
    for key, value in (nested or {}).items():
        if isinstance(value, dict):
            out.update(_flat(value, prefix + key + "."))
        else:
            out[prefix + key] = value
    return out


def _nest(flat):
    out = {}
    for path, value in flat.items():
        parent, _dot, leaf = path.rpartition(".")
        (out.setdefault(parent, {}) if parent else out)[leaf] = value
    return out


def _ranges(text_or_pairs):
    """Ranges as sorted (start, end) pairs, from option strings or the API's {start, end}."""
    pairs = []
    for item in text_or_pairs or []:
        if isinstance(item, dict):
            pairs.append((item["start"], item["end"]))
            continue
        if "-" in item:
            first, last = item.split("-")
        elif "/" in item:
            network = ipaddress.ip_network(item, strict=False)
            first, last = str(network[0]), str(network[-1])
        else:
            first = last = item
        pairs.append((first, last))
    return sorted(set(pairs))


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return numbers and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def _same_view(a, b):
    return set(a) == set(b) and all(_same(a[key], b[key]) for key in a)


class Settings:
    """One settings module: how its options read in the simulator's state, in a request body and in its result.

    A view is a flat dict keyed by option path ("drs.max_step") holding values as the module reports them
    (levels as numbers, ranges as sorted pairs, intervals in seconds)."""

    name = ""
    result_key = ""
    secrets = ()
    base = {"cluster": CLUSTER}

    def view(self, state):
        raise NotImplementedError

    def put(self, state, view):
        raise NotImplementedError

    def body_view(self, path, body):
        """The view of a mutating request ``body`` (only what it carries)."""
        raise NotImplementedError

    def normalize(self, path, value):
        return value

    def denormalize(self, path, value):
        return value

    def result_view(self, reported):
        return {key: value for key, value in _flat(reported).items() if key in self.paths}

    def derived(self, before, desired, after):
        return after

    def violations(self, view):
        return False

    def can_repeat(self, path, value):
        """Whether the current ``value`` of ``path`` is an argument the module takes."""
        return True

    def sends_unset(self, desired, body):
        """The parts of a request ``body`` that carry only options left unset (the module says it leaves them out)."""
        return []

    @property
    def paths(self):
        return [path for path, _leaf, option in _options(_capture_spec(self.name))
                if path not in NOT_DRAWN and not option.get("options")]

    def cluster(self, state):
        return next(c for c in state["clusters"].values() if c["name"] == CLUSTER)


class Drs(Settings):
    name, result_key = "drs_config", "config"
    FIELDS = {"drs": ("drs", {"enabled": "Enabled", "max_step": "MaxStep", "max_concurrent_migration":
                              "MaxConcurrentMigration", "max_host_concurrent_migration": "MaxHostConcurrentMigration",
                              "threshold_level": "ThresholdLevel", "min_benefit_level": "MinBenefitLevel"}),
              "dpm": ("dpm", {"enabled": "Enabled", "high_threshold": "HighThreshold", "low_threshold": "LowThreshold"})}

    def _pairs(self):
        for section, (key, fields) in self.FIELDS.items():
            for option, field in fields.items():
                yield "%s.%s" % (section, option), key, field

    def view(self, state):
        cluster = self.cluster(state)
        return {path: cluster[key][field] for path, key, field in self._pairs()}

    def put(self, state, view):
        cluster = self.cluster(state)
        for path, key, field in self._pairs():
            cluster[key][field] = view[path]

    def body_view(self, path, body):
        config = body.get("config") or {}
        return {p: config[key.upper()][field] for p, key, field in self._pairs()
                if field in (config.get(key.upper()) or {})}

    def normalize(self, path, value):
        if path.endswith("_level"):
            return int(value) if str(value).isdigit() else LEVELS.index(value.lower().replace("-", "_")) + 1
        return value

    def violations(self, view):
        return view["dpm.low_threshold"] >= view["dpm.high_threshold"] or \
            view["drs.max_host_concurrent_migration"] > view["drs.max_concurrent_migration"]


class GlobalConfig(Settings):
    name, result_key = "global_config", "config"
    FIELDS = {"storage": "StorOverAllocationThreshold", "cpu": "CPUOverAllocationThreshold",
              "memory": "MemOverAllocationThreshold", "usd": "USDOverAllocationThreshold"}

    def view(self, state):
        return {option: self.cluster(state)["global_config"][field] for option, field in self.FIELDS.items()}

    def put(self, state, view):
        # the documents type the thresholds float32: a manager answers 0.7 as 0.699999988079071
        self.cluster(state)["global_config"].update({field: struct.unpack("f", struct.pack("f", view[option]))[0]
                                                     for option, field in self.FIELDS.items()})

    def body_view(self, path, body):
        return {option: body[field] for option, field in self.FIELDS.items() if field in body}


class Snapshot(Settings):
    name, result_key = "snapshot_policy", "policy"

    @property
    def paths(self):
        return ["interval", "daemon", "display_option"]

    def view(self, state):
        cluster = self.cluster(state)
        config = cluster["snapshot_config"]
        return {"interval": config["duration"], "display_option": config["DisplayOption"],
                "daemon": "started" if cluster["daemon_state"] == "running" else "stopped"}

    def put(self, state, view):
        cluster = self.cluster(state)
        cluster["snapshot_config"].update(duration=view["interval"], DisplayOption=view["display_option"])
        cluster["daemon_state"] = "running" if view["daemon"] == "started" else "stopped"

    def body_view(self, path, body):
        if path.endswith("/config/update"):
            return {"interval": body["duration"], "display_option": body["display_option"]}
        return {"daemon": "started" if path.endswith("/start") else "stopped"}

    def normalize(self, path, value):
        if path != "interval" or isinstance(value, int):
            return value
        units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
        total, number = 0, ""
        for char in value:
            if char.isdigit():
                number += char
            else:
                total, number = total + int(number) * units[char], ""
        return total

    def derived(self, before, desired, after):
        if "interval" in desired:
            seconds = after["interval"]
            after["display_option"] = "week" if seconds % 604800 == 0 else "day" if seconds % 86400 == 0 else "hour"
        return after


class Mail(Settings):
    name, result_key, secrets = "mail_setting", "mail_setting", ("smtp_password",)
    base = {}
    FIELDS = {"enabled": "enabled", "async_send": "asynchronous_send_enabled", "sender_mail": "sender_mail",
              "sender_name": "sender_name", "smtp_server": "smtp_server_ip", "smtp_port": "smtp_server_port",
              "smtp_tls": "smtp_tls_enabled", "smtp_account": "smtp_account", "smtp_password": "smtp_password"}

    def view(self, state):
        return {option: state["mail"][field] for option, field in self.FIELDS.items()}

    def put(self, state, view):
        state["mail"].update({field: view[option] for option, field in self.FIELDS.items()})

    def body_view(self, path, body):
        return {option: body[field] for option, field in self.FIELDS.items() if field in body}

    def violations(self, view):
        return view["enabled"] and not view["smtp_server"]  # the simulator's own refusal

    def can_repeat(self, path, value):
        return not (path == "smtp_server" and value == "")  # no server (the factory state) is no argument


class System(Settings):
    name, result_key, secrets = "system_setting", "settings", ("smtp_password",)
    base = {}
    SECTIONS = {"login_policy": ("login_policy", {"login_fail_retry_times": "login_fail_retry_times",
                                                  "login_fail_punish_seconds": "login_fail_punish_seconds",
                                                  "token_expire_seconds": "token_expire_second"}),
                "password_policy": ("password_complexity_policy", {
                    "minimum_length": "password_minimum_length",
                    "must_include_special_char": "password_must_include_special_char",
                    "max_expired_age": "password_max_expired_age", "expired_warn_age": "password_expired_warn_age",
                    "expire_force_modify": "password_expire_force_modify",
                    "expired_warn_windows_popup": "password_expired_warn_windows_popup",
                    "expired_warn_email_notify": "password_expired_warn_email_notify",
                    "notify_user_password_when_create": "notify_user_password_when_create"})}

    def _pairs(self):
        for section, (key, fields) in self.SECTIONS.items():
            for option, field in fields.items():
                yield "%s.%s" % (section, option), key, field

    def _from(self, sections):
        view = {path: sections[key][field] for path, key, field in self._pairs() if field in sections.get(key, {})}
        ip_policy = (sections.get("access_control_policy") or {}).get("ip_access_control_policy")
        if ip_policy is not None:
            view["access_control.enabled"] = ip_policy["enabled"]
            view["access_control.mode"] = "whitelist" if ip_policy["whitelist"] else "blacklist"
            view["access_control.ip_ranges"] = _ranges(ip_policy["ip_ranges"]["ranges"])
        return view

    def view(self, state):
        return self._from(state["settings"])

    def put(self, state, view):
        for path, key, field in self._pairs():
            state["settings"][key][field] = view[path]
        ip_policy = state["settings"]["access_control_policy"]["ip_access_control_policy"]
        ip_policy.update(enabled=view["access_control.enabled"], whitelist=view["access_control.mode"] == "whitelist",
                         ip_ranges={"ranges": [{"start": a, "end": b} for a, b in view["access_control.ip_ranges"]]})

    def body_view(self, path, body):
        return self._from(body)

    def sends_unset(self, desired, body):
        # system_setting.update_body: access_control_policy only when access_control sets something
        given = any(path.startswith("access_control.") for path in desired)
        return [] if given or "access_control_policy" not in body else ["access_control_policy"]

    def normalize(self, path, value):
        return _ranges(value) if path == "access_control.ip_ranges" else value

    def denormalize(self, path, value):
        return ["%s-%s" % pair for pair in value] if path == "access_control.ip_ranges" else value

    def result_view(self, reported):
        view = super().result_view(reported)
        if "access_control.ip_ranges" in view:
            view["access_control.ip_ranges"] = _ranges(view["access_control.ip_ranges"])
        return view

    def violations(self, view):
        return (view["access_control.enabled"] and view["access_control.mode"] == "whitelist"
                and not view["access_control.ip_ranges"]) or \
            0 < view["password_policy.max_expired_age"] < view["password_policy.expired_warn_age"]


MODULES = {m.name: m for m in (Drs(), GlobalConfig(), Snapshot(), Mail(), System())}


def _value_strategy(module, path, option):
    if path in VALID:
        strategy = VALID[path]
    elif option.get("choices"):
        strategy = st.sampled_from(list(option["choices"]))
    elif option.get("type") == "bool":
        strategy = st.booleans()
    else:
        raise AssertionError("%s: no valid values for option %s: add them to VALID" % (module.name, path))
    return st.one_of(st.just(UNSET), st.just(CURRENT), strategy)


def _draws(module):
    """A strategy of {option path: UNSET, CURRENT or a value} over the module's real argument spec."""
    spec = _capture_spec(module.name)
    drawn = {path: _value_strategy(module, path, option) for path, _leaf, option in _options(spec)
             if path not in NOT_DRAWN and not option.get("options")}
    # a whole section (a dict option: drs, login_policy...) left unset half the time
    sections = {}
    for path, strategy in drawn.items():
        sections.setdefault(path.rpartition(".")[0], {})[path] = strategy
    parts = [st.fixed_dictionaries(options) if not section else st.one_of(
        st.just(dict.fromkeys(options, UNSET)), st.fixed_dictionaries(options)) for section, options in sections.items()]
    return st.tuples(*parts).map(lambda dicts: {path: value for part in dicts for path, value in part.items()})


def _fit(module, reading, path, value):
    """A drawn value as the reading accepts it: under the ``codes`` extension DPM thresholds are fractions and
    snapshot intervals whole hours (its own refusals, not the documents')."""
    if "codes" not in reading:
        return value
    if path.startswith("dpm.") and value > 1:
        return value / 100
    if path == "interval":
        return max(1, round(module.normalize(path, value) / 3600)) * 3600
    return value


def _resolve(module, draw, current, reading=""):
    """(module arguments, {path: normalized value} of what is set) for a draw against the current view."""
    args, desired = dict(module.base), {}
    for path, value in draw.items():
        if value is UNSET:
            continue
        if value is CURRENT:
            if not module.can_repeat(path, current[path]):
                continue
            value = module.denormalize(path, current[path])
        else:
            value = _fit(module, reading, path, value)
        desired[path] = module.normalize(path, value)
        parent, _dot, leaf = path.rpartition(".")
        (args.setdefault(parent, {}) if parent else args)[leaf] = value
    return args, desired


def _expected(module, before, desired):
    after = dict(before, **desired)
    return module.derived(before, desired, after)


def _shown(module, view):
    """``view`` as the module shows it: secrets masked."""
    return {key: (MASK if key in module.secrets and value not in (None, "") else value) for key, value in view.items()}


class Sim:
    def __init__(self, url):
        self.url = url
        self.session = requests.Session()
        self.last = 0

    def state(self):
        return self.session.get(self.url + "/_sim/state", timeout=10).json()

    def put(self, state):
        state = {k: v for k, v in state.items() if k not in ("now", "speed")}
        answer = self.session.put(self.url + "/_sim/state", json=state, timeout=10).json()
        assert answer["ok"], answer

    def writes(self):
        entries = self.session.get(self.url + "/_sim/requests", params={"since": self.last}, timeout=10).json()["requests"]
        if entries:
            self.last = entries[-1]["seq"]
        return [e for e in entries if e["method"] != "GET" and e["path"] not in READ_ONLY_POSTS]


@pytest.fixture(scope="module", params=list(READINGS))
def sim(request):
    with run_simulator(speed=100, **READINGS[request.param]) as url:
        api = Sim(url)
        api.reading = "codes" if READINGS[request.param].get("extensions") == "all" else ""
        add = api.session.post(url + "/v1/cluster/add", json={"ip": "192.0.2.11", "name": CLUSTER}, timeout=10).json()
        assert add.get("scode", add.get("status_code")) == 0, add
        state = api.state()
        host = [h for h in state["hosts"].values() if h["name"] == "tos-a1"][0]
        deploy = api.session.post(url + "/v1/cluster/deploy/cvm", json={
            "cluster_uuid": add["data"]["uuid"], "MachineUUID": host["uuid"],
            "Networks": [{"Addr": "192.0.2.101/24", "Gateway": "192.0.2.1"}]}, timeout=10).json()
        assert deploy.get("scode", deploy.get("status_code")) == 0, deploy
        assert api.session.post(url + "/_sim/time", json={"advance": 60}, timeout=10).json()["ok"]
        baseline = api.state()
        baseline["mail"]["smtp_password"] = THE_MANAGERS_PASSWORD
        api.baseline = baseline
        yield api


def _run(name, args, check, diff=True):
    result, output, crash = run_in_process(name, dict(args, _ansible_check_mode=check, _ansible_diff=diff))
    assert crash is None, crash
    assert result is not None, output[:2000]
    return result, output


def drawn(used_seed, **strategies):
    """This file's hypothesis decorators: the seed (fixed or rotating), EXAMPLES cases, no example database."""
    def wrap(check):
        return seed(used_seed)(settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        )(given(**strategies)(check)))
    return wrap


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("which", ["fixed", "rotating"])
def test_check_predicts_the_real_run_and_the_second_run_changes_nothing(name, which, sim, pytestconfig):
    module = MODULES[name]
    used_seed = FIXED_SEED if which == "fixed" else pytestconfig.getoption("--property-seed")
    draws = _draws(module)

    @drawn(used_seed, start=draws, draw=draws)
    def check(start, draw):
        # the starting state: the baseline with a first draw applied (as if another run had set it)
        state = copy.deepcopy(sim.baseline)
        base_view = module.view(state)
        _args, start_desired = _resolve(module, start, base_view, sim.reading)
        initial = _expected(module, base_view, start_desired)
        assume(not module.violations(initial))
        module.put(state, initial)
        sim.put(state)
        before = module.view(sim.state())
        assert _same_view(before, initial), (before, initial)
        args, desired = _resolve(module, draw, before, sim.reading)
        expected = _expected(module, before, desired)
        assume(not module.violations(expected))
        args["api_url"] = sim.url
        where = "%s %r from %r (seed %s: replay with --property-seed %s)" % (name, args, before, used_seed, used_seed)
        secrets = {THE_MANAGERS_PASSWORD} | {v for k, v in desired.items() if k in module.secrets}
        outputs = []
        sim.writes()

        def run(check_mode, label):
            result, output = _run(name, args, check_mode)
            outputs.append(output)
            assert not result.get("failed"), "%s: the %s failed: %s" % (where, label, result.get("msg"))
            return result, sim.writes(), module.view(sim.state())

        # 1. check mode: nothing sent, nothing changed, the expected configuration predicted
        predicted, sent, now = run(True, "check run")
        assert sent == [], "%s: the check run sent %s" % (where, [(e["method"], e["path"]) for e in sent])
        assert _same_view(now, before), "%s: the check run changed the state to %r" % (where, now)
        changes = not _same_view(expected, before)
        assert predicted["changed"] == changes, "%s: the check run says changed=%s" % (where, predicted["changed"])
        assert _same_view(module.result_view(predicted[module.result_key]), _shown(module, expected)), \
            "%s: the check run predicts %r, expected %r" % (where, predicted[module.result_key], expected)

        # 2. the real run does what check mode said
        real, sent, now = run(False, "real run")
        assert _same_view(now, expected), "%s: the real run left %r, expected %r" % (where, now, expected)
        assert real["changed"] == predicted["changed"], "%s: check said changed=%s, the real run %s" % (
            where, predicted["changed"], real["changed"])
        assert bool(sent) == real["changed"], "%s: changed=%s with writes %s" % (
            where, real["changed"], [(e["method"], e["path"]) for e in sent])
        assert real[module.result_key] == predicted[module.result_key], "%s: check predicted %r, the real run %r" % (
            where, predicted[module.result_key], real[module.result_key])
        assert real["diff"] == predicted["diff"], "%s: check diff %r, real diff %r" % (
            where, predicted["diff"], real["diff"])
        assert _same_view(module.result_view(real[module.result_key]), _shown(module, now)), \
            "%s: the real run reports %r, the manager holds %r" % (where, real[module.result_key], now)
        # the diff tells the truth: before as found, after as left; an unset option is no change in it
        shown_before = module.result_view(json.loads(real["diff"]["before"]))
        shown_after = module.result_view(json.loads(real["diff"]["after"]))
        assert _same_view(shown_before, _shown(module, before)), "%s: diff before %r" % (where, shown_before)
        for path in module.secrets:
            if path in shown_after and shown_after[path] == MASK + " (changed)":
                assert now[path] != before[path], "%s: the diff says %s changes" % (where, path)
                shown_after[path] = MASK
        assert _same_view(shown_after, _shown(module, now)), "%s: diff after %r, the manager holds %r" % (
            where, shown_after, now)
        # what was sent: set options as drawn, unset ones as they were
        for entry in sent:
            body_view = module.body_view(entry["path"], entry["body"] or {})
            assert module.sends_unset(desired, entry["body"] or {}) == [], "%s: %s sent %s, not set" % (
                where, entry["path"], module.sends_unset(desired, entry["body"] or {}))
            for path, value in body_view.items():
                if path in module.secrets:
                    continue  # the request log masks them
                assert _same(value, expected[path]), "%s: %s sent %s=%r, expected %r" % (
                    where, entry["path"], path, value, expected[path])

        # 3. the second real run and a check run after it: no change, nothing sent
        for check_mode, label in ((False, "second real run"), (True, "check run after it")):
            again, sent, now = run(check_mode, label)
            assert not again["changed"], "%s: the %s reports a change: %r" % (where, label, again.get("diff"))
            assert sent == [], "%s: the %s sent %s" % (where, label, [(e["method"], e["path"]) for e in sent])
            assert _same_view(now, expected), "%s: the %s changed the state to %r" % (where, label, now)
            assert again[module.result_key] == real[module.result_key], where

        for output in outputs:
            for secret in secrets:
                assert secret not in output, "%s: a secret is in the output" % where

    check()


# ---- the cluster and its metadata snapshots: objects, not settings ------------------------------------------

FREE_SEEDS = ("198.51.100.11", "198.51.100.13", "203.0.113.12")
TAKEN_SEED = "192.0.2.12"  # a host of cluster CLUSTER: check mode must predict the manager's refusal
CLUSTER_DRAWS = st.fixed_dictionaries({
    "name": st.one_of(st.sampled_from([CLUSTER, "prop-2", "Prop", "pro", "集群一", "x" * 64]),
                      _text(64).filter(lambda t: t == t.strip() and all(ord(c) != 127 for c in t))),
    "ip": st.sampled_from(FREE_SEEDS + (TAKEN_SEED,)),
    "desc": st.one_of(st.none(), st.just(""), _text(256)),
    "force": st.booleans(),
})


def _four_runs(sim, name, args, where):
    """check, real, real again, check again: [(result, writes, state)] (the runs stop at the first failure)."""
    runs = []
    sim.writes()
    for check_mode in (True, False, False, True):
        result, _output = _run(name, args, check_mode)
        runs.append((result, sim.writes(), sim.state()))
        if result.get("failed"):
            break
    return runs


def _paths(writes):
    return [(e["method"], e["path"]) for e in writes]


def _assert_converges(runs, where, changes):
    (check, check_sent, _s1), (real, sent, _s2), (again, again_sent, _s3), (last, last_sent, _s4) = runs
    assert check_sent == [], "%s: the check run sent %s" % (where, _paths(check_sent))
    assert check["changed"] == changes and real["changed"] == changes, "%s: changed: check %s, real %s, expected %s" % (
        where, check["changed"], real["changed"], changes)
    assert bool(sent) == changes, "%s: changed=%s with writes %s" % (where, changes, _paths(sent))
    assert check["diff"] == real["diff"], "%s: check diff %r, real diff %r" % (where, check["diff"], real["diff"])
    for label, result, writes in (("second real run", again, again_sent), ("check run after it", last, last_sent)):
        assert not result.get("failed") and not result["changed"], "%s: the %s: %r" % (where, label, result)
        assert writes == [], "%s: the %s sent %s" % (where, label, _paths(writes))


def _clusters(state):
    return {c["name"]: c for c in state["clusters"].values()}


@pytest.mark.parametrize("which", ["fixed", "rotating"])
def test_cluster_check_predicts_create_and_delete(which, sim, pytestconfig):
    used_seed = FIXED_SEED if which == "fixed" else pytestconfig.getoption("--property-seed")

    @drawn(used_seed, draw=CLUSTER_DRAWS)
    def check(draw):
        sim.put(copy.deepcopy(sim.baseline))
        before = _clusters(sim.state())
        args = {"api_url": sim.url, "name": draw["name"], "ip": draw["ip"]}
        if draw["desc"] is not None:
            args["desc"] = draw["desc"]
        where = "cluster %r (seed %s: replay with --property-seed %s)" % (args, used_seed, used_seed)
        exists = draw["name"] in before
        runs = _four_runs(sim, "cluster", args, where)
        if not exists and draw["ip"] == TAKEN_SEED:
            # refused: by check mode before any request, by the manager in the real run; nothing written
            assert runs[0][0].get("failed"), "%s: check mode predicted %r" % (where, runs[0][0])
            result, sent = _run("cluster", args, False)[0], sim.writes()
            assert result.get("failed") and not result["changed"], "%s: the real run: %r" % (where, result)
            assert _paths(sent) == [("POST", "/v1/cluster/add")], "%s: sent %s" % (where, _paths(sent))
            assert _clusters(sim.state()).keys() == before.keys(), where
            return
        assert len(runs) == 4, "%s: a run failed: %r" % (where, runs[-1][0])
        _assert_converges(runs, where, changes=not exists)
        after = _clusters(runs[1][2])
        assert draw["name"] in after and len(after) == len(before) + (not exists), where
        wanted_desc = before[draw["name"]]["desc"] if exists else (draw["desc"] or "")
        assert after[draw["name"]]["desc"] == wanted_desc, "%s: desc %r" % (where, after[draw["name"]]["desc"])
        assert json.loads(runs[1][0]["diff"]["after"]) == {"name": draw["name"], "desc": wanted_desc}, where

        # and away again (the existing cluster holds a CVM: without force, refused before any write)
        args = {"api_url": sim.url, "name": draw["name"], "state": "absent", "force": draw["force"]}
        where = "cluster %r (seed %s: replay with --property-seed %s)" % (args, used_seed, used_seed)
        runs = _four_runs(sim, "cluster", args, where)
        if exists and not draw["force"]:
            assert runs[0][0].get("failed") and runs[0][1] == [], "%s: %r" % (where, runs[0][0])
            result, sent = _run("cluster", args, False)[0], sim.writes()
            assert result.get("failed") and sent == [] and not result["changed"], "%s: %r" % (where, result)
            return
        assert len(runs) == 4, "%s: a run failed: %r" % (where, runs[-1][0])
        _assert_converges(runs, where, changes=True)
        assert draw["name"] not in _clusters(runs[1][2]), where
        assert json.loads(runs[1][0]["diff"]["before"]) == {"name": draw["name"], "desc": wanted_desc}, where

    check()


def _age(name):
    digits = "".join(ch if ch.isdigit() else " " for ch in name).split()
    return (int(digits[0]) if digits else float("inf"), name)


SNAPSHOT_DRAWS = st.fixed_dictionaries({
    # the platform names its snapshots snapshot<Unix time>.db (cluster-api.md, data/snapshot/list)
    "existing": st.lists(st.integers(1572936234, 1572999999).map(lambda n: "snapshot%d.db" % n), max_size=5,
                         unique=True),
    "state": st.sampled_from(["present", "absent"]),
    "name": st.one_of(st.none(), st.integers(0, 5), st.just("snapshot1.db")),  # an index into existing, or missing
    "retain": st.one_of(st.none(), st.sampled_from([0, 1]), st.integers(0, 6)),
})


@pytest.mark.parametrize("which", ["fixed", "rotating"])
def test_metadata_snapshot_check_predicts_the_pruning(which, sim, pytestconfig):
    used_seed = FIXED_SEED if which == "fixed" else pytestconfig.getoption("--property-seed")

    @drawn(used_seed, draw=SNAPSHOT_DRAWS)
    def check(draw):
        state = copy.deepcopy(sim.baseline)
        existing = sorted(draw["existing"], key=_age)
        next(c for c in state["clusters"].values() if c["name"] == CLUSTER)["snapshots"] = list(existing)
        sim.put(state)
        name = draw["name"]
        if isinstance(name, int):
            name = existing[name] if name < len(existing) else None
        present = draw["state"] == "present"
        assume(present and name is None and (draw["retain"] is None or draw["retain"] >= 1)
               or not present and (name is not None or draw["retain"] is not None))
        args = {"api_url": sim.url, "cluster": CLUSTER, "state": draw["state"]}
        args.update({k: v for k, v in (("name", name), ("retain", draw["retain"])) if v is not None})
        where = "metadata_snapshot %r on %r (seed %s: replay with --property-seed %s)" % (
            args, existing, used_seed, used_seed)
        # the model: the oldest beyond retain go (never the new one), then the named one
        names = existing + (["(new)"] if present else [])
        candidates = [n for n in names if n != "(new)"]
        doomed = candidates[:max(0, len(names) - draw["retain"])] if draw["retain"] is not None else []
        if name in names and name not in doomed:
            doomed.append(name)
        runs = _four_runs(sim, "metadata_snapshot", args, where) if not present else None
        if present:
            sim.writes()
            check_result, check_sent = _run("metadata_snapshot", args, True)[0], sim.writes()
            real, sent = _run("metadata_snapshot", args, False)[0], sim.writes()
            assert check_sent == [] and check_result["changed"] and real["changed"], "%s: %r %r" % (
                where, check_result, real)
            assert sorted(_paths(sent)) == sorted([("POST", "/v1/cluster/data/snapshot/delete")] * len(doomed) + [
                ("POST", "/v1/cluster/data/snapshot/save")]), "%s: sent %s" % (where, _paths(sent))
            assert check_result["deleted"] == real["deleted"] == sorted(doomed, key=_age), "%s: check %r, real %r" % (
                where, check_result["deleted"], real["deleted"])
            assert real["created"] and real["snapshots"] == sorted(
                check_result["snapshots"] + [real["created"]], key=_age), where
            return
        assert len(runs) == 4, "%s: a run failed: %r" % (where, runs[-1][0])
        _assert_converges(runs, where, changes=bool(doomed))
        check_result, real = runs[0][0], runs[1][0]
        left = next(c for c in runs[1][2]["clusters"].values() if c["name"] == CLUSTER)["snapshots"]
        assert sorted(left) == sorted(set(existing) - set(doomed)), "%s: left %r" % (where, left)
        assert check_result["deleted"] == real["deleted"] == sorted(doomed, key=_age), "%s: check %r, real %r" % (
            where, check_result["deleted"], real["deleted"])
        assert check_result["snapshots"] == real["snapshots"] == sorted(left, key=_age), "%s: check %r, real %r" % (
            where, check_result["snapshots"], real["snapshots"])

    check()
