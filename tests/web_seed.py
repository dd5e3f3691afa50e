"""A small archive for the web page tests: two chats, introductions, the outbox, hostile text.

`seed_archive(sessions, now)` stores, through archive.ingest.ingest_page and the
archive's own chat functions (bot.outbox for the outbox, as `tcbot queue` does):

- chat 1, run by the bot 15 days before `now` (recorded from the outbox): Q1 with two
  answers and a reply under one of them, Q2 with one answer, Q3 whose post failed;
- chat 2, added by hand 8 days before `now`: Q1 answered by a newcomer (cara, who then
  replies to ana), by ana, and by a protected account (priv); Q2 answered by `mal`,
  whose display name is a <script> tag and whose answer is an <img onerror> tag, and
  by ben, whose answer has markup-like text around the word "supervision"; a
  collection gap in the middle;
- introductions on #TherapistsConnect (priya's shown, priv's hidden) and a look-alike;
- the outbox: next week's chat queued, a failed and a missed post; API usage this month;
- welcome and opt-out rows: cara was welcomed, dee opted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.chats import add_chat, record_bot_chats
from archive.gaps import record_gap
from archive.ingest import ingest_page
from archive.models import (
    Chat,
    ChatOrigin,
    HttpMethod,
    OptOut,
    OutboxPost,
    PostKind,
    PostStatus,
    Welcome,
    WelcomeStatus,
)
from archive.usage import record_api_call
from bot import outbox
from tests.daemon_harness import make_chat_plan
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user

BOT = "TraineeTalkBot"
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_TEXT = "<img src=x onerror=alert(1)>"
PEOPLE = {BOT: "900", "ana": "901", "ben": "902", "cara": "903", "priv": "905", "mal": "906",
          "priya": "907", "dee": "908"}  # fmt: skip
NAMES = {BOT: "TraineeTalk bot", "ana": "Ana Example", "ben": "Ben Example",
         "cara": "Cara Newcomer", "priv": "Private Person", "mal": HOSTILE_NAME,
         "priya": "Priya Example", "dee": "Dee Example"}  # fmt: skip
JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the tests look for: the chats' ids and a few tweet ids."""

    bot_chat: int
    manual_chat: int
    hostile_tweet: str = "2021"
    protected_answer: str = "2012"
    newcomer_answer: str = "2011"
    nested_reply: str = "2014"
    intro: str = "3001"
    hidden_intro: str = "3003"


def _users() -> list[JsonDict]:
    return [
        make_user(uid, name, name=NAMES[name], protected=name == "priv")
        for name, uid in PEOPLE.items()
    ]


def _post(tweet_id: int, text: str, *, by: str, at: datetime, **options: Any) -> JsonDict:
    return make_tweet(str(tweet_id), text, author_id=PEOPLE[by], created_at=at, **options)


def _ingest(session: Session, tweets: list[JsonDict], *, now: datetime) -> None:
    page = make_page(list(reversed(tweets)), users=_users())
    ingest_page(session, page, endpoint=SEARCH_ENDPOINT, fetched_at=now - timedelta(hours=1))


def _bot_chat(session: Session, start: datetime, now: datetime) -> int:
    plan = make_chat_plan(start, questions=3, reminders=(60,), topic="settling before sessions")
    outbox.add_chat(session, plan, origin="cli", now=start - timedelta(days=2))
    session.flush()
    thread = {(PostKind.INTRO, 0): "1000", (PostKind.QUESTION, 1): "1010",
              (PostKind.QUESTION, 2): "1020", (PostKind.CLOSING, 0): "1090"}  # fmt: skip
    rows = session.scalars(select(OutboxPost).where(OutboxPost.chat_date == start.date())).all()
    for row in rows:
        x_id = thread.get((row.kind, row.number))
        if x_id is not None:
            row.x_id, row.status, row.sent_at = x_id, PostStatus.SENT, row.due_at
        elif row.kind is PostKind.QUESTION:
            row.status, row.last_error = PostStatus.FAILED, "X refused the post: duplicate content"
        else:
            row.status, row.last_error = PostStatus.MISSED, "tcbot run was not running then"

    def m(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    conv = {"conversation_id": "1000"}
    _ingest(session, [
        _post(1000, "Welcome to #TraineeTalk: settling before sessions", by=BOT, at=m(0)),
        _post(1010, "Q1 What helps you settle before a client session? #TraineeTalk", by=BOT,
              at=m(10), reply_to="1000", **conv),
        _post(1011, "A1 A short walk and a cup of tea #TraineeTalk", by="ana", at=m(12),
              reply_to="1010", **conv),
        _post(1012, "A1: breathing exercises, and reading my notes #TraineeTalk", by="ben",
              at=m(13), reply_to="1010", **conv),
        _post(1013, "@ben same here, breathing helps", by="ana", at=m(15), reply_to="1012", **conv),
        _post(1020, "Q2 How do you use supervision? #TraineeTalk", by=BOT, at=m(20),
              reply_to="1010", **conv),
        _post(1021, "A2 supervision keeps me honest about boundaries #TraineeTalk", by="ben",
              at=m(22), reply_to="1020", **conv),
        _post(1090, "Thank you all! #TraineeTalk", by=BOT, at=m(40), reply_to="1020", **conv),
    ], now=now)  # fmt: skip
    record_bot_chats(session, host=BOT)
    session.flush()
    chat = session.scalars(select(Chat).where(Chat.origin == ChatOrigin.BOT)).one()
    return chat.id


def _manual_chat(session: Session, start: datetime, now: datetime) -> int:
    def m(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    conv = {"conversation_id": "2000"}
    _ingest(session, [
        _post(2000, "Welcome to #TraineeTalk tonight: endings", by=BOT, at=m(0)),
        _post(2010, "Q1 What makes a good ending with a client? #TraineeTalk", by=BOT, at=m(5),
              reply_to="2000", **conv),
        _post(2011, "A1: planning it together from the first session #TraineeTalk", by="cara",
              at=m(7), reply_to="2010", **conv),
        _post(2012, "A1 secret protected answer #TraineeTalk", by="priv", at=m(8),
              reply_to="2010", **conv),
        _post(2013, "A1 naming the ending early #TraineeTalk", by="ana", at=m(9), reply_to="2010",
              **conv),
        _post(2014, "@ana yes, naming it early helps", by="cara", at=m(11), reply_to="2013", **conv),
        _post(2020, "Q2 What do you take to supervision? #TraineeTalk", by=BOT, at=m(20),
              reply_to="2010", **conv),
        _post(2021, HOSTILE_TEXT, by="mal", at=m(21), reply_to="2020", **conv),
        _post(2022, "A2: supervision &lt;b&gt;matters&lt;/b&gt; &amp; boundaries too #TraineeTalk",
              by="ben", at=m(23), reply_to="2020", **conv),
        _post(2030, "Thanks everyone, lovely chat #TraineeTalk", by="ana", at=m(45)),
    ], now=now)  # fmt: skip
    chat = add_chat(session, hashtag="#TraineeTalk", host=BOT, starts_at=m(-15), ends_at=m(75),
                    topic="endings with clients")  # fmt: skip
    record_gap(session, hashtag="#TraineeTalk", starts_at=m(30), ends_at=m(40), now=m(120))
    return chat.id


def _community(session: Session, now: datetime) -> None:
    def days(n: float) -> datetime:
        return now - timedelta(days=n)

    _ingest(session, [
        _post(3001, "Hi everyone! I'm Priya, a trainee counsellor based in Leeds. New here and "
              "looking forward to connecting #TherapistsConnect", by="priya", at=days(3)),
        _post(3002, "Join us for a webinar on Friday at 8pm! #TherapistsConnect", by="dee",
              at=days(2)),
        _post(3003, "Hello! I'm Sam, a psychotherapist in Bristol, new here #TherapistsConnect",
              by="priv", at=days(1)),
    ], now=now)  # fmt: skip
    cara = PEOPLE["cara"]
    session.add(Welcome(
        user_id=cara, username="cara", name=NAMES["cara"], hashtag="#TraineeTalk",
        tweet_id="2011", first_at=now - timedelta(days=8), status=WelcomeStatus.SENT,
        in_digest=False, created_at=now - timedelta(days=8), updated_at=now - timedelta(days=8),
    ))  # fmt: skip
    session.add(OptOut(
        user_id=PEOPLE["dee"], username_key="dee", username="dee", source="reply",
        tweet_id="3009", created_at=now - timedelta(days=2),
    ))  # fmt: skip


def _outbox(session: Session, now: datetime) -> None:
    plan = make_chat_plan(now + timedelta(days=6), questions=2, topic="rest and recovery")
    outbox.add_chat(session, plan, origin="cli", now=now - timedelta(days=1))
    for method, posts_read, users_read, created in ((HttpMethod.GET, 120, 30, 0),
                                                    (HttpMethod.POST, 0, 0, 5)):  # fmt: skip
        record_api_call(
            session, at=now - timedelta(days=1), method=method, endpoint="/2/tweets",
            status=200, posts_read=posts_read, users_read=users_read, posts_created=created,
            error=None,
        )  # fmt: skip


def seed_archive(sessions: sessionmaker[Session], now: datetime) -> Seeded:
    """Store the archive this module's docstring describes; `now` is the tests' clock."""
    with sessions.begin() as session:
        bot_chat = _bot_chat(session, now - timedelta(days=15), now)
        manual_chat = _manual_chat(session, now - timedelta(days=8), now)
        _community(session, now)
        _outbox(session, now)
    return Seeded(bot_chat=bot_chat, manual_chat=manual_chat)
