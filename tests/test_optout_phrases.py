"""Opt-out phrases: every labelled request and look-alike, and the reply-prefix stripping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.optout_phrases import MAX_WORDS, is_opt_out, strip_leading_mentions

LABELLED = Path(__file__).resolve().parent / "data" / "optout_phrases.jsonl"


def labelled() -> list[dict[str, Any]]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = labelled()


def test_optout_labelled_set_is_big_balanced_and_well_formed() -> None:
    assert len(ROWS) >= 70
    requests = sum(row["opt_out"] for row in ROWS)
    assert requests >= 30 and len(ROWS) - requests >= 30
    for row in ROWS:
        assert set(row) == {"text", "opt_out", "note"}, row
        assert isinstance(row["text"], str) and isinstance(row["opt_out"], bool), row
        assert isinstance(row["note"], str) and row["note"], row
    notes = [row["note"] for row in ROWS]
    assert len(set(notes)) == len(notes), "notes name the test cases, so they must be unique"


@pytest.mark.parametrize(
    "row",
    ROWS,
    ids=[f"{'optout' if row['opt_out'] else 'lookalike'}: {row['note']}" for row in ROWS],
)
def test_optout_labelled_example(row: dict[str, Any]) -> None:
    assert is_opt_out(row["text"]) is row["opt_out"], row["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@TraineeTalkBot @someone stop", "stop"),
        ("＠TraineeTalkBot stop", "stop"),
        ("  @a\n@b_2  hello there  ", "hello there"),
        ("@TraineeTalkBot, @sam: thanks", "thanks"),
        ("@TraineeTalkBot", ""),
        ("", ""),
        ("hi @TraineeTalkBot", "hi @TraineeTalkBot"),
        ("stop @TraineeTalkBot", "stop @TraineeTalkBot"),
        ("@bot A1: see @jo's thread", "A1: see @jo's thread"),
        ("#TraineeTalk @bot hi", "#TraineeTalk @bot hi"),
    ],
)
def test_strip_leading_mentions_removes_only_the_reply_prefix(text: str, expected: str) -> None:
    assert strip_leading_mentions(text) == expected


def test_strip_leading_mentions_keeps_a_handle_longer_than_x_allows() -> None:
    # X handles are at most 15 characters; a longer "@word" is not a mention
    assert strip_leading_mentions("@abcdefghijklmnop stop") == "@abcdefghijklmnop stop"


def test_strip_leading_mentions_keeps_the_rest_as_written() -> None:
    assert strip_leading_mentions("@bot Q&amp;A: STOP!! 🙏 ") == "Q&amp;A: STOP!! 🙏"


def test_optout_ignores_empty_and_mention_only_posts() -> None:
    assert not is_opt_out("")
    assert not is_opt_out("@TraineeTalkBot @sam")
    assert not is_opt_out("🙏 #TraineeTalk")


def test_optout_long_messages_never_count() -> None:
    request = " ".join(["please"] * (MAX_WORDS - 1) + ["stop"])
    assert is_opt_out(request)
    assert not is_opt_out("please " + request)
