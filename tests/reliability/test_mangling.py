# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 7, mangled answers: what a broken proxy or hostile network does to the manager's answers
(the simulator's protocol-mangling faults: a body cut short, a corrupt gzip body, a redirect loop, an
answer trickled byte by byte, JSON nested too deeply, ``data`` that is a string or a list, an error
message that echoes the token) hits every API module and the inventory plugin.

- **read** rows: the fault hits one GET of the module's conversation (which one: ``skip``, drawn from
  the seed); a retryable fault (cut short, trickled past ``timeout``) is retried and the task succeeds,
  any other fails cleanly;
- **write** rows (mutating modules): the fault hits the module's first POST, after the manager applied
  it (``truncate``, ``gzip_corrupt``, ``trickle``, ``deep_json``, ``data_type``): the module re-reads the
  state, finds the change and succeeds; before it was applied (``redirect_loop``, ``echo_token``): it
  fails cleanly;
- every row: no ``MODULE FAILURE``, no traceback, no secret (the token, the SMTP password) in the
  task's ``-vvv`` output or in the result callbacks receive, and no write sent twice.

The cases come from a fixed seed (the same rows in every run) plus a rotating seed that draws extra
rows; the rotating seed is printed in every failure (``TOS_MANGLE_SEED=<seed>`` repeats it).
All rows of one class run in one ansible-playbook -vvv (one module task per row).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess

import pytest
import relib
import yaml

TOKEN = "tok-MANGLE-6a5b4c3d2e1f"
PASSWORD = "smtp-MANGLE-9z8y7x6w"
SECRETS = (TOKEN, PASSWORD)
FIXED_SEED = 18


def _rotating_seed():
    """The same for every xdist worker of one session (they must collect the same rows)."""
    if os.environ.get("TOS_MANGLE_SEED"):
        return int(os.environ["TOS_MANGLE_SEED"])
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return int(run_id[:8], 16) if run_id else random.SystemRandom().randrange(1 << 31)


ROTATING_SEED = _rotating_seed()
ROTATING_ROWS = 12

CLUSTER_A = {"name": "rel-a", "seed": relib.SEEDS["a"],
             "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}
MAIL = {"enabled": True, "sender_mail": "tos@example.com", "sender_name": "tos", "smtp_server": "127.0.0.1",
        "smtp_port": 2525, "smtp_tls": False, "smtp_account": "tos@example.com", "smtp_password": PASSWORD}

# module -> (parameters that make it read and, for the mutating ones, write; mutating?)
MODULES = {
    "system_info": ({"gather_settings": True}, False),
    "cluster_info": ({"cluster": "rel-a", "gather": ["top", "cloud_manage", "drs"]}, False),
    "upgrade_info": ({"cluster": "rel-a"}, False),
    "cluster": ({"name": "rel-new", "ip": relib.SEEDS["b"]}, True),
    "cvm": ({"cluster": "rel-a", "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1",
             "wait_timeout": 60}, True),
    "storage_service_vm": ({"cluster": "rel-a", "manage_address": "192.0.2.121/24", "manage_gateway": "192.0.2.1",
                            "storage_address": "192.0.2.161/24", "storage_gateway": "192.0.2.1", "wait_timeout": 60},
                           True),
    "drs_config": ({"cluster": "rel-a", "drs": {"enabled": True, "threshold_level": 2, "max_step": 3}}, True),
    "global_config": ({"cluster": "rel-a", "cpu": 3.5}, True),
    "snapshot_policy": ({"cluster": "rel-a", "interval": "12h", "daemon": "started"}, True),
    "metadata_snapshot": ({"cluster": "rel-a", "state": "present"}, True),
    "mail_setting": (MAIL, True),
    "system_setting": ({"login_policy": {"login_fail_retry_times": 7}}, True),
    "inspection": ({"cluster": "rel-a", "wait": False}, True),
    "upgrade": ({"cluster": "rel-a", "hosts": ["tos-a2"], "wait_timeout": 60}, True),
}

# fault name -> (simulator fault spec, applied before its answer is mangled?); the fixed seed's rows take
# MATRIX (one fault of each kind the issue names), the rotating seed's draw from all of them
FAULTS = {
    "truncate": ({"kind": "truncate"}, True),
    "gzip_corrupt": ({"kind": "gzip_corrupt"}, True),
    "redirect_loop": ({"kind": "redirect_loop"}, False),
    "trickle": ({"kind": "trickle", "seconds": 0.02}, True),
    "deep_json": ({"kind": "deep_json", "depth": 100000}, True),
    "deep_json_parseable": ({"kind": "deep_json", "depth": 500}, True),
    "data_string": ({"kind": "data_type", "data": "string"}, True),
    "data_list": ({"kind": "data_type", "data": "list"}, True),
    "echo_token": ({"kind": "echo_token", "code": 1401}, False),
}
MATRIX = ("truncate", "gzip_corrupt", "redirect_loop", "trickle", "deep_json", "data_string", "echo_token")
# what a retried GET gets past (the fault hits once): the task succeeds
RETRIED = ("truncate", "trickle")


def _timeout(fault):
    """trickle: an answer of a few hundred bytes at 0.02 s a byte runs past a 1 s deadline."""
    return 1 if fault == "trickle" else 20


def _cases():
    """(case id, module, fault, phase, skip) of the fixed seed, then of the rotating one."""
    fixed = random.Random(FIXED_SEED)
    cases = []
    for module, (_params, mutating) in MODULES.items():
        for fault in MATRIX:
            cases.append(("%s-%s-read" % (module, fault), module, fault, "read", fixed.randrange(3)))
            if mutating:
                cases.append(("%s-%s-write" % (module, fault), module, fault, "write", 0))
    rotating = random.Random(ROTATING_SEED)
    for n in range(ROTATING_ROWS):
        module = rotating.choice(sorted(MODULES))
        fault = rotating.choice(sorted(FAULTS))
        phase = rotating.choice(("read", "write")) if MODULES[module][1] else "read"
        skip = rotating.randrange(6) if phase == "read" else rotating.randrange(2)
        cases.append(("rotating%d-%s-%s-%s-skip%d" % (n, module, fault, phase, skip), module, fault, phase, skip))
    return cases


CASES = _cases()
PARTS = 4
CASE = {c[0]: c for c in CASES}


def cases_of(part):
    return [c for i, c in enumerate(CASES) if i % PARTS == part]


def build_batch(part, sim, fixture):
    batch = relib.Batch(sim.url)
    for cid, module, fault, phase, skip in cases_of(part):
        spec = dict(FAULTS[fault][0], path="/v1/*", method="GET" if phase == "read" else "POST", count=1, skip=skip)
        params = dict(MODULES[module][0], timeout=_timeout(fault))
        pre = {"reset": fixture, "clear_log": True, "faults": [spec]}
        # a trickled answer the client gave up on is still being written: let it end before the state is read
        post = {"sleep": 0.5 if fault == "trickle" else 0}
        batch.case(cid, [relib.module_task(cid, module, params)], pre=pre, post=post)
    return batch


@pytest.fixture(scope="module")
def msim():
    s = relib.Sim("mangling", token=TOKEN).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def fixture_a():
    return str(relib.write_fixture(relib.workdir("mangling-fixtures") / "a.yml", clusters=[CLUSTER_A]))


_RUNS = {}


@pytest.fixture()
def mangling_run(msim, fixture_a):
    def get(part):
        if part not in _RUNS:
            defaults = relib.module_defaults(msim.url, api_token=TOKEN)
            batch = build_batch(part, msim, fixture_a)
            _RUNS[part] = batch.run(relib.workdir("mangling-%d" % part), module_defaults_=defaults, args=["-vvv"])
        return _RUNS[part]
    return get


def leaks(text):
    return [s for s in SECRETS if s in text]


def sections(stdout):
    """The -vvv output of each task, by the name in its ``TASK [...]`` header."""
    found = {}
    current = "(play)"
    for line in stdout.splitlines():
        match = re.match(r"^TASK \[(.*)\] \**$", line)
        if match:
            current = match.group(1)
        found.setdefault(current, []).append(line)
    return {k: "\n".join(v) for k, v in found.items()}


def run_mangled(msim, fault, argv, dir, env, skip=0):
    """Run ``argv`` while every GET under /v1 is mangled by ``fault`` (once for a retried fault), from read
    ``skip`` on; assert the fault was hit and that the output shows no secret, MODULE FAILURE or traceback.
    Return (the process, its stdout + stderr)."""
    msim.fault(**dict(FAULTS[fault][0], path="/v1/*", method="GET", count=1 if fault in RETRIED else None, skip=skip))
    try:
        proc = subprocess.run(argv, cwd=dir, env=env, capture_output=True, text=True, timeout=300, check=False)
        hit = [r for r in msim.requests() if r.get("fault")]
    finally:
        msim.clear_faults()
    output = proc.stdout + proc.stderr
    assert hit, "the fault was never hit"
    assert not leaks(output), "a secret in the output of %s: %s" % (os.path.basename(argv[0]), leaks(output))
    assert "MODULE FAILURE" not in output and "Unexpected failure" not in output, output[-3000:]
    assert "Traceback (most recent call last)" not in output, output[-3000:]
    return proc, output


def check_row(batch, cid):
    _cid, module, fault, phase, skip = CASE[cid]
    seed = "(fixed seed %d, rotating seed %d: TOS_MANGLE_SEED=%d repeats it)" % (
        FIXED_SEED, ROTATING_SEED, ROTATING_SEED)
    result = batch.result(cid)
    end = batch.end(cid)
    shown = json.dumps(result)
    output = sections(batch.run.stdout).get(cid, "")
    assert output, "no -vvv output for the task %s" % seed
    assert "MODULE FAILURE" not in shown + output, "MODULE FAILURE %s: %s" % (seed, shown[:1500])
    relib.assert_no_traceback(result)
    assert "Traceback (most recent call last)" not in output, "a traceback in the -vvv output %s" % seed
    assert not leaks(shown), "a secret in the result %s" % seed
    assert not leaks(output), "a secret in the task's -vvv output %s" % seed
    if result.get("failed"):
        relib.assert_clean_failure(result)
    hit = [r for r in end["requests"] if r.get("fault")]
    posts = {}
    for request in end["mutations"]:
        posts[request["path"]] = posts.get(request["path"], 0) + 1
    sent_twice = {path: n for path, n in posts.items() if n > 1}
    assert not sent_twice, "a write sent again %s: %s" % (seed, sent_twice)
    if phase == "write" and skip == 0:
        assert hit, "the module sent no write for the fault to hit %s: %s" % (seed, end["requests"])
        if FAULTS[fault][1]:
            # applied, then its answer mangled: the module re-reads, finds it and succeeds
            assert not result.get("failed"), "the write had landed but the task failed %s: %s" % (
                seed, relib.short_msg(result))
        else:
            assert result.get("failed"), "a write the manager never processed reported success %s" % seed
            relib.assert_clean_failure(result, path=hit[0]["path"])
    if phase == "read" and skip == 0:
        assert hit, "the fault was never hit %s: %s" % (seed, end["requests"])
        if fault in RETRIED:
            assert not result.get("failed"), "a transient fault on a read was not retried %s: %s" % (
                seed, relib.short_msg(result))
        else:
            assert result.get("failed"), "a mangled answer was taken for a good one %s" % seed
            relib.assert_clean_failure(result, path=hit[0]["path"])
    if fault == "echo_token" and result.get("failed"):
        assert "********" in result["msg"], "the echoed token was not masked: %s" % result["msg"]


def _table_class(part):
    class MangledRows:
        @pytest.mark.parametrize("cid", [c[0] for c in cases_of(part)])
        def test_mangled_answer(self, mangling_run, cid):
            check_row(mangling_run(part), cid)

    MangledRows.__name__ = MangledRows.__qualname__ = "TestMangled_%d" % (part + 1)
    return MangledRows


for _part in range(PARTS):
    _cls = _table_class(_part)
    globals()[_cls.__name__] = _cls


# ---- the inventory plugin ---------------------------------------------------------------------------


class TestMangledInventory:
    """ansible-inventory -vvv with the tos.cloud.hosts plugin while the manager's answers are mangled: a
    cut-short or trickled answer once (retried: the inventory is complete), any other on every read (the
    source fails cleanly)."""

    @pytest.mark.parametrize("fault", MATRIX)
    def test_inventory_never_crashes_or_shows_a_secret(self, msim, fixture_a, fault):
        msim.reset(fixture_a)
        msim.clear_faults()
        dir = relib.workdir("mangling-inventory-" + fault)
        config = dir / "rel.tos.yml"
        config.write_text(yaml.safe_dump({"plugin": "tos.cloud.hosts", "timeout": _timeout(fault)}))
        env = relib.ansible_env(dir, {"TOS_API_URL": msim.url, "TOS_API_TOKEN": TOKEN,
                                      "ANSIBLE_INVENTORY_ENABLED": "tos.cloud.hosts"})
        proc, output = run_mangled(msim, fault, [str(relib.VENV_BIN / "ansible-inventory"), "-vvv", "-i", str(config),
                                                 "--list"], dir, env)
        if fault in RETRIED:
            assert proc.returncode == 0 and "192.0.2.11" in proc.stdout, output[-2000:]
            return
        assert "tos.cloud.hosts: could not list the clusters" in output, output[-2000:]
        message = output[output.index("could not list the clusters"):][:600]
        assert "Traceback" not in message and "/v1/cluster/list" in message, message
        if fault == "echo_token":
            assert "********" in message, message


# ---- the lookups ------------------------------------------------------------------------------------

LOOKUPS = {
    "cluster": ("lookup('tos.cloud.cluster', 'rel-a', timeout=%d).name", "rel-a"),
    "host": ("lookup('tos.cloud.host', '192.0.2.12', timeout=%d).name", "tos-a2"),
    "manager": ("lookup('tos.cloud.manager', timeout=%d).members.leader", "192.0.2."),
}


class TestMangledLookups:
    """ansible-playbook -vvv with one task that reads the manager through a lookup while its answers are mangled,
    from its first read or from its second on: a cut-short or trickled answer once (retried: the task gets its
    value), any other on every read (the task fails naming the /v1 path); never a traceback or the token, in the
    result or the -vvv output."""

    @pytest.mark.parametrize("skip", [0, 1], ids=["first-read", "second-read"])
    @pytest.mark.parametrize("fault", MATRIX)
    @pytest.mark.parametrize("lookup", sorted(LOOKUPS))
    def test_lookup_never_crashes_or_shows_a_secret(self, msim, fixture_a, lookup, fault, skip):
        msim.reset(fixture_a)
        msim.clear_faults()
        expression, expected = LOOKUPS[lookup]
        dir = relib.workdir("mangling-lookup-%s-%s-%d" % (lookup, fault, skip))
        playbook = dir / "lookup.yml"
        playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "read", "ansible.builtin.debug": {"msg": "{{ %s }}" % (expression % _timeout(fault))}}]}]))
        env = relib.ansible_env(dir, {"TOS_API_URL": msim.url, "TOS_API_TOKEN": TOKEN,
                                      "TOS_LOOKUP_CACHE_DIR": str(dir / "cache")})
        proc, output = run_mangled(msim, fault, [str(relib.VENV_BIN / "ansible-playbook"), "-vvv", "-i", "localhost,",
                                                 "-c", "local", str(playbook)], dir, env, skip=skip)
        if fault in RETRIED:
            assert proc.returncode == 0 and expected in proc.stdout, output[-3000:]
            return
        assert proc.returncode != 0 and "/v1/" in output and "tos.cloud.%s" % lookup in output, output[-3000:]
        if fault == "echo_token":
            assert "********" in output, output[-3000:]
