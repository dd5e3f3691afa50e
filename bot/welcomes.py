"""Welcoming newcomers: once per person, never anyone who opted out, within X's rules.

Who is a newcomer
-----------------
A person whose first post on a tracked hashtag (or in the conversation of an archived
chat), retweets aside, anywhere in the archive, was made within the welcome window
(TCBOT_WELCOME_WINDOW_DAYS, 7) and after welcomes began: the first time the Welcomer
runs it records that moment, so everyone already in the archive then, and anyone whose
first post is older, counts as known and is never welcomed for it. An import marks
everyone it brought in as known too (`mark_known`). The bot, the hosts (the welcome
file's `hosts` and every archived chat's host), protected or suspended accounts and
people who opted out are never newcomers.

What happens to a newcomer (the hashtag of their first post picks the modes, from
schedules/welcome.toml)
-----------------------------------------------------------------------------------
- `reply`: a welcome reply goes into the outbox, answering one of their posts in the
  window that addressed the bot (mentioned it, replied to it or quoted it): X lets a
  bot reply to nothing else. Without such a post, or when no text fits, or when X
  refuses or the reply waits too long (WELCOME_LATENESS), they go on the organisers'
  list instead. TCBOT_WELCOME_DRY_RUN=true queues the replies held.
- `organisers`: they go on the list (`tcbot welcomes list`) with a suggested text.
- `digest`: they are counted in the hashtag's weekly digest, a held post from the bot's
  own account that a host releases (drafted on the file's digest day and time).

Every decision is a row in `welcomes`, unique per person, written in the same
transaction as the outbox post it queues: a person is decided about once, and the
sender's claim-before-send rule (bot/sender.py) makes sure the post goes out at most
once, crash or no crash.

Limits: at most TCBOT_WELCOMES_PER_HOUR welcome replies in any hour and
TCBOT_WELCOMES_PER_DAY in a local day, none in the quiet hours (TCBOT_QUIET_HOURS,
local time): the sender's claim passes welcomes over until they are allowed
(`WelcomePolicy.held_back`). Opt-out acknowledgements are not held back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from archive.models import (
    Chat,
    ChatPost,
    ChatStatus,
    OutboxChat,
    OutboxPost,
    PostKind,
    PostStatus,
    ReferenceKind,
    TrackerMark,
    Tweet,
    TweetHashtag,
    TweetMention,
    TweetReference,
    User,
    Welcome,
    WelcomeStatus,
)
from bot.clock import Clock
from bot.config import Settings
from bot.lease import write_transaction
from bot.optouts import opted_out_keys, scan_requests
from bot.welcome_texts import (
    HashtagWelcome,
    Rendered,
    WelcomeConfig,
    describe_next_chat,
    render_digest,
    render_welcome,
)
from bot.x_client import Account

__all__ = [
    "BASELINE_MARK",
    "WELCOME_LATENESS",
    "WelcomePolicy",
    "WelcomeReport",
    "Welcomer",
    "mark_known",
]

log = logging.getLogger(__name__)

BASELINE_MARK = "welcomes:baseline"  # tracker_marks: when welcomes began
WELCOME_LATENESS = timedelta(days=3)  # a welcome reply not sent by then goes to the list
DIGEST_LATENESS = timedelta(days=7)
DIGEST_DRAFT_WITHIN = timedelta(days=1)  # a digest not drafted a day after its time is skipped
SCAN_EVERY = timedelta(minutes=5)  # without new posts, the Welcomer looks again this often
REQUEST_LOOKBACK = timedelta(days=8)  # requests to stop are looked for among posts this recent
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WelcomePolicy:
    """The settings that shape welcoming (see the module docstring)."""

    window: timedelta = timedelta(days=7)
    per_hour: int = 10
    per_day: int = 30
    quiet_hours: tuple[time, time] | None = (time(22), time(8))
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    dry_run: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> WelcomePolicy:
        return cls(
            window=timedelta(days=settings.welcome_window_days),
            per_hour=settings.welcomes_per_hour,
            per_day=settings.welcomes_per_day,
            quiet_hours=settings.quiet_hours,
            zone=settings.timezone,
            dry_run=settings.welcome_dry_run,
        )

    def is_quiet(self, now: datetime) -> bool:
        """True in the quiet hours (local time); a span may cross midnight."""
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        local = now.astimezone(self.zone).time()
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def held_back(self, session: Session, now: datetime) -> tuple[PostKind, ...]:
        """The kinds the sender must not claim now: welcomes in the quiet hours or over a cap.

        Welcomes being sent count as sent, so two senders cannot both take the last place.
        """
        if self.is_quiet(now):
            return (PostKind.WELCOME,)
        local_midnight = datetime.combine(
            now.astimezone(self.zone).date(), time(), tzinfo=self.zone
        )
        for since, cap in (
            (now - timedelta(hours=1), self.per_hour),
            (local_midnight, self.per_day),
        ):
            if _welcomes_sent_since(session, since) >= cap:
                return (PostKind.WELCOME,)
        return ()


def _welcomes_sent_since(session: Session, since: datetime) -> int:
    sent = (OutboxPost.status == PostStatus.SENT) & (OutboxPost.sent_at >= since)
    sending = OutboxPost.status == PostStatus.SENDING
    query = select(func.count()).where(OutboxPost.kind == PostKind.WELCOME, sent | sending)
    return int(session.scalar(query) or 0)


@dataclass
class WelcomeReport:
    """What one Welcomer.tick did."""

    opt_outs: int = 0
    known: int = 0
    queued: int = 0
    listed: int = 0
    noted: int = 0
    digests: int = 0
    scanned: bool = False


@dataclass(frozen=True, slots=True)
class _Post:
    """One of a candidate's posts: when, which hashtag it counts for, and whether it
    addressed the bot (so X allows a reply to it)."""

    id: str
    created_at: datetime
    hashtag: str
    addresses_bot: bool


class Welcomer:
    """Decides about newcomers and opt-outs after each poll; see the module docstring."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        policy: WelcomePolicy,
        config: WelcomeConfig,
        hashtags: Sequence[str],
        me: Callable[[], Account],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.policy = policy
        self.config = config
        self._tags = {tag.lower().lstrip("#") for tag in hashtags}
        self._me = me
        self._account: Account | None = None
        self._last_scan: datetime | None = None

    def bot_id(self) -> str:
        """The bot's X user id (asked of X once; raises XError if X cannot say)."""
        if self._account is None:
            self._account = self._me()
        return self._account.id

    @property
    def _bot_username(self) -> str:
        self.bot_id()
        assert self._account is not None
        return self._account.username.lower()

    def tick(self, *, new_posts: int = 0) -> WelcomeReport:
        """Look for requests to stop and newcomers when posts came in (or every SCAN_EVERY),
        bring welcome rows up to date with the outbox, and draft a digest when it is due."""
        now = self._clock.now()
        report = WelcomeReport()
        due = self._last_scan is None or new_posts > 0 or now - self._last_scan >= SCAN_EVERY
        if not due:
            return report
        bot_id = self.bot_id()
        with write_transaction(self._sessions) as session:
            began = _baseline(session)
            first = began is None
            if first:
                began = now
                session.add(TrackerMark(name=BASELINE_MARK, done_at=now))
                report.known += mark_known(session, now=now)
            report.opt_outs = scan_requests(
                session, bot_id=bot_id, bot_username=self._bot_username,
                since=None if first else now - REQUEST_LOOKBACK, now=now,
            )  # fmt: skip
            assert began is not None
            self._newcomers(session, now=now, began=began, report=report)
            _sync(session, now=now)
            report.digests = self._digests(session, now=now)
        self._last_scan = now
        report.scanned = True
        if report.queued or report.listed or report.noted or report.opt_outs:
            log.info(
                "welcomes: %d queued, %d listed for organisers, %d for the digest; %d opted out",
                report.queued, report.listed, report.noted, report.opt_outs,
            )  # fmt: skip
        return report

    # -- newcomers ---------------------------------------------------------------------

    def _newcomers(
        self, session: Session, *, now: datetime, began: datetime, report: WelcomeReport
    ) -> None:
        since = max(now - self.policy.window, began)
        conversations = _chat_conversations(session)
        hosts = set(self.config.hosts) | _chat_hosts(session) | {self._bot_username}
        blocked_ids, blocked_names = opted_out_keys(session)
        for user in self._candidates(session, since):
            name_key = (user.username or "").lower()
            if user.id == self.bot_id() or name_key in hosts:
                _add(session, user, WelcomeStatus.KNOWN, now=now, note="the bot or a host")
                report.known += 1
                continue
            if user.protected or user.suspended:
                continue  # decided about if they become public while still new
            posts = self._posts(session, user.id, conversations)
            if not posts:
                continue
            first = posts[0]
            if first.created_at < since:
                _add(session, user, WelcomeStatus.KNOWN, now=now, note="first post before welcomes")
                report.known += 1
                continue
            if user.id in blocked_ids or name_key in blocked_names:
                _add(session, user, WelcomeStatus.OPTED_OUT, now=now, first=first, note="opted out")
                continue
            self._welcome(session, user, posts, now=now, report=report)

    def _candidates(self, session: Session, since: datetime) -> list[User]:
        """Authors of posts made since `since` (retweets aside) with no decision yet."""
        recent_authors = (
            select(Tweet.author_id)
            .where(
                Tweet.created_at >= since,
                ~exists().where(
                    TweetReference.tweet_id == Tweet.id,
                    TweetReference.kind == ReferenceKind.RETWEETED,
                ),
            )
            .distinct()
        )
        query = select(User).where(
            User.id.in_(recent_authors), ~exists().where(Welcome.user_id == User.id)
        )
        return list(session.scalars(query.order_by(User.id)))

    def _posts(self, session: Session, user_id: str, conversations: dict[str, str]) -> list[_Post]:
        """The person's posts that count (on a tracked hashtag or in a chat's conversation),
        oldest first."""
        rows = session.execute(
            select(Tweet.id, Tweet.created_at, Tweet.conversation_id, Tweet.in_reply_to_user_id)
            .where(
                Tweet.author_id == user_id,
                ~exists().where(
                    TweetReference.tweet_id == Tweet.id,
                    TweetReference.kind == ReferenceKind.RETWEETED,
                ),
            )
            .order_by(Tweet.created_at, Tweet.id)
        ).all()
        ids = [row.id for row in rows]
        tags: dict[str, str] = {}
        for tweet_id, tag in session.execute(
            select(TweetHashtag.tweet_id, TweetHashtag.tag_as_written).where(
                TweetHashtag.tweet_id.in_(ids), TweetHashtag.tag.in_(self._tags)
            )
        ):
            tags.setdefault(tweet_id, "#" + tag)
        addressing = self._addressing_bot(session, ids)
        posts = []
        for row in rows:
            hashtag = tags.get(row.id) or conversations.get(row.conversation_id or "")
            if hashtag is None or row.created_at is None:
                continue
            addresses = row.in_reply_to_user_id == self.bot_id() or row.id in addressing
            posts.append(_Post(row.id, row.created_at, hashtag, addresses))
        return posts

    def _addressing_bot(self, session: Session, ids: Sequence[str]) -> set[str]:
        """Which of these posts mention the bot or quote one of its posts."""
        bot_id = self.bot_id()
        mentions = session.scalars(
            select(TweetMention.tweet_id).where(
                TweetMention.tweet_id.in_(ids),
                (TweetMention.user_id == bot_id)
                | (func.lower(TweetMention.username) == self._bot_username),
            )
        )
        quoted = session.scalars(
            select(TweetReference.tweet_id)
            .join(Tweet, Tweet.id == TweetReference.referenced_id)
            .where(
                TweetReference.tweet_id.in_(ids),
                TweetReference.kind == ReferenceKind.QUOTED,
                Tweet.author_id == bot_id,
            )
        )
        return set(mentions) | set(quoted)

    def _welcome(
        self,
        session: Session,
        user: User,
        posts: Sequence[_Post],
        *,
        now: datetime,
        report: WelcomeReport,
    ) -> None:
        first = posts[0]
        settings = self.config.for_hashtag(first.hashtag)
        if settings is None:
            note = f"no welcome is set for {first.hashtag} in the welcome file"
            _add(session, user, WelcomeStatus.KNOWN, now=now, first=first, note=note)
            report.known += 1
            return
        rendered = self._text(session, settings, user, now=now)
        text = rendered.text if rendered else None
        template = rendered.template if rendered else None
        in_digest = "digest" in settings.modes
        if "reply" in settings.modes:
            target = next(
                (p for p in posts if p.addresses_bot and p.created_at >= first.created_at), None
            )
            if target is not None and text is not None:
                welcome = _add(
                    session, user, WelcomeStatus.QUEUED, now=now, first=first, text=text,
                    template=template, in_digest=in_digest, tweet_id=target.id,
                )  # fmt: skip
                welcome.outbox_post_id = self._queue_reply(session, welcome, now=now)
                report.queued += 1
                return
            note = (
                "no welcome text fits (see the welcome file)"
                if text is None
                else "their posts did not mention the bot, so X allows no reply: welcome them by hand"
            )
            _add(session, user, WelcomeStatus.LISTED, now=now, first=first, text=text,
                 template=template, in_digest=in_digest, note=note)  # fmt: skip
            report.listed += 1
        elif "organisers" in settings.modes:
            _add(session, user, WelcomeStatus.LISTED, now=now, first=first, text=text,
                 template=template, in_digest=in_digest)  # fmt: skip
            report.listed += 1
        else:
            _add(session, user, WelcomeStatus.NOTED, now=now, first=first, in_digest=in_digest)
            report.noted += 1

    def _text(
        self, session: Session, settings: HashtagWelcome, user: User, *, now: datetime
    ) -> Rendered | None:
        same_tag = func.lower(Welcome.hashtag) == settings.hashtag.lower()
        turn = session.scalar(select(func.count()).where(same_tag, Welcome.template.is_not(None)))
        previous = session.scalar(
            select(Welcome.text)
            .where(same_tag, Welcome.text.is_not(None))
            .order_by(Welcome.id.desc())
            .limit(1)
        )
        return render_welcome(
            settings, name=user.name, username=user.username or "", turn=int(turn or 0),
            next_chat=_next_chat(session, settings.hashtag, now, self.policy.zone), previous=previous,
        )  # fmt: skip

    def _queue_reply(self, session: Session, welcome: Welcome, *, now: datetime) -> int:
        assert welcome.text is not None
        post = OutboxPost(
            chat_id=None, series="welcome", chat_date=now.astimezone(self.policy.zone).date(),
            kind=PostKind.WELCOME, number=welcome.id, text=welcome.text, planned_at=now,
            due_at=now, status=PostStatus.HELD if self.policy.dry_run else PostStatus.QUEUED,
            attempts=0, thread=False, reply_target=welcome.tweet_id,
            lateness_seconds=int(WELCOME_LATENESS.total_seconds()), created_at=now,
            updated_at=now,
        )  # fmt: skip
        session.add(post)
        session.flush()
        return post.id

    # -- the weekly digest ---------------------------------------------------------------

    def _digests(self, session: Session, *, now: datetime) -> int:
        drafted = 0
        moment = _last_digest_moment(self.config, self.policy.zone, now)
        if now - moment > DIGEST_DRAFT_WITHIN:
            return 0
        day = moment.astimezone(self.policy.zone).date()
        for settings in self.config.hashtags:
            if "digest" in settings.modes and self._digest(session, settings, day, moment, now):
                drafted += 1
        return drafted

    def _digest(
        self, session: Session, settings: HashtagWelcome, day: date, moment: datetime, now: datetime
    ) -> bool:
        series = "digest-" + settings.hashtag.lower().lstrip("#")
        already = select(OutboxPost.id).where(
            OutboxPost.series == series, OutboxPost.chat_date == day,
            OutboxPost.kind == PostKind.DIGEST,
        )  # fmt: skip
        if session.scalar(already) is not None:
            return False
        rows = session.scalars(
            select(Welcome)
            .where(
                func.lower(Welcome.hashtag) == settings.hashtag.lower(),
                Welcome.in_digest.is_(True),
                Welcome.digest_post_id.is_(None),
                Welcome.status != WelcomeStatus.OPTED_OUT,
                Welcome.created_at >= moment - WEEK,
            )
            .order_by(Welcome.created_at)
        ).all()
        if not rows:
            return False
        week = day.isocalendar().week
        text = render_digest(
            settings, count=len(rows), usernames=[r.username or "" for r in rows],
            next_chat=_next_chat(session, settings.hashtag, now, self.policy.zone), turn=week,
        )  # fmt: skip
        if text is None:
            log.warning("no digest text for %s fits; see the welcome file", settings.hashtag)
            return False
        post = OutboxPost(
            chat_id=None, series=series, chat_date=day, kind=PostKind.DIGEST, number=0,
            text=text, planned_at=now, due_at=now, status=PostStatus.HELD, attempts=0,
            thread=False, lateness_seconds=int(DIGEST_LATENESS.total_seconds()),
            created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(post)
        session.flush()
        for row in rows:
            row.digest_post_id = post.id
            row.updated_at = now
        log.info(
            "drafted the weekly digest for %s (held): %d newcomers", settings.hashtag, len(rows)
        )
        return True


# --- shared steps ------------------------------------------------------------------------


def mark_known(session: Session, *, now: datetime) -> int:
    """Record everyone in the archive with no decision yet as known (never welcomed).

    Run when welcomes begin and after an import of history. Returns how many rows.
    """
    authors = select(
        User.id,
        User.username,
        User.name,
        literal(WelcomeStatus.KNOWN.value),
        literal(False),
        literal("in the archive before welcomes began or imported"),
        literal(now, Welcome.created_at.type),
        literal(now, Welcome.updated_at.type),
    ).where(
        exists().where(Tweet.author_id == User.id),
        ~exists().where(Welcome.user_id == User.id),
    )
    columns = ["user_id", "username", "name", "status", "in_digest", "note"]
    dialect = session.get_bind().dialect.name
    make_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        make_insert(Welcome)
        .from_select([*columns, "created_at", "updated_at"], authors)
        .on_conflict_do_nothing(index_elements=["user_id"])  # decided meanwhile (the daemon)
        .returning(Welcome.id)
    )
    return len(session.execute(statement).all())


def _baseline(session: Session) -> datetime | None:
    return session.scalar(select(TrackerMark.done_at).where(TrackerMark.name == BASELINE_MARK))


def _add(
    session: Session,
    user: User,
    status: WelcomeStatus,
    *,
    now: datetime,
    first: _Post | None = None,
    text: str | None = None,
    template: int | None = None,
    in_digest: bool = False,
    tweet_id: str | None = None,
    note: str | None = None,
) -> Welcome:
    welcome = Welcome(
        user_id=user.id, username=user.username, name=user.name,
        hashtag=first.hashtag if first else None,
        tweet_id=tweet_id or (first.id if first else None),
        first_at=first.created_at if first else None, status=status, text=text,
        template=template, note=note, in_digest=in_digest, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(welcome)
    session.flush()
    return welcome


def _sync(session: Session, *, now: datetime) -> None:
    """Queued welcomes follow their outbox post: sent, or on to the list when it was not."""
    rows = session.execute(
        select(Welcome, OutboxPost.status, OutboxPost.last_error)
        .join(OutboxPost, OutboxPost.id == Welcome.outbox_post_id)
        .where(
            Welcome.status == WelcomeStatus.QUEUED,
            OutboxPost.status.in_(
                (PostStatus.SENT, PostStatus.FAILED, PostStatus.MISSED, PostStatus.CANCELLED)
            ),
        )
    ).all()
    for welcome, status, error in rows:
        welcome.updated_at = now
        if status is PostStatus.SENT:
            welcome.status = WelcomeStatus.SENT
        elif status is PostStatus.CANCELLED:
            welcome.status = WelcomeStatus.SKIPPED
            welcome.note = "the welcome reply was cancelled in the queue"
        else:
            welcome.status = WelcomeStatus.LISTED
            welcome.note = (
                f"the welcome reply was not sent ({error or status.value}): welcome them by hand"
            )


def _chat_conversations(session: Session) -> dict[str, str]:
    """Conversation id (the intro's post id) -> the hashtag of each archived chat."""
    rows = session.execute(
        select(ChatPost.tweet_id, Chat.hashtag)
        .join(Chat, Chat.id == ChatPost.chat_id)
        .where(ChatPost.kind == PostKind.INTRO)
    )
    return {tweet_id: hashtag for tweet_id, hashtag in rows}


def _chat_hosts(session: Session) -> set[str]:
    return {host.lower() for host in session.scalars(select(Chat.host).distinct()) if host}


def _next_chat(session: Session, hashtag: str, now: datetime, zone: ZoneInfo) -> str | None:
    start = session.scalar(
        select(func.min(OutboxChat.starts_at)).where(
            func.lower(OutboxChat.hashtag) == hashtag.lower(),
            OutboxChat.status == ChatStatus.ACTIVE,
            OutboxChat.starts_at > now,
        )
    )
    return describe_next_chat(start.astimezone(zone)) if start is not None else None


def _last_digest_moment(config: WelcomeConfig, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest digest time (the file's day and time, local) at or before `now`."""
    local = now.astimezone(zone)
    back = (local.weekday() - config.digest_day) % 7
    day = local.date() - timedelta(days=back)
    moment = datetime.combine(day, config.digest_time, tzinfo=zone)
    if moment > local:
        moment -= WEEK
    return moment
