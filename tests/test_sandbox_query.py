"""Tests for bot.sandbox.query: the sandbox's X recent-search query language."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.sandbox.query import MAX_QUERY_LENGTH, QueryError, Searchable, compile_query


def _post(**fields: Any) -> Searchable:
    """A plain original post by @alice; override any field."""
    values: dict[str, Any] = {
        "tweet_id": "900",
        "text": "hello world",
        "author_id": "11",
        "author_username": "alice",
        "conversation_id": "900",
        "in_reply_to_username": None,
        "in_reply_to_tweet_id": None,
        "quoted_tweet_id": None,
        "retweeted_tweet_id": None,
        "hashtags": (),
        "mentions": (),
    }
    values.update(fields)
    return Searchable(**values)


REPLY = {"in_reply_to_tweet_id": "555", "in_reply_to_username": "Bob", "conversation_id": "555"}
QUOTE = {"quoted_tweet_id": "777"}
RETWEET = {"retweeted_tweet_id": "888", "text": "RT @bob: hello world"}


@pytest.mark.parametrize(
    ("query", "fields", "expected"),
    [
        # bare keyword: whole tokens, '#'/'@' in the text only separate tokens
        ("hello", {}, True),
        ("hell", {}, False),
        ("therapy", {"text": "love #therapy"}, True),
        ("alice", {"text": "hi @alice!"}, True),
        ("world", {"text": "hello, world."}, True),
        ("or", {"text": "this or that"}, True),
        ("or", {"text": "this and that"}, False),
        ("coca-cola", {"text": "I like coca cola"}, True),
        ("coca-cola", {"text": "cola coca"}, False),
        ("😃", {"text": "great chat 😃"}, True),
        ("😃", {"text": "great chat"}, False),
        # "exact phrase": consecutive tokens
        ('"hello world"', {}, True),
        ('"world hello"', {}, False),
        ('"hello world"', {"text": "hello big world"}, False),
        ('"hello, world!"', {"text": "Hello World"}, True),
        ('"OR -x (y)"', {"text": "or x y"}, True),
        # #hashtag: exact entity match, not prefix, not text
        ("#thanku", {"hashtags": ("thanku",)}, True),
        ("#thanku", {"hashtags": ("thankunext",)}, False),
        ("#thanku", {"text": "#thanku", "hashtags": ()}, False),
        # @username: mention entities only
        ("@tcbot", {"mentions": ("tcbot",)}, True),
        ("@tcbot", {"mentions": ("tcbot_fan",)}, False),
        ("@alice", {"mentions": ()}, False),
        # from: username or numeric id
        ("from:alice", {}, True),
        ("from:11", {}, True),
        ("from:bob", {}, False),
        # to: the parent's author
        ("to:bob", REPLY, True),
        ("to:alice", REPLY, False),
        ("to:bob", {}, False),
        # id operators and X's aliases
        ("conversation_id:555", REPLY, True),
        ("conversation_id:555", {"tweet_id": "555", "conversation_id": "555"}, False),
        ("conversation_id:556", REPLY, False),
        ("in_reply_to_tweet_id:555", REPLY, True),
        ("in_reply_to_status_id:555", REPLY, True),
        ("in_reply_to_tweet_id:555", {}, False),
        ("quotes_of_tweet_id:777", QUOTE, True),
        ("quotes_of_status_id:777", QUOTE, True),
        ("quotes_of_tweet_id:777", {}, False),
        ("retweets_of_tweet_id:888", RETWEET, True),
        ("retweets_of_status_id:888", RETWEET, True),
        ("retweets_of_tweet_id:888", {}, False),
        # conjunction-required flags
        ("hello is:reply", REPLY, True),
        ("hello is:reply", {}, False),
        ("hello is:retweet", RETWEET, True),
        ("hello is:retweet", {}, False),
        ("hello is:quote", QUOTE, True),
        ("hello is:quote", {}, False),
        ("hello -is:nullcast", {}, True),
        ("hello has:hashtags", {"hashtags": ("x",)}, True),
        ("hello has:hashtags", {}, False),
        ("hello has:mentions", {"mentions": ("bob",)}, True),
        ("hello has:mentions", {}, False),
        ("hello has:links", {"text": "hello https://t.co/abc"}, True),
        ("hello has:links", {}, False),
    ],
)
def test_compile_query_matches_each_operator(
    query: str, fields: dict[str, Any], expected: bool
) -> None:
    assert compile_query(query).matches(_post(**fields)) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("apple OR iphone ipad", "apple", True),
        ("apple OR iphone ipad", "iphone", False),
        ("apple OR iphone ipad", "ipad iphone", True),
        ("ipad iphone OR android", "android", True),
        ("ipad iphone OR android", "ipad", False),
        ("(apple OR iphone) ipad", "apple", False),
        ("(apple OR iphone) ipad", "apple ipad", True),
        ("a OR b OR c", "c", True),
        ("a (b OR (c d))", "a c d", True),
        ("a (b OR (c d))", "a c", False),
        ("apple or iphone", "apple iphone", False),
        ("apple or iphone", "apple or iphone", True),
        ("a(b)", "a b", True),
    ],
)
def test_compile_query_and_binds_tighter_than_or(query: str, text: str, expected: bool) -> None:
    assert compile_query(query).matches(_post(text=text)) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("cat -grumpy", "cat", True),
        ("cat -grumpy", "grumpy cat", False),
        ('cat -"grumpy cat"', "cat is grumpy", True),
        ('cat -"grumpy cat"', "a grumpy cat", False),
        ("skiing -(snow OR day)", "skiing", True),
        ("skiing -(snow OR day)", "skiing day", False),
        ("skiing -(snow day)", "skiing snow", True),
        ("skiing -(snow day)", "skiing snow day", False),
        ("skiing -(-snow)", "skiing snow", True),
        ("skiing -(-snow)", "skiing", False),
        ("a -b OR c", "a b", False),
        ("a -b OR c", "b c", True),
    ],
)
def test_compile_query_negates_terms_and_groups(query: str, text: str, expected: bool) -> None:
    assert compile_query(query).matches(_post(text=text)) is expected


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("HELLO", {}),
        ("hello", {"text": "HeLLo"}),
        ('"HELLO World"', {}),
        ("#therapistsconnect", {"hashtags": ("TherapistsConnect",)}),
        ("#THERAPISTSCONNECT", {"hashtags": ("therapistsconnect",)}),
        ("@TCBot", {"mentions": ("tcbot",)}),
        ("FROM:ALICE", {}),
        ("From:alice", {"author_username": "Alice"}),
        ("To:BOB", REPLY),
        ("CONVERSATION_ID:555", REPLY),
        ("hello IS:REPLY", REPLY),
        ("hello Has:Mentions", {"mentions": ("bob",)}),
        ("straße", {"text": "STRASSE"}),
    ],
)
def test_compile_query_is_case_insensitive(query: str, fields: dict[str, Any]) -> None:
    assert compile_query(query).matches(_post(**fields))


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("cafe", {"text": "un café"}),
        ("café", {"text": "un cafe"}),
        ("CAFÉ", {"text": "un CAFE\u0301"}),  # decomposed é in the text
        ('"sante mentale"', {"text": "la santé mentale"}),
        ("naive", {"text": "so naïve"}),
        ("#sante", {"hashtags": ("Santé",)}),
        ("#santé", {"hashtags": ("sante",)}),
        ("fi", {"text": "\ufb01"}),  # the 'fi' ligature decomposes under NFKD
    ],
)
def test_compile_query_ignores_diacritics(query: str, fields: dict[str, Any]) -> None:
    assert compile_query(query).matches(_post(**fields))


@pytest.mark.parametrize(
    ("query", "fields", "expected"),
    [
        ("#TherapistsConnect -is:retweet", {"hashtags": ("TherapistsConnect",)}, True),
        ("#TherapistsConnect -is:retweet", {"hashtags": ("TherapistsConnect",), **RETWEET}, False),
        ("#TherapistsConnect -is:retweet", {"hashtags": ("TraineeTalk",)}, False),
        ("conversation_id:555 is:reply", REPLY, True),
        ("conversation_id:555 is:reply", {"conversation_id": "555", "tweet_id": "555"}, False),
        ("conversation_id:123 is:reply", REPLY, False),
        (
            "(#TherapistsConnect OR #TraineeTalk) @tcbot -is:retweet",
            {"hashtags": ("TraineeTalk",), "mentions": ("tcbot",)},
            True,
        ),
        (
            "(#TherapistsConnect OR #TraineeTalk) @tcbot -is:retweet",
            {"hashtags": ("TraineeTalk",)},
            False,
        ),
        (
            "(#TherapistsConnect OR #TraineeTalk) @tcbot -is:retweet",
            {"hashtags": ("therapistsconnect",), "mentions": ("TCBOT",), **RETWEET},
            False,
        ),
        ("#TraineeTalk OR conversation_id:555", {"hashtags": ("TraineeTalk",)}, True),
        ("#TraineeTalk OR conversation_id:555", REPLY, True),
        ("#TraineeTalk OR conversation_id:555", {}, False),
    ],
)
def test_compile_query_matches_the_bots_queries(
    query: str, fields: dict[str, Any], expected: bool
) -> None:
    assert compile_query(query).matches(_post(**fields)) is expected


@pytest.mark.parametrize(
    ("query", "keyword_based", "conversation_ids"),
    [
        ("#TherapistsConnect -is:retweet", True, set()),
        ("conversation_id:123 is:reply", False, {"123"}),
        ("(#TherapistsConnect OR #TraineeTalk) @tcbot -is:retweet", True, set()),
        ("#TraineeTalk OR conversation_id:555", True, {"555"}),
        ("from:alice -hello", False, set()),
        ("from:alice -(-hello)", True, set()),
        ('from:alice "a phrase"', True, set()),
        ("@tcbot", True, set()),
        ("to:bob OR in_reply_to_tweet_id:5", False, set()),
        ("conversation_id:1 OR conversation_id:2 -conversation_id:3", False, {"1", "2", "3"}),
    ],
)
def test_compile_query_reports_keyword_based_and_conversation_ids(
    query: str, keyword_based: bool, conversation_ids: set[str]
) -> None:
    compiled = compile_query(query)
    assert compiled.keyword_based is keyword_based
    assert compiled.conversation_ids == conversation_ids


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "can not be empty"),
        ("   ", "can not be empty"),
        ("a" * (MAX_QUERY_LENGTH + 1), "513 characters long"),
        ("(a OR b", "Missing ')' for this '(' (at position 1)"),
        ("a (b (c)", "Missing ')' for this '(' (at position 3)"),
        ("a (", "Missing ')' for this '(' (at position 3)"),
        ("a OR b)", "Unexpected ')' with no matching '(' (at position 7)"),
        (")", "Unexpected ')' with no matching '(' (at position 1)"),
        ("a ()", "Empty parentheses"),
        ('"open phrase', "Missing closing '\"' for the phrase started here (at position 1)"),
        ('a "b" "c', "Missing closing '\"' for the phrase started here (at position 7)"),
        ("a OR", "'OR' needs a term on both sides (at position 3)"),
        ("OR a", "'OR' needs a term on both sides (at position 1)"),
        ("a OR OR b", "'OR' needs a term on both sides (at position 3)"),
        ("(a OR) b", "'OR' needs a term on both sides (at position 4)"),
        ("a AND b", "Ambiguous use of and"),
        ("a - b", "'-' must be directly followed by a term"),
        ("a --b", "'-' must be directly followed by a term"),
        ("a -", "'-' must be directly followed by a term"),
        ("is:reply", "needs a positive standalone operator"),
        ("is:reply -is:retweet", "needs a positive standalone operator"),
        ("has:links OR is:retweet", "needs a positive standalone operator"),
        ("-#foo", "needs a positive standalone operator"),
        ("-(a b)", "needs a positive standalone operator"),
        ("#a OR is:reply", "needs a positive standalone operator"),
        ("#a OR -#b", "needs a positive standalone operator"),
        ("foo:bar", "Reference to invalid operator 'foo'"),
        ("hello Min_Faves:5", "Reference to invalid operator 'min_faves'"),
        ("hello is:fun", "Reference to invalid operator 'is:fun'"),
        ("hello has:pets", "Reference to invalid operator 'has:pets'"),
        ("hello lang:en", "Operator 'lang:' is valid on X but the sandbox has no data"),
        ("hello url:x", "Operator 'url:' is valid on X"),
        ("hello has:media", "Operator 'has:media' is valid on X"),
        ("hello is:verified", "Operator 'is:verified' is valid on X"),
        ("hello is:nullcast", "'is:nullcast' must always be negated"),
        ("conversation_id:abc", "'conversation_id:' needs a numeric post id, got 'abc'"),
        ("hello in_reply_to_tweet_id:", "'in_reply_to_tweet_id:' needs a numeric post id"),
        ("from:", "'from:' needs a username or user id, got ''"),
        ("to:a.b", "'to:' needs a username or user id, got 'a.b'"),
        ("#", "'#' must be followed by a hashtag"),
        ("#foo-bar", "'#foo-bar'"),
        ("@", "'@' must be followed by a username"),
        ("!!!", "!!! has no letters, digits or emoji"),
        ('hello ""', '"" has no letters, digits or emoji'),
    ],
)
def test_compile_query_rejects_invalid_queries(query: str, named: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_query(query)
    assert named in caught.value.message
    assert str(caught.value) == caught.value.message


def test_compile_query_prefixes_syntax_errors_like_x() -> None:
    with pytest.raises(QueryError) as caught:
        compile_query("foo:bar")
    assert caught.value.message.startswith("There were errors processing your request: ")
    assert isinstance(caught.value, ValueError)


def test_compile_query_accepts_exactly_the_length_limit() -> None:
    query = "#TraineeTalk " + "a" * (MAX_QUERY_LENGTH - len("#TraineeTalk "))
    assert len(query) == MAX_QUERY_LENGTH
    assert compile_query(query).text == query


@pytest.mark.parametrize(
    ("fields", "flags"),
    [
        ({}, (False, False, False)),
        (REPLY, (True, False, False)),
        (RETWEET, (False, True, False)),
        (QUOTE, (False, False, True)),
    ],
)
def test_searchable_derives_kind_from_ids(
    fields: dict[str, Any], flags: tuple[bool, bool, bool]
) -> None:
    post = _post(**fields)
    assert (post.is_reply, post.is_retweet, post.is_quote) == flags


def test_query_is_immutable_and_equal_by_value() -> None:
    compiled = compile_query("#TraineeTalk -is:retweet")
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.keyword_based = False  # type: ignore[misc]
    assert compiled == compile_query("#TraineeTalk -is:retweet")
    assert hash(compiled) == hash(compile_query("#TraineeTalk -is:retweet"))
