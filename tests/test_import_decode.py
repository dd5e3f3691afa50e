"""The import's fast decoding (archive.page_json) and bulk flattening (archive.page_values)
give exactly what archive.flatten.flatten_page gives, odd pages included (pure)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from archive.errors import IngestError
from archive.flatten import flatten_page
from archive.page_json import PageDecoder
from archive.page_values import TWEET_COLUMNS, USER_COLUMNS, PageValues, flatten_page_values
from tests.fakes import make_page, make_tweet, make_user

T0 = datetime(2026, 8, 20, 19, 55, tzinfo=UTC)
ADA = make_user("1001", "ada", name="Ada 🌱 山田")
BO = make_user("1002", "bo", protected=True)


def chat_page() -> dict[str, Any]:
    """A realistic page: a reply, a quote, a retweet, mentions, hashtags, unicode."""
    root = make_tweet("500", "Q1 What helps you switch off? #TraineeTalk", author_id="1001")
    reply = make_tweet(
        "501",
        "@ada A1 walking 🐕 and 読書 #traineetalk #TraineeTalk",
        author_id="1002",
        reply_to="500",
        in_reply_to_user_id="1001",
        mention_ids={"ada": "1001"},
    )
    quote = make_tweet("502", "A1: شكرا this #TraineeTalk", author_id="1003", quote_of="500")
    retweet = make_tweet("503", "RT @ada: Q1 What helps", author_id="1001")
    retweet["referenced_tweets"] = [{"type": "retweeted", "id": "500"}]
    page = make_page([retweet, quote, reply], users=[ADA, BO], included_tweets=[root])
    return copy.deepcopy(page)  # the tests change pages; ADA and BO stay as they are


def as_comparable(values: PageValues) -> tuple[Any, ...]:
    """PageValues with each raw JSON text parsed, so two encodings of one object compare equal."""

    def objects(rows: tuple[Any, ...]) -> list[Any]:
        return [(key, found, msgspec.json.decode(raw)) for key, found, raw in rows]

    return (
        objects(values.users),
        objects(values.tweets),
        values.unprofiled_author_ids,
        values.references,
        values.hashtags,
        values.mentions,
    )


def from_flatten_page(page: dict[str, Any]) -> tuple[Any, ...]:
    """flatten_page's rows in PageValues' shape."""
    flat = flatten_page(page)
    return (
        [(u.id, tuple(getattr(u, c) for c in USER_COLUMNS), dict(u.raw)) for u in flat.users],
        [(t.id, tuple(getattr(t, c) for c in TWEET_COLUMNS), dict(t.raw)) for t in flat.tweets],
        flat.unprofiled_author_ids,
        tuple((r.tweet_id, r.kind.value, r.referenced_id) for r in flat.references),
        tuple((h.tweet_id, h.tag, h.tag_as_written) for h in flat.hashtags),
        tuple((m.tweet_id, m.user_id, m.username) for m in flat.mentions),
    )


def decoded(page: object) -> PageValues:
    return PageDecoder().decode(msgspec.json.encode(page)).values


def odd(change: str) -> dict[str, Any]:
    """chat_page with one unusual thing in it, which the fast path must hand over."""
    page = chat_page()
    tweet, user = page["data"][2], page["includes"]["users"][0]
    if change == "numeric author id":
        tweet["author_id"] = 1002
    elif change == "float metric":
        tweet["public_metrics"]["like_count"] = 3.0
    elif change == "bool metric":
        tweet["public_metrics"]["like_count"] = True
    elif change == "null includes list":
        page["includes"]["tweets"] = None
    elif change == "metrics not an object":
        tweet["public_metrics"] = "lots"
    elif change == "unknown reference kind":
        tweet["referenced_tweets"] = [{"type": "mentioned", "id": "500"}, "junk"]
    elif change == "note tweet":
        tweet["note_tweet"] = {"text": "long " * 80 + "#Long", "entities": {"hashtags": [
            {"start": 400, "end": 405, "tag": "Long"}]}}  # fmt: skip
    elif change == "protected as text":
        user["protected"] = "no"
    elif change == "offset time":
        tweet["created_at"] = "2026-08-20T20:05:00.000+01:00"
    elif change == "single data object":
        page["data"] = page["data"][0]
    elif change == "empty includes":
        page["includes"] = {}
    elif change == "tag not text":
        tweet["entities"]["hashtags"][0]["tag"] = 7
    elif change == "duplicate tweet":
        page["includes"]["tweets"].append(copy.deepcopy(tweet))
    return page


ODDITIES = [
    "numeric author id", "float metric", "bool metric", "null includes list",
    "metrics not an object", "unknown reference kind", "note tweet", "protected as text",
    "offset time", "single data object", "empty includes", "tag not text", "duplicate tweet",
]  # fmt: skip


def test_flatten_page_values_matches_flatten_page_on_a_chat_page() -> None:
    page = chat_page()
    assert as_comparable(flatten_page_values(page)) == from_flatten_page(page)


@pytest.mark.parametrize("change", ODDITIES)
def test_flatten_page_values_matches_flatten_page_on_odd_pages(change: str) -> None:
    page = odd(change)
    assert as_comparable(flatten_page_values(page)) == from_flatten_page(page)


@pytest.mark.parametrize("change", ["none", *ODDITIES])
def test_page_decoder_matches_flatten_page_values(change: str) -> None:
    page = chat_page() if change == "none" else odd(change)
    assert as_comparable(decoded(page)) == as_comparable(flatten_page_values(page))


def test_page_decoder_keeps_each_object_as_the_json_x_sent() -> None:
    line = b'{"data":[{"id":"7","text":"caf\\u00e9 \xf0\x9f\x8c\xb1","author_id":"1"}]}'
    values = PageDecoder().decode(line).values
    assert values.tweets[0][2] == '{"id":"7","text":"caf\\u00e9 🌱","author_id":"1"}'.encode()
    assert values.tweets[0][1][1] == "café 🌱"


def test_page_decoder_reuses_objects_seen_on_earlier_pages() -> None:
    decoder = PageDecoder()
    first = decoder.decode(msgspec.json.encode(chat_page())).values
    second = decoder.decode(msgspec.json.encode(chat_page())).values
    assert second.users[0] is first.users[0]  # decoded once, looked up the second time
    assert as_comparable(second) == as_comparable(first)


def test_page_decoder_reports_metadata_and_whether_there_was_data() -> None:
    page = {"meta": {"result_count": 0}, "__twarc": {"url": "u", "retrieved_at": "t"}}
    found = PageDecoder().decode(msgspec.json.encode(page))
    assert (found.has_data, found.meta, found.twarc, found.tcbot) == (
        False,
        {"result_count": 0},
        {"url": "u", "retrieved_at": "t"},
        None,
    )
    assert found.values.tweets == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'{"data": [{"text": "no id"}]}', "has no id"),
        (b'{"data": [{"id": 12}]}', "not an X id"),
        (b'{"data": "tweets"}', "not a list or an object"),
        (b'{"data": [{"id": "1", "created_at": "yesterday"}]}', "is not an X timestamp"),
        (b'{"data": [{"id": "1", "created_at": "2026-08-20T12:00:00"}]}', "has no time zone"),
        (b'{"data": [], "includes": {"users": [{"name": "x"}]}}', "user object"),
    ],
)
def test_page_decoder_raises_flattens_errors_for_pages_of_the_wrong_shape(
    line: bytes, message: str
) -> None:
    with pytest.raises(IngestError, match=message):
        PageDecoder().decode(line)


@pytest.mark.parametrize(
    "line", [b'{"data": [', b"not json", b'{"data": [{"id": "1", "text": "\xff"}]}', b""]
)
def test_page_decoder_raises_decode_errors_for_what_is_not_json(line: bytes) -> None:
    with pytest.raises((msgspec.DecodeError, UnicodeDecodeError)):
        PageDecoder().decode(line)
