"""The tracker: what to read from X's recent search, and when. Every post read is paid for.

Each tracked hashtag has one cursor (the newest id stored, "hashtag:#traineetalk");
polls read only what is newer, and the cursor advances in the transaction that
stores what was read, so a crash re-reads rather than loses (STYLE rule 13).

    outside chats   every `poll_every` (15 min): `#tag` from its cursor
    during a chat   every `chat_poll` (30 s), from 15 minutes before the intro to
                    1 hour after the closing post: `#tag OR conversation_id:<intro>`
                    from the same cursor, so the answers that carry no hashtag are
                    kept too and no post is read twice. The conversation has its own
                    cursor ("conversation:<intro id>"), advanced with the hashtag's.
    late sweeps     `late_sweeps` (1 h and 24 h) after a chat's window:
                    `conversation_id:<intro> -#tag` from the conversation's cursor
                    (posts with the hashtag are the hashtag poll's), once each
                    (a mark in tracker_marks, written with what it stored)
    roots           conversation roots the search left out (a reply on the hashtag
                    to a post without it) are looked up by id, once each

A cursor older than X's 7-day search window is not an error: the poll starts from
the oldest moment the window allows and the time in between is recorded as a gap
(archive/gaps.py); so is the time a poll left unread when it hit its page limit.
Collection never silently misses time.

Every request is labelled in the usage log with what it was for: "outbox-chat:<id>"
or "chat:<id>" during a chat window and its late sweeps (and the root lookups they
lead to), "hashtag:#tag" outside them. `tcbot status` adds these up per chat.

`Tracker.tick()` is called every few seconds by the daemon (only while it holds the
poster lease: two daemons must not pay for the same reads) and decides from the
injected clock what is due. It never sleeps; a rate limit pauses it until X's reset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.chats import AFTER_CLOSE, BEFORE_INTRO, record_bot_chats
from archive.cursors import advance_cursor, get_cursor
from archive.db import as_utc
from archive.gaps import id_time, record_gap
from archive.ingest import ingest_page
from archive.models import (
    Chat,
    ChatOrigin,
    OutboxChat,
    OutboxPost,
    PostKind,
    PostStatus,
    RootLookup,
    TrackerMark,
    Tweet,
)
from bot.clock import Clock
from bot.config import Settings
from bot.errors import RateLimited, XError, XRejected
from bot.lease import write_transaction
from bot.x_client import AUTHORS_ONLY, FetchedPage, SearchResult, XClient
from bot.x_usage import chat_purpose, outbox_chat_purpose, usage_purpose

log = logging.getLogger(__name__)

__all__ = [
    "ChatWindow",
    "PollReport",
    "Tracker",
    "TrackerSettings",
    "chat_windows",
    "conversation_cursor",
    "hashtag_cursor",
]

SEARCH_WINDOW = timedelta(days=7)
WINDOW_MARGIN = timedelta(minutes=2)  # start this far inside X's 7 days (clock skew)
CHAT_KINDS = (PostKind.INTRO, PostKind.QUESTION, PostKind.CLOSING)
LOOKUP_BATCH = 100
Alert = Callable[[str], None]


def hashtag_cursor(hashtag: str) -> str:
    return f"hashtag:{hashtag.lower()}"


def conversation_cursor(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """How often to poll, and what; see the module docstring."""

    hashtags: tuple[str, ...]
    chat_poll: timedelta = timedelta(seconds=30)
    poll_every: timedelta = timedelta(minutes=15)
    late_sweeps: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=24))
    max_pages: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackerSettings:
        return cls(
            hashtags=settings.hashtags,
            chat_poll=timedelta(seconds=settings.chat_poll_seconds),
            poll_every=timedelta(minutes=settings.poll_minutes),
            late_sweeps=tuple(timedelta(hours=h) for h in settings.late_sweep_hours),
            max_pages=settings.search_page_limit,
        )


@dataclass(frozen=True, slots=True)
class ChatWindow:
    """When a chat's hashtag is polled often, and which conversation comes with it."""

    purpose: str  # the usage-log label, also the prefix of its late-sweep marks
    hashtag: str  # lower-cased, with '#'
    opens_at: datetime
    closes_at: datetime
    conversation_id: str | None  # the intro's X id once it is posted

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


@dataclass(slots=True)
class PollReport:
    """What one tick (or one poll) did: requests, posts read and stored, gaps recorded."""

    requests: int = 0
    posts_read: int = 0
    new_posts: int = 0
    gaps: int = 0
    polled: list[str] = field(default_factory=list)  # the queries run, in order

    def add(self, other: PollReport) -> None:
        self.requests += other.requests
        self.posts_read += other.posts_read
        self.new_posts += other.new_posts
        self.gaps += other.gaps
        self.polled += other.polled


def chat_windows(session: Session, *, now: datetime, keep: timedelta) -> list[ChatWindow]:
    """Chat windows that are open, or closed less than `keep` ago, or open within a day.

    The bot's chats come from the outbox (so the window opens before the intro is
    sent); chats added by hand from the chats table. Cancelled posts do not count.
    """
    low, high = as_utc(now) - keep - timedelta(days=2), as_utc(now) + timedelta(days=1)
    rows = session.execute(
        select(
            OutboxPost.chat_id, OutboxPost.kind, OutboxPost.due_at, OutboxPost.sent_at,
            OutboxPost.x_id,
        )
        .where(
            OutboxPost.kind.in_(CHAT_KINDS), OutboxPost.status != PostStatus.CANCELLED,
            OutboxPost.due_at >= low, OutboxPost.due_at <= high,
        )
        .order_by(OutboxPost.chat_id, OutboxPost.due_at)
    ).all()  # fmt: skip
    hashtags = {
        chat_id: hashtag
        for chat_id, hashtag in session.execute(
            select(OutboxChat.id, OutboxChat.hashtag).where(
                OutboxChat.id.in_({row.chat_id for row in rows})
            )
        )
    }
    by_chat: dict[int, list[tuple[PostKind, datetime, datetime | None, str | None]]] = {}
    for chat_id, kind, due_at, sent_at, x_id in rows:
        if chat_id is None:  # (chat kinds always have a chat)
            continue
        by_chat.setdefault(chat_id, []).append((kind, due_at, sent_at, x_id))
    windows = []
    for chat_id, posts in by_chat.items():
        first = min(due for _, due, _, _ in posts)
        last = max(sent or due for _, due, sent, _ in posts)
        intro = next((x_id for kind, _, _, x_id in posts if kind is PostKind.INTRO), None)
        windows.append(
            ChatWindow(
                purpose=outbox_chat_purpose(chat_id), hashtag=hashtags[chat_id].lower(),
                opens_at=first - BEFORE_INTRO, closes_at=last + AFTER_CLOSE,
                conversation_id=intro,
            )
        )  # fmt: skip
    manual = session.scalars(
        select(Chat).where(
            Chat.origin == ChatOrigin.MANUAL, Chat.ends_at >= low, Chat.starts_at <= high
        )
    )
    windows += [
        ChatWindow(
            purpose=chat_purpose(chat.id), hashtag=chat.hashtag.lower(),
            opens_at=chat.starts_at, closes_at=chat.ends_at, conversation_id=None,
        )
        for chat in manual
    ]  # fmt: skip
    return [w for w in windows if w.closes_at >= now - keep and w.opens_at <= high]


class Tracker:
    """Polls the tracked hashtags and the chats' conversations; see the module docstring."""

    def __init__(
        self,
        *,
        client: XClient,
        sessions: sessionmaker[Session],
        clock: Clock,
        settings: TrackerSettings,
        bot_username: str | None = None,
        on_alert: Alert | None = None,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._clock = clock
        self.settings = settings
        self._bot_username = bot_username
        self._on_alert = on_alert
        self._last_poll: dict[str, datetime] = {}
        self._paused_until: datetime | None = None
        self._roots: dict[str, str] = {}  # conversation ids seen since the last lookup -> purpose

    # -- the daemon's entry point ------------------------------------------------------

    def tick(self) -> PollReport:
        """Run whatever is due now; X's errors are logged (and alerted), never raised."""
        report = PollReport()
        now = self._clock.now()
        if self._paused_until is not None and now < self._paused_until:
            return report
        self._paused_until = None
        try:
            windows = self._windows(now)
            for hashtag in self._hashtags(windows):
                active = [w for w in windows if w.hashtag == hashtag and w.is_open(now)]
                every = self.settings.chat_poll if active else self.settings.poll_every
                last = self._last_poll.get(hashtag)
                if last is None or now - last >= every:
                    self._last_poll[hashtag] = now
                    report.add(self.poll_hashtag(hashtag, active))
            for window, after in self._late_sweeps_due(windows, now):
                report.add(self.late_sweep(window, after))
            report.add(self.lookup_roots())
        except RateLimited as error:
            self._paused_until = error.reset_at
            log.warning("tracker: X's rate limit; polling again after %s", error.reset_at)
        except XRejected as error:
            log.error("tracker: %s", error)
            self._alert(f"collecting posts failed: {error}")
        except XError as error:
            log.warning("tracker: %s; trying again at the next poll", error)
        return report

    def poll_all(self) -> PollReport:
        """Poll every tracked hashtag now, whatever is due (`tcbot archive collect`)."""
        report = PollReport()
        now = self._clock.now()
        windows = self._windows(now)
        for hashtag in self._hashtags(windows):
            self._last_poll[hashtag] = now
            report.add(
                self.poll_hashtag(
                    hashtag, [w for w in windows if w.hashtag == hashtag and w.is_open(now)]
                )
            )
        report.add(self.lookup_roots())
        return report

    # -- the three kinds of search ------------------------------------------------------

    def poll_hashtag(self, hashtag: str, active: Sequence[ChatWindow] = ()) -> PollReport:
        """One poll of `hashtag` (lower-cased, with '#'), with the open chats' conversations."""
        conversations = [w.conversation_id for w in active if w.conversation_id is not None]
        query = " OR ".join([hashtag, *(f"conversation_id:{c}" for c in conversations)])
        cursors: dict[str, str | None] = {hashtag_cursor(hashtag): None}
        cursors |= {conversation_cursor(c): c for c in conversations}
        purpose = active[0].purpose if active else f"hashtag:{hashtag}"
        return self._search(query, cursors, hashtag=hashtag, purpose=purpose)

    def late_sweep(self, window: ChatWindow, after: timedelta) -> PollReport:
        """The conversation's replies without the hashtag since its cursor; marks it done."""
        assert window.conversation_id is not None
        conversation = window.conversation_id
        query = f"conversation_id:{conversation} -{window.hashtag}"
        return self._search(
            query,
            {conversation_cursor(conversation): conversation},
            hashtag=window.hashtag,
            purpose=window.purpose,
            mark=_late_mark(window, after),
        )

    def lookup_roots(self) -> PollReport:
        """Look up, once each, the conversation roots seen since the last call and not archived.

        Each lookup is labelled with the purpose of the poll that saw the root first
        (a chat's, say), so what a chat cost includes its roots.
        """
        report = PollReport()
        if not self._roots:
            return report
        wanted = sorted(self._roots, key=int)
        with self._sessions() as session:
            known = set(session.scalars(select(Tweet.id).where(Tweet.id.in_(wanted))))
            known |= set(
                session.scalars(select(RootLookup.tweet_id).where(RootLookup.tweet_id.in_(wanted)))
            )
        by_purpose: dict[str, list[str]] = {}
        for tweet_id in wanted:
            if tweet_id not in known:
                by_purpose.setdefault(self._roots[tweet_id], []).append(tweet_id)
        batches = [
            (purpose, ids[start : start + LOOKUP_BATCH])
            for purpose, ids in by_purpose.items()
            for start in range(0, len(ids), LOOKUP_BATCH)
        ]
        for purpose, batch in batches:
            with usage_purpose(purpose):
                result = self._client.lookup(batch)
            now = self._clock.now()
            with write_transaction(self._sessions) as session:
                for page in result.pages:
                    report.add(self._store(session, page, purpose))
                found = set(session.scalars(select(Tweet.id).where(Tweet.id.in_(batch))))
                session.add_all(
                    RootLookup(tweet_id=tweet_id, looked_up_at=now, found=tweet_id in found)
                    for tweet_id in batch
                )
            report.requests += 1
            report.polled.append(f"lookup of {len(batch)} root(s)")
        self._roots.clear()  # (a failed lookup raised above and keeps them for next time)
        return report

    # -- one search, stored ------------------------------------------------------------

    def _search(
        self,
        query: str,
        cursors: dict[str, str | None],
        *,
        hashtag: str,
        purpose: str,
        mark: str | None = None,
    ) -> PollReport:
        """Search `query` from the oldest of `cursors` (name -> default) and store it all.

        Every cursor advances to the newest id read, in the same transaction as the
        posts, the gaps and the `mark` (if any).
        """
        now = self._clock.now()
        oldest_allowed = now - SEARCH_WINDOW + WINDOW_MARGIN
        with self._sessions() as session:
            values = [get_cursor(session, name) or default for name, default in cursors.items()]
        since_id = min(values, key=int) if None not in values else None  # type: ignore[arg-type]
        start_time = None
        gaps: list[tuple[datetime, datetime]] = []
        if since_id is not None and id_time(since_id) < oldest_allowed:
            gaps.append((id_time(since_id), oldest_allowed))
            since_id = None
        if since_id is None:
            start_time = oldest_allowed
        with usage_purpose(purpose):
            result = self._client.search_recent(
                query, since_id=since_id, start_time=start_time,
                max_pages=self.settings.max_pages, expansions=AUTHORS_ONLY,
            )  # fmt: skip
        if result.truncated:
            read_from = _oldest_read(result)
            if read_from is not None:
                gaps.append((id_time(since_id) if since_id else oldest_allowed, read_from))
        report = PollReport(requests=len(result.pages), polled=[query])
        with write_transaction(self._sessions) as session:
            for page in result.pages:
                report.add(self._store(session, page, purpose))
            if result.newest_id is not None:
                for name in cursors:
                    advance_cursor(session, name, result.newest_id, at=now)
            for starts_at, ends_at in gaps:
                if record_gap(
                    session, hashtag=hashtag, starts_at=starts_at, ends_at=ends_at, now=now
                ):
                    report.gaps += 1
            if mark is not None:
                session.add(TrackerMark(name=mark, done_at=now))
            record_bot_chats(session, host=self._bot_username)  # with their posts as archived
        for starts_at, ends_at in gaps:
            self._alert(
                f"posts on {hashtag} from {starts_at:%Y-%m-%d %H:%M} to {ends_at:%Y-%m-%d %H:%M} "
                "UTC could not be collected (recorded as a gap)"
            )
        return report

    def _store(self, session: Session, page: FetchedPage, purpose: str) -> PollReport:
        """Archive one page; remember the conversation roots it points at."""
        ingested = ingest_page(
            session, page.payload, endpoint=page.endpoint, fetched_at=page.retrieved_at
        )
        read = 0
        for tweet in _page_tweets(page):
            read += 1
            conversation = tweet.get("conversation_id")
            if isinstance(conversation, str) and conversation != tweet.get("id"):
                self._roots.setdefault(conversation, purpose)
        return PollReport(posts_read=read, new_posts=ingested.new_tweets)

    # -- what is due -------------------------------------------------------------------

    def _windows(self, now: datetime) -> list[ChatWindow]:
        keep = max(self.settings.late_sweeps, default=timedelta(0)) + timedelta(days=1)
        with self._sessions() as session:  # read only: this runs every few seconds
            return chat_windows(session, now=now, keep=keep)

    def _hashtags(self, windows: Iterable[ChatWindow]) -> list[str]:
        tracked = [tag.lower() for tag in self.settings.hashtags]
        return list(dict.fromkeys([*tracked, *(w.hashtag for w in windows)]))

    def _late_sweeps_due(
        self, windows: Sequence[ChatWindow], now: datetime
    ) -> list[tuple[ChatWindow, timedelta]]:
        due = [
            (window, after)
            for window in windows
            if window.conversation_id is not None
            for after in self.settings.late_sweeps
            if window.closes_at + after <= now
        ]
        if not due:
            return []
        with self._sessions() as session:
            done = set(
                session.scalars(
                    select(TrackerMark.name).where(
                        TrackerMark.name.in_([_late_mark(w, a) for w, a in due])
                    )
                )
            )
        pending = [(w, a) for w, a in due if _late_mark(w, a) not in done]
        # Several sweeps of one window due at once (the daemon was stopped): the latest
        # covers the others, so mark those done with it rather than reading twice.
        latest: dict[str, tuple[ChatWindow, timedelta]] = {}
        for window, after in pending:
            if window.purpose not in latest or after > latest[window.purpose][1]:
                latest[window.purpose] = (window, after)
        skipped = [(w, a) for w, a in pending if latest[w.purpose][1] != a]
        if skipped:
            with write_transaction(self._sessions) as session:
                session.add_all(TrackerMark(name=_late_mark(w, a), done_at=now) for w, a in skipped)
        return list(latest.values())

    def _alert(self, message: str) -> None:
        if self._on_alert is not None:
            self._on_alert(message)


def _late_mark(window: ChatWindow, after: timedelta) -> str:
    return f"late:{window.purpose}:{after.total_seconds() / 3600:g}h"


def _page_tweets(page: FetchedPage) -> list[dict[str, object]]:
    data = page.payload.get("data")
    tweets = [t for t in (data if isinstance(data, list) else [data]) if isinstance(t, dict)]
    included = (page.payload.get("includes") or {}).get("tweets") or []
    return tweets + [t for t in included if isinstance(t, dict)]


def _oldest_read(result: SearchResult) -> datetime | None:
    ids = [
        str(tweet["id"])
        for page in result.pages
        for tweet in (page.payload.get("data") or [])
        if isinstance(tweet, dict) and str(tweet.get("id", "")).isdigit()
    ]
    return id_time(min(ids, key=int)) if ids else None
