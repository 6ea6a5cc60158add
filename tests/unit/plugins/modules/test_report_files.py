# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.report_files: what it writes, what check mode predicts, what --diff shows, what it refuses - asserted on
the directory itself, not only on the module's word."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tos.cloud.plugins.modules import report_files
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_plain_module


def run_module(args, capsys, check_mode=False, diff=False):
    """report_files.main() with ``args``; the parsed result."""
    return json.loads(run_plain_module(report_files.main, args, capsys, check_mode=check_mode, diff=diff))


def tree(folder):
    """The directory as {name: (text, mode)}, and its own mode; None when it does not exist."""
    if not folder.exists():
        return None
    files = {p.name: (p.read_bytes().decode("utf-8"), stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir()}
    return stat.S_IMODE(folder.stat().st_mode), files


REPORT = [{"name": "index.html", "content": "<p>ok</p>\n"}, {"name": "report.json", "content": '{"ok": true}'},
          {"name": ".report-state.json", "content": "{}\n"}]


def test_writes_the_directory_and_files_then_a_second_run_changes_nothing(tmp_path, capsys):
    folder = tmp_path / "a" / "report"
    first = run_module(dict(path=str(folder), files=REPORT), capsys)
    assert first["changed"] is True and not first.get("failed")
    assert first["written"] == [str(folder)] + [str(folder / f["name"]) for f in REPORT]
    assert tree(folder) == (0o755, {f["name"]: (f["content"], 0o644) for f in REPORT})
    again = run_module(dict(path=str(folder), files=REPORT), capsys)
    assert again["changed"] is False and again["written"] == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(f["name"] for f in REPORT)  # no temporary file left


def test_check_mode_writes_nothing_and_names_what_a_run_writes(tmp_path, capsys):
    folder = tmp_path / "report"
    folder.mkdir(mode=0o700)
    (folder / "index.html").write_text("<p>old</p>\n")
    (folder / "report.json").write_text('{"ok": true}')
    os.chmod(folder / "report.json", 0o600)
    (folder / ".report-state.json").write_text("{}\n")
    os.chmod(folder / ".report-state.json", 0o644)
    before = tree(folder)
    predicted = run_module(dict(path=str(folder), files=REPORT), capsys, check_mode=True, diff=True)
    assert tree(folder) == before
    real = run_module(dict(path=str(folder), files=REPORT), capsys, diff=True)
    assert predicted["changed"] is real["changed"] is True
    # the directory's mode, the changed page, the json's mode; the unchanged state file is left alone
    assert predicted["written"] == real["written"] == [str(folder), str(folder / "index.html"), str(folder / "report.json")]
    assert predicted["diff"] == real["diff"] == [{"before_header": str(folder / "index.html"),
                                                  "after_header": str(folder / "index.html"),
                                                  "before": "<p>old</p>\n", "after": "<p>ok</p>\n"}]
    assert tree(folder) == (0o755, {f["name"]: (f["content"], 0o644) for f in REPORT})


def test_the_modes_given_are_applied(tmp_path, capsys):
    folder = tmp_path / "private"
    result = run_module(dict(path=str(folder), files=REPORT[:1], mode="0600", directory_mode="0700"), capsys)
    assert result["changed"] is True
    assert tree(folder) == (0o700, {"index.html": ("<p>ok</p>\n", 0o600)})


def test_a_leading_tilde_is_the_home_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_module(dict(path="~/reports", files=REPORT[:1]), capsys)
    assert result["path"] == str(tmp_path / "reports")
    assert (tmp_path / "reports" / "index.html").read_text() == "<p>ok</p>\n"


@pytest.mark.parametrize(("files", "said"), [
    ([{"name": "", "content": "x"}], "files[0].name: '' is not a file name"),
    ([{"name": "a", "content": "x"}, {"name": "..", "content": "x"}], "files[1].name: '..' is not a file name"),
    ([{"name": ".", "content": "x"}], "files[0].name: '.' is not a file name"),
    ([{"name": "sub/index.html", "content": "x"}], "files[0].name: 'sub/index.html' is not a file name"),
    ([{"name": "a", "content": "x"}, {"name": "a", "content": "y"}], "files[1].name: a is given twice"),
])
def test_a_wrong_name_is_refused_before_anything_is_written(tmp_path, capsys, files, said):
    folder = tmp_path / "report"
    result = run_module(dict(path=str(folder), files=files), capsys)
    assert result["failed"] and said in result["msg"] and "Nothing was written." in result["msg"]
    assert not folder.exists()


@pytest.mark.parametrize(("option", "value"), [("mode", "rw-r--r--"), ("mode", "0999"), ("directory_mode", "77777"),
                                               ("mode", "-1")])
def test_a_mode_that_is_not_octal_is_refused_before_anything_is_written(tmp_path, capsys, option, value):
    folder = tmp_path / "report"
    result = run_module({"path": str(folder), "files": REPORT, option: value}, capsys)
    assert result["failed"] and result["msg"].startswith("%s: %r is not a file mode" % (option, value))
    assert not folder.exists()


def test_a_path_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "report").write_text("not a directory")
    result = run_module(dict(path=str(tmp_path / "report"), files=REPORT), capsys)
    assert result["failed"] and result["changed"] is False
    assert result["msg"] == "path: %s exists and is not a directory. Nothing was written." % (tmp_path / "report")


def test_a_directory_that_cannot_be_made_fails_saying_which_and_what_to_do(tmp_path, capsys):
    (tmp_path / "file").write_text("x")  # a directory under a file cannot be made, even by root
    where = tmp_path / "file" / "report"
    result = run_module(dict(path=str(where), files=REPORT), capsys)
    assert result["failed"] and result["changed"] is False and result["written"] == []
    assert result["msg"].startswith("Could not create the directory %s: " % where)
    assert "Check that the user running the play can write there" in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_a_file_that_cannot_be_written_names_it_and_what_was_written_before(tmp_path, capsys):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.json").mkdir()  # the second file's name is taken by a directory
    result = run_module(dict(path=str(folder), files=REPORT), capsys)
    assert result["failed"] and result["changed"] is True
    assert result["written"] == [str(folder / "index.html")]
    assert result["msg"].startswith("Could not read %s: [Errno 21] Is a directory" % (folder / "report.json"))
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "report.json"]  # no temporary file left


NAMES = st.sampled_from(["index.html", "report.json", "report.md", "junit.xml", ".report-state.json"])
TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
EXISTING = st.one_of(st.none(), st.tuples(TEXTS, st.sampled_from([0o644, 0o600, 0o664])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.dictionaries(NAMES, TEXTS, min_size=1), present=st.dictionaries(NAMES, EXISTING),
       dir_mode=st.sampled_from([None, 0o755, 0o700]))
def test_check_mode_predicts_the_run_and_the_run_leaves_exactly_what_was_asked(tmp_path_factory, capsys, wanted,
                                                                               present, dir_mode):
    folder = tmp_path_factory.mktemp("prop") / "report"
    if dir_mode is not None:
        folder.mkdir()
        os.chmod(folder, dir_mode)
        for name, existing in present.items():
            if existing is not None:
                (folder / name).write_bytes(existing[0].encode("utf-8"))
                os.chmod(folder / name, existing[1])
    files = [{"name": name, "content": text} for name, text in wanted.items()]
    before = tree(folder)
    predicted = run_module(dict(path=str(folder), files=files), capsys, check_mode=True, diff=True)
    assert tree(folder) == before
    real = run_module(dict(path=str(folder), files=files), capsys, diff=True)
    assert {k: predicted[k] for k in ("changed", "written", "diff")} == {k: real[k] for k in ("changed", "written", "diff")}
    after = tree(folder)
    assert after[0] == 0o755
    for name, text in wanted.items():
        assert after[1][name] == (text, 0o644)
    # files not named are left as they were
    untouched = {n: v for n, v in (before[1] if before else {}).items() if n not in wanted}
    assert {n: v for n, v in after[1].items() if n not in wanted} == untouched
    assert real["changed"] is (before != after)
    assert run_module(dict(path=str(folder), files=files), capsys)["changed"] is False


def test_a_failed_write_names_the_file_and_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "report"
    real_replace = os.replace

    def refuse_the_json(src, dst):
        if str(dst).endswith("report.json"):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(report_files.os, "replace", refuse_the_json)
    result = run_module(dict(path=str(folder), files=REPORT), capsys)
    assert result["failed"] and result["changed"] is True
    assert result["written"] == [str(folder), str(folder / "index.html")]
    assert result["msg"].startswith("Could not write %s: [Errno 13] Permission denied. Check that" % (folder / "report.json"))
    assert sorted(p.name for p in folder.iterdir()) == ["index.html"]


@pytest.mark.parametrize(("files", "said"), [("index.html", "files"), ([["index.html", "x"]], "files"),
                                             ([{"name": "a", "content": "x", "mode": "0600"}], "mode")])
def test_files_of_the_wrong_shape_are_refused_naming_the_option(tmp_path, capsys, files, said):
    result = run_module(dict(path=str(tmp_path / "report"), files=files), capsys)
    assert result["failed"] and said in result["msg"], result["msg"]
    assert "Traceback" not in json.dumps(result)
    assert not (tmp_path / "report").exists()


def test_diff_says_why_a_large_or_binary_file_is_not_shown(tmp_path, capsys, monkeypatch):
    """As the copy module's diff: a side over ANSIBLE_MAX_DIFF_SIZE, or a binary file before, is named, not shown
    (a 50-cluster report's page would fill the job output)."""
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "old.bin").write_bytes(b"\x00\x01")
    monkeypatch.setenv("ANSIBLE_MAX_DIFF_SIZE", "10")
    files = [{"name": "big.html", "content": "x" * 11}, {"name": "old.bin", "content": "text"},
             {"name": "small.md", "content": "y" * 10}]
    diffs = {d["after_header"].rpartition("/")[2]: d for d in run_module(dict(path=str(folder), files=files), capsys,
                                                                         diff=True)["diff"]}
    assert diffs["big.html"] == {"before_header": str(folder / "big.html"), "after_header": str(folder / "big.html"),
                                 "src_larger": 10}
    assert "before" not in diffs["old.bin"] and diffs["old.bin"]["dst_binary"] == 1
    assert diffs["small.md"]["before"] == "" and diffs["small.md"]["after"] == "y" * 10
    assert (folder / "big.html").read_text() == "x" * 11  # written all the same
    monkeypatch.setenv("ANSIBLE_MAX_DIFF_SIZE", "not a number")  # ansible-core's default then
    (folder / "small.md").write_text("z")
    again = run_module(dict(path=str(folder), files=files[2:]), capsys, diff=True)
    assert again["diff"][0]["before"] == "z" and again["diff"][0]["after"] == "y" * 10
