"""Welcoming newcomers and honouring opt-outs (bot/welcomes.py, bot/optouts.py), rule by rule.

Posts are stored with ingest_page, as the tracker stores them; the Welcomer runs on an
injected clock with the shipped default texts. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import archive.db
from archive.ingest import ingest_page
from archive.models import (
    OptOut,
    OutboxPost,
    PostKind,
    PostStatus,
    Welcome,
    WelcomeStatus,
)
from bot import outbox
from bot.optouts import add_opt_out, remove_opt_out
from bot.welcome_texts import HashtagWelcome, WelcomeConfig, default_config
from bot.welcomes import WELCOME_LATENESS, WelcomePolicy, Welcomer, mark_known
from bot.x_client import Account
from tests.fakes import make_page, make_tweet, make_user

BOT, BOT_ID = "TraineeTalkBot", "900"
ZONE = ZoneInfo("Europe/London")
START = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # a Wednesday, 19:00 in London
ENDPOINT = "GET /2/tweets/search/recent"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return archive.db.make_session_factory(engine)


class World:
    """An archive the test fills post by post, and a Welcomer over it."""

    def __init__(self, sessions: sessionmaker[Session], **policy: Any) -> None:
        self.sessions = sessions
        self.clock = Clock(START)
        self.ids = count(1_000_000)
        self.people: dict[str, dict[str, Any]] = {BOT: make_user(BOT_ID, BOT)}
        self.policy = WelcomePolicy(quiet_hours=None, zone=ZONE, **policy)
        self.config = default_config()
        self.bot_post = self.post(BOT, "Q1 What brought you to training? #TraineeTalk")

    def welcomer(self, config: WelcomeConfig | None = None) -> Welcomer:
        return Welcomer(
            sessions=self.sessions, clock=self.clock, policy=self.policy,
            config=config or self.config, hashtags=("#TraineeTalk", "#TherapistsConnect"),
            me=lambda: Account(BOT_ID, BOT, "Trainee Talk"),
        )  # fmt: skip

    def person(self, username: str, **kwargs: Any) -> dict[str, Any]:
        if username not in self.people:
            user_id = str(2000 + len(self.people))
            self.people[username] = make_user(user_id, username, **kwargs)
        return self.people[username]

    def post(
        self,
        username: str,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        at: datetime | None = None,
        **person: Any,
    ) -> dict[str, Any]:
        """Store one post, as a poll would; replies to the bot start with @bot, as on X."""
        author = self.person(username, **person) if username != BOT else self.people[BOT]
        if reply_to is not None and reply_to["author_id"] == BOT_ID and username != BOT:
            text = f"@{BOT} {text}"
        tweet = make_tweet(
            str(next(self.ids)), text, author_id=author["id"], created_at=at or self.clock.now(),
            reply_to=reply_to["id"] if reply_to else None,
            conversation_id=reply_to["conversation_id"] if reply_to else None,
            in_reply_to_user_id=reply_to["author_id"] if reply_to else None,
            mention_ids={BOT: BOT_ID},
        )  # fmt: skip
        with self.sessions.begin() as session:
            ingest_page(
                session, make_page([tweet], users=[author]), endpoint=ENDPOINT,
                fetched_at=self.clock.now(),
            )  # fmt: skip
        return tweet

    def later(self, **delta: float) -> None:
        self.clock.moment += timedelta(**delta)

    def welcome(self, username: str) -> Welcome | None:
        with self.sessions() as session:
            return session.scalar(select(Welcome).where(Welcome.username == username))

    def outbox(self, kind: PostKind) -> list[OutboxPost]:
        with self.sessions() as session:
            query = select(OutboxPost).where(OutboxPost.kind == kind).order_by(OutboxPost.id)
            return list(session.scalars(query))


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return World(sessions)


def started(world: World, config: WelcomeConfig | None = None) -> Welcomer:
    """A Welcomer that has taken its baseline (its first tick) a minute after START."""
    welcomer = world.welcomer(config)
    world.later(minutes=1)
    welcomer.tick()
    world.later(minutes=1)
    return welcomer


# --- who is a newcomer ---------------------------------------------------------------------


def test_welcomes_everyone_in_the_archive_at_the_first_start_is_known(world: World) -> None:
    world.post("old_hand", "A1 placements are hard #TraineeTalk", reply_to=world.bot_post)
    welcomer = started(world)
    world.post("old_hand", "A2 supervision helps #TraineeTalk", reply_to=world.bot_post)
    world.post("new_one", "A1 first time here! #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=2)

    known = world.welcome("old_hand")
    assert known is not None and known.status is WelcomeStatus.KNOWN
    new = world.welcome("new_one")
    assert new is not None and new.status is WelcomeStatus.QUEUED
    [reply] = world.outbox(PostKind.WELCOME)
    assert reply.id == new.outbox_post_id
    assert reply.reply_target == new.tweet_id and reply.status is PostStatus.QUEUED
    assert reply.chat_id is None and reply.lateness_seconds == WELCOME_LATENESS.total_seconds()


def test_welcomes_a_first_post_older_than_the_window_is_not_new(
    sessions: sessionmaker[Session],
) -> None:
    world = World(sessions, window=timedelta(days=7))
    welcomer = started(world)
    world.later(days=10)
    world.post("lurker", "hello #TraineeTalk", at=world.clock.now() - timedelta(days=8))
    world.post("lurker", "@TraineeTalkBot A1 back again #TraineeTalk")
    welcomer.tick(new_posts=2)
    row = world.welcome("lurker")
    assert row is not None and row.status is WelcomeStatus.KNOWN
    assert world.outbox(PostKind.WELCOME) == []


def test_welcomes_after_an_import_everyone_imported_is_known(world: World) -> None:
    welcomer = started(world)
    world.post("imported", "A1 from last month #TraineeTalk", reply_to=world.bot_post)
    with world.sessions.begin() as session:
        assert mark_known(session, now=world.clock.now()) == 1  # (the bot was known at the start)
    welcomer.tick(new_posts=1)
    row = world.welcome("imported")
    assert row is not None and row.status is WelcomeStatus.KNOWN
    assert world.outbox(PostKind.WELCOME) == []


def test_welcomes_never_the_bot_a_host_or_a_protected_account(world: World) -> None:
    welcomer = started(world)
    world.post(BOT, "Q2 And now? #TraineeTalk")
    world.post("TraineeTalk", "Welcome all! #TraineeTalk", reply_to=world.bot_post)  # a host
    world.post("locked", "A1 hi #TraineeTalk", reply_to=world.bot_post, protected=True)
    welcomer.tick(new_posts=3)
    assert world.outbox(PostKind.WELCOME) == []
    host = world.welcome("TraineeTalk")
    assert host is not None and host.status is WelcomeStatus.KNOWN
    assert world.welcome("locked") is None  # decided about only if they turn public


def test_welcomes_only_posts_on_a_tracked_hashtag_make_a_newcomer(world: World) -> None:
    welcomer = started(world)
    world.post("elsewhere", "lovely day #gardening")
    welcomer.tick(new_posts=1)
    assert world.welcome("elsewhere") is None


# --- the three modes ---------------------------------------------------------------------


def test_welcomes_reply_needs_a_post_that_addressed_the_bot_else_the_list(world: World) -> None:
    welcomer = started(world)
    world.post("tag_only", "First #TraineeTalk for me, hi all")  # no mention: X forbids a reply
    welcomer.tick(new_posts=1)
    row = world.welcome("tag_only")
    assert row is not None and row.status is WelcomeStatus.LISTED
    assert row.note is not None and "did not mention the bot" in row.note
    assert row.text  # a suggested text for the organiser
    assert world.outbox(PostKind.WELCOME) == []


def test_welcomes_reply_answers_the_post_that_addressed_the_bot(world: World) -> None:
    welcomer = started(world)
    world.post("two_posts", "Hello #TraineeTalk")
    answer = world.post("two_posts", "A1 nervous but here #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=2)
    [reply] = world.outbox(PostKind.WELCOME)
    assert reply.reply_target == answer["id"]


def test_welcomes_organisers_and_digest_mode_lists_and_counts(world: World) -> None:
    welcomer = started(world)
    world.post("new_therapist", "Hi all, I'm a counsellor in Leeds #TherapistsConnect")
    welcomer.tick(new_posts=1)
    row = world.welcome("new_therapist")
    assert row is not None and row.status is WelcomeStatus.LISTED and row.in_digest
    assert row.text and row.note is None
    assert world.outbox(PostKind.WELCOME) == []


def test_welcomes_digest_is_drafted_held_once_on_its_day(world: World) -> None:
    welcomer = started(world)  # Wednesday; the default digest is Friday 12:00 local
    for n in range(3):
        world.post(f"joiner{n}", f"Hello, new here {n} #TherapistsConnect")
    welcomer.tick(new_posts=3)
    assert world.outbox(PostKind.DIGEST) == []
    world.clock.moment = datetime(2026, 12, 4, 12, 5, tzinfo=UTC)  # Friday 12:05 in London
    welcomer.tick(new_posts=0)
    [digest] = world.outbox(PostKind.DIGEST)
    assert digest.status is PostStatus.HELD and "3" in digest.text
    assert "#TherapistsConnect" in digest.text and "@" not in digest.text
    world.later(minutes=10)
    welcomer.tick(new_posts=1)
    assert len(world.outbox(PostKind.DIGEST)) == 1
    with world.sessions() as session:
        counted = session.scalar(select(func.count()).where(Welcome.digest_post_id == digest.id))
    assert counted == 3


def test_welcomes_dry_run_queues_replies_held(sessions: sessionmaker[Session]) -> None:
    world = World(sessions, dry_run=True)
    welcomer = started(world)
    world.post("careful", "A1 hello #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    [reply] = world.outbox(PostKind.WELCOME)
    assert reply.status is PostStatus.HELD


def test_welcomes_a_failed_or_missed_reply_goes_to_the_list(world: World) -> None:
    welcomer = started(world)
    world.post("refused", "A1 hi #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    [reply] = world.outbox(PostKind.WELCOME)
    with world.sessions.begin() as session:
        row = session.get(OutboxPost, reply.id)
        assert row is not None
        row.status, row.last_error = PostStatus.FAILED, "X refused the reply"
    world.later(minutes=10)
    welcomer.tick()
    listed = world.welcome("refused")
    assert listed is not None and listed.status is WelcomeStatus.LISTED
    assert listed.note is not None and "X refused the reply" in listed.note


# --- texts -------------------------------------------------------------------------------


def test_welcomes_two_newcomers_in_a_row_get_different_texts(world: World) -> None:
    welcomer = started(world)
    for username in ("ana_1", "ana_2", "ana_3"):
        world.post(username, "A1 hi #TraineeTalk", reply_to=world.bot_post, name="Ana")
        world.later(seconds=5)
        welcomer.tick(new_posts=1)
    texts = [post.text for post in world.outbox(PostKind.WELCOME)]
    assert len(texts) == 3
    assert texts[0] != texts[1] and texts[1] != texts[2]


def test_welcomes_no_text_fits_goes_to_the_list(world: World) -> None:
    config = default_config()
    long = HashtagWelcome(
        hashtag="#TraineeTalk", modes=frozenset({"reply"}),
        texts=("{name} " + "x" * 270, "{name} " + "y" * 270), digest_texts=(),
        digest_mentions=False,
    )  # fmt: skip
    welcomer = started(world, WelcomeConfig(
        hashtags=(long, *config.hashtags[1:]), hosts=config.hosts,
        digest_day=config.digest_day, digest_time=config.digest_time,
    ))  # fmt: skip
    world.post("long_name", "A1 hi #TraineeTalk", reply_to=world.bot_post,
               name="Bartholomew Maximilian")  # fmt: skip
    welcomer.tick(new_posts=1)
    row = world.welcome("long_name")
    assert row is not None and row.status is WelcomeStatus.LISTED
    assert world.outbox(PostKind.WELCOME) == []


# --- never twice ---------------------------------------------------------------------------


def test_welcomes_a_person_is_decided_about_once(world: World) -> None:
    welcomer = started(world)
    world.post("eager", "A1 hi #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    for _ in range(3):
        world.post("eager", "A2 more #TraineeTalk", reply_to=world.bot_post)
        world.later(minutes=6)
        welcomer.tick(new_posts=1)
    assert len(world.outbox(PostKind.WELCOME)) == 1
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Welcome).where(
            Welcome.username == "eager")) == 1  # fmt: skip


# --- opt-outs --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["stop", "STOP please", "no bots", "unsubscribe", "opt out"])
def test_welcomes_a_reply_asking_to_stop_opts_out_with_one_acknowledgement(
    world: World, text: str
) -> None:
    welcomer = started(world)
    answer = world.post("shy", "A1 hi #TraineeTalk", reply_to=world.bot_post)
    request = world.post("shy", text, reply_to=world.bot_post)
    welcomer.tick(new_posts=2)
    assert world.outbox(PostKind.WELCOME) == []  # the request came first: no welcome
    [ack] = world.outbox(PostKind.ACK)
    assert ack.reply_target == request["id"] and "won't message you again" in ack.text
    row = world.welcome("shy")
    assert row is not None and row.status is WelcomeStatus.OPTED_OUT
    assert row.tweet_id == answer["id"]
    world.post("shy", "stop!!", reply_to=world.bot_post)  # asking again: not answered again
    world.later(minutes=6)
    welcomer.tick(new_posts=1)
    assert len(world.outbox(PostKind.ACK)) == 1


@pytest.mark.parametrize(
    "text", ["A2 I can't stop thinking about this", "Don't stop the chat!", "No bots here 😅"]
)
def test_welcomes_look_alikes_are_not_opt_outs(world: World, text: str) -> None:
    welcomer = started(world)
    world.post("chatty", text + " #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    assert world.outbox(PostKind.ACK) == []
    assert len(world.outbox(PostKind.WELCOME)) == 1


def test_welcomes_opting_out_cancels_a_queued_welcome(world: World) -> None:
    welcomer = started(world)
    world.post("changed_mind", "A1 hi #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    world.post("changed_mind", "please stop", reply_to=world.bot_post)
    world.later(minutes=1)
    welcomer.tick(new_posts=1)
    [welcome] = world.outbox(PostKind.WELCOME)
    assert welcome.status is PostStatus.CANCELLED
    row = world.welcome("changed_mind")
    assert row is not None and row.status is WelcomeStatus.OPTED_OUT
    assert len(world.outbox(PostKind.ACK)) == 1


def test_welcomes_an_organisers_opt_out_blocks_the_welcome_without_a_reply(world: World) -> None:
    welcomer = started(world)
    with world.sessions.begin() as session:
        add_opt_out(session, "@Quiet_One", now=world.clock.now())  # not in the archive yet
    world.post("quiet_one", "A1 hi #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    assert world.outbox(PostKind.WELCOME) == [] and world.outbox(PostKind.ACK) == []
    row = world.welcome("quiet_one")
    assert row is not None and row.status is WelcomeStatus.OPTED_OUT


def test_welcomes_a_removed_opt_out_is_not_renewed_by_its_old_request(world: World) -> None:
    welcomer = started(world)
    world.post("back_again", "stop", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    with world.sessions.begin() as session:
        assert remove_opt_out(session, "back_again", now=world.clock.now()) == 1
    world.later(minutes=6)
    welcomer.tick(new_posts=1)  # the old request is read again: it stays answered
    with world.sessions() as session:
        rows = session.scalars(select(OptOut)).all()
    assert len(rows) == 1 and rows[0].removed_at is not None


# --- caps and quiet hours ----------------------------------------------------------------------


def queue_welcomes(world: World, how_many: int) -> None:
    welcomer = started(world)
    for n in range(how_many):
        world.post(f"crowd{n}", f"A1 hello {n} #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=how_many)


def send_all_due(world: World) -> list[OutboxPost]:
    """Claim and mark sent every post the policy lets through now."""
    sent = []
    while True:
        with world.sessions.begin() as session:
            claimed = outbox.claim_next(
                session, holder="test", now=world.clock.now(), claim_for=timedelta(minutes=2),
                held_back=world.policy.held_back,
            )  # fmt: skip
            if claimed is None:
                return sent
            outbox.record_sent(session, claimed.id, x_id=f"9{claimed.id}", replied_to_x_id=None,
                               at=world.clock.now())  # fmt: skip
            post = session.get(OutboxPost, claimed.id)
            assert post is not None
            sent.append(post)


def test_welcomes_per_hour_and_per_day_caps(sessions: sessionmaker[Session]) -> None:
    world = World(sessions, per_hour=2, per_day=3)
    queue_welcomes(world, 5)
    assert len(send_all_due(world)) == 2  # the hour's cap
    world.later(minutes=30)
    assert send_all_due(world) == []
    world.later(minutes=31)
    assert len(send_all_due(world)) == 1  # the day's cap (3)
    world.later(hours=2)
    assert send_all_due(world) == []
    world.clock.moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # the next local day
    assert len(send_all_due(world)) == 2


def test_welcomes_wait_in_quiet_hours_but_acknowledgements_do_not(
    sessions: sessionmaker[Session],
) -> None:
    world = World(sessions)
    world.policy = WelcomePolicy(quiet_hours=(time(22), time(8)), zone=ZONE)
    world.clock.moment = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # 22:30 in London
    welcomer = started(world)
    world.post("night_owl", "A1 late one #TraineeTalk", reply_to=world.bot_post)
    world.post("no_thanks", "stop", reply_to=world.bot_post)
    welcomer.tick(new_posts=2)
    sent = send_all_due(world)
    assert [post.kind for post in sent] == [PostKind.ACK]
    world.clock.moment = datetime(2026, 12, 3, 7, 59, tzinfo=UTC)
    assert send_all_due(world) == []
    world.clock.moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert [post.kind for post in send_all_due(world)] == [PostKind.WELCOME]


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(21, 59), False),
        (time(22), True),
        (time(3), True),
        (time(7, 59), True),
        (time(8), False),
    ],
)
def test_welcomes_quiet_hours_cross_midnight(local: time, quiet: bool) -> None:
    policy = WelcomePolicy(quiet_hours=(time(22), time(8)), zone=ZONE)
    moment = datetime.combine(datetime(2026, 7, 1).date(), local, tzinfo=ZONE)  # summer: BST
    assert policy.is_quiet(moment.astimezone(UTC)) is quiet


def rows(session: Session, model: Any) -> Sequence[Any]:
    return session.scalars(select(model)).all()


def test_welcomes_opt_outs_stop_a_downgrade_that_would_lose_them(engine: Engine) -> None:
    sessions = archive.db.make_session_factory(engine)
    with sessions.begin() as session:
        add_opt_out(session, "keep_me", now=START)
    with pytest.raises(RuntimeError, match="opt-out"), engine.begin() as connection:
        command.downgrade(archive.db.alembic_config(connection), "0005_compliance")
    with sessions() as session:
        assert [row.username for row in rows(session, OptOut)] == ["keep_me"]
    assert archive.db.current_revision(engine) == "0006_welcomes"


def test_welcomes_a_chat_date_does_not_name_held_welcomes(sessions: sessionmaker[Session]) -> None:
    world = World(sessions, dry_run=True)
    welcomer = started(world)
    world.post("reviewed", "A1 hello #TraineeTalk", reply_to=world.bot_post)
    welcomer.tick(new_posts=1)
    [reply] = world.outbox(PostKind.WELCOME)
    with world.sessions.begin() as session, pytest.raises(outbox.OutboxError):
        outbox.release(session, "2026-12-02")  # a chat date: no chat that day, no welcome
    with world.sessions.begin() as session:
        assert outbox.release(session, "welcome:2026-12-02") == 1
    [released] = world.outbox(PostKind.WELCOME)
    assert released.id == reply.id and released.status is PostStatus.QUEUED


def test_welcomes_a_request_to_stop_in_imported_history_is_honoured_without_a_reply(
    world: World,
) -> None:
    from archive.importer import ImportReport
    from bot.import_commands import mark_imported_known

    welcomer = started(world)
    world.post("said_so_long_ago", "please stop", reply_to=world.bot_post,
               at=world.clock.now() - timedelta(days=200))  # fmt: skip
    report = ImportReport(files=1, lines=1, pages=1, tweets_new=1, tweets_updated=0,
                          users_new=1, skipped=())  # fmt: skip
    mark_imported_known(world.sessions, report, now=world.clock.now(), bot_username=BOT)
    with world.sessions() as session:
        [opt_out] = session.scalars(select(OptOut)).all()
    assert opt_out.username == "said_so_long_ago" and opt_out.ack_post_id is None
    welcomer.tick(new_posts=1)
    assert world.outbox(PostKind.ACK) == [] and world.outbox(PostKind.WELCOME) == []
