"""The chats pages: `/` (every chat, newest first, with a week-on-week chart), `/chats/{id}`
(a chat's transcript, filtered by a plain GET form) and `/chats/{id}.json|.md|.html|.csv`
(downloads made by the archive's own renderers, archive/transcript_formats.py and
archive/transcript_html.py, as attachments).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from archive.chats import find_chat
from archive.errors import TcbotError
from archive.gaps import gaps_overlapping
from archive.models import Chat
from archive.transcript_formats import render_csv, render_json, render_markdown
from archive.transcript_html import render_html
from archive.transcripts import Transcript
from archive.web.chart import Point, bar_chart
from archive.web.chat_counts import ChatRow, CountsCache, chat_rows
from archive.web.chat_view import page_transcript, parse_filters, shown_rows
from archive.web.reading import (
    current_time,
    not_found,
    read_session,
    render,
    viewer,
)

log = logging.getLogger(__name__)

__all__ = ["chat_page", "chats_page", "download"]

CHART_CHATS = 26  # the chart shows the last half year of weekly chats
DOWNLOADS = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def chats_page(request: Request) -> Response:
    who = viewer(request)
    zone: ZoneInfo = request.app.state.zone
    with read_session(request) as session:
        rows = chat_rows(session, include_protected=who.include_protected, cache=_cache(request))
    recent = rows[-CHART_CHATS:]
    points = [
        Point(_short_date(r, zone), r.counts.participants, r.counts.newcomers) for r in recent
    ]
    return render(request, "chats.html", {
        "rows": list(reversed(rows)),
        "chart": bar_chart(points) if points else None,
        "points": points,
        "recent": recent,
    })  # fmt: skip


def _cache(request: Request) -> CountsCache:
    return counts_cache(request.app)


def counts_cache(app: Any) -> CountsCache:
    """The app's remembered chat counts (made on first use)."""
    cache = getattr(app.state, "reading_counts_cache", None)
    if not isinstance(cache, CountsCache):
        cache = CountsCache()
        app.state.reading_counts_cache = cache
    return cache


def warm_counts(app: Any) -> threading.Thread:
    """Count every chat in the background now, so the first visitor of the chats page
    after a start does not wait for it (seconds on a large archive)."""

    def count() -> None:
        try:
            with app.state.read_sessions() as session:
                chat_rows(session, include_protected=False, cache=counts_cache(app))
        except Exception:  # a page view will count (and report) it instead
            log.exception("counting the chats in the background failed")

    thread = threading.Thread(target=count, name="tcbot-count-chats", daemon=True)
    thread.start()
    return thread


def _short_date(row: ChatRow, zone: ZoneInfo) -> str:
    local = row.starts_at.astimezone(zone)
    return f"{local.day} {local:%b}"


def _chat(session: Session, request: Request) -> Chat:
    try:
        return find_chat(session, str(request.path_params["chat_id"]), zone=request.app.state.zone)
    except TcbotError:
        raise not_found("There is no chat with that number. The chats page lists them all.")


def _transcript(session: Session, chat: Chat, *, include_protected: bool) -> tuple[Transcript, int]:
    gaps = gaps_overlapping(
        session, hashtag=chat.hashtag, starts_at=chat.starts_at, ends_at=chat.ends_at
    )
    return page_transcript(session, chat, include_protected=include_protected, gaps=gaps)


def chat_page(request: Request) -> Response:
    who = viewer(request)
    zone: ZoneInfo = request.app.state.zone
    filters = parse_filters(request.query_params)
    with read_session(request) as session:
        chat = _chat(session, request)
        transcript, hidden = _transcript(session, chat, include_protected=who.include_protected)
    questions, general = shown_rows(transcript, filters, zone=zone)
    context: dict[str, Any] = {
        "t": transcript,
        "chat": transcript.chat,
        "hidden": hidden,
        "filters": filters,
        "questions": questions,
        "general": general,
        "numbers": [q.number for q in transcript.questions],
        "downloads": list(DOWNLOADS),
        "gaps": [(g.starts_at, g.ends_at, g.hashtag) for g in transcript.gaps],
    }
    return render(request, "chat.html", context)


def download(request: Request) -> Response:
    fmt = str(request.path_params["fmt"])
    if fmt not in DOWNLOADS:
        raise not_found("Transcripts download as .json, .md, .html or .csv.")
    who = viewer(request)
    zone: ZoneInfo = request.app.state.zone
    with read_session(request) as session:
        chat = _chat(session, request)
        transcript, _ = _transcript(session, chat, include_protected=who.include_protected)
    if fmt == "json":
        body = render_json(transcript)
    elif fmt == "md":
        body = render_markdown(transcript, zone=zone)
    elif fmt == "csv":
        body = render_csv(transcript)
    else:
        body = render_html(transcript, zone=zone, generated_at=current_time(request))
    name = f"chat-{chat.id}-{chat.starts_at.astimezone(zone):%Y-%m-%d}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=DOWNLOADS[fmt], headers=headers)
