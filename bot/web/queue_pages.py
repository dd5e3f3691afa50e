"""/host/queue and /host/posts/N/...: queue a chat, preview it, and act on posts to come.

- GET /host/queue: the queue form (date, topic, one box per question) and every post
  not yet sent, with hold, release, edit and cancel.
- POST /host/queue with action=preview shows the whole chat as it will be posted,
  every problem listed in `tcbot schedule check`'s words, and saves nothing; with
  action=save it checks again and adds the chat to the outbox with origin "web"
  (bot.outbox.add_chat), so `tcbot schedule sync` never overwrites it: a file that
  lists the same chat is reported there as a clash. Saving the same date again
  updates the web chat's unsent posts.
- POST /host/posts/N/hold and /release change one post (bot.outbox hold/release "#N");
  /edit changes its text (bot/web/post_edits.py); /cancel asks first, then cancels.

`back` (a form or query field) names the page to return to: the queue, or the
welcomes page for a weekly digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from archive.models import OutboxChat, OutboxPost, PostKind
from bot import outbox
from bot.errors import TcbotError
from bot.outbox_queue import UNSENT, describe
from bot.outbox_sync import origin_name
from bot.schedule_files import load_series
from bot.thread_text import MAX_WEIGHTED, weighted_length
from bot.web.chat_form import ChatDraft, DraftCheck, check_draft, counter_fields, read_draft
from bot.web.pagekit import Form, field, host, hosting, redirect, render
from bot.web.post_edits import TextError, edit_text, editable_post, post_name

__all__ = ["queue_routes"]

log = logging.getLogger(__name__)

QUEUE = "/host/queue"
BACK_PAGES = (QUEUE, "/host/welcomes")


@dataclass(frozen=True, slots=True)
class PostRow:
    """One post to come, as the queue page lists it."""

    id: int
    what: str
    due_at: datetime
    status: str
    text: str
    length: int
    held: bool
    editable: bool  # False for a post of a chat loaded from a file
    origin: str

    @property
    def too_long(self) -> bool:
        return self.length > MAX_WEIGHTED


def upcoming(session: Session) -> list[PostRow]:
    """Every post not yet sent (queued or held), in due order."""
    query = (
        select(OutboxPost, OutboxChat.origin)
        .outerjoin(OutboxPost.chat)
        .where(OutboxPost.status.in_(UNSENT))
        .order_by(OutboxPost.due_at, OutboxPost.id)
    )
    return [_row(post, origin or "") for post, origin in session.execute(query)]


def _row(post: OutboxPost, origin: str) -> PostRow:
    return PostRow(
        id=post.id, what=describe(post), due_at=post.due_at, status=post.status.value,
        text=post.text, length=weighted_length(post.text), held=post.status.value == "held",
        editable=not origin.startswith("file:"), origin=origin_name(origin) if origin else "",
    )  # fmt: skip


def _series_file(request: Request) -> Path:
    return Path(host(request).settings.schedule_files[0])


def _queue_context(request: Request, draft: ChatDraft, check: DraftCheck | None) -> dict[str, Any]:
    hosting = host(request)
    try:
        counter: dict[str, object] | None = counter_fields(
            load_series(_series_file(request)), now=hosting.clock.now()
        )
        series_error = ""
    except TcbotError as exc:
        counter, series_error = None, str(exc)
    with hosting.read_sessions() as session:
        posts = upcoming(session)
    return {
        "draft": draft, "boxes": draft.boxes(), "check": check, "counter": counter,
        "series_file": str(_series_file(request)), "series_error": series_error, "posts": posts,
        "max": MAX_WEIGHTED,
    }  # fmt: skip


def queue_page(request: Request, form: Form) -> Response:
    """The queue form and the posts to come."""
    return render(request, "host_queue.html", _queue_context(request, ChatDraft("", "", ()), None))


def queue_submit(request: Request, form: Form) -> Response:
    """Preview (action=preview) or save (action=save) the chat in the form."""
    hosting = host(request)
    boxes = form.getlist("question")  # type: ignore[attr-defined]
    questions = [q for q in boxes if isinstance(q, str)]
    draft = read_draft(field(form, "date"), field(form, "topic"), questions)
    check = check_draft(draft, series_file=_series_file(request), now=hosting.clock.now())
    if field(form, "action") != "save" or not check.ok or check.plan is None:
        status = 200 if field(form, "action") != "save" else 400
        return render(
            request, "host_queue.html", _queue_context(request, draft, check), status=status
        )
    with hosting.write_sessions.begin() as session:
        report = outbox.add_chat(session, check.plan, origin="web", now=hosting.clock.now())
    if report.clashes:
        context = _queue_context(request, draft, check)
        context["errors"] = [*report.clashes]
        return render(request, "host_queue.html", context, status=409)
    plan = check.plan
    log.info("web: queued %s %s (%d posts)", plan.series, plan.chat_date, len(plan.posts))
    lines = [*report.added, *report.updated, *report.cancelled, *report.kept_sent]
    return redirect(
        request, QUEUE, *(lines or ["Nothing changed: the chat was already queued like this."]),
        "Saved. The posts are listed below; the bot (tcbot run) posts them on time.",
    )  # fmt: skip


def _back(value: str) -> str:
    return value if value in BACK_PAGES else QUEUE


def _change(request: Request, form: Form, action: str) -> Response:
    hosting = host(request)
    post_id = int(request.path_params["post_id"])
    back = _back(field(form, "back"))
    try:
        with hosting.write_sessions.begin() as session:
            count = getattr(outbox, action)(session, f"#{post_id}", at=hosting.clock.now())
            name = post_name(outbox.select_posts(session, f"#{post_id}")[0])
    except TcbotError as exc:
        return redirect(request, back, str(exc), kind="error")
    if not count:
        return redirect(request, back, f"Post {name} was not {_DONE[action]}: {_WHY[action]}.",
                        kind="error")  # fmt: skip
    return redirect(request, back, f"Post {name} {_DONE[action]}.")


_DONE = {"hold": "held", "release": "released", "cancel": "cancelled"}
_WHY = {
    "hold": "only a queued post can be held",
    "release": "only a held post can be released",
    "cancel": "only a post not yet sent can be cancelled",
}


def hold_post(request: Request, form: Form) -> Response:
    """Hold one queued post (it is not posted until released)."""
    return _change(request, form, "hold")


def release_post(request: Request, form: Form) -> Response:
    """Queue a held post again."""
    return _change(request, form, "release")


def cancel_post(request: Request, form: Form) -> Response:
    """Ask first (no confirmed=yes), then cancel one post not yet sent."""
    if field(form, "confirmed") == "yes":
        return _change(request, form, "cancel")
    post_id = int(request.path_params["post_id"])
    back = _back(field(form, "back"))
    with host(request).read_sessions() as session:
        post = session.get(OutboxPost, post_id)
        if post is None:
            return redirect(request, back, f"There is no post #{post_id}.", kind="error")
        row = _row(post, post.chat.origin if post.chat else "")
    return render(request, "host_cancel_post.html", {"post": row, "back": back})


def edit_post(request: Request, form: Form) -> Response:
    """GET: the post's text in a box; POST: save the new text (checked)."""
    hosting = host(request)
    post_id = int(request.path_params["post_id"])
    back = _back(field(form, "back") or request.query_params.get("back", ""))
    try:
        if request.method == "POST":
            text = field(form, "text")
            with hosting.write_sessions.begin() as session:
                post = edit_text(session, post_id, text, now=hosting.clock.now())
                name = post_name(post)
            return redirect(request, back, f"Post {name}: text saved.")
        with hosting.read_sessions() as session:
            post = editable_post(session, post_id)
            text, name = post.text, post_name(post)
            digest = post.kind is PostKind.DIGEST
    except TextError as exc:
        return _edit_again(request, post_id, field(form, "text"), back, str(exc))
    except TcbotError as exc:
        return redirect(request, back, str(exc), kind="error")
    context = {"post_id": post_id, "name": name, "text": text, "back": back, "digest": digest,
               "max": MAX_WEIGHTED, "length": weighted_length(text)}  # fmt: skip
    return render(request, "host_edit_post.html", context)


def _edit_again(request: Request, post_id: int, text: str, back: str, error: str) -> Response:
    """The edit form again with the host's text and what is wrong with it."""
    with host(request).read_sessions() as session:
        post = session.get(OutboxPost, post_id)
        name = post_name(post) if post is not None else f"#{post_id}"
        digest = post is not None and post.kind is PostKind.DIGEST
    context = {"post_id": post_id, "name": name, "text": text, "back": back, "digest": digest,
               "max": MAX_WEIGHTED, "length": weighted_length(text), "errors": [error]}  # fmt: skip
    return render(request, "host_edit_post.html", context, status=400)


def queue_routes() -> list[BaseRoute]:
    return [
        Route(QUEUE, hosting(queue_page), methods=["GET"]),
        Route(QUEUE, hosting(queue_submit), methods=["POST"]),
        Route("/host/posts/{post_id:int}/hold", hosting(hold_post), methods=["POST"]),
        Route("/host/posts/{post_id:int}/release", hosting(release_post), methods=["POST"]),
        Route("/host/posts/{post_id:int}/cancel", hosting(cancel_post), methods=["POST"]),
        Route("/host/posts/{post_id:int}/edit", hosting(edit_post), methods=["GET", "POST"]),
    ]
