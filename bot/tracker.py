"""Polling a search into the archive: read from the cursor, store, advance, in one transaction.

The cursor (since_id) moves only in the transaction that stores the posts it
covers, so a crash between the read and the commit re-reads rather than loses.
The weekly-chat and archive work build the scheduled tracker on these two pieces.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from archive.cursors import advance_cursor, get_cursor
from archive.ingest import ingest_page
from bot.x_client import SearchResult, XClient


def store_search(sessions: sessionmaker[Session], result: SearchResult, *, cursor: str) -> int:
    """Archive every page of `result` and advance `cursor` to its newest id; returns new posts."""
    new = 0
    with sessions.begin() as session:
        for page in result.pages:
            new += ingest_page(
                session, page.payload, endpoint=page.endpoint, fetched_at=page.retrieved_at
            ).new_tweets
        if result.newest_id is not None:
            advance_cursor(session, cursor, result.newest_id, at=result.pages[0].retrieved_at)
    return new


def poll(client: XClient, sessions: sessionmaker[Session], query: str, *, max_pages: int) -> int:
    """One poll of `query` from its saved cursor (the cursor is named by the query)."""
    with sessions() as session:
        since_id = get_cursor(session, query)
    result = client.search_recent(query, since_id=since_id, max_pages=max_pages)
    return store_search(sessions, result, cursor=query)
