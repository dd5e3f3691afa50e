"""`tcbot status`: what each chat cost, which times could not be collected, and welcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from archive.chats import add_chat
from archive.gaps import record_gap
from archive.models import HttpMethod, OptOut, PostKind, PostStatus
from archive.usage import record_api_call
from bot import status
from bot.config import Settings
from tests.test_welcomes_cli import scene, welcome_post

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 2, 19, 55, tzinfo=UTC)


def report(session: Session) -> str:
    lines: list[str] = []
    status.show(session, settings=Settings.from_env({}), now=NOW, echo=lines.append)
    return "\n".join(lines)


def call(session: Session, purpose: str | None, *, read: int = 0, created: int = 0) -> None:
    record_api_call(
        session, at=START, method=HttpMethod.POST if created else HttpMethod.GET,
        endpoint="/2/tweets" if created else "/2/tweets/search/recent", status=200,
        posts_read=read, users_read=0, posts_created=created, error=None, purpose=purpose,
    )  # fmt: skip


def test_status_shows_what_each_chat_cost_from_the_requests_made_for_it(session: Session) -> None:
    chat = add_chat(
        session, hashtag="#TraineeTalk", host="TraineeTalk", starts_at=START,
        ends_at=START + timedelta(hours=1),
    )  # fmt: skip
    other = add_chat(
        session, hashtag="#TherapistsConnect", host="someone",
        starts_at=START + timedelta(hours=2), ends_at=START + timedelta(hours=3),
    )  # fmt: skip
    call(session, f"chat:{chat.id}", read=200)
    call(session, f"chat:{chat.id}", read=40)
    call(session, f"chat:{other.id}", read=2)
    call(session, "hashtag:#traineetalk", read=1000)  # not a chat's
    text = report(session)
    assert "What each chat cost" in text
    # 240 posts read at $0.005
    assert (
        f"chat {chat.id} " in text
        and "2 requests, 240 posts read, 0 posts created; about $1.20" in text
    )
    assert "1 requests, 2 posts read, 0 posts created; about $0.01" in text
    assert "Collection: no gaps in the last 30 days" in text


def test_status_lists_recent_collection_gaps_in_local_time(session: Session) -> None:
    record_gap(
        session, hashtag="#traineetalk", starts_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 26, 12, 2, tzinfo=UTC), now=NOW,
    )  # fmt: skip
    text = report(session)
    assert "Collection gaps" in text
    assert "#traineetalk: Fri 20 Nov 09:00 GMT" in text and "Thu 26 Nov 12:02 GMT" in text


def test_status_sums_up_welcomes_this_month(session: Session) -> None:
    scene(session)  # 2 listed (and 1 protected, not counted), 1 reply queued, 1 sent (no date)
    sent = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    welcome_post(session, 901, PostStatus.SENT, kind=PostKind.ACK, sent_at=sent)
    welcome_post(session, 902, PostStatus.SENT, kind=PostKind.DIGEST, sent_at=sent)
    welcome_post(session, 903, PostStatus.SENT, kind=PostKind.WELCOME, sent_at=NOW)
    welcome_post(session, 904, PostStatus.SENT, kind=PostKind.WELCOME,
                 sent_at=datetime(2026, 11, 30, 23, 0, tzinfo=UTC))  # last month  # fmt: skip
    welcome_post(session, 905, PostStatus.HELD, kind=PostKind.WELCOME)
    welcome_post(session, 906, PostStatus.HELD, kind=PostKind.DIGEST)
    for n, removed in enumerate((None, None, NOW)):
        session.add(OptOut(username_key=f"p{n}", username=f"p{n}", source="organiser",
                           created_at=NOW, removed_at=removed))  # fmt: skip
    session.flush()
    lines: list[str] = []
    settings = Settings.from_env({"TCBOT_WELCOME_DRY_RUN": "true"})
    status.show(session, settings=settings, now=NOW, echo=lines.append)
    text = "\n".join(lines)
    section = text[text.index("Welcomes (") :]
    assert section.splitlines() == [
        "Welcomes (dry run on: welcome replies are held for review):",
        (
            "  since 01 Dec 2026: 3 welcome posts sent (welcomes, replies to opt-outs, digests);"
            " about $0.04"
        ),
        "  2 people waiting on the organisers' list (tcbot welcomes list)",
        "  welcome replies: 1 queued, 1 held; 1 weekly digest held for review",
        "  2 opt-outs in force (tcbot optout list)",
    ]
    assert "Welcomes (dry run off):" in report(session)
