"""What the chat commands do: check and sync schedule files, show and change the queue, run.

bot/cli/chats.py parses the arguments and calls these; they print through `echo`
and raise TcbotError for anything the host must fix.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from archive.models import PostKind
from bot import outbox
from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError
from bot.schedule_files import Schedule, load_schedules, load_series, plan_chat
from bot.thread_text import MAX_WEIGHTED, weighted_length
from bot.welcome_texts import load_welcome_config
from bot.welcomes import WelcomePolicy, Welcomer
from bot.x_client import XClient

log = logging.getLogger(__name__)
Echo = Callable[[str], None]
CHANGED = {"hold": "held", "release": "released", "cancel": "cancelled"}


def check(paths: Sequence[Path], *, clock: Clock, echo: Echo) -> Schedule:
    """Validate the files; print every problem; raise if any is an error."""
    schedule = load_schedules(paths, now=clock.now())
    for problem in schedule.problems:
        echo(str(problem))
    if schedule.errors:
        count = len(schedule.errors)
        raise TcbotError(
            f"{count} error{'s' if count > 1 else ''} in the schedule (listed above)",
            "fix them and run 'tcbot schedule check' again",
        )
    chats = [plan for plan in schedule.plans if not plan.skip]
    posts = sum(len(plan.posts) for plan in chats)
    warnings = len(schedule.problems)
    echo(
        f"OK: {len(chats)} chat{'s' if len(chats) != 1 else ''} with {posts} posts"
        f" in {len(paths)} file{'s' if len(paths) != 1 else ''}"
        + (f", {warnings} warning{'s' if warnings > 1 else ''}" if warnings else "")
    )
    return schedule


def sync(
    paths: Sequence[Path], *, sessions: sessionmaker[Session], clock: Clock, echo: Echo
) -> outbox.SyncReport:
    """Check, then load every file's chats into the outbox in one transaction."""
    schedule = check(paths, clock=clock, echo=echo)
    reports = []
    with sessions.begin() as session:
        for path in paths:
            plans = [plan for plan in schedule.plans if plan.source == str(path)]
            reports.append(
                outbox.sync_plans(session, plans, origin=f"file:{path}", now=clock.now())
            )
    report = merge_reports(reports)
    print_report(report, echo)
    return report


def merge_reports(reports: Sequence[outbox.SyncReport]) -> outbox.SyncReport:
    return outbox.SyncReport(
        added=tuple(line for r in reports for line in r.added),
        updated=tuple(line for r in reports for line in r.updated),
        cancelled=tuple(line for r in reports for line in r.cancelled),
        kept_sent=tuple(line for r in reports for line in r.kept_sent),
        clashes=tuple(line for r in reports for line in r.clashes),
    )


def print_report(report: outbox.SyncReport, echo: Echo) -> None:
    sections = (
        ("Added", report.added),
        ("Updated", report.updated),
        ("Cancelled (no longer in the file)", report.cancelled),
        ("Already sent, left as posted", report.kept_sent),
        ("Not changed: queued outside the file", report.clashes),
    )
    for title, lines in sections:
        if lines:
            echo(f"{title}:")
            for line in lines:
                echo(f"  {line}")
    if not report.changed and not report.clashes and not report.kept_sent:
        echo("The queue already matches the files: nothing changed.")


def when(moment: datetime, zone: ZoneInfo) -> str:
    """'Wed 2 Dec 20:00 GMT (20:00 UTC)': local time first, for hosts."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M %Z} ({moment:%H:%M} UTC)"


def list_queue(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    echo: Echo,
    show_all: bool,
) -> None:
    with sessions() as session:
        rows = outbox.list_queue(session, now=clock.now(), include_finished=show_all)
    if not rows:
        echo("Nothing is queued. Add chats to the schedule file and run 'tcbot schedule sync'.")
        return
    for row in rows:
        text = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        echo(
            f"#{row.id:<5} {when(row.due_at, settings.timezone):<32} {row.series} {row.chat_date}"
            f" {outbox.post_label(row.kind, row.number):<12} {row.status.value:<9} {text}"
        )
        if row.last_error:
            echo(f"       last error: {row.last_error}")


def preview(chat: str, *, sessions: sessionmaker[Session], settings: Settings, echo: Echo) -> None:
    with sessions() as session:
        posts = sorted(outbox.select_posts(session, chat), key=lambda p: (p.due_at, p.id))
        if not posts:
            raise TcbotError(f"no posts are queued for {chat}", "see 'tcbot queue list'")
        for post in posts:
            length = weighted_length(post.text)
            flag = "" if length <= MAX_WEIGHTED else "  TOO LONG"
            thread = (
                "  (reply to the post above)"
                if post.thread and post.kind is not PostKind.INTRO
                else ""
            )
            echo(
                f"-- {outbox.post_label(post.kind, post.number)} · {when(post.due_at, settings.timezone)}"
                f" · {length}/{MAX_WEIGHTED}{flag} · {post.status.value}{thread}"
            )
            for line in post.text.splitlines() or [""]:
                echo(f"   {line}")


def add(
    series_file: Path,
    *,
    chat_date: date,
    topic: str,
    questions: Sequence[str],
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    echo: Echo,
) -> None:
    series = load_series(series_file)
    plan = plan_chat(
        series, chat_date=chat_date, topic=topic, questions=list(questions), source="cli",
        next_topic=None,
    )  # fmt: skip
    if plan.starts_at <= clock.now():
        raise TcbotError(f"the chat on {chat_date} would start in the past", "choose a later date")
    with sessions.begin() as session:
        report = outbox.add_chat(session, plan, origin="cli", now=clock.now())
    print_report(report, echo)
    echo(f"See it with: tcbot queue preview {plan.series}:{chat_date}")


def change(
    action: str, what: str, *, sessions: sessionmaker[Session], clock: Clock, echo: Echo
) -> int:
    with sessions.begin() as session:
        count = int(getattr(outbox, action)(session, what, at=clock.now()))
    echo(f"{count} post{'s' if count != 1 else ''} {CHANGED[action]}.")
    return count


def run(
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Clock,
    stop: threading.Event,
    drain: bool,
    echo: Echo,
) -> None:
    from bot import daemon, lease, wiring
    from bot.alerts import make_alert
    from bot.tracker import Tracker, TrackerSettings

    paths = [Path(f) for f in settings.schedule_files]
    alert = make_alert(settings.alert_urls)
    with wiring.connect_x(settings, clock=clock, sessions=sessions) as client:
        tracker = Tracker(
            client=client, sessions=sessions, clock=clock,
            settings=TrackerSettings.from_settings(settings),
            bot_username=settings.bot_username, on_alert=alert,
        )  # fmt: skip
        # The sandbox knows nothing of the posts archived from X or imported: asked
        # about them, it would call them all deleted. So no daily sweep against it.
        daily_sweep = None if settings.uses_sandbox else daemon.DailySweep(
            client=client, sessions=sessions, clock=clock, sweep_days=settings.sweep_days,
            on_alert=alert,
        )  # fmt: skip
        daemon.run_daemon(
            sessions=sessions, client=client, clock=clock, holder=lease.make_holder(),
            schedule_paths=paths, stop=stop, drain=drain, tracker=tracker, daily_sweep=daily_sweep,
            welcomer=make_welcomer(settings, sessions=sessions, clock=clock, client=client,
                                   on_alert=alert),
            step=daemon.crash_hook_from_env(os.environ), bot_username=settings.bot_username,
            on_alert=alert,
        )  # fmt: skip


def make_welcomer(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    clock: Clock,
    client: XClient,
    on_alert: Callable[[str], None] | None = None,
) -> Welcomer | None:
    """The Welcomer for `tcbot run`; None (with an alert) when the welcome file has
    problems: chats must still be posted while a host fixes a typo there."""
    try:
        config = load_welcome_config(Path(settings.welcome_file))
    except TcbotError as error:
        message = f"welcomes are off until the welcome file is fixed: {error}"
        log.error("%s", message)
        if on_alert is not None:
            on_alert(message)
        return None
    return Welcomer(
        sessions=sessions, clock=clock, policy=WelcomePolicy.from_settings(settings),
        config=config, hashtags=settings.hashtags, me=client.me,
    )  # fmt: skip
