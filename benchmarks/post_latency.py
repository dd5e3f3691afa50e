"""How soon after its due time does `tcbot run` post? (the issue asks: within 2 seconds)

Runs the real daemon (APScheduler, outbox, lease, sender, tweepy) against the
sandbox X API on loopback with several chats queued at once, then reports how
late each post went out (sent_at - due_at): p50, p99 and the worst. As a baseline
measured in the same run it also times a bare post through the same client, so
the figures can be compared across machines as ratios.

Usage: python benchmarks/post_latency.py [--chats 4] [--questions 12] [--interval 2.5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select

from archive.db import make_engine, make_session_factory, upgrade
from archive.models import OutboxPost, PostStatus
from bot import outbox
from bot.clock import SystemClock
from bot.daemon import run_daemon
from bot.lease import make_holder
from bot.sandbox.server import start_sandbox
from bot.schedule_files import Series, plan_chat
from bot.wiring import SANDBOX_CREDENTIALS, make_x_client

DONE = (PostStatus.SENT, PostStatus.FAILED, PostStatus.MISSED)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=4)
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--interval", type=float, default=2.5)
    args = parser.parse_args()
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as folder, start_sandbox(bot_username="bench") as server:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        sessions = make_session_factory(engine)
        client = make_x_client(SANDBOX_CREDENTIALS, base_url=server.url, clock=clock, on_call=None)
        baseline = []
        for n in range(20):
            started = time.perf_counter()
            client.post(f"baseline post {n}")
            baseline.append(time.perf_counter() - started)
        start = clock.now() + timedelta(seconds=3)
        for chat in range(args.chats):
            series = Series(
                id=f"bench{chat}", hashtag="#TraineeTalk", source="bench", timezone="UTC",
                start=(start + timedelta(seconds=chat * 0.37)).time().replace(microsecond=0),
                weekday=start.weekday(), interval=timedelta(seconds=args.interval),
                reminders_before=(),
            )  # fmt: skip
            questions = [f"Chat {chat} question {q}: what helps?" for q in range(args.questions)]
            plan = plan_chat(
                series, chat_date=start.date(),
                topic=f"benchmark {chat}", questions=questions, source="bench", next_topic=None,
            )  # fmt: skip
            with sessions.begin() as session:
                outbox.add_chat(session, plan, origin="bench", now=clock.now())
        stop = threading.Event()
        bot = partial(
            run_daemon, sessions=sessions, client=client, clock=clock, holder=make_holder(),
            schedule_paths=(), stop=stop, bot_username="bench",
        )  # fmt: skip
        daemon = threading.Thread(target=bot)
        daemon.start()
        try:
            while True:
                with sessions() as session:
                    posts = session.scalars(select(OutboxPost)).all()
                if all(p.status in DONE for p in posts):
                    break
                time.sleep(0.5)
        finally:
            stop.set()
            daemon.join()
    late = [(p.sent_at - p.due_at).total_seconds() for p in posts if p.sent_at is not None]
    base = statistics.median(baseline)
    print(f"posts: {len(posts)} sent {len(late)}, not sent {len(posts) - len(late)}")
    print(f"baseline: one post through tweepy to the sandbox takes {base * 1000:.1f} ms (median)")
    for name, value in (("p50", percentile(late, 0.5)), ("p99", percentile(late, 0.99)),
                        ("max", max(late))):  # fmt: skip
        print(f"{name} lateness: {value:.3f} s  ({value / base:.0f}x the baseline post)")
    print("target: every post within 2 s of its due time:", "met" if max(late) < 2 else "NOT met")


if __name__ == "__main__":
    main()
