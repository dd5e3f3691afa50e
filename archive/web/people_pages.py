"""`/people/{username}`: a person's tweets across chats, when the archive first saw them,
and whether they were welcomed or asked not to be contacted.

The username is matched in any case. A tweet is marked with the chat it was part of
when it was posted in that chat's window and carries the chat's hashtag or belongs to
the conversation of one of the chat's posts. A protected or suspended account's
tweets (and name) are hidden unless the viewer may and asks to see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from archive.chat_labels import x_text
from archive.chats import list_chats
from archive.models import Chat, OptOut, Tweet, TweetHashtag, User, Welcome
from archive.stats import first_tweet_times
from archive.visibility import is_hidden
from archive.web.reading import not_found, page_number, read_session, render, viewer

__all__ = ["person_page"]

PER_PAGE = 50
WELCOME_WORDS = {
    "known": "already in the archive before welcomes began: not welcomed",
    "queued": "a welcome reply is queued",
    "sent": "welcomed by the bot",
    "listed": "on the organisers' list, waiting for a person to welcome them",
    "done": "welcomed by an organiser",
    "skipped": "an organiser decided not to welcome them",
    "noted": "counted in the weekly welcome post",
    "opted_out": "asked not to be contacted before a welcome went out",
}


@dataclass(frozen=True, slots=True)
class PersonTweet:
    id: str
    text: str
    created_at: datetime | None
    url: str
    chat: Chat | None


def _user(session: Session, username: str) -> User | None:
    if session.get_bind().dialect.name == "sqlite":
        same = User.username.collate("NOCASE") == username  # the NOCASE index (0003_search)
    else:
        same = func.lower(User.username) == username.lower()
    return session.scalars(select(User).where(same).order_by(User.updated_at.desc())).first()


def _tweets(session: Session, user: User, *, page: int) -> tuple[list[PersonTweet], int]:
    total = session.scalar(select(func.count(Tweet.id)).where(Tweet.author_id == user.id)) or 0
    rows = session.execute(
        select(Tweet.id, Tweet.text, Tweet.created_at, Tweet.conversation_id)
        .where(Tweet.author_id == user.id)
        .order_by(Tweet.created_at.desc(), Tweet.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    ids = [row.id for row in rows]
    tags: dict[str, set[str]] = {}
    for tweet_id, tag in session.execute(
        select(TweetHashtag.tweet_id, TweetHashtag.tag).where(TweetHashtag.tweet_id.in_(ids))
    ):
        tags.setdefault(tweet_id, set()).add(tag)
    chats = list_chats(session) if rows else []
    username = user.username or "i"
    found = [
        PersonTweet(
            row.id,
            x_text(row.text),
            row.created_at,
            f"https://x.com/{username}/status/{row.id}",
            _chat_of(chats, row.created_at, tags.get(row.id, set()), row.conversation_id),
        )
        for row in rows
    ]
    return found, int(total)


def _chat_of(
    chats: list[Chat], at: datetime | None, tags: set[str], conversation: str | None
) -> Chat | None:
    for chat in chats:
        if at is None or not chat.starts_at <= at <= chat.ends_at:
            continue
        posts = {p.tweet_id for p in chat.posts}
        if chat.hashtag.lstrip("#").lower() in tags or conversation in posts:
            return chat
    return None


def _opt_out(session: Session, user: User) -> OptOut | None:
    key = (user.username or "").lower()
    return session.scalars(
        select(OptOut)
        .where(OptOut.removed_at.is_(None), or_(OptOut.user_id == user.id, OptOut.username_key == key))
        .order_by(OptOut.created_at)
    ).first()  # fmt: skip


def person_page(request: Request) -> Response:
    username = str(request.path_params["username"]).strip().removeprefix("@")
    who = viewer(request)
    page = page_number(request)
    with read_session(request) as session:
        user = _user(session, username) if username else None
        if user is None:
            raise not_found(f"Nobody called @{username} is in the archive. Try the search.")
        hidden = is_hidden(user.protected, user.suspended) and not who.include_protected
        tweets, total = ([], 0) if hidden else _tweets(session, user, page=page)
        hidden_total = (
            int(session.scalar(select(func.count(Tweet.id)).where(Tweet.author_id == user.id)) or 0)
            if hidden else 0
        )  # fmt: skip
        first = first_tweet_times(session, [user.id]).get(user.id)
        welcome = session.scalars(select(Welcome).where(Welcome.user_id == user.id)).first()
        opt_out = _opt_out(session, user)
    return render(request, "person.html", {
        "user": user,
        "shown_name": "" if hidden else (user.name or ""),
        "hidden": hidden,
        "hidden_total": hidden_total,
        "tweets": tweets,
        "total": total,
        "page": page,
        "more": page * PER_PAGE < total,
        "first_tweet": first,
        "welcome": welcome,
        "welcome_words": WELCOME_WORDS.get(welcome.status.value, "") if welcome else "",
        "opt_out": opt_out,
    })  # fmt: skip
