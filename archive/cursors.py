"""Poll cursors: for each named poll, the newest X id it has stored.

A cursor comes from data (the newest id stored) and advances in the same
transaction as the rows it covers, so a crash can never leave it ahead of them
(STYLE rule 13). X ids are 64-bit snowflakes kept as text; "newer" is decided
numerically in SQL (never as strings, where "99" > "100"), and a cursor only
ever moves forward.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import BigInteger, CursorResult, Table, cast, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.db import as_utc
from archive.flatten import X_ID
from archive.models import PollCursor

log = logging.getLogger(__name__)


def get_cursor(session: Session, name: str) -> str | None:
    """The since_id stored for the poll `name`, or None if it has never run."""
    query = select(PollCursor.since_id).where(PollCursor.name == name)
    return session.execute(query).scalar_one_or_none()


def advance_cursor(session: Session, name: str, since_id: str, *, at: datetime) -> bool:
    """Move the cursor `name` to `since_id` if that is newer; return whether it moved.

    An id older than (or equal to) the stored one is ignored. Runs in the caller's
    transaction and does not commit.
    """
    if not X_ID.fullmatch(since_id):
        raise ValueError(f"since_id {since_id!r} is not an X id (a string of digits)")
    table = PollCursor.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(name=name, since_id=since_id, updated_at=as_utc(at))
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"since_id": stmt.excluded.since_id, "updated_at": stmt.excluded.updated_at},
        where=cast(stmt.excluded.since_id, BigInteger) > cast(table.c.since_id, BigInteger),
    )
    result = session.execute(stmt, execution_options={"preserve_rowcount": True})
    assert isinstance(result, CursorResult)
    moved = result.rowcount > 0
    if moved:
        log.info("cursor %s advanced to %s", name, since_id)
    else:
        log.debug("cursor %s kept; %s is not newer", name, since_id)
    return moved
