# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The documentation site (make docs -> build/docs) in headless Chromium: every module, plugin and role page
and every guide renders with no console message, every link inside the site resolves (page and anchor), and
the search finds the modules. Run by `make docs-test`; the site is served on 127.0.0.1 and nothing else is
reachable (every other host name resolves to nowhere)."""

from __future__ import annotations

import functools
import html.parser
import os
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("TOS_DOCS_DIR") or ROOT / "build" / "docs")
COLLECTION = "collections/tos/cloud"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    # the search page fills its results from JavaScript after the load
    "--virtual-time-budget=5000",
]
CONSOLE_RE = re.compile(r".*(:CONSOLE|Uncaught).*")
PLUGIN_DIRS = {"modules": "module", "inventory": "inventory", "filter": "filter", "lookup": "lookup", "test": "test",
               "callback": "callback", "connection": "connection"}

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make chromium installs it)")


def expected_pages():
    """(page path in the site, the title it must show) of every module, plugin and role of the tree."""
    pages = []
    for directory, kind in PLUGIN_DIRS.items():
        names = set()
        for path in (ROOT / "plugins" / directory).glob("*"):
            if path.suffix in (".py", ".yml", ".yaml") and not path.name.startswith("_"):
                names.add(path.stem)
        pages += [("%s/%s_%s.html" % (COLLECTION, name, kind), "tos.cloud.%s %s" % (name, kind)) for name in sorted(names)]
    roles = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
    pages += [("%s/%s_role.html" % (COLLECTION, name), "tos.cloud.%s role" % name) for name in roles]
    return pages


PLUGIN_PAGES = expected_pages()
GUIDE_PAGES = [("guide/%s.html" % p.stem, None) for p in sorted((ROOT / "docs").glob("*.md"))]
OTHER_PAGES = [("index.html", "tos.cloud"), ("%s/index.html" % COLLECTION, "Tos.Cloud"),
               ("collections/environment_variables.html", None)]
ALL_PAGES = PLUGIN_PAGES + GUIDE_PAGES + OTHER_PAGES


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - the test output stays readable
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").exists():
        pytest.fail("%s has no site: run `make docs` first" % SITE)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def chromium(url):
    """The DOM Chromium builds for url, with a fresh profile, and the console lines it logged."""
    profile = tempfile.mkdtemp(prefix="tos-docs-chromium-")
    try:
        proc = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, "--user-data-dir=%s" % profile, "--dump-dom", url],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, CONSOLE_RE.findall(proc.stderr)


@pytest.fixture(scope="module")
def rendered(site_url):
    """Every page in Chromium, two at a time (two cores): page -> (dom, console lines)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda page: (page, chromium(site_url + page)), [page for page, _title in ALL_PAGES])
        return dict(results)


def test_console_check_catches_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>", encoding="utf-8")
    _dom, console = chromium(page.as_uri())
    assert any("Uncaught" in line for line in console), console


def test_every_module_plugin_and_role_has_a_page():
    missing = [page for page, _title in PLUGIN_PAGES if not (SITE / page).exists()]
    assert not missing, missing
    assert {kind for _page, title in PLUGIN_PAGES for kind in [title.rsplit(" ", 1)[1]]} >= {"module", "inventory", "filter", "role"}


@pytest.mark.parametrize("page,title", ALL_PAGES, ids=[page for page, _title in ALL_PAGES])
def test_page_renders_without_console_messages(page, title, rendered):
    dom, console = rendered[page]
    assert console == [], console
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", dom, re.S)
    assert heading, "no heading rendered on %s" % page
    text = re.sub(r"<[^>]+>", "", heading.group(1))
    if title:
        assert title in text, "%s shows %r" % (page, text)
    assert 'role="navigation"' in dom or "wy-nav-side" in dom, "the site's navigation is missing on %s" % page


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "link" and attrs.get("rel") in ("canonical",)):
                self.links.append(attrs[name])


@functools.cache
def parsed(path):
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(site):
    """'page: link' for every link of the site's HTML pages that points inside the site and does not resolve."""
    bad = []
    for page in sorted(site.rglob("*.html")):
        for link in parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target_path, fragment = unquote(parts.path), parts.fragment
            if target_path.startswith("/"):  # the site is served from its root
                target = (site / target_path.lstrip("/")).resolve()
            else:
                target = (page.parent / target_path).resolve() if target_path else page.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists() or site.resolve() not in target.parents:
                bad.append("%s: %s" % (page.relative_to(site), link))
            elif fragment and target.suffix == ".html" and unquote(fragment) not in parsed(target).ids:
                bad.append("%s: %s (no such anchor)" % (page.relative_to(site), link))
    return bad


def test_link_check_catches_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#here">b</a><a href="c.html">c</a><a href="#top">t</a>'
                                     '<a href="https://example.org/x">x</a>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<p id="there">b</p>', encoding="utf-8")
    assert broken_links(tmp_path) == ["a.html: b.html#here (no such anchor)", "a.html: c.html", "a.html: #top (no such anchor)"]


def test_every_internal_link_resolves():
    pages = list(SITE.rglob("*.html"))
    assert len(pages) >= len(ALL_PAGES)
    bad = broken_links(SITE)
    assert not bad, "\n".join(bad[:50])


def test_search_index_is_there_and_finds_the_modules(site_url):
    index = (SITE / "searchindex.js").read_text(encoding="utf-8")
    for page, _title in PLUGIN_PAGES:
        assert page[: -len(".html")] in index, "%s is not in the search index" % page
    dom, console = chromium(site_url + "search.html?q=snapshot_policy")
    assert console == [], console
    results = dom[dom.find('id="search-results"'):]
    assert 'href="%s/snapshot_policy_module.html"' % COLLECTION in results, results[:2000]
