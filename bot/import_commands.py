"""What `tcbot archive import` says: what was skipped, the totals, and when it failed.

bot/cli/archive_import.py parses the arguments, draws the progress bar around
`import_pages` and then calls `show`, which prints through `echo` (the summary) and
`warn` (skipped lines) and raises TcbotError when nothing could be loaded.

Everyone an import brings in counts as known, never as a newcomer: their first post
on the hashtag may be years old. `mark_imported_known` records that with
bot/welcomes.py's `mark_known`, in a transaction of its own after the import.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.importer import ImportReport
from archive.models import User
from bot.errors import TcbotError
from bot.lease import write_transaction
from bot.optouts import scan_requests
from bot.welcomes import mark_known

Echo = Callable[[str], None]
LISTED = 20  # skipped lines shown one by one; the rest are counted


def mark_imported_known(
    sessions: sessionmaker[Session],
    report: ImportReport,
    *,
    now: datetime,
    bot_username: str | None = None,
) -> int:
    """Record everyone in the archive not yet decided about as known, after an import
    that loaded something; returns how many people.

    With the bot's username (and the bot in the archive), requests to stop found in the
    imported history are recorded too, without a reply: honoured for ever, but nobody
    is answered about something said long ago.
    """
    if report.pages == 0:
        return 0
    with write_transaction(sessions) as session:
        known = mark_known(session, now=now)
        if bot_username:
            bot_id = session.scalar(
                select(User.id).where(func.lower(User.username) == bot_username.lower())
            )
            if bot_id is not None:
                scan_requests(
                    session, bot_id=bot_id, bot_username=bot_username, since=None, now=now,
                    acknowledge=False,
                )  # fmt: skip
        return known


def show(report: ImportReport, *, echo: Echo, warn: Echo, known: int = 0) -> None:
    """List skipped lines (through `warn`) and sum up (through `echo`), with the people
    marked `known`; TcbotError when lines were skipped and nothing at all could be loaded."""
    for skipped in report.skipped[:LISTED]:
        warn(f"Skipped {skipped}")
    hidden = len(report.skipped) - LISTED
    if hidden > 0:
        warn(f"... and {_count(hidden, 'more line')} skipped")
    if report.skipped and report.pages == 0:
        raise TcbotError(
            f"nothing was loaded: {_count(len(report.skipped), 'line')} skipped (listed above)",
            "check that the files are X API pages, one per line, as twarc2 or tcbot writes them",
        )
    echo(summary(report))
    if known:
        people = _count(known, "person", "people")
        echo(f"{people} marked as already known: they will not be welcomed.")


def summary(report: ImportReport) -> str:
    """One line: files and pages read, what was new, what was skipped."""
    head = f"{_count(report.files, 'file')}, {_count(report.pages, 'page')}"
    found = [
        _count(report.tweets_new, "new post"),
        f"{report.tweets_updated:,} updated",
        _count(report.users_new, "new person", "new people"),
    ]
    if not (report.tweets_new or report.tweets_updated or report.users_new):
        found = ["nothing new"]
    line = f"{head}: {', '.join(found)}"
    if report.tweets_forgotten:
        line += f"; {_count(report.tweets_forgotten, 'post')} left out (their authors asked"
        line += " to be forgotten)"
    if report.skipped:
        line += f"; {_count(len(report.skipped), 'line')} skipped (listed above)"
    return line


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"
