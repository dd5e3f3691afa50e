"""archive.flatten: X API v2 pages to row values (pure, no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from archive.errors import IngestError
from archive.flatten import (
    HashtagRow,
    MentionRow,
    ReferenceRow,
    flatten_page,
    flatten_tweet,
    parse_x_time,
)
from archive.models import ReferenceKind

# A search page as X sends it (GET /2/tweets/search/recent with expansions).
SEARCH_PAGE: dict[str, Any] = {
    "data": [
        {
            "edit_history_tweet_ids": ["1828000000000000002"],
            "id": "1828000000000000002",
            "text": "@ada Welcome! #TraineeTalk #traineetalk #TherapistsConnect",
            "author_id": "2002",
            "created_at": "2026-08-20T12:05:00.000Z",
            "conversation_id": "1828000000000000001",
            "in_reply_to_user_id": "1001",
            "lang": "en",
            "public_metrics": {
                "retweet_count": 1,
                "reply_count": 2,
                "like_count": 3,
                "quote_count": 4,
                "bookmark_count": 0,
                "impression_count": 50,
            },
            "referenced_tweets": [
                {"type": "replied_to", "id": "1828000000000000001"},
                {"type": "quoted", "id": "1827000000000000009"},
            ],
            "entities": {
                "hashtags": [
                    {"start": 14, "end": 26, "tag": "TraineeTalk"},
                    {"start": 27, "end": 39, "tag": "traineetalk"},
                    {"start": 40, "end": 58, "tag": "TherapistsConnect"},
                ],
                "mentions": [{"start": 0, "end": 4, "username": "ada", "id": "1001"}],
            },
        }
    ],
    "includes": {
        "users": [
            {"id": "2002", "name": "Grace", "username": "grace", "protected": False},
            {"id": "1001", "name": "Ada", "username": "ada", "description": "trainee"},
        ],
        "tweets": [
            {
                "edit_history_tweet_ids": ["1827000000000000009"],
                "id": "1827000000000000009",
                "text": "Q1 tonight",
                "author_id": "3003",
                "created_at": "2026-08-19T19:00:00.000Z",
            }
        ],
    },
    "meta": {
        "newest_id": "1828000000000000002",
        "oldest_id": "1828000000000000002",
        "result_count": 1,
    },
}


def test_flatten_page_search_page_gives_every_row() -> None:
    flat = flatten_page(SEARCH_PAGE)
    assert [t.id for t in flat.tweets] == ["1828000000000000002", "1827000000000000009"]
    assert [u.id for u in flat.users] == ["2002", "1001"]
    assert flat.unprofiled_author_ids == ("3003",)
    assert flat.references == (
        ReferenceRow("1828000000000000002", ReferenceKind.REPLIED_TO, "1828000000000000001"),
        ReferenceRow("1828000000000000002", ReferenceKind.QUOTED, "1827000000000000009"),
    )
    assert flat.mentions == (MentionRow("1828000000000000002", "1001", "ada"),)


def test_flatten_page_hashtags_are_lower_cased_once_per_tweet() -> None:
    flat = flatten_page(SEARCH_PAGE)
    assert flat.hashtags == (
        HashtagRow("1828000000000000002", "traineetalk", "TraineeTalk"),
        HashtagRow("1828000000000000002", "therapistsconnect", "TherapistsConnect"),
    )


def test_flatten_tweet_reads_every_column() -> None:
    row = flatten_page(SEARCH_PAGE).tweets[0]
    assert row.author_id == "2002"
    assert row.created_at == datetime(2026, 8, 20, 12, 5, tzinfo=UTC)
    assert row.conversation_id == "1828000000000000001"
    assert row.in_reply_to_user_id == "1001"
    assert row.lang == "en"
    assert (row.reply_count, row.retweet_count, row.like_count, row.quote_count) == (2, 1, 3, 4)
    assert row.raw is SEARCH_PAGE["data"][0]


def test_flatten_user_reads_profile_fields() -> None:
    grace, ada = flatten_page(SEARCH_PAGE).users
    assert (grace.username, grace.name, grace.protected, grace.description) == (
        "grace",
        "Grace",
        False,
        None,
    )
    assert (ada.protected, ada.description) == (None, "trainee")


def test_flatten_page_single_object_data_from_create_tweet() -> None:
    page = {"data": {"id": "1828000000000000005", "text": "Q1", "edit_history_tweet_ids": []}}
    (row,) = flatten_page(page).tweets
    assert (row.id, row.text, row.author_id, row.created_at, row.like_count) == (
        "1828000000000000005",
        "Q1",
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "page",
    [{"meta": {"result_count": 0}}, {"errors": [{"title": "Not Found Error"}]}, {}],
    ids=["empty-search", "errors-only", "nothing"],
)
def test_flatten_page_without_data_is_empty(page: dict[str, Any]) -> None:
    flat = flatten_page(page)
    assert (flat.tweets, flat.users, flat.references, flat.unprofiled_author_ids) == (
        (),
        (),
        (),
        (),
    )


def test_flatten_page_data_copy_wins_over_included_copy() -> None:
    data = {"id": "5", "text": "from data", "public_metrics": {"like_count": 9}}
    included = {"id": "5", "text": "from includes"}
    flat = flatten_page({"data": [data], "includes": {"tweets": [included]}})
    assert [(t.id, t.text, t.like_count) for t in flat.tweets] == [("5", "from data", 9)]


def test_flatten_tweet_long_post_uses_note_tweet_text_and_entities() -> None:
    obj = {
        "id": "6",
        "text": "A long answer that X cut off at 280 characters #Trainee…",
        "note_tweet": {
            "text": "A long answer, in full. #TraineeTalk",
            "entities": {"hashtags": [{"start": 24, "end": 36, "tag": "TraineeTalk"}]},
        },
    }
    flat = flatten_page({"data": [obj]})
    assert flat.tweets[0].text == "A long answer, in full. #TraineeTalk"
    assert flat.hashtags == (HashtagRow("6", "traineetalk", "TraineeTalk"),)


def test_flatten_page_skips_unknown_reference_kinds_and_mentions_without_id() -> None:
    obj = {
        "id": "7",
        "text": "@ghost hi",
        "referenced_tweets": [{"type": "reposted_with_note", "id": "8"}],
        "entities": {"mentions": [{"start": 0, "end": 6, "username": "ghost"}]},
    }
    flat = flatten_page({"data": [obj]})
    assert (flat.references, flat.mentions) == ((), ())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-20T12:05:00.000Z", datetime(2026, 8, 20, 12, 5, tzinfo=UTC)),
        ("2026-08-20T12:05:00.123Z", datetime(2026, 8, 20, 12, 5, 0, 123000, tzinfo=UTC)),
        ("2026-08-20T13:05:00.000+01:00", datetime(2026, 8, 20, 12, 5, tzinfo=UTC)),
        (None, None),
    ],
)
def test_parse_x_time_gives_aware_utc(value: str | None, expected: datetime | None) -> None:
    parsed = parse_x_time(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "created_at 'yesterday' of tweet 9 is not an X timestamp"),
        (
            "2026-08-20T12:05:00.000",
            "created_at '2026-08-20T12:05:00.000' of tweet 9 has no time zone",
        ),
    ],
)
def test_flatten_tweet_bad_created_at_raises_ingest_error(value: str, message: str) -> None:
    with pytest.raises(IngestError) as caught:
        flatten_tweet({"id": "9", "text": "x", "created_at": value})
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (
            {"data": [{"text": "hello", "author_id": "1"}]},
            "a tweet object in the page has no id (its fields: author_id, text)",
        ),
        ({"data": [{"id": 123, "text": "x"}]}, "a tweet object has id 123, not an X id"),
        ({"data": [{"id": "abc", "text": "x"}]}, "a tweet object has id 'abc', not an X id"),
        ({"data": ["1234"]}, "a tweet in the page is a str, not an object"),
        ({"data": "1234"}, "the page's data is a str, not a list or an object"),
        ({"includes": {"users": [{"name": "Ada"}]}}, "a user object in the page has no id"),
        ({"includes": {"tweets": {"id": "1"}}}, "the page's includes.tweets is not a list"),
        ({"includes": ["users"]}, "the page's includes is a list, not an object"),
    ],
)
def test_flatten_page_malformed_page_raises_ingest_error(
    page: dict[str, Any], message: str
) -> None:
    with pytest.raises(IngestError) as caught:
        flatten_page(page)
    assert str(caught.value).startswith(message)


def test_flatten_page_not_a_json_object_raises_ingest_error() -> None:
    with pytest.raises(IngestError, match="must be a JSON object, not list"):
        flatten_page([])  # type: ignore[arg-type]


def test_flatten_page_rows_are_frozen() -> None:
    row = flatten_page(SEARCH_PAGE).tweets[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.text = "edited"  # type: ignore[misc]
