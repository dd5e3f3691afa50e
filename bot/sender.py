"""The sender: takes the next due outbox post to X, exactly once.

One `send_next()` is one post, in three committed steps: claim (the row becomes
SENDING with a claim lease), send (the call to X), record (SENT with its X id, or
back to the queue, or failed). Because the claim is committed before X is called, a
crash anywhere leaves a row that says "this may be on X": the next claim of such a
row (`recovering`) searches the bot's own recent posts for the text before anything
is re-sent, and X's duplicate-content 403 is resolved the same way.

What each answer from X leads to:

    posted                          SENT (later thread posts re-anchor if it was late)
    RateLimited                     back to the queue until X's reset time (or, if that
                                    is past the post's lateness limit, until just before
                                    the limit, for one last try); not counted as an attempt
    XUnavailable (5xx, timeout)     back to the queue after a capped, jittered backoff;
                                    FAILED after MAX_ATTEMPTS tries
    DUPLICATE_CONTENT               found among the bot's posts: SENT with that id;
                                    not found: FAILED ("change the text")
    REPLY_TARGET_GONE               posted as a reply to the chat's previous sent post
                                    instead (or on its own when none is left)
    BAD_CREDENTIALS, APP_ONLY_TOKEN back to the queue for AUTH_RETRY, logged at ERROR
    USAGE_CAPPED                    and alerted: fixing the keys needs no re-queueing;
                                    posts still waiting past their lateness are missed
    any other refusal               FAILED, logged at ERROR and alerted

Named steps (`step(name)`) let the crash tests kill the process at each point:
"claimed" (claim committed), "sent_to_x" (X answered, nothing recorded yet),
"found_on_x" (a recovering or duplicate post was found on X, not yet recorded) and
"recorded" (the SENT row committed).
"""

from __future__ import annotations

import enum
import html
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.models import OutboxPost, PostKind, PostStatus
from bot import outbox
from bot.clock import Clock
from bot.errors import RateLimited, XError, XRejected, XRejectReason
from bot.lease import holder_is_dead, write_transaction
from bot.outbox import Claimed
from bot.x_client import XClient
from bot.x_usage import WELCOMES_PURPOSE, outbox_chat_purpose, usage_purpose

__all__ = [
    "AUTH_RETRY",
    "CLAIM_FOR",
    "MAX_ATTEMPTS",
    "Backoff",
    "SendOutcome",
    "SendStatus",
    "Sender",
    "find_own_post",
    "normalise_text",
]

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=2)  # longer than a search plus a post at the client's timeouts
MAX_ATTEMPTS = 8  # transient failures before a post is given up as FAILED
AUTH_RETRY = timedelta(minutes=5)
RECOVERY_LOOKBACK = timedelta(hours=1)  # search the bot's posts from this long before due_at
SEARCH_WINDOW = timedelta(days=7) - timedelta(minutes=5)  # recent search's reach, less a margin
SEARCH_PAGES = 5
LAST_TRY_MARGIN = timedelta(seconds=30)  # a rate-limited post's last try before it is missed
FALLBACK_PARENTS = 3  # earlier posts tried when a reply's parent is gone
_AUTH_REASONS = frozenset(
    {XRejectReason.BAD_CREDENTIALS, XRejectReason.APP_ONLY_TOKEN, XRejectReason.USAGE_CAPPED}
)
_LEADING_MENTIONS = re.compile(r"^(?:[@＠][A-Za-z0-9_]{1,15}\s+)+")
_URL = re.compile(r"https?://\S+")


class SendStatus(enum.Enum):
    """What became of the post `send_next` took."""

    SENT = "sent"  # posted now
    RESOLVED = "resolved"  # already on X (a crash, a duplicate 403): recorded, not re-posted
    RETRY = "retry"  # back in the queue until `not_before`
    FAILED = "failed"  # given up; needs a host


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The result of one `send_next`: which post, what happened, and the details."""

    status: SendStatus
    post_id: int
    label: str  # "traineetalk 2026-12-02 Q3"
    x_id: str | None = None
    not_before: datetime | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with full jitter.

    After failed attempt n the wait is uniform in [floor, min(cap, base * 2^(n-1))]:
    5 s, 10 s, 20 s ... up to 5 min, spread so that many clients do not retry together.
    """

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=5)
    floor: timedelta = timedelta(seconds=1)

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        """The wait after failed attempt number `attempt` (1 for the first)."""
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        seconds = rng.uniform(self.floor.total_seconds(), max(ceiling, self.floor).total_seconds())
        return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class FoundPost:
    """One of the bot's posts on X whose text matches a queued post."""

    x_id: str
    replied_to_x_id: str | None


DEFAULT_BACKOFF = Backoff()


def normalise_text(text: str) -> str:
    """Text as compared with what X shows: entities unescaped, leading @mentions (X's
    auto-populated reply prefix) dropped, URLs (t.co-wrapped by X) blanked, whitespace
    collapsed, NFC."""
    text = unicodedata.normalize("NFC", html.unescape(text)).strip()
    text = _URL.sub("<url>", _LEADING_MENTIONS.sub("", text))
    return " ".join(text.split())


def find_own_post(
    client: XClient,
    *,
    bot_username: str,
    text: str,
    since: datetime,
    now: datetime,
    replying_to: str | None = None,
) -> FoundPost | None:
    """The bot's earliest post since `since` with this text (normalised), or None.

    With `replying_to`, only a reply to that post counts: two newcomers called Ana may
    get the same words, and one's welcome must not pass for the other's.
    Raises XError when the search fails: the caller must not conclude "not posted".
    """
    since = max(min(since, now - timedelta(minutes=1)), now - SEARCH_WINDOW)
    result = client.search_recent(f"from:{bot_username}", start_time=since, max_pages=SEARCH_PAGES)
    wanted = normalise_text(text)
    matches = [
        tweet
        for page in result.pages
        for tweet in page.payload.get("data", [])
        if normalise_text(str(tweet.get("text", ""))) == wanted
        and (replying_to is None or _replied_to(tweet) == replying_to)
    ]
    if not matches:
        return None
    first = min(matches, key=lambda tweet: int(tweet["id"]))
    return FoundPost(str(first["id"]), _replied_to(first))


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for reference in tweet.get("referenced_tweets", []):
        if reference.get("type") == "replied_to":
            return str(reference["id"])
    return None


def label(claimed: Claimed) -> str:
    """'traineetalk 2026-12-02 Q3': the series, the chat's date and which post."""
    return f"{claimed.series} {claimed.chat_date} {outbox.post_label(claimed.kind, claimed.number)}"


def _purpose(claimed: Claimed) -> str:
    """The usage log's purpose of a post: its chat's, or "welcomes" for a post of no chat."""
    if claimed.chat_id is None:
        return WELCOMES_PURPOSE
    return outbox_chat_purpose(claimed.chat_id)


class Sender:
    """Sends due outbox posts, one per `send_next()` call: claim, commit, send, record."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        client: XClient,
        clock: Clock,
        holder: str,
        bot_username: str | None,
        step: Callable[[str], None] | None = None,
        on_alert: Callable[[str], None] | None = None,
        held_back: Callable[[Session, datetime], Collection[PostKind]] | None = None,
        rng: random.Random | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_attempts: int = MAX_ATTEMPTS,
        claim_for: timedelta = CLAIM_FOR,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self.holder = holder
        self._bot_username = bot_username
        self._step = step or (lambda name: None)
        self._on_alert = on_alert
        self._held_back = held_back
        self._rng = rng or random.Random()
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._claim_for = claim_for
        self._last_auth_alert: datetime | None = None

    def send_next(self) -> SendOutcome | None:
        """Mark overdue posts missed, then send the earliest due post; None if none is due."""
        self._miss_overdue()
        claimed = self._claim()
        if claimed is None:
            return None
        self._step("claimed")
        with usage_purpose(_purpose(claimed)):
            try:
                if claimed.recovering:
                    return self._recover(claimed)
                return self._send(claimed)
            except XError as error:
                return self._after_error(claimed, error)

    # -- claim ---------------------------------------------------------------------------

    def _miss_overdue(self) -> None:
        with write_transaction(self._sessions) as session:
            missed = outbox.miss_overdue(session, now=self._clock.now())
        for description in missed:
            self._alert(f"missed: {description}; it will not be posted")

    def _claim(self) -> Claimed | None:
        now = self._clock.now()
        with write_transaction(self._sessions) as session:
            _free_claims_of_dead_holders(session, holder=self.holder, now=now)
            return outbox.claim_next(
                session, holder=self.holder, now=now, claim_for=self._claim_for,
                held_back=self._held_back,
            )  # fmt: skip

    # -- send and record ----------------------------------------------------------------

    def _send(self, claimed: Claimed) -> SendOutcome:
        parent = claimed.reply_to_x_id
        tried: list[str] = []
        while True:
            try:
                posted = self._client.post(claimed.text, reply_to=parent)
                break
            except XRejected as error:
                # Only a thread post moves to an earlier parent: a welcome whose post is
                # gone is not sent at all (on its own it would be an unsolicited mention).
                gone = error.reason is XRejectReason.REPLY_TARGET_GONE
                if not gone or parent is None or not claimed.thread:
                    raise
                tried.append(parent)
                parent = self._earlier_parent(claimed, tried)
                log.warning(
                    "%s: the post it replies to (%s) is gone from X; replying to %s instead",
                    label(claimed), tried[-1], parent or "nothing (a new thread)",
                )  # fmt: skip
        self._step("sent_to_x")
        self._record_sent(claimed, x_id=posted.id, replied_to=parent)
        log.info("posted %s as %s (attempt %d)", label(claimed), posted.id, claimed.attempts)
        return SendOutcome(SendStatus.SENT, claimed.id, label(claimed), x_id=posted.id)

    def _earlier_parent(self, claimed: Claimed, tried: Sequence[str]) -> str | None:
        """The chat's latest sent thread post before this one (in due order) not yet tried."""
        if len(tried) > FALLBACK_PARENTS:
            return None
        with self._sessions() as session:
            ids = session.scalars(
                select(OutboxPost.x_id)
                .where(
                    OutboxPost.series == claimed.series,
                    OutboxPost.chat_date == claimed.chat_date,
                    OutboxPost.thread.is_(True),
                    OutboxPost.status == PostStatus.SENT,
                    OutboxPost.x_id.is_not(None),
                    or_(
                        OutboxPost.due_at < claimed.due_at,
                        and_(OutboxPost.due_at == claimed.due_at, OutboxPost.id < claimed.id),
                    ),
                )
                .order_by(OutboxPost.due_at.desc(), OutboxPost.id.desc())
            ).all()
        return next((x_id for x_id in ids if x_id is not None and x_id not in tried), None)

    def _record_sent(self, claimed: Claimed, *, x_id: str, replied_to: str | None) -> None:
        with write_transaction(self._sessions) as session:
            outbox.record_sent(
                session, claimed.id, x_id=x_id, replied_to_x_id=replied_to, at=self._clock.now()
            )
        self._step("recorded")

    def _find(self, claimed: Claimed) -> FoundPost | None:
        now = self._clock.now()
        return find_own_post(
            self._client,
            bot_username=self._username(),
            text=claimed.text,
            since=claimed.due_at - RECOVERY_LOOKBACK,
            now=now,
            replying_to=None if claimed.thread else claimed.reply_to_x_id,
        )

    def _recover(self, claimed: Claimed) -> SendOutcome:
        """A post left SENDING by a crash: record it if X has it, else post it if not too late."""
        found = self._find(claimed)
        if found is not None:
            log.info("%s was already on X as %s: not posting it again", label(claimed), found.x_id)
            return self._record_found(claimed, found)
        if self._clock.now() > claimed.due_at + self._lateness(claimed):
            # Back to the queue: the next miss_overdue marks it missed (and alerts).
            error = XError("not on X after an interrupted send, and now too late to post")
            return self._retry(claimed, error, self._clock.now(), counts=False)
        log.info("%s is not on X after an interrupted send: posting it", label(claimed))
        return self._send(claimed)

    def _lateness(self, claimed: Claimed) -> timedelta:
        with self._sessions() as session:
            seconds = session.scalar(
                select(OutboxPost.lateness_seconds).where(OutboxPost.id == claimed.id)
            )
        return timedelta(seconds=seconds or 0)

    def _record_found(self, claimed: Claimed, found: FoundPost) -> SendOutcome:
        self._step("found_on_x")
        self._record_sent(claimed, x_id=found.x_id, replied_to=found.replied_to_x_id)
        return SendOutcome(SendStatus.RESOLVED, claimed.id, label(claimed), x_id=found.x_id)

    def _username(self) -> str:
        if self._bot_username is None:
            self._bot_username = self._client.me().username
        return self._bot_username

    # -- errors -------------------------------------------------------------------------

    def _after_error(self, claimed: Claimed, error: XError) -> SendOutcome:
        now = self._clock.now()
        if isinstance(error, RateLimited):
            return self._retry(claimed, error, self._after_rate_limit(claimed, error), counts=False)
        if isinstance(error, XRejected):
            return self._after_rejection(claimed, error)
        if not error.retryable or claimed.attempts >= self._max_attempts:
            return self._fail(claimed, f"{error} (after {claimed.attempts} attempts)")
        delay = self._backoff.delay(claimed.attempts, self._rng)
        return self._retry(claimed, error, now + delay)

    def _after_rate_limit(self, claimed: Claimed, error: RateLimited) -> datetime:
        """X's reset time; but if that is past the post's last chance, the last chance.

        Waiting for a reset after the lateness limit means the post is missed for
        sure, so it gets one more try LAST_TRY_MARGIN before the limit: another 429
        costs nothing, a missed question breaks the chat.
        """
        now = self._clock.now()
        reset = error.reset_at if error.reset_at and error.reset_at > now else None
        until = reset or now + self._backoff.floor
        last_try = claimed.due_at + self._lateness(claimed) - LAST_TRY_MARGIN
        if until > last_try > now:
            log.info("%s: X's reset is after its lateness limit; one more try at %s",
                     label(claimed), last_try.isoformat())  # fmt: skip
            return last_try
        return until

    def _after_rejection(self, claimed: Claimed, error: XRejected) -> SendOutcome:
        now = self._clock.now()
        if error.reason in _AUTH_REASONS:
            log.error("authentication failed: %s", error)
            if self._last_auth_alert is None or now - self._last_auth_alert >= timedelta(hours=1):
                self._last_auth_alert = now
                self._alert(f"authentication failed: {error}; posts wait until it is fixed")
            return self._retry(claimed, error, now + AUTH_RETRY, counts=False)
        if error.reason is XRejectReason.DUPLICATE_CONTENT:
            try:
                found = self._find(claimed)
            except XError as search_error:  # cannot tell: try again later
                return self._after_error(claimed, search_error)
            if found is not None:
                log.info(
                    "%s: X calls it a duplicate; it is already posted as %s",
                    label(claimed),
                    found.x_id,
                )
                return self._record_found(claimed, found)
            return self._fail(
                claimed,
                "X refused it as a duplicate of an earlier post by the bot, one not among its "
                "posts of the last hours, so it was not posted; change the text so it differs "
                "from earlier posts (adding the date will do) and post it by hand",
            )
        return self._fail(claimed, str(error))

    def _retry(
        self, claimed: Claimed, error: XError, not_before: datetime, *, counts: bool = True
    ) -> SendOutcome:
        """Back to the queue until `not_before`. With counts=False (rate limits, auth) the
        attempt is taken back, so only real failures count towards MAX_ATTEMPTS."""
        with write_transaction(self._sessions) as session:
            outbox.record_retry(
                session, claimed.id, error=str(error), not_before=not_before,
                at=self._clock.now(),
            )  # fmt: skip
            if not counts:
                session.execute(
                    update(OutboxPost)
                    .where(OutboxPost.id == claimed.id, OutboxPost.attempts > 0)
                    .values(attempts=OutboxPost.attempts - 1)
                    .execution_options(synchronize_session=False)
                )
        log.warning(
            "%s not posted (attempt %d): %s; trying again after %s",
            label(claimed), claimed.attempts, error, not_before.isoformat(),
        )  # fmt: skip
        return SendOutcome(
            SendStatus.RETRY, claimed.id, label(claimed), not_before=not_before, error=str(error)
        )

    def _fail(self, claimed: Claimed, message: str) -> SendOutcome:
        with write_transaction(self._sessions) as session:
            outbox.record_failed(session, claimed.id, error=message, at=self._clock.now())
        self._alert(f"failed: {label(claimed)} was not posted: {message}")
        return SendOutcome(SendStatus.FAILED, claimed.id, label(claimed), error=message)

    def _alert(self, message: str) -> None:
        log.error("%s", message)
        if self._on_alert is not None:
            try:
                self._on_alert(message)
            except Exception:  # an alert channel failing must not stop the posting
                log.exception("could not send the alert %r", message)


def _free_claims_of_dead_holders(session: Session, *, holder: str, now: datetime) -> None:
    """End the claims of SENDING rows whose holder died on this host, so they recover now.

    Only a process known dead is skipped over; a live or remote holder's claim runs out.
    """
    rows = session.scalars(
        select(OutboxPost).where(
            OutboxPost.status == PostStatus.SENDING,
            OutboxPost.acquired_by != holder,
            OutboxPost.acquired_until >= now,
        )
    ).all()
    for row in rows:
        if row.acquired_by is not None and holder_is_dead(row.acquired_by):
            log.warning(
                "post #%d was being sent by %s, which died: checking X for it",
                row.id,
                row.acquired_by,
            )
            row.acquired_until = now - timedelta(seconds=1)
