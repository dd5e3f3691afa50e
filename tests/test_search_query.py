"""The search language: parsing, the expressions built for FTS5 and tsquery, highlighting."""

from __future__ import annotations

import sqlite3

import pytest

from archive.errors import SearchError, TcbotError
from archive.search_query import (
    MAX_QUERY_CHARS,
    SearchQuery,
    Term,
    fold,
    fts5_match,
    highlight,
    mark,
    parse_query,
    tsquery,
    words_with_spans,
)

HOSTILE = [
    '"',
    "'",
    ")(",
    "NEAR(",
    "*",
    "-",
    "OR OR",
    "; DROP TABLE tweets; --",
    "a AND b",
    "text:burnout",
    "^start",
    "{text}: x",
    '"unterminated phrase',
    "burnout\x00nul",
    "\\' OR 1=1 --",
    "x" * MAX_QUERY_CHARS,
    "🧠💬 therapy 🫶",
    "Ünïcödé NAÏVE café",
    "日本語 Привет مرحبا",
    "&amp; &lt;script&gt;",
]


def W(*words: str, prefix: bool = False) -> Term:
    return Term(words, prefix=prefix)


@pytest.mark.parametrize(
    ("typed", "groups", "excluded"),
    [
        ("burnout", [[W("burnout")]], []),
        ("supervision burnout", [[W("supervision")], [W("burnout")]], []),
        ('"self care" tips', [[W("self", "care")], [W("tips")]], []),
        ("self-care", [[W("self", "care")]], []),
        ("don't", [[W("don", "t")]], []),
        ("placement OR internship", [[W("placement"), W("internship")]], []),
        ("a OR b OR c d", [[W("a"), W("b"), W("c")], [W("d")]], []),
        ("a or b", [[W("a")], [W("or")], [W("b")]], []),  # lower-case or is a word
        ("burnout -exam", [[W("burnout")]], [W("exam")]),
        ('-"final exam" study', [[W("study")]], [W("final", "exam")]),
        ("superv*", [[W("superv", prefix=True)]], []),
        ("well-bei*", [[W("well", "bei", prefix=True)]], []),
        ('"superv*"', [[W("superv")]], []),  # a * inside quotes is just a separator
        ("OR burnout", [[W("burnout")]], []),  # a dangling OR is ignored
        ("burnout OR", [[W("burnout")]], []),
        ("a OR -b c", [[W("a")], [W("c")]], [W("b")]),
        ("#TraineeTalk @bob", [[W("TraineeTalk")], [W("bob")]], []),
        ('"unterminated phrase', [[W("unterminated", "phrase")]], []),
        ("NEAR(a b)", [[W("NEAR", "a")], [W("b")]], []),
        ("x * y", [[W("x")], [W("y")]], []),
    ],
)
def test_parse_query_builds_groups_and_exclusions(
    typed: str, groups: list[list[Term]], excluded: list[Term]
) -> None:
    assert parse_query(typed) == SearchQuery(
        tuple(tuple(group) for group in groups), tuple(excluded)
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "no words to search for"),
        ("   ", "no words to search for"),
        ('"', "no words to search for"),
        ("*", "no words to search for"),
        (")(", "no words to search for"),
        ("OR OR", "no words to search for"),
        ("-", "no words to search for"),
        ("🧠💬", "no words to search for"),
        ("-exam", "only says what to leave out"),
        ("-exam -test", "only says what to leave out"),
        ("th*", "too short to search for words beginning with it"),
        ("x" * (MAX_QUERY_CHARS + 1), "too long (501 characters)"),
        (" ".join(f"w{n}" for n in range(40)), "more than 32 words"),
    ],
)
def test_parse_query_refuses_with_a_message_that_says_what_to_do(typed: str, message: str) -> None:
    with pytest.raises(SearchError) as caught:
        parse_query(typed)
    assert isinstance(caught.value, TcbotError)
    assert message in caught.value.what
    assert caught.value.fix  # every refusal says what to type instead
    assert caught.value.query == typed


@pytest.mark.parametrize(
    ("typed", "fts5", "ts"),
    [
        ("burnout", '"burnout"', "'burnout'"),
        ("Supervision Burnout", '"Supervision" AND "Burnout"', "'supervision' & 'burnout'"),
        ('"self care"', '"self care"', "('self' <-> 'care')"),
        ("a OR b", '("a" OR "b")', "('a' | 'b')"),
        ("superv*", '"superv"*', "'superv':*"),
        ("well-bei*", '"well bei"*', "('well' <-> 'bei':*)"),
        ("burnout -exam -test", '("burnout") NOT ("exam" OR "test")', "('burnout') & !('exam' | 'test')"),
        ("Café", '"Café"', "'cafe'"),
        ("; DROP TABLE tweets; --", '"DROP" AND "TABLE" AND "tweets"', "'drop' & 'table' & 'tweets'"),
    ],
)  # fmt: skip
def test_query_expressions_are_built_from_quoted_words(typed: str, fts5: str, ts: str) -> None:
    query = parse_query(typed)
    assert fts5_match(query) == fts5
    assert tsquery(query) == ts


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_input_is_a_valid_fts5_expression_or_a_search_error(typed: str) -> None:
    try:
        expression = fts5_match(parse_query(typed))
    except SearchError:
        return
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61')")
    connection.execute("INSERT INTO t VALUES ('burnout text')")
    connection.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@pytest.mark.parametrize(
    "text",
    [
        "Café naïve Ünïcödé e\u0301lan",
        "don't well-being #TraineeTalk @bob_x a.b@c.com x.com/path?q=1",
        "emoji 😀 test 日本語 Привет ΣΟΦΙΑ 3.14 ½",
        "tab\tnew\nline\u200bzero-width x\u00a0nbsp",
        "A1: answer &amp; more",
    ],
)
def test_words_are_split_as_fts5_unicode61_splits_them(text: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')"
    )
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    connection.execute("INSERT INTO t VALUES (?)", (text,))
    indexed = [row[0] for row in connection.execute("SELECT term FROM v ORDER BY offset")]
    assert [fold(word) for _, _, word in words_with_spans(text)] == indexed


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Café", "cafe"), ("NAÏVE", "naive"), ("İstanbul", "istanbul"), ("e\u0301lan", "elan"),
     ("Straße", "straße"), ("日本語", "日本語")],
)  # fmt: skip
def test_fold_ignores_case_and_accents(word: str, folded: str) -> None:
    assert fold(word) == folded


@pytest.mark.parametrize(
    ("text", "typed", "marked"),
    [
        ("Burnout is real. burnout!", "burnout", "[Burnout] is real. [burnout]!"),
        ("Loved the well-being chat", '"well being"', "Loved the [well-being] chat"),
        ("well and being apart", '"well being"', "well and being apart"),
        ("Supervisor and supervision", "superv*", "[Supervisor] and [supervision]"),
        ("Un café, s'il vous plaît", "cafe", "Un [café], s'il vous plaît"),
        ("exam stress", "stress -exam", "exam [stress]"),
        ("self care OR not", "care OR self", "[self] [care] OR not"),
        ("no match here", "burnout", "no match here"),
    ],
)
def test_highlight_marks_matched_words_only(text: str, typed: str, marked: str) -> None:
    spans = highlight(text, parse_query(typed))
    assert mark(text, spans, lambda words: f"[{words}]") == marked


def test_highlight_spans_are_character_offsets_into_the_text() -> None:
    text = "🧠 Café time: café"
    spans = highlight(text, parse_query("cafe"))
    assert [text[start:end] for start, end in spans] == ["Café", "café"]
