# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The markdown_escape filter: text from the manager as Markdown text, never as HTML or a link."""

from __future__ import annotations

# CommonMark shows a backslash-escaped punctuation character as itself: "\<svg" is text, not a tag
SPECIAL = ("\\", "<", ">", "[", "]")


def markdown_text(text):
    for char in SPECIAL:
        text = text.replace(char, "\\" + char)
    return text


def markdown_escape(value):
    """``value`` with every string in it (keys too, at any depth) escaped for Markdown text."""
    if isinstance(value, str):
        return markdown_text(value)
    if isinstance(value, dict):
        return {markdown_escape(k): markdown_escape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [markdown_escape(item) for item in value]
    return value


class FilterModule:
    def filters(self):
        return {"markdown_escape": markdown_escape}
