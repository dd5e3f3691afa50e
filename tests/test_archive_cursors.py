"""archive.cursors: poll cursors that only move forward, numerically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.cursors import advance_cursor, get_cursor
from archive.models import PollCursor

AT = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def test_get_cursor_never_advanced_is_none(session: Session) -> None:
    assert get_cursor(session, "search") is None


def test_advance_cursor_first_time_stores_it(session: Session) -> None:
    assert advance_cursor(session, "search", "1828000000000000002", at=AT) is True
    assert get_cursor(session, "search") == "1828000000000000002"


def test_advance_cursor_moves_forward_and_records_when(session: Session) -> None:
    advance_cursor(session, "search", "100", at=AT)
    assert advance_cursor(session, "search", "101", at=LATER) is True
    assert get_cursor(session, "search") == "101"
    updated_at = session.scalars(select(PollCursor.updated_at)).one()
    assert updated_at == LATER and updated_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("stored", "offered", "expected"),
    [
        ("100", "99", "100"),  # "99" > "100" as strings; as numbers it is older
        ("99", "100", "100"),
        ("999999999999999999", "1578516068309794817", "1578516068309794817"),
        ("1578516068309794817", "999999999999999999", "1578516068309794817"),
        ("1828000000000000002", "1828000000000000002", "1828000000000000002"),
    ],
)
def test_advance_cursor_compares_ids_as_numbers(
    session: Session, stored: str, offered: str, expected: str
) -> None:
    advance_cursor(session, "search", stored, at=AT)
    moved = advance_cursor(session, "search", offered, at=LATER)
    assert moved is (expected != stored)
    assert get_cursor(session, "search") == expected


def test_advance_cursor_older_id_keeps_updated_at(session: Session) -> None:
    advance_cursor(session, "search", "200", at=AT)
    advance_cursor(session, "search", "150", at=LATER)
    assert session.scalars(select(PollCursor.updated_at)).one() == AT


def test_advance_cursor_cursors_are_independent(session: Session) -> None:
    advance_cursor(session, "search", "500", at=AT)
    advance_cursor(session, "mentions", "7", at=AT)
    assert (get_cursor(session, "search"), get_cursor(session, "mentions")) == ("500", "7")


def test_advance_cursor_rolls_back_with_the_callers_transaction(session: Session) -> None:
    advance_cursor(session, "search", "100", at=AT)
    session.commit()
    advance_cursor(session, "search", "200", at=LATER)
    session.rollback()
    assert get_cursor(session, "search") == "100"


@pytest.mark.parametrize("bad", ["", "12a", "-5", " 12"])
def test_advance_cursor_rejects_non_ids(session: Session, bad: str) -> None:
    with pytest.raises(ValueError, match="is not an X id"):
        advance_cursor(session, "search", bad, at=AT)
