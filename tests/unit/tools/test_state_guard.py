"""tools/state-guard: a parallel phase that creates shared state under its HOME fails, whatever the timing."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[3] / "tools" / "state-guard"


def load_guard():
    loader = importlib.machinery.SourceFileLoader("state_guard", str(TOOL))
    spec = importlib.util.spec_from_loader("state_guard", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


guard = load_guard()


def run_guard(home: Path, script: str, *watch: Path) -> subprocess.CompletedProcess:
    args = [sys.executable, str(TOOL), "run", str(home)]
    for path in watch:
        args += ["--watch", str(path)]
    args += ["--", sys.executable, "-c", script]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_a_key_created_during_the_parallel_phase_fails_it(tmp_path):
    home = tmp_path / "home"
    script = ("import os; d=os.path.expanduser('~/.ansible/test'); os.makedirs(d, exist_ok=True); "
              "open(os.path.join(d, 'id_rsa'), 'w').write('key')")
    result = run_guard(home, script)
    assert result.returncode != 0
    assert "~/.ansible/test/id_rsa" in result.stderr


def test_state_created_before_the_phase_passes(tmp_path):
    home = tmp_path / "home"
    (home / ".ansible" / "test").mkdir(parents=True)
    (home / ".ansible" / "test" / "id_rsa").write_text("key")
    script = "import os; open(os.path.expanduser('~/.ansible/test/id_rsa')).read()"
    result = run_guard(home, script)
    assert result.returncode == 0, result.stderr


def test_a_per_process_temporary_folder_is_allowed(tmp_path):
    home = tmp_path / "home"
    script = ("import os; d=os.path.expanduser('~/.ansible/tmp/ansible-local-123abc'); "
              "os.makedirs(d); open(os.path.join(d, 'f'), 'w').write('x')")
    result = run_guard(home, script)
    assert result.returncode == 0, result.stderr


def test_a_watched_build_folder_may_not_change(tmp_path):
    home, build = tmp_path / "home", tmp_path / "pybin"
    build.mkdir()
    script = f"import os; os.symlink('/bin/true', {str(build / 'python3.99')!r})"
    result = run_guard(home, script, build)
    assert result.returncode != 0
    assert "python3.99" in result.stderr


def test_the_command_sees_the_state_home_and_keeps_its_failure(tmp_path):
    home = tmp_path / "home"
    script = f"import os, sys; sys.exit(0 if os.environ['HOME'] == {str(home)!r} else 7)"
    assert run_guard(home, script).returncode == 0
    assert run_guard(home, "import sys; sys.exit(5)").returncode == 5


def test_prepare_makes_an_empty_home_with_the_shared_state(tmp_path):
    home = tmp_path / "home"
    (home / "leftover").mkdir(parents=True)
    guard.prepare(home, TOOL.parents[1])
    files = guard.listing(home)
    assert ".ansible/test/id_rsa" in files and ".ansible/test/id_rsa.pub" in files
    assert ".ansible/test/cache/get_pip_25_2.py" in files
    assert ".ansible/galaxy_cache/api.json" in files
    assert not (home / "leftover").exists()
    assert oct(os.stat(home / ".ansible/test/id_rsa").st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("pattern", guard.allowed_patterns())
def test_every_allowed_pattern_names_a_per_process_place(pattern):
    # an allowed pattern may never cover the shared state that prepare creates
    assert not any(guard.is_allowed(path, [pattern]) for path in (
        ".ansible/test/id_rsa", ".ansible/test/id_rsa.pub", ".ansible/test/cache/get_pip_25_2.py"))
