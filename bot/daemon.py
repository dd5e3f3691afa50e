"""The posting daemon behind `tcbot run`: APScheduler ticks that hold the lease and post.

APScheduler 3.x runs two interval jobs from a memory job store; neither holds any
state a restart could lose, because the outbox in the database is the only queue:

    post   every second: renew the single-poster lease; if it is ours, send every
           due post, one at a time (bot/sender.py), renewing the lease between posts
    track  every 5 seconds, while the lease is ours: the tracker (bot/tracker.py)
           polls whatever is due: hashtags, chat conversations, late sweeps, roots;
           then the welcomer (bot/welcomes.py) looks at what came in: requests to
           stop, newcomers to welcome, the weekly digest
    sweep  hourly, while the lease is ours: once a UTC day, re-check a share of the
           archive with X (bot/sweep.py), so deleted posts go and hidden ones hide
    sync   every 30 seconds (and once at start-up, before any post): if a schedule
           file's mtime or size changed, load the files and sync them into the
           outbox (files with an error are not synced: a typo must not cancel a chat)

A second daemon finds the lease taken and idles as a standby; it takes over when the
holder stops renewing (at most DEFAULT_TTL later) or at once when the holder was a
process on this host that has died. `stop` (set by the CLI on SIGTERM or Ctrl-C) ends
the daemon cleanly: the scheduler shuts down waiting for the post in flight, and the
lease is released so a standby can take over without waiting.

`drain=True` runs no scheduler: it syncs, sends everything due now and returns
(posts deferred to later, e.g. after a 503, are left for the next run). Tests and the
crash harness use it.

`crash_hook_from_env` turns TCBOT_CRASH_AT ("step:n") into the `step` callback that
SIGKILLs this process at the n-th time the sender passes the named step.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, sessionmaker

from archive.models import TrackerMark
from bot import outbox
from bot.clock import Clock
from bot.errors import ConfigError, XError, XRejected
from bot.lease import (
    DEFAULT_TTL,
    POSTER,
    acquire_lease,
    lease_info,
    make_holder,
    release_lease,
    write_transaction,
)
from bot.schedule_files import load_schedules
from bot.sender import Sender, SendOutcome
from bot.sweep import daily_quota, sweep
from bot.tracker import Tracker
from bot.welcomes import Welcomer
from bot.x_client import XClient

__all__ = [
    "CRASH_ENV",
    "DailySweep",
    "PostingLoop",
    "ScheduleWatcher",
    "crash_hook_from_env",
    "make_holder",
    "make_scheduler",
    "run_daemon",
    "sync_schedule_files",
]

log = logging.getLogger(__name__)

CRASH_ENV = "TCBOT_CRASH_AT"
POST_EVERY = 1.0  # seconds: a due post goes out within about this of its due time
SYNC_EVERY = 30.0
TRACK_EVERY = 5.0  # seconds between tracker ticks; the tracker decides what is due
SWEEP_EVERY = 3600.0  # seconds between checks whether today's sweep is done
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 5 * 60}
Alert = Callable[[str], None]
FileSignature = tuple[int, int] | None  # (mtime_ns, size), or None for a missing file


class ScheduleWatcher:
    """Notices when any schedule file was created, changed or removed since last asked."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        self._seen: dict[Path, FileSignature] | None = None

    def changed(self) -> bool:
        """True the first time, then whenever a file's mtime or size differs."""
        current = {path: _signature(path) for path in self.paths}
        changed = current != self._seen
        self._seen = current
        return changed

    def forget(self) -> None:
        """Make the next `changed()` true (a sync failed half-way: try it again)."""
        self._seen = None


def _signature(path: Path) -> FileSignature:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def sync_schedule_files(
    sessions: sessionmaker[Session], paths: Sequence[Path], *, clock: Clock, on_alert: Alert | None
) -> outbox.SyncReport | None:
    """Load the files and sync each file's chats into the outbox in one transaction.

    A file set with errors is not synced at all (a typo must not cancel a chat): the
    errors are logged and alerted, and the outbox keeps what it had. None then.
    """
    now = clock.now()
    schedule = load_schedules(paths, now=now)
    for problem in schedule.problems:
        log.warning("%s", problem)
    if schedule.errors:
        message = (
            f"the schedule files have {len(schedule.errors)} error(s), so they were not "
            f"re-synced; fix them (see 'tcbot schedule check') and save again"
        )
        log.error("%s", message)
        if on_alert is not None:
            on_alert(message)
        return None
    reports = []
    with sessions.begin() as session:
        for path in paths:
            plans = [plan for plan in schedule.plans if plan.source == str(path)]
            reports.append(outbox.sync_plans(session, plans, origin=f"file:{path}", now=now))
    report = outbox.SyncReport(
        added=tuple(line for r in reports for line in r.added),
        updated=tuple(line for r in reports for line in r.updated),
        cancelled=tuple(line for r in reports for line in r.cancelled),
        kept_sent=tuple(line for r in reports for line in r.kept_sent),
        clashes=tuple(line for r in reports for line in r.clashes),
    )
    sections = {"added": report.added, "updated": report.updated,
                "cancelled": report.cancelled, "left alone": report.clashes}  # fmt: skip
    for title, lines in sections.items():
        for line in lines:
            log.info("schedule sync, %s: %s", title, line)
    return report


class DailySweep:
    """The body of the "sweep" job: once a UTC day, check a share of the archive with X.

    The share (bot/sweep.py `daily_quota`) is sized so the whole archive is checked
    every `sweep_days` days. A day's sweep is marked done in tracker_marks when it
    finishes; one stopped by a rate limit or an outage is tried again an hour later
    (the posts it did check are not asked about again: they were checked last).
    """

    def __init__(
        self,
        *,
        client: XClient,
        sessions: sessionmaker[Session],
        clock: Clock,
        sweep_days: int,
        on_alert: Alert | None = None,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._clock = clock
        self._sweep_days = sweep_days
        self._on_alert = on_alert

    def tick(self) -> bool:
        """Run today's sweep if it is not done yet; True when it ran to the end."""
        now = self._clock.now()
        mark = f"sweep:{now.astimezone(UTC).date().isoformat()}"
        with self._sessions() as session:
            if session.get(TrackerMark, mark) is not None:
                return False
            quota = daily_quota(session, self._sweep_days)
        try:
            report = sweep(self._client, self._sessions, clock=self._clock, limit=quota)
        except XRejected as error:
            log.error("daily sweep: %s", error)
            if self._on_alert is not None:
                self._on_alert(f"the daily sweep failed: {error}")
            return False
        log.info(
            "daily sweep: %d post(s) checked, %d removed, %d hidden%s",
            report.checked, report.removed, report.hidden,
            f"; stopped early ({report.stopped}), trying again in an hour" if report.stopped else "",
        )  # fmt: skip
        if report.stopped:
            return False
        with write_transaction(self._sessions) as session:
            session.add(TrackerMark(name=mark, done_at=now))
        return True


class PostingLoop:
    """The body of the "post" job: hold the lease, then send what is due."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        sender: Sender,
        clock: Clock,
        stop: threading.Event,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._clock = clock
        self._stop = stop
        self._ttl = ttl
        self.holding = False
        self._told: bool | None = None  # what was last logged: poster (True) or standby

    def hold_lease(self) -> bool:
        """Take or renew the poster lease; logs when this daemon starts or stops posting."""
        ours = acquire_lease(
            self._sessions, name=POSTER, holder=self._sender.holder,
            now=self._clock.now(), ttl=self._ttl,
        )  # fmt: skip
        self.holding = ours
        if ours != self._told:
            self._told = ours
            if ours:
                log.info("this daemon (%s) is now the poster", self._sender.holder)
            else:
                current = lease_info(self._sessions)
                log.warning(
                    "standby: %s holds the poster lease; taking over if it stops",
                    current.holder if current else "another daemon",
                )
        return ours

    def tick(self) -> list[SendOutcome]:
        """Send every due post while the lease stays ours; what happened, in order."""
        outcomes: list[SendOutcome] = []
        while not self._stop.is_set() and self.hold_lease():
            outcome = self._sender.send_next()
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def release(self) -> None:
        if self.holding:
            release_lease(self._sessions, name=POSTER, holder=self._sender.holder)
            self.holding = False


def make_scheduler() -> BackgroundScheduler:
    """A BackgroundScheduler with every default set explicitly, and an error listener."""
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults=dict(JOB_DEFAULTS),
        timezone=UTC,
    )

    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            log.error(
                "job %r failed: %s", event.job_id, event.exception,
                exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
            )  # fmt: skip
        else:
            log.warning("job %r missed its run at %s", event.job_id, event.scheduled_run_time)

    scheduler.add_listener(on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def run_daemon(
    *,
    sessions: sessionmaker[Session],
    client: XClient,
    clock: Clock,
    holder: str,
    schedule_paths: Sequence[Path],
    stop: threading.Event,
    drain: bool = False,
    on_alert: Alert | None = None,
    step: Callable[[str], None] | None = None,
    bot_username: str | None = None,
    post_every: float = POST_EVERY,
    sync_every: float = SYNC_EVERY,
    ttl: timedelta = DEFAULT_TTL,
    tracker: Tracker | None = None,
    track_every: float = TRACK_EVERY,
    daily_sweep: DailySweep | None = None,
    welcomer: Welcomer | None = None,
) -> None:
    """Post due outbox posts until `stop` is set (or, with `drain`, until none is due).

    With a `tracker`, also collect the tracked hashtags and chats (bot/tracker.py),
    and with a `daily_sweep` check a share of the archive with X each day, both only
    while this daemon holds the poster lease (a standby must not pay for the same
    reads). With a `welcomer`, newcomers are welcomed after each tracker tick, and the
    sender holds welcomes back in quiet hours and over the caps. `bot_username`
    (without @) is asked of X (`me`) when needed.
    """
    sender = Sender(
        sessions=sessions, client=client, clock=clock, holder=holder,
        bot_username=bot_username, step=step, on_alert=on_alert,
        held_back=welcomer.policy.held_back if welcomer is not None else None,
    )  # fmt: skip
    loop = PostingLoop(sessions=sessions, sender=sender, clock=clock, stop=stop, ttl=ttl)
    watcher = ScheduleWatcher(schedule_paths)

    def track() -> None:
        if not loop.holding or stop.is_set():
            return
        new_posts = tracker.tick().new_posts if tracker is not None else 0
        if welcomer is not None:
            try:
                welcomer.tick(new_posts=new_posts)
            except XError as error:  # asking X who the bot is; the next tick asks again
                log.warning("welcomes: %s; trying again at the next tick", error)

    def sweep_job() -> None:
        if daily_sweep is not None and loop.holding and not stop.is_set():
            daily_sweep.tick()

    def sync() -> None:
        if watcher.paths and watcher.changed():
            try:
                sync_schedule_files(sessions, watcher.paths, clock=clock, on_alert=on_alert)
            except Exception:
                watcher.forget()
                raise

    try:
        sync()  # before the first post, so a start-up sees the files as they are
        if drain:
            _drain(loop)
            return
        scheduler = make_scheduler()
        # APScheduler keeps the machine's time, whatever Clock the posting logic is given.
        scheduler.add_job(loop.tick, "interval", seconds=post_every, id="post",
                          next_run_time=datetime.now(UTC))  # fmt: skip
        scheduler.add_job(sync, "interval", seconds=sync_every, id="sync")
        if tracker is not None or welcomer is not None:
            scheduler.add_job(track, "interval", seconds=track_every, id="track",
                              next_run_time=datetime.now(UTC) + timedelta(seconds=1))  # fmt: skip
        if daily_sweep is not None:
            scheduler.add_job(sweep_job, "interval", seconds=SWEEP_EVERY, id="sweep",
                              next_run_time=datetime.now(UTC) + timedelta(minutes=1))  # fmt: skip
        scheduler.start()
        log.info("tcbot run: posting as %s; stop with Ctrl-C", holder)
        try:
            stop.wait()
        finally:
            log.info("stopping: waiting for the post in flight")
            scheduler.shutdown(wait=True)
    finally:
        loop.release()
    log.info("tcbot run stopped")


def _drain(loop: PostingLoop) -> None:
    if not loop.hold_lease():
        log.warning("another daemon holds the poster lease: nothing drained")
        return
    outcomes = loop.tick()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    log.info("drained: %s", summary or "nothing was due")


def crash_hook_from_env(env: Mapping[str, str]) -> Callable[[str], None] | None:
    """TCBOT_CRASH_AT="step:n" -> a step callback that SIGKILLs this process at the n-th
    time the named step is passed (n defaults to 1); None when the variable is unset.

    For crash-safety tests only: the process dies as in a power cut, with no clean-up.
    Several points may be given, comma-separated; the first reached kills.
    """
    value = env.get(CRASH_ENV, "").strip()
    if not value:
        return None
    targets: dict[str, int] = {}
    for item in value.split(","):
        name, _, count = item.strip().partition(":")
        if not name or not (count or "1").isdigit() or int(count or "1") < 1:
            raise ConfigError(
                CRASH_ENV,
                f"{CRASH_ENV}={value!r} is not a list of step:n",
                f"write it as e.g. {CRASH_ENV}=sent_to_x:2, or unset it",
            )
        targets[name] = int(count or "1")
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def step(name: str) -> None:
        with lock:
            seen[name] = seen.get(name, 0) + 1
            if targets.get(name) == seen[name]:
                log.warning("%s: killing this process at %s #%d", CRASH_ENV, name, seen[name])
                os.kill(os.getpid(), signal.SIGKILL)

    return step
