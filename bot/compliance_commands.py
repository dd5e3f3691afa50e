"""What `tcbot archive sweep` and `tcbot archive forget` do and say.

bot/cli/archive_compliance.py parses the arguments and calls these; they print
through `echo`, ask through `confirm`, and raise TcbotError for what the organiser
must know went wrong (a sweep that X stopped before the end, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session, sessionmaker

from archive.compliance import archived_count
from archive.forgotten import ForgetPlan, forget_user, plan_forget
from bot.clock import Clock
from bot.config import Settings
from bot.errors import TcbotError
from bot.optouts import is_opted_out
from bot.sweep import Progress, SweepReport, daily_quota, sweep

Echo = Callable[[str], None]
Confirm = Callable[[str], bool]
ProgressBar = Callable[[int], AbstractContextManager[Progress | None]]  # given the total
LISTED = 20  # hidden accounts named one by one; the rest are counted


def sweep_limit(sessions: sessionmaker[Session], *, settings: Settings, everything: bool) -> int:
    """How many posts to check: the whole archive, or today's share of it."""
    with sessions() as session:
        if everything:
            return archived_count(session)
        return daily_quota(session, settings.sweep_days)


def run_sweep(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    limit: int | None,
    everything: bool,
    echo: Echo,
    progress_bar: ProgressBar,
) -> SweepReport:
    """Sweep `limit` posts (default: today's share) and say what was removed and hidden.

    Refused without X credentials unless X_API_BASE_URL names a sandbox on purpose:
    the embedded sandbox knows only its own posts and would report every other
    archived post (an imported one, say) as deleted.
    """
    from bot import wiring

    if settings.embedded_sandbox:
        raise TcbotError(
            "the sweep asks X whether archived posts still exist, and no X credentials are"
            " set: the sandbox would report every post it does not know as deleted",
            "set the X credentials in .env (see config.example.env), or X_API_BASE_URL to a"
            " sandbox you started for a rehearsal",
        )
    if limit is None:
        limit = sweep_limit(sessions, settings=settings, everything=everything)
    if limit == 0:
        echo("The archive has no posts to check.")
        return SweepReport(checked=0, removed=0, hidden_accounts=(), requests=0)
    with (
        wiring.connect_x(settings, clock=clock, sessions=sessions) as client,
        progress_bar(limit) as progress,
    ):
        report = sweep(client, sessions, clock=clock, limit=limit, progress=progress)
    for line in sweep_summary(report):
        echo(line)
    if report.stopped is not None:
        raise TcbotError(
            f"the sweep stopped after {report.checked:,} of {limit:,} posts: {report.stopped}",
            "what it checked is kept; run it again later to go on",
        )
    return report


def sweep_summary(report: SweepReport) -> Iterator[str]:
    """What a sweep found, a line each: totals, then the accounts it hid."""
    yield (
        f"Checked {_count(report.checked, 'post')} with X "
        f"({_count(report.requests, 'request')}): "
        f"removed {_count(report.removed, 'post')} deleted on X, "
        f"hid {_count(report.hidden, 'post')} of "
        f"{_count(len(report.hidden_accounts), 'account')} now protected or suspended."
    )
    for account in report.hidden_accounts[:LISTED]:
        name = f"@{account.username}" if account.username else f"account {account.user_id}"
        yield f"  {name} is {account.reason}: {_count(account.posts, 'post')} hidden"
    if len(report.hidden_accounts) > LISTED:
        yield f"  ... and {len(report.hidden_accounts) - LISTED:,} more accounts"


def forget(
    username: str,
    *,
    sessions: sessionmaker[Session],
    clock: Clock,
    assume_yes: bool,
    confirm: Confirm,
    echo: Echo,
) -> ForgetPlan | None:
    """Say what forgetting `username` removes, ask (unless `assume_yes`), then do it.

    Returns what was removed, or None when the organiser said no.
    """
    with sessions() as session:
        plan = plan_forget(session, username)
    echo(describe(plan))
    if not assume_yes and not confirm(
        f"Remove this and never archive @{plan.username}'s posts again?"
    ):
        echo("Nothing was changed.")
        return None
    with sessions.begin() as session:
        done = forget_user(session, username, at=clock.now())
        opted_out = any(
            is_opted_out(session, user_id=user_id, username=done.username)
            for user_id in done.accounts or (None,)
        )
    echo(forgotten_line(done))
    if opted_out:
        echo(f"@{done.username} stays opted out: the bot will never contact them.")
    return done


def describe(plan: ForgetPlan) -> str:
    """What forgetting will remove, before asking."""
    if not plan.accounts:
        already = " (already recorded as forgotten)" if plan.recorded else ""
        return f"@{plan.username} is not in the archive{already}: no posts or profile to remove."
    return f"@{plan.username}: {_removal(plan)} will be removed from the archive."


def forgotten_line(plan: ForgetPlan) -> str:
    """What forgetting did."""
    never = "their posts will not be archived again"
    if not plan.accounts:
        return f"Recorded @{plan.username} as forgotten: {never}."
    return f"Forgot @{plan.username}: removed {_removal(plan)}; {never}."


def _removal(plan: ForgetPlan) -> str:
    parts = [_count(plan.posts, "post")]
    if plan.retweets:
        parts.append(f"{_count(plan.retweets, 'retweet')} of them by others")
    parts.append(_count(len(plan.accounts), "profile"))
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _count(number: int, singular: str) -> str:
    return f"{number:,} {singular if number == 1 else singular + 's'}"
