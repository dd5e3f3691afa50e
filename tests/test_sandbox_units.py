"""The sandbox's pure pieces: ids, text rules, tokens, auth parsing, time formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.auth import AuthKind, Caller, parse_authorization
from bot.sandbox.clock import SandboxClock, format_timestamp, parse_timestamp
from bot.sandbox.ids import id_time, is_valid_id, snowflake, to_ms
from bot.sandbox.pagination import Cursor, Direction, decode_token, encode_token, paginate
from bot.sandbox.problems import ApiError
from bot.sandbox.records import Tweet
from bot.sandbox.text import (
    hashtags,
    mentions,
    reply_prefix_length,
    weighted_length,
    with_reply_prefix,
)

WHEN = datetime(2026, 8, 20, 12, 5, 0, 123000, tzinfo=UTC)


def test_ids_snowflake_round_trips_its_time() -> None:
    post_id = snowflake(to_ms(WHEN), 7)
    assert id_time(post_id) == WHEN
    assert post_id & 0x3FFFFF == 7
    assert snowflake(to_ms(WHEN), 0) < post_id < snowflake(to_ms(WHEN) + 1, 0)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1", True),
        ("1234567890123456789", True),
        ("12345678901234567890", False),
        ("1a", False),
        ("", False),
        ("-1", False),
    ],
)
def test_ids_valid_form(text: str, valid: bool) -> None:
    assert is_valid_id(text) is valid


def test_clock_formats_milliseconds_and_parses_rfc3339() -> None:
    assert format_timestamp(WHEN) == "2026-08-20T12:05:00.123Z"
    assert parse_timestamp("2026-08-20T12:05:00Z") == WHEN.replace(microsecond=0)
    assert parse_timestamp("2026-08-20T13:05:00.123+01:00") == WHEN
    assert parse_timestamp("2026-08-20T12:05:00") is None
    assert parse_timestamp("yesterday") is None


def test_clock_offset_moves_sandbox_time_only() -> None:
    clock = SandboxClock(lambda: WHEN)
    assert clock.advance(60) == WHEN + timedelta(minutes=1)
    assert clock.set(datetime(2027, 1, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    clock.reset()
    assert clock.now() == WHEN


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("Join #TraineeTalk tonight", [(5, 17, "TraineeTalk")]),
        ("#a,#b", [(0, 2, "a"), (3, 5, "b")]),
        ("year #2026 and a#b", []),
        ("café #thérapie", [(5, 14, "thérapie")]),
    ],
)
def test_text_hashtags_have_x_offsets(text: str, tags: list[tuple[int, int, str]]) -> None:
    assert [(e.start, e.end, e.value) for e in hashtags(text)] == tags


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@tcbot hi @Ana_1", ["tcbot", "Ana_1"]),
        ("mail me@example.com", []),
        ("@abcdefghijklmnop too long", []),
        ("(@ana)", ["ana"]),
    ],
)
def test_text_mentions(text: str, names: list[str]) -> None:
    assert [e.value for e in mentions(text)] == names


def test_text_reply_prefix_is_added_once() -> None:
    assert with_reply_prefix("thanks", "ana") == "@ana thanks"
    assert with_reply_prefix("@ANA thanks", "ana") == "@ANA thanks"
    assert with_reply_prefix("@anabel thanks", "ana") == "@ana @anabel thanks"
    assert reply_prefix_length("@ana thanks", "ana") == 5
    assert reply_prefix_length("thanks @ana", "ana") == 0


def test_text_weighted_length_uses_twitter_text() -> None:
    assert weighted_length("日本語") == 6
    assert weighted_length("see https://example.com/a/very/long/path/indeed") == 27


def _tweets(n: int) -> list[Tweet]:
    return [Tweet(str(100 - i), f"t{i}", "1", WHEN, str(100 - i)) for i in range(n)]


def test_pagination_pages_forward_and_back() -> None:
    items = _tweets(25)
    first = paginate(items, size=10, cursor=None)
    assert [t.id for t in first.items] == [str(i) for i in range(100, 90, -1)]
    assert first.previous_cursor is None and first.next_cursor is not None
    second = paginate(items, size=10, cursor=first.next_cursor)
    assert second.items[0].id == "90"
    assert second.previous_cursor is not None
    back = paginate(items, size=10, cursor=second.previous_cursor)
    assert back.items == first.items
    last = paginate(
        items, size=10, cursor=paginate(items, size=10, cursor=second.next_cursor).previous_cursor
    )
    assert last.items == second.items


def test_pagination_tokens_are_opaque_and_scoped() -> None:
    cursor = Cursor(Direction.OLDER, 2125675695173533696)
    token = encode_token(cursor, scope="search\n#a")
    assert "2125675695173533696" not in token and token.isalnum()
    assert decode_token(token, scope="search\n#a", parameter="next_token") == cursor
    with pytest.raises(ApiError) as caught:
        decode_token(token, scope="search\n#b", parameter="next_token")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("header", "caller"),
    [
        (
            'OAuth oauth_consumer_key="k", oauth_token="42-abc", oauth_signature="s%3D"',
            Caller(AuthKind.USER, "42"),
        ),
        ('OAuth oauth_consumer_key="k",oauth_token="42%2Dabc"', Caller(AuthKind.USER, "42")),
        ("Bearer AAAA", Caller(AuthKind.APP)),
        ("Bearer None", None),
        ("Bearer ", None),
        ('OAuth oauth_token="42-abc"', None),
        ('OAuth oauth_consumer_key="k", oauth_token="abc-42"', None),
        ("Basic Zm9vOmJhcg==", None),
        (None, None),
    ],
)
def test_auth_parses_oauth1_and_bearer(header: str | None, caller: Caller | None) -> None:
    assert parse_authorization(header) == caller
