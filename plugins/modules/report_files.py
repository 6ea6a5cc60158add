#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: report_files
short_description: Write the files of a report into a directory, each only when it changed
version_added: 1.0.0
description:
  - Creates the directory O(path) when it is missing and writes each of O(files) into it. A file that already
    holds that content with that mode is left alone; any other is replaced atomically (written to a temporary
    file in the same directory, then renamed over it), so that a reader never sees half a report.
  - The files of the reports of the C(tos.cloud.inspection_report) and C(tos.cloud.drift_report) roles, in one
    task - what M(ansible.builtin.file) and a M(ansible.builtin.template) or M(ansible.builtin.copy) task per file
    would do, without a module run per file. Render the content first, for example with the
    C(ansible.builtin.template) lookup.
  - It does not talk to the manager and takes no connection option.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.attributes
  - tos.cloud.attributes.controller
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the result names the files that would be.
  diff_mode:
    support: full
    details:
      - Each file to write, with its content before and after (a new file's before is empty).
      - As for M(ansible.builtin.copy), a side larger than C(ANSIBLE_MAX_DIFF_SIZE) bytes (104448 unless that
        environment variable says otherwise) or a binary file before is not shown, only said.
options:
  path:
    description:
      - The directory. A leading C(~) is the home directory of the user the module runs as. Missing directories are
        created, with O(directory_mode).
    type: path
    required: true
  files:
    description: The files to write into O(path).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The file's name, without a directory (no C(/)); not C(.) or C(..). Each name once.
        type: str
        required: true
      content:
        description: The file's whole text, written as UTF-8.
        type: str
        required: true
  mode:
    description: The files' permissions, as an octal number in a string.
    type: str
    default: "0644"
  directory_mode:
    description:
      - The directory's permissions, as an octal number in a string, set on O(path) when the module creates it
        or when it differs. The parents it creates get them too.
    type: str
    default: "0755"
notes:
  - The names are checked before anything is written; a file that cannot be written stops the task naming it, and
    the files written before it stay written (listed in RV(written)).
seealso:
  - module: tos.cloud.report_mail
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Write a report as HTML and JSON
  tos.cloud.report_files:
    path: /var/lib/tos-reports/nightly
    files:
      - name: index.html
        content: "{{ lookup('ansible.builtin.template', 'report.html.j2') }}"
      - name: report.json
        content: "{{ report_model | to_nice_json }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
path:
  description: The directory, as an absolute path.
  returned: always
  type: str
  sample: /var/lib/tos-reports/nightly
written:
  description:
    - The paths this run wrote or changed the mode of (or would, in check mode), the directory first when it was
      created or its mode changed. Empty when every file was already as asked.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/tos-reports/nightly/index.html]
"""

import os
import stat
import tempfile

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.tos.cloud.plugins.module_utils._shapes import checked_module

DIFF_LIMIT = 104448  # ansible-core's default MAX_FILE_SIZE_FOR_DIFF


def octal(module, option):
    text = str(module.params[option]).strip()
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o7777:
        module.fail_json(msg="%s: %r is not a file mode (an octal number such as '0644'). Nothing was written."
                         % (option, module.params[option]))
    return value


def checked_files(module):
    """The files as (name, bytes), or a failure naming the first wrong entry; before anything is written."""
    seen = set()
    files = []
    for index, entry in enumerate(module.params["files"]):
        name = entry["name"]
        where = "files[%d].name" % index
        if not name or name in (".", "..") or "/" in name or "\0" in name:
            module.fail_json(msg="%s: %r is not a file name (no directory part, not . or ..). Nothing was written."
                             % (where, name))
        if name in seen:
            module.fail_json(msg="%s: %s is given twice. Nothing was written." % (where, name))
        seen.add(name)
        files.append((name, entry["content"].encode("utf-8", "surrogateescape")))
    return files


def current(path):
    """A file's bytes and permission bits, or (None, None) when it does not exist."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        return data, stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None, None


def write_atomically(folder, name, data, mode):
    fd, temp = tempfile.mkstemp(prefix="." + name + ".", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, os.path.join(folder, name))
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def diff_limit():
    """The largest file shown in a diff: ansible-core's MAX_FILE_SIZE_FOR_DIFF (ANSIBLE_MAX_DIFF_SIZE), default 104448."""
    try:
        return int(os.environ.get("ANSIBLE_MAX_DIFF_SIZE", DIFF_LIMIT))
    except ValueError:
        return DIFF_LIMIT


def file_diff(target, before, after, limit):
    """One file's diff as the callback shows the copy module's: the texts, or why a side is not shown."""
    diff = dict(before_header=target, after_header=target)
    if before is not None and b"\0" in before:
        diff["dst_binary"] = 1
    elif before is not None and len(before) > limit:
        diff["dst_larger"] = limit
    if len(after) > limit:
        diff["src_larger"] = limit
    if len(diff) == 2:
        diff.update(before="" if before is None else before.decode("utf-8", "replace"), after=after.decode("utf-8", "replace"))
    return diff


def main():
    module = checked_module(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                content=dict(type="str", required=True),
            )),
            mode=dict(type="str", default="0644"),
            directory_mode=dict(type="str", default="0755"),
        ),
        supports_check_mode=True,
    )
    mode = octal(module, "mode")
    directory_mode = octal(module, "directory_mode")
    files = checked_files(module)
    folder = os.path.abspath(module.params["path"])
    limit = diff_limit()
    written = []
    diffs = []
    result = dict(changed=False, path=folder, written=written)
    step = "read %s" % folder
    try:
        existed = os.path.isdir(folder)  # a directory made now holds no file yet (nor does one check mode would make)
        if existed:
            if stat.S_IMODE(os.stat(folder).st_mode) != directory_mode:
                step = "set the mode of %s" % folder
                if not module.check_mode:
                    os.chmod(folder, directory_mode)
                written.append(folder)
        elif os.path.lexists(folder):
            module.fail_json(msg="path: %s exists and is not a directory. Nothing was written." % folder, **result)
        else:
            step = "create the directory %s" % folder
            if not module.check_mode:
                os.makedirs(folder, mode=directory_mode)
                os.chmod(folder, directory_mode)  # makedirs' mode is masked by the umask
            written.append(folder)
            diffs.append(dict(before_header=folder, after_header=folder, before={"state": "absent"},
                              after={"state": "directory"}))
        for name, data in files:
            target = os.path.join(folder, name)
            step = "read %s" % target
            before, before_mode = current(target) if existed else (None, None)
            if before == data and before_mode == mode:
                continue
            step = "write %s" % target
            if not module.check_mode:
                if before == data:
                    os.chmod(target, mode)
                else:
                    write_atomically(folder, name, data, mode)
            written.append(target)
            if before != data and module._diff:
                diffs.append(file_diff(target, before, data, limit))
    except OSError as exc:
        result["changed"] = bool(written) and not module.check_mode
        module.fail_json(msg="Could not %s: %s. Check that the user running the play can write there, or choose "
                         "another directory." % (step, to_native(exc)), **result)
    result["changed"] = bool(written)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
