"""How chat posts are labelled: "Q<n>" on a host's question, "A<n>" on an answer; pure.

A label counts only at the very start of a post, after any leading @mentions (X
puts the reply's @names first): "@host A1: ..." is an answer to question 1, "I
agree with A1" is not. The answer forms people use in hashtag chats:

    A1:  A1.  A1)  A1 -  a1 -  A1 <text>  (A1)  [A1]  A 1:  A 1.  A 1)  A 1 -

and a post answering several questions at once: "A3/A4", "A4 & A5", "A1, A2",
"A1 and A2", "A1+A2". With a space between the letter and the number ("A 1") a
separator must follow ("A 1:"), so "A 2-hour session..." or "a 1:1 with my
supervisor" are not labels. The letter must be followed by the number and the
number by something other than a letter or digit ("A1C", "A100" are not labels).

`x_text` undoes the only escaping X applies to post text: it sends `&`, `<` and `>`
as `&amp;`, `&lt;` and `&gt;`. Text is unescaped once, before labels are read
("A4 &amp; A5") and before any renderer escapes it again for its own format.
"""

from __future__ import annotations

import re

__all__ = ["MAX_NUMBER", "answer_labels", "question_number", "x_text"]

MAX_NUMBER = 99  # two digits: a chat has a handful of questions, never a hundred

_MENTIONS = re.compile(r"\s*(?:[@＠]\w{1,15}[\s,:]*)*")
_OPEN = re.compile(r"[(\[]\s*")
# The separators that may follow a spaced label ("A 1:"): not "1:1", "2.5" or "2-hour".
_AFTER_SPACED = r"(?=\s*(?::(?!\d)|\.(?!\d)|\)|[-–—](?:\s|$)|[/&,+]|and\b))"


def _label(letter: str) -> re.Pattern[str]:
    return re.compile(
        rf"{letter}(?:([0-9]{{1,2}})(?!\w)|\s([0-9]{{1,2}}){_AFTER_SPACED})",
        re.IGNORECASE,
    )


_ANSWER = _label("A")
_QUESTION = _label("Q")
_JOINER = re.compile(r"\s*(?:/|&|,|\+|\band\b)\s*", re.IGNORECASE)
_X_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def x_text(text: str) -> str:
    """Post text as its author wrote it: X's `&amp;`, `&lt;` and `&gt;` undone."""
    if "&" not in text:
        return text
    for escaped, plain in _X_ESCAPES:
        text = text.replace(escaped, plain)
    return text


def _start(text: str) -> int:
    """Where the text proper begins, after leading @mentions and an opening bracket."""
    start = 0
    first = text[:1]
    if first in ("@", "＠") or first.isspace():  # (checked first: most posts start otherwise)
        position = _MENTIONS.match(text)
        start = position.end() if position else 0
    if text[start : start + 1] in ("(", "["):
        bracket = _OPEN.match(text, start)
        start = bracket.end() if bracket else start
    return start


def answer_labels(text: str) -> tuple[int, ...]:
    """The question numbers a post's leading answer label names, in order; () for none.

    `text` must already be unescaped (`x_text`).
    """
    position = _start(text)
    if text[position : position + 1] not in ("A", "a"):
        return ()
    numbers: list[int] = []
    while True:
        match = _ANSWER.match(text, position)
        if match is None:
            break
        number = int(match.group(1) or match.group(2))
        if 1 <= number <= MAX_NUMBER and number not in numbers:
            numbers.append(number)
        joiner = _JOINER.match(text, match.end())
        if joiner is None or _ANSWER.match(text, joiner.end()) is None:
            break
        position = joiner.end()
    return tuple(numbers)


def question_number(text: str) -> int | None:
    """n for a host's question post ("Q3 ...", "@ana Q3: ..."); None for any other post."""
    match = _QUESTION.match(text, _start(text))
    if match is None:
        return None
    number = int(match.group(1) or match.group(2))
    return number if 1 <= number <= MAX_NUMBER else None
