"""End to end: newcomers to a #TraineeTalk chat are welcomed once each, within X's rules.

The bot runs a chat on the sandbox X API through real tweepy, on a fake clock shared
with the sandbox, driven as the daemon drives it: tracker tick, then welcomer tick,
then the sender until nothing is due. Simulated people (SandboxAdmin) answer the
questions. The sandbox enforces X's 2026 reply rule, so a reply to anyone who did not
address the bot would come back as a 403: the test checks there was none.

Who is who:
- two regulars posted before welcomes began (one already archived then, one archived
  after): never welcomed, whatever they post later;
- four newcomers answer the questions (replies to the bot's posts): one welcome each;
- one newcomer answers and says "stop" to the bot: one acknowledgement, nothing else;
- one newcomer only uses the hashtag: no reply (X would refuse it), on the organisers'
  list instead.
Then days pass (late sweeps, a digest day) and everyone posts again: nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_session_factory
from archive.models import ApiUsage, OptOut, OutboxPost, PostKind, PostStatus, Welcome
from archive.models import WelcomeStatus as Status
from bot import outbox
from bot.clock import FakeClock
from bot.lease import make_holder
from bot.optouts import ACK_TEXTS
from bot.sandbox.records import Tweet as SandboxTweet
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import SandboxServer, start_sandbox
from bot.sender import Sender
from bot.tracker import Tracker, TrackerSettings
from bot.welcome_texts import default_config
from bot.welcomes import WelcomePolicy, Welcomer
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from tests.daemon_harness import HASHTAG, make_chat_plan

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

BOT = "TraineeTalkBot"
START = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # a Wednesday, 19:00 in London: not quiet
WEEK = timedelta(days=7)
NEWCOMERS = {"ana_k": "Ana Kowalski", "ben_t": "Ben Taylor", "cleo_m": "Cleo Mensah",
             "dev_p": "Dev Patel"}  # fmt: skip
STOPPER = "sam_r"
HASHTAG_ONLY = "lee_w"
REGULARS = ("reg_early", "reg_late")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(hours=3))


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=clock.now, bot_username=BOT) as running:
        yield running


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """On SQLite and on PostgreSQL (conftest's `engine`)."""
    return make_session_factory(engine)


class Bot:
    """The daemon's jobs on one fake clock: tracker -> welcomer -> sender, until idle."""

    def __init__(
        self, server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock
    ) -> None:
        client = make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock,
                               on_call=usage_recorder(sessions))  # fmt: skip
        self.clock = clock
        self.alerts: list[str] = []
        self.tracker = Tracker(
            client=client, sessions=sessions, clock=clock, bot_username=BOT,
            settings=TrackerSettings(hashtags=(HASHTAG,)), on_alert=self.alerts.append,
        )  # fmt: skip
        self.welcomer = Welcomer(
            sessions=sessions, clock=clock, policy=WelcomePolicy(), config=default_config(),
            hashtags=(HASHTAG,), me=client.me,
        )  # fmt: skip
        self.sender = Sender(
            sessions=sessions, client=client, clock=clock, holder=make_holder(),
            bot_username=BOT, on_alert=self.alerts.append,
            held_back=self.welcomer.policy.held_back,
        )  # fmt: skip

    def tick(self) -> None:
        new_posts = self.tracker.tick().new_posts
        self.welcomer.tick(new_posts=new_posts)
        while self.sender.send_next() is not None:
            pass

    def run_until(self, end: datetime, *, step: timedelta) -> None:
        while self.clock.now() < end:
            self.tick()
            self.clock.set(min(self.clock.now() + step, end))
        self.tick()


def sent_id(sessions: sessionmaker[Session], kind: PostKind, number: int) -> str:
    """The X id of this week's chat post `kind` `number`."""
    with sessions() as session:
        x_id = session.scalar(
            select(OutboxPost.x_id).where(
                OutboxPost.kind == kind, OutboxPost.number == number,
                OutboxPost.chat_date == START.date(),
            )
        )  # fmt: skip
    assert x_id is not None, f"{kind.value} {number} was not posted"
    return x_id


def replies_to_people(server: SandboxServer) -> dict[str, list[SandboxTweet]]:
    """The bot's posts that reply to someone else, by that person's user id."""
    bot = server.state.user_by_username(BOT)
    assert bot is not None
    replies: dict[str, list[SandboxTweet]] = {}
    for tweet in reversed(server.state.newest_first()):
        if tweet.author_id == bot.id and tweet.in_reply_to_user_id not in (None, bot.id):
            replies.setdefault(tweet.in_reply_to_user_id or "", []).append(tweet)
    return replies


def user_id(server: SandboxServer, username: str) -> str:
    user = server.state.user_by_username(username)
    assert user is not None
    return user.id


def test_welcomes_e2e_newcomers_welcomed_once_opt_out_acknowledged_hashtag_only_listed(
    server: SandboxServer, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    admin = SandboxAdmin(server.url)
    for username, name in {**NEWCOMERS, STOPPER: "Sam Reed", HASHTAG_ONLY: "Lee Wong",
                           **{r: r for r in REGULARS}}.items():  # fmt: skip
        admin.add_user(username, name=name)
    bot = Bot(server, sessions, clock)

    # Before welcomes begin: one regular archived, the other posts but is not yet read.
    admin.post_as("reg_early", f"Looking forward to tonight's {HASHTAG}")
    clock.advance(60)
    assert bot.tracker.tick().new_posts == 1
    clock.advance(60)
    admin.post_as("reg_late", f"Who else is joining {HASHTAG} later?")
    clock.advance(60)
    baseline = bot.welcomer.tick()  # the first tick: welcomes begin now
    assert (baseline.known, baseline.queued, baseline.listed) == (1, 0, 0)
    with sessions.begin() as session:
        for starts_at in (START, START + WEEK):  # next week's gives {next_chat} a value
            outbox.add_chat(session, make_chat_plan(starts_at, questions=3), origin="cli",
                            now=clock.now())  # fmt: skip

    bot.run_until(START + timedelta(minutes=11), step=timedelta(seconds=30))  # intro, Q1
    intro, q1 = sent_id(sessions, PostKind.INTRO, 0), sent_id(sessions, PostKind.QUESTION, 1)
    answers = {
        "ana_k": admin.post_as("ana_k", f"A1 to understand people {HASHTAG}", reply_to=q1),
        "ben_t": admin.post_as("ben_t", "A1 my own therapy, honestly", reply_to=q1),  # no tag
    }
    admin.post_as(STOPPER, f"A1 a career change after years of teaching {HASHTAG}", reply_to=q1)
    stop = admin.post_as(STOPPER, "stop", reply_to=intro)  # before any welcome is sent
    admin.post_as("reg_early", f"A1 a friend's story {HASHTAG}", reply_to=q1)
    admin.post_as("reg_late", "A1 volunteering on a helpline", reply_to=q1)
    admin.post_as(HASHTAG_ONLY, f"First time at {HASHTAG}, hello everyone!")

    bot.run_until(START + timedelta(minutes=21), step=timedelta(seconds=30))  # Q2
    q2 = sent_id(sessions, PostKind.QUESTION, 2)
    answers["cleo_m"] = admin.post_as("cleo_m", f"A2 long walks {HASHTAG}", reply_to=q2)
    bot.run_until(START + timedelta(minutes=31), step=timedelta(seconds=30))  # Q3
    q3 = sent_id(sessions, PostKind.QUESTION, 3)
    answers["dev_p"] = admin.post_as("dev_p", "A3 that silence is allowed", reply_to=q3)
    bot.run_until(START + timedelta(hours=2), step=timedelta(seconds=30))

    after_chat = check_replies(server, answers, stop_id=stop["id"])
    check_decisions(sessions, server, after_chat)

    # Days pass: everyone addresses the bot again; later polls, both late sweeps and
    # Friday's digest time go by. Nobody hears from the bot again.
    bot.run_until(START + timedelta(days=1), step=timedelta(minutes=30))
    for username in NEWCOMERS:
        (welcome,) = after_chat[user_id(server, username)]
        admin.post_as(username, f"Thank you! {HASHTAG}", reply_to=welcome.id)
    (ack,) = after_chat[user_id(server, STOPPER)]
    admin.post_as(STOPPER, f"Stop. {HASHTAG}", reply_to=ack.id)  # asked again: noted only
    admin.post_as(HASHTAG_ONLY, f"@{BOT} hello! {HASHTAG}")
    admin.post_as("reg_late", f"@{BOT} great chat last night {HASHTAG}")
    bot.run_until(START + timedelta(days=4), step=timedelta(minutes=30))

    assert replies_to_people(server) == after_chat  # no duplicate, nothing new to anyone
    check_decisions(sessions, server, after_chat)
    with sessions() as session:
        assert session.scalars(select(OptOut.user_id)).all() == [user_id(server, STOPPER)]
        kinds = {p.kind for p in session.scalars(select(OutboxPost))}
        assert PostKind.DIGEST not in kinds  # #TraineeTalk has no digest; nobody else came
        unsent = (PostStatus.QUEUED, PostStatus.SENDING, PostStatus.HELD)
        waiting = session.scalars(select(OutboxPost).where(OutboxPost.status.in_(unsent)))
        assert {p.chat_date for p in waiting} == {(START + WEEK).date()}  # next week's only
        statuses = set(session.scalars(select(ApiUsage.status)))
    refused = [r for r in server.service.requests() if r["status"] == 403]
    assert refused == []  # the sandbox never refused a reply (X's 2026 rule)
    assert 403 not in statuses and 201 in statuses
    assert bot.alerts == []


def check_replies(
    server: SandboxServer, answers: dict[str, dict[str, str]], *, stop_id: str
) -> dict[str, list[SandboxTweet]]:
    """One welcome per answering newcomer, one acknowledgement to the stop, nothing else."""
    replies = replies_to_people(server)
    people = {username: user_id(server, username) for username in [*NEWCOMERS, STOPPER]}
    assert set(replies) == set(people.values()), {u: len(r) for u, r in replies.items()}
    texts = []
    for username, answer in answers.items():
        (welcome,) = replies[people[username]]
        assert welcome.in_reply_to_tweet_id == answer["id"]
        shown = welcome.text[welcome.display_start :]
        assert NEWCOMERS[username].split()[0] in shown and HASHTAG in shown
        texts.append(shown)
    assert len(set(texts)) == len(texts) == 4, texts  # pairwise different
    (ack,) = replies[people[STOPPER]]
    assert ack.in_reply_to_tweet_id == stop_id
    stop = server.state.tweet(stop_id)
    assert stop is not None  # and it came before every welcome:
    assert all(stop.created_at < r[0].created_at for r in replies.values())
    assert ack.text[ack.display_start :] in ACK_TEXTS
    return replies


def check_decisions(
    sessions: sessionmaker[Session], server: SandboxServer, replies: dict[str, list[SandboxTweet]]
) -> None:
    """Each person's welcome row says what happened; sent ones carry the reply's X id."""
    with sessions() as session:
        rows = {w.username: w for w in session.scalars(select(Welcome))}
        expected = {
            **dict.fromkeys(NEWCOMERS, Status.SENT), STOPPER: Status.OPTED_OUT,
            HASHTAG_ONLY: Status.LISTED, **dict.fromkeys(REGULARS, Status.KNOWN),
        }  # fmt: skip
        assert {u: rows[u].status for u in expected} == expected
        for username in NEWCOMERS:
            post = session.get(OutboxPost, rows[username].outbox_post_id)
            assert post is not None and post.kind is PostKind.WELCOME
            (welcome,) = replies[user_id(server, username)]
            assert (post.status, post.x_id) == (PostStatus.SENT, welcome.id)
            assert post.reply_target == rows[username].tweet_id == welcome.in_reply_to_tweet_id
        assert rows[HASHTAG_ONLY].outbox_post_id is None
        assert "mention" in (rows[HASHTAG_ONLY].note or "")
        assert rows[STOPPER].outbox_post_id is None
        no_chat = select(OutboxPost.kind).where(OutboxPost.chat_id.is_(None))
        kinds = sorted(kind.value for kind in session.scalars(no_chat))
        assert kinds == ["ack", "welcome", "welcome", "welcome", "welcome"]
