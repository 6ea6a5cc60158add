# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Documentation: every plugin's docs render with ansible-doc, API modules have examples and return
values, the docs/ pages are all reachable from the index, and every error message of the API client
is explained in docs/troubleshooting.md."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from ansible_collections.tos.cloud.tests.ecosystem.helpers import REPO_ROOT, load_yaml, run, tool

# plugin directory -> ansible-doc type
PLUGIN_TYPES = {"modules": "module", "inventory": "inventory", "filter": "filter", "test": "test", "lookup": "lookup",
                "callback": "callback", "connection": "connection"}
AUTHOR = "tos.cloud maintainers (@tos-cloud)"
LINK_RE = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def present_plugins():
    """(type, name) of every plugin file in the tree, e.g. ("module", "cluster")."""
    found = []
    for directory, plugin_type in PLUGIN_TYPES.items():
        for path in sorted((REPO_ROOT / "plugins" / directory).glob("*.py")):
            if not path.name.startswith("_"):
                found.append((plugin_type, path.stem))
    return found


PLUGINS = present_plugins()
MODULES = [name for plugin_type, name in PLUGINS if plugin_type == "module"]
# a plugin's version_added is a released version (changelogs/changelog.yaml) or the coming one (galaxy.yml);
# tests/unit/test_versions.py checks it names exactly the release that added it
RELEASED_OR_COMING = {str(v) for v in (load_yaml(REPO_ROOT / "changelogs" / "changelog.yaml").get("releases") or {})} | {
    str(load_yaml(REPO_ROOT / "galaxy.yml")["version"])}
API_GROUP = set(load_yaml(REPO_ROOT / "meta" / "runtime.yml").get("action_groups", {}).get("api", []))


def plugin_id(plugin):
    return "%s:%s" % plugin


@pytest.fixture(scope="module")
def metadata():
    """Every plugin's docs as ansible-doc sees them, in one call (errors are reported per plugin)."""
    result = run([tool("ansible-doc"), "--metadata-dump", "--no-fail-on-errors", "tos.cloud"])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["all"]


@pytest.fixture(scope="module")
def rendered():
    """The text ansible-doc prints for each plugin, rendered in parallel."""
    def render(plugin):
        plugin_type, name = plugin
        return plugin, run([tool("ansible-doc"), "-t", plugin_type, "tos.cloud." + name])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(render, PLUGINS))


def doc_of(metadata, plugin_type, name):
    entry = metadata.get(plugin_type, {}).get("tos.cloud." + name)
    assert entry is not None, "ansible-doc does not know tos.cloud.%s (%s)" % (name, plugin_type)
    assert "error" not in entry, entry.get("error")
    return entry


@pytest.mark.parametrize("plugin", PLUGINS, ids=plugin_id)
def test_ansible_doc_renders_the_plugin(plugin, rendered):
    result = rendered[plugin]
    assert result.returncode == 0, result.stderr
    assert "[ERROR]" not in result.stderr and "[WARNING]" not in result.stderr, result.stderr
    assert "tos.cloud.%s" % plugin[1] in result.stdout


@pytest.mark.parametrize("plugin", PLUGINS, ids=plugin_id)
def test_plugin_docs_are_complete(plugin, metadata):
    plugin_type, name = plugin
    entry = doc_of(metadata, plugin_type, name)
    doc = entry["doc"]
    assert doc.get("short_description"), "no short_description"
    assert str(doc.get("version_added")) in RELEASED_OR_COMING, doc.get("version_added")
    authors = doc.get("author") or []
    assert AUTHOR in ([authors] if isinstance(authors, str) else authors)
    for option, spec in (doc.get("options") or {}).items():
        assert spec.get("description"), "option %s has no description" % option
    if plugin_type in ("module", "inventory"):
        examples = entry.get("examples") or ""
        assert examples.strip(), "EXAMPLES is empty"
        # an inventory plugin shows several configuration files: one YAML document each
        assert [document for document in yaml.safe_load_all(examples) if document is not None]


@pytest.mark.parametrize("name", MODULES)
def test_api_module_has_examples_and_return_values(name, metadata):
    entry = doc_of(metadata, "module", name)
    membership = ((entry["doc"].get("attributes") or {}).get("action_group") or {}).get("membership") or []
    if name not in API_GROUP and "tos.cloud.api" not in membership:
        pytest.skip("not an API module")
    assert name in API_GROUP, "API module %s is missing from action_groups.api in meta/runtime.yml" % name
    assert "tos.cloud.api" in membership, "module %s does not document the tos.cloud.api action group" % name
    tasks = yaml.safe_load(entry["examples"])
    assert isinstance(tasks, list) and tasks, "EXAMPLES is not a list of tasks"
    assert any("tos.cloud.%s" % name in task for task in tasks if isinstance(task, dict)), \
        "no example uses tos.cloud.%s by its FQCN" % name
    assert entry.get("return"), "RETURN is empty"
    for key, spec in entry["return"].items():
        assert spec.get("description") and spec.get("returned") and spec.get("type"), \
            "return value %s needs description, returned and type" % key
    attributes = entry["doc"]["attributes"]
    assert attributes["check_mode"]["support"] in ("full", "partial", "none")
    assert attributes["diff_mode"]["support"] in ("full", "partial", "none", "N/A")


@pytest.mark.parametrize("role", sorted(p.name for p in (REPO_ROOT / "roles").glob("*") if p.is_dir()))
def test_role_declares_its_arguments(role, metadata):
    entry = metadata.get("role", {}).get("tos.cloud." + role)
    assert entry is not None and "error" not in entry, "roles/%s has no readable meta/argument_specs.yml" % role
    main = entry["entry_points"]["main"]
    assert main.get("short_description")
    for option, spec in (main.get("options") or {}).items():
        assert option.startswith(role + "_"), "role variable %s is not prefixed with %s_" % (option, role)
        assert spec.get("description"), "role variable %s has no description" % option


# ---- docs/ ----------------------------------------------------------------------------------

def links(path):
    return LINK_RE.findall(path.read_text(encoding="utf-8"))


def test_readme_links_the_docs_index():
    assert "docs/README.md" in links(REPO_ROOT / "README.md")


def test_docs_index_links_every_page():
    index = REPO_ROOT / "docs" / "README.md"
    linked = {(index.parent / target).resolve() for target in links(index) if not target.startswith("http")}
    pages = {page.resolve() for page in (REPO_ROOT / "docs").glob("*.md") if page.name != "README.md"}
    missing = sorted(p.name for p in pages - linked)
    assert not missing, "docs/README.md does not link: %s" % ", ".join(missing)


@pytest.mark.parametrize("page", ["README.md"] + sorted("docs/" + p.name for p in (REPO_ROOT / "docs").glob("*.md")))
def test_relative_links_of_docs_pages_resolve(page):
    path = REPO_ROOT / page
    broken = [target for target in links(path)
              if not re.match(r"^[a-z]+:", target) and not (path.parent / target).exists()]
    assert not broken, "%s links to missing files: %s" % (page, ", ".join(broken))


# The start of every message plugins/module_utils/_api.py can raise; docs/troubleshooting.md explains each.
API_MESSAGES = [
    "is required by tos.cloud but is not installed",
    "Invalid connection options",
    "is not set: give the manager's URL",
    "must start with http:// or https://",
    "has no host name or address",
    "has a port that is not a number from 1 to 65535",
    "is not a number of seconds from 1 to",
    "contains spaces, control or non-ASCII characters inside it",
    "failed over from",
    "TLS verification failed",
    "does not exist: give the PEM bundle",
    "It was not sent again, so that it cannot be applied twice",
    "timed out after",
    "Cannot connect to the manager",
    "was lost during",
    "Authentication failed (HTTP",
    "failed with HTTP",
    "is not a /v1 API envelope",
    "was refused by the manager",
]


@pytest.mark.parametrize("phrase", API_MESSAGES)
def test_troubleshooting_explains_each_api_error(phrase):
    source = (REPO_ROOT / "plugins" / "module_utils" / "_api.py").read_text(encoding="utf-8")
    assert phrase in source, "the client no longer says %r: update this test and docs/troubleshooting.md" % phrase
    text = (REPO_ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert phrase in text, "docs/troubleshooting.md does not explain %r" % phrase
