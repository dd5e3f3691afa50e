"""The chats table: recording the chats the bot ran, adding others by hand, finding them again.

A chat is a hashtag, a host account and a time window. The chats the bot ran are
recorded from the outbox by `record_bot_chats` (idempotent: call it before
anything reads chats): every outbox chat whose intro was sent becomes a chat from
15 minutes before the intro to 1 hour after the closing post (or after the last
post sent so far, while the chat is still going), with its intro, question and
closing posts. Other chats are added with `add_chat`; their questions are found
in the archive when a transcript is built (archive/chat_tweets.py).

Times are aware UTC. `parse_chat_time` reads what a person types: any ISO 8601
form, with a zone or offset, or without one meaning local time in the given zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.errors import TcbotError
from archive.models import (
    Chat,
    ChatOrigin,
    ChatPost,
    OutboxChat,
    OutboxPost,
    PostKind,
    Tweet,
    User,
)

log = logging.getLogger(__name__)

__all__ = [
    "AFTER_CLOSE",
    "BEFORE_INTRO",
    "MAX_WINDOW",
    "RecordReport",
    "add_chat",
    "find_chat",
    "list_chats",
    "normalise_hashtag",
    "normalise_username",
    "parse_chat_time",
    "record_bot_chats",
]

BEFORE_INTRO = timedelta(minutes=15)
AFTER_CLOSE = timedelta(hours=1)
MAX_WINDOW = timedelta(hours=24)
CHAT_KINDS = (PostKind.INTRO, PostKind.QUESTION, PostKind.CLOSING)
_HASHTAG = re.compile(r"#\w*[^\W\d]\w*")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
TIME_EXAMPLES = "2026-12-02T19:55Z (UTC), 2026-12-02T19:55+01:00, or 2026-12-02 19:55"


@dataclass(frozen=True, slots=True)
class RecordReport:
    """The ids of the chats `record_bot_chats` added and of those it changed."""

    created: tuple[int, ...]
    updated: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Sent:
    kind: PostKind
    number: int
    x_id: str
    at: datetime


def record_bot_chats(session: Session, *, host: str | None = None) -> RecordReport:
    """Create or bring up to date a chat for every outbox chat whose intro was sent.

    The host is the archived author of the intro, else `host` (the bot's username
    from the settings), else what was recorded before. Does not commit.
    """
    sent = _sent_posts(session)
    if not sent:
        return RecordReport((), ())
    outbox_chats = {
        chat.id: chat
        for chat in session.scalars(select(OutboxChat).where(OutboxChat.id.in_(list(sent))))
    }
    existing = {
        chat.outbox_chat_id: chat
        for chat in session.scalars(
            select(Chat)
            .where(Chat.outbox_chat_id.in_(list(sent)))
            .options(selectinload(Chat.posts))
        )
    }
    authors = _intro_authors(session, [posts[0].x_id for posts in sent.values()])
    created: list[Chat] = []
    updated: list[int] = []
    for outbox_id, posts in sorted(sent.items()):
        chat = existing.get(outbox_id)
        if chat is None:
            chat = Chat(origin=ChatOrigin.BOT, outbox_chat_id=outbox_id, host="", posts=[])
            session.add(chat)
            created.append(chat)
        known_host = authors.get(posts[0].x_id) or host or chat.host or ""
        if _apply(chat, outbox_chats[outbox_id], posts, host=known_host) and chat not in created:
            updated.append(chat.id)
    session.flush()
    report = RecordReport(tuple(chat.id for chat in created), tuple(updated))
    if created or updated:
        log.info("recorded bot chats: %d new, %d updated", len(created), len(updated))
    return report


def _sent_posts(session: Session) -> dict[int, list[_Sent]]:
    """The sent intro, question and closing posts per outbox chat, intro first; chats whose
    intro was not sent are left out."""
    rows = session.execute(
        select(
            OutboxPost.chat_id,
            OutboxPost.kind,
            OutboxPost.number,
            OutboxPost.x_id,
            func.coalesce(OutboxPost.sent_at, OutboxPost.due_at),
        )
        .where(OutboxPost.x_id.is_not(None), OutboxPost.kind.in_(CHAT_KINDS))
        .order_by(OutboxPost.chat_id, OutboxPost.due_at, OutboxPost.id)
    )
    by_chat: dict[int, list[_Sent]] = {}
    for chat_id, kind, number, x_id, at in rows:
        if x_id is not None and chat_id is not None:  # (the query asks for these only)
            by_chat.setdefault(chat_id, []).append(_Sent(kind, number, x_id, _aware(at)))
    for chat_id, posts in list(by_chat.items()):
        intro = [post for post in posts if post.kind is PostKind.INTRO]
        if not intro:
            del by_chat[chat_id]
            continue
        by_chat[chat_id] = intro[:1] + [post for post in posts if post is not intro[0]]
    return by_chat


def _aware(moment: datetime) -> datetime:
    """coalesce() loses the UTC type on SQLite: attach UTC to a naive value."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _intro_authors(session: Session, intro_ids: Sequence[str]) -> dict[str, str]:
    rows = session.execute(
        select(Tweet.id, User.username)
        .join(User, User.id == Tweet.author_id)
        .where(Tweet.id.in_(list(intro_ids)), User.username.is_not(None))
    )
    return {tweet_id: username for tweet_id, username in rows if username}


def _apply(chat: Chat, outbox: OutboxChat, posts: Sequence[_Sent], *, host: str) -> bool:
    """Make `chat` match its outbox chat; True if anything changed."""
    intro = posts[0]
    closing = [post for post in posts if post.kind is PostKind.CLOSING]
    last = closing[0].at if closing else max(post.at for post in posts)
    wanted = {
        "hashtag": outbox.hashtag,
        "host": host,
        "starts_at": intro.at - BEFORE_INTRO,
        "ends_at": last + AFTER_CLOSE,
        "topic": outbox.topic,
    }
    changed = False
    for name, value in wanted.items():
        if getattr(chat, name) != value:
            setattr(chat, name, value)
            changed = True
    current = {(post.kind, post.number): post for post in chat.posts}
    desired = {(post.kind, post.number): post.x_id for post in posts}
    for key, post in current.items():
        if key not in desired:
            chat.posts.remove(post)
            changed = True
        elif post.tweet_id != desired[key]:
            post.tweet_id = desired[key]
            changed = True
    for (kind, number), x_id in desired.items():
        if (kind, number) not in current:
            chat.posts.append(ChatPost(kind=kind, number=number, tweet_id=x_id))
            changed = True
    return changed


def normalise_hashtag(value: str) -> str:
    """'#TraineeTalk' from '#TraineeTalk' or 'TraineeTalk'; TcbotError for anything else."""
    tag = value.strip()
    tag = tag if tag.startswith("#") else f"#{tag}"
    if not _HASHTAG.fullmatch(tag):
        raise TcbotError(
            f"--hashtag {value!r} is not a hashtag",
            "write it like --hashtag '#TraineeTalk' (in quotes: the shell treats # as a comment)",
        )
    return tag


def normalise_username(value: str) -> str:
    """'TraineeTalk' from '@TraineeTalk' or 'TraineeTalk'; TcbotError for anything else."""
    name = value.strip().removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise TcbotError(
            f"--host {value!r} is not an X username",
            "give the host account's username, e.g. --host TraineeTalk (letters, digits, _)",
        )
    return name


def parse_chat_time(value: str, *, zone: ZoneInfo, option: str) -> datetime:
    """An ISO 8601 date and time as aware UTC; without a zone or offset it is local to `zone`.

    A local time that does not exist (the hour skipped when clocks go forward) is
    refused; one that happens twice (clocks go back) means the first of the two.
    """
    text = value.strip()
    fix = f"write it like {TIME_EXAMPLES} (local time, {zone.key})"
    try:
        date.fromisoformat(text)
    except ValueError:
        pass
    else:
        raise TcbotError(f"{option} {value!r} has no time of day", fix)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        raise TcbotError(f"{option} {value!r} is not a date and time", fix) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise TcbotError(
            f"{option} {value!r} does not exist in {zone.key} (the clocks skip that hour)",
            "give a time outside the skipped hour, or add a UTC offset, e.g. 2026-03-29T01:30Z",
        )
    return local.astimezone(UTC)


def add_chat(
    session: Session,
    *,
    hashtag: str,
    host: str,
    starts_at: datetime,
    ends_at: datetime,
    topic: str | None = None,
) -> Chat:
    """Record a chat the bot did not run. Does not commit; TcbotError says what to fix."""
    tag, name = normalise_hashtag(hashtag), normalise_username(host)
    if ends_at <= starts_at:
        raise TcbotError(
            f"--end ({ends_at:%Y-%m-%d %H:%M} UTC) is not after --start "
            f"({starts_at:%Y-%m-%d %H:%M} UTC)",
            "give the time the chat ended, later than its start",
        )
    if ends_at - starts_at > MAX_WINDOW:
        raise TcbotError(
            "the chat would last more than 24 hours", "check --start and --end: a chat is a window"
        )
    same = session.scalars(
        select(Chat).where(
            func.lower(Chat.hashtag) == tag.lower(),
            func.lower(Chat.host) == name.lower(),
            Chat.starts_at == starts_at,
        )
    ).first()
    if same is not None:
        raise TcbotError(
            f"chat {same.id} already is {tag} hosted by @{name} from that time",
            f"see it with: tcbot archive transcript {same.id}",
        )
    chat = Chat(
        hashtag=tag, host=name, starts_at=starts_at, ends_at=ends_at,
        topic=(topic or "").strip() or None, origin=ChatOrigin.MANUAL,
    )  # fmt: skip
    session.add(chat)
    session.flush()
    log.info("added chat %d: %s by @%s", chat.id, tag, name)
    return chat


def list_chats(session: Session) -> list[Chat]:
    """Every chat, oldest first, with its posts loaded."""
    return list(
        session.scalars(
            select(Chat).options(selectinload(Chat.posts)).order_by(Chat.starts_at, Chat.id)
        )
    )


def find_chat(session: Session, ref: str, *, zone: ZoneInfo) -> Chat:
    """The chat `ref` names: its id (7) or its local start date (2026-12-02) if only one
    chat started that day. TcbotError says what to type otherwise."""
    text = ref.strip().removeprefix("#")
    if text.isdigit():
        chat = session.get(Chat, int(text), options=[selectinload(Chat.posts)])
        if chat is None:
            raise TcbotError(f"there is no chat {text}", "see the chats with: tcbot archive chats")
        return chat
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise TcbotError(
            f"{ref!r} is not a chat", "give its id or date from 'tcbot archive chats', e.g. 3"
        ) from None
    that_day = [
        chat for chat in list_chats(session) if chat.starts_at.astimezone(zone).date() == day
    ]
    if len(that_day) == 1:
        return that_day[0]
    if not that_day:
        raise TcbotError(f"no chat started on {day}", "see the chats with: tcbot archive chats")
    ids = ", ".join(str(chat.id) for chat in that_day)
    raise TcbotError(f"several chats started on {day} (ids {ids})", "give the chat's id instead")
