"""Finding the line of a key, table or list item in a TOML text (bot.schedule_lines)."""

from __future__ import annotations

import tomllib

import pytest

from bot.schedule_lines import LineIndex, Path

TEXT = """\
# a comment with [brackets] and key = "value"
[series]
id = "traineetalk"   # trailing comment
labels.first = \"\"\"two
lines, one looking like a header:
[[chats]]
key = "not a key"
\"\"\"
"quoted key" = 1

[series.templates]
question = 'Q{n} {question}'

[[chats]]
date = 2026-12-02
questions = [
  "one, with a comma",  # comment with ] bracket
  \"\"\"two
  on two lines\"\"\",
  'three',
]
after = true

[chats.templates]
closing = "bye"

[[chats]]
date = 2026-12-09
questions = ["a", "b \\" ] still a", {x = 1},
"d"]
templates = { intro = "i" }
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("series",), 2),
        (("series", "id"), 3),
        (("series", "labels", "first"), 4),
        (("series", "labels"), 4),  # a dotted key places its table too
        (("series", "templates"), 11),
        (("series", "quoted key"), 9),
        (("series", "templates", "question"), 12),
        (("chats", 0), 14),
        (("chats", 0, "date"), 15),
        (("chats", 0, "questions"), 16),
        (("chats", 0, "questions", 0), 17),
        (("chats", 0, "questions", 1), 18),
        (("chats", 0, "questions", 2), 20),
        (("chats", 0, "after"), 22),
        (("chats", 0, "templates"), 24),
        (("chats", 0, "templates", "closing"), 25),
        (("chats", 1), 27),
        (("chats", 1, "date"), 28),
        (("chats", 1, "questions", 0), 29),
        (("chats", 1, "questions", 1), 29),
        (("chats", 1, "questions", 2), 29),
        (("chats", 1, "questions", 3), 30),
        (("chats", 1, "templates", "intro"), 31),  # inside an inline table: its key's line
        (("chats", 0, "questions", 9), 16),  # no such item: the list's line
        (("chats", 0, "topic"), 14),  # missing key: the block's header
        (("chats", 5, "date"), None),
        (("nothing",), None),
    ],
)
def test_line_index_finds_keys_tables_and_items(path: Path, line: int | None) -> None:
    assert tomllib.loads(TEXT)  # the sample is valid TOML
    assert LineIndex(TEXT).line(path) == line


def test_line_index_survives_text_it_cannot_follow() -> None:
    index = LineIndex('a = "unterminated\nb = 2\nc = [1,\n')
    assert index.line(("a",)) == 1
    assert index.line(("b",)) == 2
    assert index.line(("c",)) == 3


def test_line_index_of_empty_text_knows_nothing() -> None:
    assert LineIndex("").line(("series",)) is None
