#!/usr/bin/env python3
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's version lives in galaxy.yml; every other place that names it is derived from there.

    tools/version.py            print the version (galaxy.yml)
    tools/version.py check      list every place that disagrees with galaxy.yml (exit 1 if any)
    tools/version.py sync       rewrite those places from galaxy.yml

The places: the HTTP client's User-Agent (plugins/module_utils/_api.py: modules run on hosts that have no
galaxy.yml, so it is a constant), the execution environment's tarball name and image tag, the tarball names
in the docs. `version_added` is checked separately (tests/unit/test_versions.py): it names the release that
added a thing, so it is never rewritten.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VERSION_RE = r"[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?"

# (file, pattern whose group 1 is the version): every match must equal galaxy.yml's version
PLACES = (
    ("plugins/module_utils/_api.py", r'USER_AGENT = "tos\.cloud-ansible/(%s)"' % VERSION_RE),
    ("execution-environment.yml", r"tos-cloud-(%s)\.tar\.gz" % VERSION_RE),
    ("execution-environment.yml", r"tos-cloud-ee:(%s)" % VERSION_RE),
    ("docs/awx.md", r"tos-cloud-(%s)\.tar\.gz" % VERSION_RE),
    ("docs/awx.md", r"tos-cloud-ee:(%s)" % VERSION_RE),
    ("docs/getting-started.md", r"tos-cloud-(%s)\.tar\.gz" % VERSION_RE),
    ("README.md", r"tos-cloud-(%s)\.tar\.gz" % VERSION_RE),
)
# places that must name the version at least once (the others may not mention it at all)
REQUIRED = {"plugins/module_utils/_api.py", "execution-environment.yml"}


def galaxy_version(root=ROOT):
    match = re.search(r"^version:\s*['\"]?(%s)['\"]?\s*$" % VERSION_RE, (root / "galaxy.yml").read_text(encoding="utf-8"), re.M)
    if not match:
        raise SystemExit("galaxy.yml has no version: X.Y.Z line")
    return match.group(1)


def mismatches(root=ROOT):
    """(file, line number, found version) for every place that does not name galaxy.yml's version."""
    version = galaxy_version(root)
    seen = set()
    for name, pattern in PLACES:
        path = root / name
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in re.finditer(pattern, line):
                seen.add(name)
                if match.group(1) != version:
                    yield name, number, match.group(1)
    for name in sorted(REQUIRED - seen):
        yield name, 0, None


def sync(root=ROOT):
    version = galaxy_version(root)
    for name in sorted({name for name, _pattern in PLACES}):
        path = root / name
        if not path.exists():
            continue
        text = original = path.read_text(encoding="utf-8")
        for place, pattern in PLACES:
            if place == name:
                text = re.sub(pattern, lambda m: m.group(0).replace(m.group(1), version), text)
        if text != original:
            path.write_text(text, encoding="utf-8")
            print("%s: now %s" % (name, version))


def main(argv):
    command = argv[1] if len(argv) > 1 else "show"
    if command == "show":
        print(galaxy_version())
    elif command == "check":
        bad = list(mismatches())
        for name, number, found in bad:
            if found is None:
                print("%s: does not name the version %s" % (name, galaxy_version()))
            else:
                print("%s:%d: %s, but galaxy.yml says %s" % (name, number, found, galaxy_version()))
        if bad:
            print("run `tools/version.py sync` (galaxy.yml is the one place the version is set)")
            return 1
    elif command == "sync":
        sync()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
