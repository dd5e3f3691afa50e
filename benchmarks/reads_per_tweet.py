"""Posts read from X per post archived, for one busy chat (the issue asks: at most 1.05).

X bills every post a request returns, expanded ones included. This runs a
#TraineeTalk chat on the sandbox X API on a fake clock: the real sender posts the
intro, questions and closing; simulated participants post about 500 posts (answers
replying to the questions, half of them without the hashtag, replies to answers,
plain hashtag posts, a few late replies after the chat); the real tracker polls every
30 s as `tcbot run` does, then makes its late sweeps. It reports posts read (from the
usage log) divided by the distinct posts archived.

For comparison, in the same run and on the same sandbox, the naive way (what twarc
users do after a chat): one search of the hashtag plus one conversation search per
question, with twarc's default expansions, read into a second archive.

Usage: python benchmarks/reads_per_tweet.py [--questions 6] [--people 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine, make_session_factory, upgrade
from archive.ingest import ingest_page
from archive.models import ApiUsage, OutboxPost, PostKind, PostStatus, Tweet
from bot import outbox
from bot.clock import FakeClock
from bot.sandbox.remote import SandboxAdmin
from bot.sandbox.server import start_sandbox
from bot.schedule_files import Series, plan_chat
from bot.sender import Sender
from bot.tracker import Tracker, TrackerSettings
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client, usage_recorder

BOT = "TraineeTalkBot"
START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=10)
TICK = timedelta(seconds=30)


def archive(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return make_session_factory(engine)


def totals(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(posts read, requests, distinct posts archived)."""
    with sessions() as session:
        read, requests = session.execute(
            select(func.coalesce(func.sum(ApiUsage.posts_read), 0), func.count()).where(
                ApiUsage.method == "GET"
            )
        ).one()
        stored = session.scalar(select(func.count()).select_from(Tweet)) or 0
    return int(read), int(requests), int(stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    clock = FakeClock(START - timedelta(minutes=30))
    with (
        tempfile.TemporaryDirectory() as folder,
        start_sandbox(clock=clock.now, bot_username=BOT) as server,
    ):
        ours = archive(Path(folder) / "tracker.db")
        client = make_x_client(
            SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(ours)
        )
        admin = SandboxAdmin(server.url)
        people = [f"trainee{n}" for n in range(args.people)]
        for person in people:
            admin.add_user(person)
        series = Series(
            id="traineetalk", hashtag="#TraineeTalk", source="bench", timezone="UTC",
            start=START.time(), weekday=START.weekday(), interval=INTERVAL, reminders_before=(),
        )  # fmt: skip
        questions = [f"Q{n}: what helps you most on placement, part {n}?" for n in
                     range(1, args.questions + 1)]  # fmt: skip
        plan = plan_chat(series, chat_date=START.date(), topic="placement", questions=questions,
                         source="bench", next_topic=None)  # fmt: skip
        with ours.begin() as session:
            outbox.add_chat(session, plan, origin="bench", now=clock.now())
        sender = Sender(sessions=ours, client=client, clock=clock, holder="bench:1:a",
                        bot_username=BOT)  # fmt: skip
        tracker = Tracker(client=client, sessions=ours, clock=clock, bot_username=BOT,
                          settings=TrackerSettings(hashtags=("#TraineeTalk",)))  # fmt: skip

        answers: list[str] = []
        question_ids: list[str] = []
        posted = 0
        serial = 0

        def say(person: str, text: str, **extra: str) -> dict[str, str]:
            nonlocal posted, serial
            serial += 1
            posted += 1
            return admin.post_as(person, f"{text} ({serial})", **extra)

        chat_end = START + (args.questions + 1) * INTERVAL
        late_until = chat_end + timedelta(hours=1) + timedelta(hours=25)
        while clock.now() < late_until:
            while sender.send_next() is not None:
                pass
            with ours() as session:
                sent = session.scalars(
                    select(OutboxPost.x_id)
                    .where(
                        OutboxPost.kind == PostKind.QUESTION, OutboxPost.status == PostStatus.SENT
                    )
                    .order_by(OutboxPost.number)
                ).all()
            question_ids = [x for x in sent if x]
            now = clock.now()
            if START - timedelta(minutes=10) <= now < START:
                if rng.random() < 0.3:
                    say(rng.choice(people), "Looking forward to #TraineeTalk tonight")
            elif START <= now < chat_end and question_ids:
                current = question_ids[-1]
                number = len(question_ids)
                for _ in range(rng.choice((3, 4, 4, 5))):
                    roll = rng.random()
                    person = rng.choice(people)
                    if roll < 0.7 or not answers:
                        tag = " #TraineeTalk" if rng.random() < 0.5 else ""
                        reply = say(person, f"@{BOT} A{number} my answer{tag}", reply_to=current)
                        answers.append(reply["id"])
                    elif roll < 0.9:
                        say(person, "so true", reply_to=rng.choice(answers[-20:]))
                    else:
                        say(person, "loving tonight's #TraineeTalk")
            elif chat_end + timedelta(minutes=30) <= now < chat_end + timedelta(minutes=35):
                say(rng.choice(people), f"@{BOT} A1 sorry I'm late", reply_to=question_ids[0])
            tracker.tick()
            clock.advance(TICK if now < chat_end + timedelta(hours=3) else timedelta(minutes=15))

        read, requests, stored = totals(ours)
        ratio = read / stored

        # The naive way, on the same sandbox, into its own archive.
        naive = archive(Path(folder) / "naive.db")
        naive_client = make_x_client(
            SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=usage_recorder(naive)
        )
        with naive.begin() as session:
            pages = list(naive_client.search_recent("#TraineeTalk", max_pages=100).pages)
            # the questions are on the hashtag; each names its conversation
            by_id = {t["id"]: t for page in pages for t in page.payload.get("data", [])}
            conversations = [by_id[q]["conversation_id"] for q in question_ids if q in by_id]
            for conversation in conversations:
                pages += naive_client.search_recent(
                    f"conversation_id:{conversation}", max_pages=100
                ).pages
            for page in pages:
                ingest_page(session, page.payload, endpoint=page.endpoint,
                            fetched_at=page.retrieved_at)  # fmt: skip
        naive_read, naive_requests, naive_stored = totals(naive)

    print(f"chat: {args.questions} questions, {args.people} people, {posted} participant posts")
    print(f"tracker: {read} posts read in {requests} requests, {stored} distinct posts archived"
          f" -> {ratio:.3f} reads per archived post (target <= 1.05)")  # fmt: skip
    print(f"naive (hashtag search + a conversation search per question, full expansions):"
          f" {naive_read} posts read in {naive_requests} requests, {naive_stored} archived"
          f" -> {naive_read / naive_stored:.3f} reads per archived post"
          f" ({naive_read / read:.1f}x the tracker's reads)")  # fmt: skip


if __name__ == "__main__":
    main()
