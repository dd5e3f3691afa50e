"""End to end: the bot runs two weekly chats on the sandbox X API through real tweepy, the
sandbox's pretend participants answer, the tracker archives the conversation, and each
transcript puts every A<n> under question n, follow-ups under their answers, and marks
newcomers across the two chats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.chat_labels import answer_labels
from archive.chat_tweets import load_transcript
from archive.chats import record_bot_chats
from archive.db import make_session_factory
from archive.models import Chat, OutboxPost, PostKind, PostStatus
from archive.transcripts import Transcript, walk
from bot import outbox
from bot.clock import FakeClock
from bot.lease import make_holder
from bot.sandbox.community import CommunitySettings
from bot.sandbox.records import Tweet as SandboxTweet
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.sender import Sender
from bot.tracker import Tracker, TrackerSettings
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client
from bot.x_client import XClient
from tests.daemon_harness import HASHTAG, make_chat_plan

pytestmark = pytest.mark.e2e

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
BOT = "TraineeTalkBot"
COMMUNITY = CommunitySettings(seed=2026, reply_delay=(2.0, 40.0), follow_up_chance=1.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(hours=1))


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=clock.now, bot_username=BOT, community=COMMUNITY) as running:
        yield running


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def queued(sessions: sessionmaker[Session]) -> list[OutboxPost]:
    with sessions() as session:
        query = select(OutboxPost).where(OutboxPost.status == PostStatus.QUEUED)
        return list(session.scalars(query))


def intro_id(sessions: sessionmaker[Session], starts_at: datetime) -> str | None:
    with sessions() as session:
        return session.scalars(
            select(OutboxPost.x_id).where(
                OutboxPost.kind == PostKind.INTRO, OutboxPost.due_at == starts_at
            )
        ).one_or_none()


def run_chat(
    sessions: sessionmaker[Session], client: XClient, clock: FakeClock, starts_at: datetime
) -> str:
    """Post a chat as the daemon does, with the tracker ticking between posts; its intro id."""
    with sessions.begin() as session:
        plan = make_chat_plan(starts_at, questions=3)
        outbox.add_chat(session, plan, origin="cli", now=clock.now())
    sender = Sender(sessions=sessions, client=client, clock=clock, holder=make_holder(),
                    bot_username=BOT)  # fmt: skip
    tracker = Tracker(client=client, sessions=sessions, clock=clock, bot_username=BOT,
                      settings=TrackerSettings(hashtags=(HASHTAG,)))  # fmt: skip
    clock.set(starts_at)
    for _ in range(100):
        sender.send_next()
        intro = intro_id(sessions, starts_at)
        tracker.tick()
        waiting = queued(sessions)
        if not waiting:
            break
        clock.set(max(clock.now() + timedelta(seconds=1), min(row.due_at for row in waiting)))
    clock.advance(300)  # past every reply delay: the late answers and follow-ups are made
    assert intro is not None
    assert f"{HASHTAG.lower()} OR conversation_id:{intro}" in tracker.tick().polled
    return intro


def community_posts(server: SandboxServer, conversation: str) -> list[SandboxTweet]:
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    return [
        t for t in server.state.newest_first()
        if t.conversation_id == conversation and t.author_id != bot.id
    ]  # fmt: skip


def check_transcript(transcript: Transcript, posted: list[SandboxTweet]) -> None:
    """Every labelled answer under its question; every follow-up under the post it replies to."""
    placed: dict[str, tuple[int, str | None]] = {}  # tweet -> (question, parent entry)
    for question in transcript.questions:
        stack: list[str] = []
        for depth, entry in walk(question.answers):
            del stack[depth:]
            placed[entry.tweet.id] = (question.number, stack[-1] if stack else None)
            stack.append(entry.tweet.id)
    labelled = [t for t in posted if answer_labels(t.text)]
    follow_ups = [t for t in posted if t.in_reply_to_tweet_id in {a.id for a in labelled}]
    assert len(labelled) >= 6 and follow_ups  # the community did answer, and follow up
    for answer in labelled:
        (number,) = answer_labels(answer.text)
        assert placed[answer.id] == (number, None), answer.text
    for follow_up in follow_ups:
        number, _ = placed[follow_up.in_reply_to_tweet_id or ""]
        assert placed[follow_up.id] == (number, follow_up.in_reply_to_tweet_id)
    hellos = {t.id for t in posted} - set(placed)
    assert hellos <= {t.id for t in transcript.general}
    assert transcript.stats.answers == len(labelled)
    assert transcript.stats.replies == len(follow_ups)


def test_e2e_sandbox_chats_transcribed_with_answers_nested_and_newcomers(
    server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    client = make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=None)
    first_intro = run_chat(sessions, client, clock, START)
    second_intro = run_chat(sessions, client, clock, START + WEEK)
    with sessions.begin() as session:
        record_bot_chats(session)  # (the tracker keeps them recorded already)
        assert session.scalar(select(func.count()).select_from(Chat)) == 2
    with sessions() as session:
        first, second = session.scalars(select(Chat).order_by(Chat.starts_at)).all()
        assert first.host == BOT  # the intro's archived author
        one = load_transcript(session, first)
        two = load_transcript(session, second)
    check_transcript(one, community_posts(server, first_intro))
    check_transcript(two, community_posts(server, second_intro))
    assert [q.tweet.text[:2] for q in one.questions if q.tweet] == ["Q1", "Q2", "Q3"]
    assert all(p.first_time for p in one.participants)  # everyone's first chat
    before = {p.username for p in one.participants}
    for person in two.participants:
        assert person.first_time == (person.username not in before), person.username
    assert any(p.first_time for p in two.participants if not p.host)  # that week's newcomer
