"""The sweep: asking X again about archived posts, so deleted ones go and hidden ones hide.

X's developer agreement (X-API-NOTES.md §6): a post deleted on X must be deleted
from an archive, and one whose account turned protected or was suspended must no
longer be shown. The sweep looks up the posts checked longest ago (GET
/2/tweets?ids=, 100 a request, without expansions: X bills each post and profile a
request returns, and the posts alone say all the sweep needs) and hands
each answer to archive/compliance.py `apply_lookup`.

The daemon runs it daily with `limit=daily_quota(...)`: a share of the archive
sized so that every post is checked once every TCBOT_SWEEP_DAYS days. Each batch of
100 is committed on its own, so a rate limit or an X outage stops the sweep with
what it did kept; the next run starts again from the posts checked longest ago.
Every request is labelled "sweep" in the usage log.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from archive.compliance import (
    CheckOutcome,
    HiddenAccount,
    LookedUpPage,
    apply_lookup,
    archived_count,
    due_for_check,
)
from bot.clock import Clock
from bot.errors import RateLimited, XUnavailable
from bot.lease import write_transaction
from bot.x_client import LOOKUP_BATCH, LookupResult, XClient
from bot.x_usage import usage_purpose

log = logging.getLogger(__name__)

PURPOSE = "sweep"
WINDOW = 5_000  # post ids read from the database at a time
_ASKABLE = re.compile(r"[0-9]{1,19}")  # what X accepts as a post id

Progress = Callable[[int], None]  # called with the number of posts just checked


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep did: posts checked, posts removed (deleted on X), accounts it found
    protected or suspended (their posts now hidden), requests made to X; `stopped` says
    why it ended early (a rate limit until `retry_at`, or X unavailable), else None."""

    checked: int
    removed: int
    hidden_accounts: tuple[HiddenAccount, ...]
    requests: int
    stopped: str | None = None
    retry_at: datetime | None = None

    @property
    def hidden(self) -> int:
        """Archived posts this sweep hid (all posts of the accounts it found hidden)."""
        return sum(account.posts for account in self.hidden_accounts)


def daily_quota(session: Session, sweep_days: int) -> int:
    """Posts to check a day so the whole archive is checked every `sweep_days` days."""
    if sweep_days < 1:
        raise ValueError(f"sweep_days must be at least 1, not {sweep_days}")
    return math.ceil(archived_count(session) / sweep_days)


def sweep(
    client: XClient,
    sessions: sessionmaker[Session],
    *,
    clock: Clock,
    limit: int,
    progress: Progress | None = None,
) -> SweepReport:
    """Check up to `limit` posts with X, those checked longest ago first; see the module
    docstring. XRejected (bad credentials, a spent usage cap) is raised; what earlier
    batches did is kept."""
    tally = _Tally()
    started = clock.now()
    with usage_purpose(PURPOSE):
        while tally.checked < limit:
            with sessions() as session:
                due = due_for_check(
                    session, limit=min(WINDOW, limit - tally.checked), started=started
                )
            if not due:
                break
            for start in range(0, len(due), LOOKUP_BATCH):
                batch = due[start : start + LOOKUP_BATCH]
                try:
                    result = _ask(client, batch, tally)
                except (RateLimited, XUnavailable) as exc:
                    return tally.report(stopped=exc)
                with write_transaction(sessions) as session:  # beside the daemon's writes
                    outcome = _record(session, batch, result, at=clock.now())
                tally.add(len(batch), outcome)
                if progress is not None:
                    progress(len(batch))
    return tally.report()


def _ask(client: XClient, batch: Sequence[str], tally: _Tally) -> LookupResult:
    askable = [post_id for post_id in batch if _ASKABLE.fullmatch(post_id)]
    if not askable:  # an id X would refuse: stamped as checked, never asked about
        return LookupResult(pages=(), missing_ids=(), withheld_ids=())
    tally.requests += 1
    result = client.lookup(askable, expansions=())  # the posts alone: cheapest
    tally.requests += len(result.pages) - 1
    return result


def _record(
    session: Session, batch: Sequence[str], result: LookupResult, *, at: datetime
) -> CheckOutcome:
    pages = [LookedUpPage(p.payload, p.endpoint, p.retrieved_at) for p in result.pages]
    return apply_lookup(
        session,
        batch,
        pages=pages,
        missing=result.missing_ids,
        withheld=result.withheld_ids,
        suspended=result.suspended_ids,
        at=at,
    )


class _Tally:
    """Running totals of one sweep (mutable, internal)."""

    def __init__(self) -> None:
        self.checked = 0
        self.removed = 0
        self.requests = 0
        self.hidden: list[HiddenAccount] = []

    def add(self, checked: int, outcome: CheckOutcome) -> None:
        self.checked += checked
        self.removed += outcome.removed
        self.hidden += outcome.hidden

    def report(self, *, stopped: RateLimited | XUnavailable | None = None) -> SweepReport:
        if stopped is not None:
            log.warning("sweep stopped after %d posts: %s", self.checked, stopped)
        else:
            log.info("sweep checked %d posts: %d removed, %d accounts hidden",
                     self.checked, self.removed, len(self.hidden))  # fmt: skip
        return SweepReport(
            checked=self.checked,
            removed=self.removed,
            hidden_accounts=tuple(self.hidden),
            requests=self.requests,
            stopped=stopped.what if stopped is not None else None,
            retry_at=stopped.reset_at if isinstance(stopped, RateLimited) else None,
        )
