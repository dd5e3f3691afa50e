"""`tcbot demo`: a whole #TraineeTalk chat rehearsed on the sandbox X API, in about a minute.

It starts a fresh sandbox with its pretend community, queues a chat from the
series in schedules/traineetalk.toml that starts a few seconds from now with short
intervals, runs the real daemon (outbox, lease, sender, tracker, tweepy) until the
closing post is out while the participants answer and the tracker collects the
conversation into a throwaway archive, then prints it. Nothing reaches X and the
real archive is not touched.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine, make_session_factory, upgrade
from archive.models import ApiUsage, OutboxPost, PostStatus, Tweet, User, Welcome, WelcomeStatus
from bot import outbox
from bot.clock import SystemClock
from bot.daemon import run_daemon
from bot.lease import make_holder
from bot.sandbox.community import CommunitySettings
from bot.sandbox.server import start_sandbox
from bot.schedule_files import ChatPlan, load_series, plan_chat
from bot.tracker import Tracker, TrackerSettings
from bot.welcome_texts import DEFAULT_WELCOME_FILE, load_welcome_config
from bot.welcomes import WelcomePolicy, Welcomer
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder

DEMO_DATABASE = Path("tcbot-demo.db")
SERIES_FILE = Path("schedules/traineetalk.toml")
BOT = "TraineeTalkBot"
TOPIC = "looking after yourself on placement"
QUESTIONS = (
    "What helps you switch off after a difficult client session?",
    "How do you bring your own wellbeing into supervision?",
    "What would you tell a first-year trainee about self-care?",
)
FINISHED = (PostStatus.SENT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED)

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the rehearsal did, for the summary and the tests."""

    statuses: tuple[PostStatus, ...]
    archived: int
    answers: int


def run(
    *, echo: Echo, database: Path = DEMO_DATABASE, start_in: float = 5.0, interval: float = 8.0
) -> DemoResult:
    """Rehearse one chat, printing as it goes."""
    echo("tcbot demo: a #TraineeTalk chat rehearsed on the sandbox X API (nothing reaches X)\n")
    sessions = _fresh_archive(database)
    clock = SystemClock()
    series_file = _series_file()
    plan = _quick_plan(
        series_file, start=clock.now() + timedelta(seconds=start_in), interval=interval
    )
    zone = ZoneInfo(plan.timezone)
    delays = (1.0, max(1.5, interval * 0.6))
    community = CommunitySettings(reply_delay=delays)
    with start_sandbox(bot_username=BOT, community=community) as server:
        client = make_x_client(
            SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(sessions)
        )
        with sessions.begin() as session:
            outbox.add_chat(session, plan, origin="demo", now=clock.now())
        echo(f"Queued from {series_file}: {len(plan.posts)} posts, the first at "
             f"{plan.starts_at.astimezone(zone):%H:%M:%S} ({plan.timezone}), one every {interval:g} s")  # fmt: skip
        stop = threading.Event()
        tracker = Tracker(
            client=client, sessions=sessions, clock=clock, bot_username=BOT,
            settings=TrackerSettings(hashtags=(plan.hashtag,), chat_poll=timedelta(seconds=2)),
        )  # fmt: skip
        welcomer = Welcomer(  # no quiet hours: a rehearsal may run at night
            sessions=sessions, clock=clock, policy=WelcomePolicy(quiet_hours=None, zone=zone),
            config=load_welcome_config(_beside(Path(DEFAULT_WELCOME_FILE))),
            hashtags=(plan.hashtag,), me=client.me,
        )  # fmt: skip
        bot = partial(
            run_daemon, sessions=sessions, client=client, clock=clock, holder=make_holder(),
            schedule_paths=(), stop=stop, bot_username=BOT, tracker=tracker, track_every=1.0,
            welcomer=welcomer,
        )  # fmt: skip
        daemon = threading.Thread(target=bot, name="tcbot-daemon")
        daemon.start()
        try:
            statuses = _follow(
                sessions, echo, zone, deadline=time.monotonic() + start_in + interval * 8 + 30
            )
            time.sleep(min(delays[1], 5))  # let the last answers arrive before reading back
        finally:
            stop.set()
            daemon.join(timeout=30)
        last = tracker.poll_all()  # what arrived since the tracker's last poll
    archived = _count(sessions, Tweet)
    echo(
        f"\nThe tracker polled {' and '.join(dict.fromkeys(last.polled))!r} every 2 s during the"
        f" chat (30 s on a real one): {archived} posts archived\n"
    )
    answers = _print_conversation(sessions, echo)
    _print_welcomes(sessions, echo)
    _print_usage(sessions, echo, database)
    return DemoResult(statuses=statuses, archived=archived, answers=answers)


def _fresh_archive(database: Path) -> sessionmaker[Session]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    return make_session_factory(engine)


def _series_file() -> Path:
    """The series file in this folder, else the one shipped beside the code."""
    return _beside(SERIES_FILE)


def _beside(path: Path) -> Path:
    """`path` in this folder, else the one shipped beside the code."""
    if path.exists():
        return path
    return Path(__file__).resolve().parent.parent / path


def _quick_plan(series_file: Path, *, start: datetime, interval: float) -> ChatPlan:
    """Today's chat from the file's series, starting at `start`, `interval` seconds apart."""
    series = load_series(series_file)
    local = start.astimezone(ZoneInfo(series.timezone))
    quick = dataclasses.replace(
        series, start=local.time().replace(microsecond=0), weekday=local.weekday(),
        interval=timedelta(seconds=interval), reminders_before=(),
    )  # fmt: skip
    return plan_chat(
        quick, chat_date=local.date(), topic=TOPIC, questions=QUESTIONS, source="demo",
        next_topic="endings with clients",
    )  # fmt: skip


def _follow(
    sessions: sessionmaker[Session], echo: Echo, zone: ZoneInfo, *, deadline: float
) -> tuple[PostStatus, ...]:
    """Print each post as the daemon sends it; return when all are done (or time is up)."""
    shown: set[int] = set()
    while True:
        with sessions() as session:
            posts = session.scalars(
                select(OutboxPost)
                .where(OutboxPost.chat_id.is_not(None))  # the chat's posts, not welcomes
                .order_by(OutboxPost.due_at)
            ).all()
        for post in posts:
            if post.status in FINISHED and post.id not in shown:
                shown.add(post.id)
                at = post.sent_at.astimezone(zone) if post.sent_at else None
                late = (
                    f"{(post.sent_at - post.due_at).total_seconds():.1f} s after due"
                    if post.sent_at
                    else ""
                )
                echo(f"  {at:%H:%M:%S} {post.status.value:<6} {post.text[:60]} ({late})" if at
                     else f"  {post.status.value}: {post.text[:60]} ({post.last_error})")  # fmt: skip
        if all(p.status in FINISHED for p in posts) or time.monotonic() > deadline:
            return tuple(p.status for p in posts)
        time.sleep(0.25)


def _count(sessions: sessionmaker[Session], model: type[Tweet]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _print_conversation(sessions: sessionmaker[Session], echo: Echo) -> int:
    """Print the archive as reply trees; returns how many answers (A<n>) it holds."""
    with sessions() as session:
        rows = session.execute(
            select(Tweet, User.username)
            .join(User, Tweet.author_id == User.id, isouter=True)
            .order_by(Tweet.created_at, Tweet.id)
        ).all()
    known = {tweet.id for tweet, _ in rows}
    children: dict[str | None, list[tuple[Tweet, str | None]]] = {}
    for tweet, username in rows:
        parent = _parent_id(tweet)
        children.setdefault(parent if parent in known else None, []).append((tweet, username))
    echo("The conversation, from the archive:")
    _print_replies(children, None, 0, echo)
    return sum(
        1
        for tweet, _ in rows
        if " A" in f" {tweet.text}" and tweet.author_id != rows[0][0].author_id
    )


def _print_replies(
    children: dict[str | None, list[tuple[Tweet, str | None]]],
    parent: str | None,
    depth: int,
    echo: Echo,
) -> None:
    for tweet, username in children.get(parent, []):
        echo(f"{'    ' * depth}@{username}: {tweet.text}")
        _print_replies(children, tweet.id, depth + 1, echo)


def _parent_id(tweet: Tweet) -> str | None:
    for ref in tweet.raw.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            return str(ref["id"])
    return None


def _print_welcomes(sessions: sessionmaker[Session], echo: Echo) -> None:
    """Who was new, and what the bot did about it (bot/welcomes.py)."""
    with sessions() as session:
        rows = session.execute(
            select(Welcome.username, Welcome.status, OutboxPost.status)
            .join(OutboxPost, OutboxPost.id == Welcome.outbox_post_id, isouter=True)
            .where(Welcome.status != WelcomeStatus.KNOWN)
            .order_by(Welcome.id)
        ).all()
    if not rows:
        echo("\nWelcomes: nobody new took part.")
        return
    replied = [f"@{name}" for name, _, post in rows if post is PostStatus.SENT]
    waiting = [f"@{name}" for name, _, post in rows if post in (PostStatus.QUEUED, PostStatus.HELD)]
    listed = [f"@{name}" for name, status, _ in rows if status is WelcomeStatus.LISTED]
    echo(f"\nWelcomes: {len(rows)} newcomers, each decided about once.")
    if replied:
        echo(f"  welcomed with a reply (they had answered the bot): {', '.join(replied)}")
    if waiting:
        echo(f"  replies still queued: {', '.join(waiting)}")
    if listed:
        echo(f"  on the organisers' list (tcbot welcomes list): {', '.join(listed)}")


def _print_usage(sessions: sessionmaker[Session], echo: Echo, database: Path) -> None:
    with sessions() as session:
        requests, read, created = session.execute(
            select(func.count(), func.sum(ApiUsage.posts_read), func.sum(ApiUsage.posts_created))
        ).one()
    echo(
        f"\nX API usage: {requests} requests, {read or 0} posts read, {created or 0} posts created"
        " (recorded in the usage log)."
    )
    echo(f"The rehearsal's database: {database.resolve()} (replaced on every run).")
    echo("Next: tcbot --help, or look at schedules/traineetalk.toml to plan a real chat.")
