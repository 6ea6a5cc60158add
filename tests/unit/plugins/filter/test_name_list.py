# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""name_list reads a role's list variable as operators give it: a list, or a string with commas or line breaks (an AWX
multiple-choice answer), spaces around the names, trailing commas, a JSON list, or nothing ("" from an unanswered
survey question)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.tos.cloud.plugins.filter.name_list import FilterModule, name_list

# a name holds no separator (comma, line break) and does not open a JSON list
NAMES = st.text(alphabet=st.characters(blacklist_characters=",\r\n", blacklist_categories=("Cs",)), max_size=12).map(
    str.strip).filter(lambda name: name and not name.startswith("["))
SPACE = st.text(alphabet=" \t\r\n", max_size=3)


@given(st.lists(st.tuples(SPACE, NAMES, SPACE) | SPACE.map(lambda s: (s, "", "")), max_size=6),
       st.sampled_from([",", "\n", "\r\n", ",\n"]))
def test_a_string_is_its_comma_or_line_separated_names_trimmed_without_empty_ones(parts, separator):
    text = separator.join(left + name + right for left, name, right in parts)
    assert name_list(text) == [name for _left, name, _right in parts if name]


@given(st.lists(NAMES, max_size=4))
def test_a_json_list_is_that_list(names):
    assert name_list(json.dumps(names)) == names
    assert name_list(" %s\n" % json.dumps(names)) == names


@given(st.lists(st.one_of(st.tuples(SPACE, NAMES, SPACE).map("".join), SPACE, st.integers()), max_size=6))
def test_a_list_keeps_its_entries_trimmed_without_empty_strings(items):
    expected = [item.strip() if isinstance(item, str) else item for item in items]
    assert name_list(items) == [item for item in expected if not (isinstance(item, str) and not item)]
    assert name_list(tuple(items)) == name_list(items)


def test_none_and_empty_are_an_empty_list():
    assert name_list(None) == name_list("") == name_list(" , ,") == name_list([]) == []
    assert FilterModule().filters()["name_list"] is name_list


@pytest.mark.parametrize("value", [{"a": 1}, 3, 2.5, True])
def test_other_values_are_refused_naming_their_type(value):
    with pytest.raises(AnsibleFilterError, match="name_list: expected a list or a comma-separated string, got %s" % (
            type(value).__name__)):
        name_list(value)
