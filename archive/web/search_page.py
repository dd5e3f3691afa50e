"""`/search?q=...&page=N`: full-text search (archive/search.py) with matches marked.

What a person types goes through archive/search_query.py, never to the database as
syntax; a query it cannot search (nothing to look for, too long, `a*`) is shown back
with what to type instead, never as an error page. Matches are marked with <mark> by
archive/web/marking.py, which escapes the text before marking it.

On SQLite the search index is brought up to date before a search: the pages read on
a read-only engine, so that small write goes through `app.state.write_sessions` when
the app has one. Without one, a search that finds the index behind says to try again
once tcbot has caught up (the next search from the command line or the hosting pages
brings it up to date).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from archive.errors import SearchError
from archive.search import MAX_LIMIT, Hit, search
from archive.search_index import pending_count, refresh_index
from archive.web.marking import marked_html
from archive.web.reading import (
    page_number,
    read_session,
    render,
    short_time,
    state_value,
    viewer,
)

__all__ = ["search_page"]

log = logging.getLogger(__name__)

PER_PAGE = 20
CATCHING_UP = (
    "The search index is catching up with the newest tweets. Try again in a minute; "
    "if this keeps happening, run a search with 'tcbot archive search' once."
)


@dataclass(frozen=True, slots=True)
class ShownHit:
    hit: Hit
    html: Markup


def _refresh(request: Request, session: Session) -> None:
    """Bring SQLite's index up to date through the write sessions, if it is behind."""
    writer: sessionmaker[Session] | None = state_value(request, "write_sessions")
    if writer is None or session.get_bind().dialect.name != "sqlite":
        return
    if pending_count(session):
        with writer.begin() as write:
            refresh_index(write)
        session.rollback()  # end the read snapshot from before the refresh


def _search(request: Request, query: str, *, limit: int, include_protected: bool) -> list[Hit]:
    with read_session(request) as session:
        _refresh(request, session)
        return search(session, query, limit=limit, include_protected=include_protected)


def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    page = page_number(request)
    who = viewer(request)
    context: dict[str, object] = {"q": query, "page": page, "hits": [], "more": False,
                                  "problem": None, "some_hidden": False, "searched": bool(query), "times": {}}  # fmt: skip
    if not query:
        return render(request, "search.html", context)
    end = page * PER_PAGE
    if end > MAX_LIMIT:
        context["problem"] = (
            f"Only the best {MAX_LIMIT} matches can be paged through. Add a word to narrow it."
        )
        return render(request, "search.html", context, status_code=400)
    try:
        hits = _search(request, query, limit=min(end + 1, MAX_LIMIT),
                       include_protected=who.include_protected)  # fmt: skip
        if not who.include_protected:
            everyone = _search(request, query, limit=end, include_protected=True)
            shown_ids = {h.tweet_id for h in hits}
            context["some_hidden"] = any(h.tweet_id not in shown_ids for h in everyone)
    except SearchError as error:
        context["problem"] = f"Cannot search for that: {error.what}. Try this: {error.fix}."
        return render(request, "search.html", context, status_code=400)
    except DBAPIError:
        log.warning("web search %r could not run on the read-only database", query[:80])
        context["problem"] = CATCHING_UP
        return render(request, "search.html", context, status_code=503)
    context["hits"] = [
        ShownHit(h, marked_html(h.text, h.highlights)) for h in hits[end - PER_PAGE : end]
    ]
    context["more"] = len(hits) > end
    zone = request.app.state.zone
    context["times"] = {h.tweet_id: short_time(h.created_at, zone) for h in hits}
    return render(request, "search.html", context)
