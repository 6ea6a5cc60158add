"""The simulator's documentation lists every endpoint and every error code it implements."""
from __future__ import annotations

from conftest import REPO_ROOT

from simulator.errors import Code
from simulator.handlers import load_all


def test_api_notes_table_lists_every_endpoint() -> None:
    notes = (REPO_ROOT / "docs" / "api-notes.md").read_text()
    section = notes.split("## Simulator", 1)[1]
    for path, route in load_all().items():
        assert f"| {route.method} | `{path}` |" in section, path


def test_readme_lists_every_error_code() -> None:
    readme = (REPO_ROOT / "simulator" / "README.md").read_text()
    for code in Code:
        assert f"| {int(code)} | `{code.name}` |" in readme, code
