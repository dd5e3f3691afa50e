"""`tcbot demo`: a short rehearsal on the sandbox X API, end to end through the real client.

It starts a fresh sandbox, posts a three-post #TraineeTalk thread through tweepy
(intro, Q1, Q2, each replying to the one before), lets two pretend participants
answer, reads everything back by recent search into a throwaway archive, and
prints the conversation from the archive. Nothing reaches X and the real archive
is not touched. The weekly-chat work turns this into the full rehearsal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine, make_session_factory, upgrade
from archive.models import ApiUsage, Tweet, User
from bot.clock import SystemClock
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import start_sandbox
from bot.tracker import poll
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder
from bot.x_client import XClient

DEMO_DATABASE = Path("tcbot-demo.db")
HASHTAG = "#TraineeTalk"
BOT = "TraineeTalkBot"
THREAD = (
    (
        f"Welcome to tonight's {HASHTAG}! Our topic: looking after yourself on placement. "
        f"Answer with A1, A2... and {HASHTAG} so everyone can follow."
    ),
    f"Q1 What helps you switch off after a difficult client session? {HASHTAG}",
    f"Q2 How do you bring your own wellbeing into supervision? {HASHTAG}",
)

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the rehearsal did, for the summary and the tests."""

    posted_ids: tuple[str, ...]
    archived: int
    second_poll_new: int


def run(*, echo: Echo, database: Path = DEMO_DATABASE) -> DemoResult:
    """Run the rehearsal, printing as it goes."""
    echo("tcbot demo: a rehearsal on the sandbox X API (nothing reaches X)\n")
    sessions = _fresh_archive(database)
    with start_sandbox(bot_username=BOT) as server:
        client = make_x_client(
            SANDBOX_CREDENTIALS, base_url=server.url, clock=SystemClock(),
            on_call=usage_recorder(sessions),
        )  # fmt: skip
        me = client.me()
        echo(f"Signed in to the sandbox at {server.url} as @{me.username}")
        posted = _post_thread(client, echo)
        _play_participants(SandboxAdmin(server.url), posted)
        query = f"{HASHTAG} OR conversation_id:{posted[0]}"
        archived = poll(client, sessions, query, max_pages=10)
        echo(f"Read back by recent search ({query!r}): {archived} posts archived")
        again = poll(client, sessions, query, max_pages=10)
        echo(f"A second poll from the saved cursor found {again} new posts\n")
    _print_conversation(sessions, echo)
    _print_usage(sessions, echo, database)
    return DemoResult(posted_ids=posted, archived=archived, second_poll_new=again)


def _fresh_archive(database: Path) -> sessionmaker[Session]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    return make_session_factory(engine)


def _post_thread(client: XClient, echo: Echo) -> tuple[str, ...]:
    ids: list[str] = []
    for text in THREAD:
        tweet = client.post(text, reply_to=ids[-1] if ids else None)
        ids.append(tweet.id)
        echo(f"  posted {tweet.id}" + (f" (reply to {ids[-2]})" if len(ids) > 1 else ""))
    return tuple(ids)


def _play_participants(admin: SandboxAdmin, posted: tuple[str, ...]) -> None:
    """Two trainees answer, and one replies to the other without the hashtag."""
    admin.add_user("sam_trainee", name="Sam (trainee counsellor)")
    admin.add_user("priya_mbacp", name="Priya")
    answer = admin.post_as(
        "sam_trainee", f"A1 A walk home without my phone, then writing three lines. {HASHTAG}",
        reply_to=posted[1],
    )  # fmt: skip
    admin.post_as("priya_mbacp", f"A2 I bring one thing that moved me each week {HASHTAG}",
                  reply_to=posted[2])  # fmt: skip
    admin.post_as("priya_mbacp", "Same here, the walk is my buffer too", reply_to=answer["id"])


def _print_conversation(sessions: sessionmaker[Session], echo: Echo) -> None:
    with sessions() as session:
        rows = session.execute(
            select(Tweet, User.username)
            .join(User, Tweet.author_id == User.id, isouter=True)
            .order_by(Tweet.created_at, Tweet.id)
        ).all()
    children: dict[str | None, list[tuple[Tweet, str | None]]] = {}
    known = {tweet.id for tweet, _ in rows}
    for tweet, username in rows:
        parent = _parent_id(tweet)
        children.setdefault(parent if parent in known else None, []).append((tweet, username))
    echo("The conversation, from the archive:")
    _print_replies(children, None, 0, echo)


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


def _print_usage(sessions: sessionmaker[Session], echo: Echo, database: Path) -> None:
    with sessions() as session:
        requests, read, created = session.execute(
            select(func.count(), func.sum(ApiUsage.posts_read), func.sum(ApiUsage.posts_created))
        ).one()
    echo(
        f"\nX API usage: {requests} requests, {read or 0} posts read, {created or 0} posts created"
        f" (recorded in the usage log)."
    )
    echo(f"Demo archive: {database} (replaced on every run). Try: tcbot --help")
