"""What `tcbot welcomes ...` and `tcbot optout ...` do and say, for organisers.

bot/cli/welcomes.py parses the arguments and calls these; they read and write through
`sessions`, print through `echo`, ask through `confirm` and raise TcbotError for what
the organiser must put right. The deciding lives in bot/welcomes.py and bot/optouts.py;
this module only shows it and records the organisers' part:

- the organisers' list is everyone whose row is LISTED (with `--all`, every decided
  status but KNOWN), oldest first; protected and suspended accounts are never shown
  (archive/visibility.py), as everywhere else;
- `done` and `skip` only change a LISTED row: anything else is explained, not changed;
- an opt-out added here cancels the person's unsent welcome (bot/optouts.py), and the
  command says what it cancelled by comparing their rows before and after.

Names and post texts come from X: every line printed passes through `one_line`, so a
control character in a display name cannot move the terminal's cursor.
"""

from __future__ import annotations

import calendar
import csv
import enum
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from archive.forgotten import username_key
from archive.models import OptOut, OutboxPost, PostKind, PostStatus, Tweet, User, Welcome
from archive.models import WelcomeStatus as WS
from archive.transcript_formats import csv_cell, csv_id
from archive.visibility import shown
from bot.errors import TcbotError
from bot.intro_commands import local_text, one_line, utc_text
from bot.lease import write_transaction
from bot.optouts import OptOutRow, add_opt_out, list_opt_outs, remove_opt_out
from bot.welcome_texts import (
    check_welcome_file,
    describe_next_chat,
    load_welcome_config,
    render_welcome,
)

Echo = Callable[[str], None]
Confirm = Callable[[str], bool]
SAID_WIDTH = 120  # characters of a post shown in the table
CSV_COLUMNS = (
    "username", "name", "hashtag", "status", "created_at_utc", "date", "tweet_id", "said",
    "link", "suggested_text", "note",
)  # fmt: skip
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")
_UNSENT = (PostStatus.QUEUED, PostStatus.HELD)
WHY_NOT_LISTED = {
    WS.KNOWN: "not new: they were in the archive before welcomes began, or imported",
    WS.QUEUED: "a welcome reply from the bot is queued for them (see 'tcbot queue list')",
    WS.SENT: "already welcomed by the bot",
    WS.DONE: "already marked as welcomed",
    WS.SKIPPED: "already skipped",
    WS.NOTED: "only counted in the weekly digest",
    WS.OPTED_OUT: "they asked not to be contacted",
}
DEFAULT_NOTE = "this hashtag's newcomers are welcomed by organisers (the welcome file)"


class Format(enum.Enum):
    """How a list is printed."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """One person as the organisers' list shows them."""

    username: str | None
    name: str | None
    hashtag: str | None
    status: WS
    at: datetime | None  # when they wrote `said`
    tweet_id: str | None
    said: str | None  # None: the post is no longer in the archive
    text: str | None  # the suggested welcome
    note: str | None

    @property
    def link(self) -> str:
        if not self.tweet_id:
            return ""
        return f"https://x.com/{self.username or 'i/web'}/status/{self.tweet_id}"


@dataclass(frozen=True, slots=True)
class BotWelcomes:
    """What the bot itself has in the outbox: welcome replies by status, digests held."""

    queued: int
    held: int
    sent: int
    digests_held: int


# -- reading ----------------------------------------------------------------------------


def list_people(session: Session, *, include_all: bool = False) -> list[ListedPerson]:
    """The organisers' list, oldest first (see the module docstring)."""
    statuses = [s for s in WS if s is not WS.KNOWN] if include_all else [WS.LISTED]
    rows = session.execute(
        select(Welcome, User.username, User.name, Tweet.text, Tweet.created_at)
        .outerjoin(User, User.id == Welcome.user_id)
        .outerjoin(Tweet, Tweet.id == Welcome.tweet_id)
        .where(Welcome.status.in_(statuses), shown(User))
        .order_by(Welcome.created_at, Welcome.id)
    ).all()
    return [_person(w, username, name, said, at) for w, username, name, said, at in rows]


def _person(
    w: Welcome, username: str | None, name: str | None, said: str | None, at: datetime | None
) -> ListedPerson:
    """The current username and name win over those recorded: people rename themselves."""
    note = w.note or (DEFAULT_NOTE if w.status is WS.LISTED else None)
    return ListedPerson(
        username=username or w.username, name=name or w.name, hashtag=w.hashtag,
        status=w.status, at=at or w.first_at, tweet_id=w.tweet_id, said=said, text=w.text,
        note=note,
    )  # fmt: skip


def waiting_count(session: Session) -> int:
    """How many people wait on the organisers' list (protected and suspended left out)."""
    query = (
        select(func.count())
        .select_from(Welcome)
        .outerjoin(User, User.id == Welcome.user_id)
        .where(Welcome.status == WS.LISTED, shown(User))
    )
    return int(session.scalar(query) or 0)


def bot_welcomes(session: Session) -> BotWelcomes:
    """Welcome replies queued, held and sent, and weekly digests held, from the outbox."""
    counts = {
        (kind, status): int(count)
        for kind, status, count in session.execute(
            select(OutboxPost.kind, OutboxPost.status, func.count())
            .where(OutboxPost.kind.in_((PostKind.WELCOME, PostKind.DIGEST)))
            .group_by(OutboxPost.kind, OutboxPost.status)
        )
    }
    reply = {status: counts.get((PostKind.WELCOME, status), 0) for status in PostStatus}
    return BotWelcomes(
        queued=reply[PostStatus.QUEUED] + reply[PostStatus.SENDING],
        held=reply[PostStatus.HELD],
        sent=reply[PostStatus.SENT],
        digests_held=counts.get((PostKind.DIGEST, PostStatus.HELD), 0),
    )


def bot_summary(bot: BotWelcomes, *, dry_run: bool) -> list[str]:
    """What the bot is doing itself, in a line or three."""
    lines = [f"The bot's welcome replies: {bot.queued} queued, {bot.held} held, {bot.sent} sent."]
    if dry_run:
        lines.append(
            "TCBOT_WELCOME_DRY_RUN is on: welcome replies are held for review; read them with"
            " 'tcbot queue list' and send one with 'tcbot queue release #N'."
        )
    if bot.digests_held:
        lines.append(
            f"{_count(bot.digests_held, 'weekly digest')} held for review: 'tcbot queue list',"
            " then 'tcbot queue release #N' to post it."
        )
    return lines


# -- tcbot welcomes list ------------------------------------------------------------------


def list_command(
    *, sessions: sessionmaker[Session], zone: ZoneInfo, dry_run: bool, include_all: bool,
    fmt: Format, echo: Echo,
) -> list[ListedPerson]:  # fmt: skip
    """Print the organisers' list in `fmt`; the table ends with what the bot is doing."""
    with sessions() as session:
        people = list_people(session, include_all=include_all)
        bot = bot_welcomes(session)
    if fmt is Format.JSON:
        echo(render_json(people, zone=zone, bot=bot, dry_run=dry_run))
    elif fmt is Format.CSV:
        echo(render_csv(people, zone=zone).rstrip("\r\n"))
    else:
        echo(render_table(people, zone=zone, include_all=include_all))
        echo("")
        for line in bot_summary(bot, dry_run=dry_run):
            echo(line)
    return people


def render_table(people: Sequence[ListedPerson], *, zone: ZoneInfo, include_all: bool) -> str:
    """A short card per person, then what to do next."""
    if not people:
        if include_all:
            return "Nobody has been welcomed or listed yet."
        return (
            "Nobody is waiting to be welcomed. When someone new posts on a hashtag whose"
            ' welcome file mode is "organisers" (or the bot may not reply to them), they'
            " appear here after the bot's next look at X."
        )
    lines: list[str] = []
    for number, person in enumerate(people, start=1):
        handle = "@" + person.username if person.username else "(no username)"
        status = f" [{person.status.value.replace('_', ' ')}]" if include_all else ""
        head = (
            f"{number}. {handle} ({one_line(person.name, 40)})"
            if person.name
            else f"{number}. {handle}"
        )
        lines.append(f"{head} on {person.hashtag or '?'}, {local_text(person.at, zone)}{status}")
        said = (
            one_line(person.said, SAID_WIDTH) if person.said is not None else "(no longer archived)"
        )
        lines.append(f"   Said:      {said}")
        if person.link:
            lines.append(f"   Reply at:  {person.link}")
        if person.text:
            lines.append(f"   Suggested: {one_line(person.text)}")
        if person.note:
            lines.append(f"   Why:       {one_line(person.note)}")
    waiting = sum(p.status is WS.LISTED for p in people)
    lines.append(
        f"{_count(waiting, 'person', 'people')} to welcome. After welcoming someone: "
        "'tcbot welcomes done @name' (or 'tcbot welcomes skip @name')."
    )
    return "\n".join(lines)


def render_json(
    people: Sequence[ListedPerson], *, zone: ZoneInfo, bot: BotWelcomes, dry_run: bool
) -> str:
    """{"timezone", "people": [...], "bot_replies": {...}, "dry_run"}; ids as strings."""
    document = {
        "timezone": zone.key,
        "people": [_person_json(p, zone) for p in people],
        "bot_replies": {"queued": bot.queued, "held": bot.held, "sent": bot.sent},
        "digests_held": bot.digests_held,
        "dry_run": dry_run,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _person_json(p: ListedPerson, zone: ZoneInfo) -> dict[str, str | None]:
    local = p.at.astimezone(zone).isoformat() if p.at else None
    return {
        "username": p.username, "name": p.name, "hashtag": p.hashtag, "status": p.status.value,
        "at": utc_text(p.at) or None, "local": local, "tweet_id": p.tweet_id, "said": p.said,
        "link": p.link or None, "suggested_text": p.text, "note": p.note,
    }  # fmt: skip


def render_csv(people: Sequence[ListedPerson], *, zone: ZoneInfo) -> str:
    """A header and one row per person; ids as ="…" cells, formulas defused (csv_cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in people:
        writer.writerow([
            csv_cell(p.username), csv_cell(p.name), csv_cell(p.hashtag), p.status.value,
            utc_text(p.at), local_text(p.at, zone), csv_id(p.tweet_id), csv_cell(p.said), p.link,
            csv_cell(p.text), csv_cell(p.note),
        ])  # fmt: skip
    return out.getvalue()


# -- tcbot welcomes done / skip -----------------------------------------------------------


def mark(username: str, status: WS, *, sessions: sessionmaker[Session], now: datetime) -> str:
    """Mark a LISTED person DONE or SKIPPED; returns their username as recorded."""
    key = checked_username(username)
    with write_transaction(sessions) as session:
        rows = _welcome_rows(session, key)
        listed = [row for row in rows if row.status is WS.LISTED]
        if not listed:
            why = WHY_NOT_LISTED[rows[0].status] if rows else "tcbot has not seen them arrive"
            raise TcbotError(
                f"@{key} is not on the organisers' list: {why}",
                "see 'tcbot welcomes list' for who is waiting",
            )
        for row in listed:
            row.status = status
            row.updated_at = now
        return listed[0].username or key


def _welcome_rows(session: Session, key: str) -> list[Welcome]:
    """The rows of the person called `key` now (users) or when decided about (welcomes)."""
    now_called = select(User.id).where(func.lower(User.username) == key)
    query = select(Welcome).where(
        or_(func.lower(Welcome.username) == key, Welcome.user_id.in_(now_called))
    )
    return list(session.scalars(query.order_by(Welcome.id)))


def checked_username(username: str) -> str:
    key = username_key(username)
    if not _USERNAME.fullmatch(key):
        raise TcbotError(
            f"{username.strip()[:60]!r} is not an X username",
            "give the name as it appears on X, e.g. @ana_k or ana_k",
        )
    return key


# -- tcbot welcomes check -----------------------------------------------------------------


def check_command(path: Path, *, zone: ZoneInfo, echo: Echo) -> None:
    """Print the file's problems and fail; or sum up each hashtag and show a sample."""
    problems = check_welcome_file(path)
    for problem in problems:
        echo(problem)
    if problems:
        raise TcbotError(
            f"{_count(len(problems), 'problem')} in the welcome file (listed above)",
            "change each line named, then run 'tcbot welcomes check' again",
        )
    config = load_welcome_config(path)
    if not path.exists():
        echo(f"{path} does not exist: tcbot uses its built-in welcome settings.")
    echo(f"OK: {path}")
    for hw in config.hashtags:
        modes = ", ".join(sorted(hw.modes)) or "none (nobody is welcomed)"
        extra = f", {_count(len(hw.digest_texts), 'digest text')}" if "digest" in hw.modes else ""
        echo(f"  {hw.hashtag}: modes {modes}; {_count(len(hw.texts), 'text')}{extra}")
    if config.hosts:
        echo(f"  Never welcomed (hosts): {', '.join('@' + h for h in sorted(config.hosts))}")
    if any("digest" in hw.modes for hw in config.hashtags):
        day = calendar.day_name[config.digest_day]
        echo(f"  Weekly digest drafted on {day}s at {config.digest_time:%H:%M} ({zone.key})")
    first = next((hw for hw in config.hashtags if hw.texts), None)
    if first is not None:
        chat = describe_next_chat(datetime(2026, 12, 2, 20, 0, tzinfo=zone))
        sample = render_welcome(
            first, name="Ana Lopez", username="ana_k", next_chat=chat, previous=None, turn=0
        )
        if sample is not None:
            echo(f"Sample {first.hashtag} welcome for Ana Lopez: {sample.text}")


# -- tcbot optout ---------------------------------------------------------------------------


def optout_add(username: str, *, sessions: sessionmaker[Session], now: datetime) -> str:
    """Opt a person out; returns the sentence saying what happened."""
    key = checked_username(username)
    with write_transaction(sessions) as session:
        before = _snapshot(session, key)
        opt_out = add_opt_out(session, key, now=now)
        session.flush()
        after = _snapshot(session, key)
    cancelled = sum(post in _UNSENT and after[i][1] is PostStatus.CANCELLED
                    for i, (_, post) in before.items())  # fmt: skip
    delisted = sum(status is WS.LISTED and after[i][0] is not WS.LISTED
                   for i, (status, _) in before.items())  # fmt: skip
    done = [f"@{opt_out.username} opted out"]
    if cancelled:
        done.append(f"{_count(cancelled, 'queued welcome')} cancelled")
    if delisted:
        done.append("taken off the organisers' list")
    return "; ".join(done) + ". The bot will not welcome or reply to them from now on."


def _snapshot(session: Session, key: str) -> dict[int, tuple[WS, PostStatus | None]]:
    """Each of the person's welcome rows: its status and its outbox post's status."""
    found: dict[int, tuple[WS, PostStatus | None]] = {}
    for row in _welcome_rows(session, key):
        post = session.get(OutboxPost, row.outbox_post_id) if row.outbox_post_id else None
        found[row.id] = (row.status, post.status if post is not None else None)
    return found


def optout_list(
    *, sessions: sessionmaker[Session], zone: ZoneInfo, fmt: Format, echo: Echo
) -> None:
    """Print the opt-outs in force, newest first."""
    with sessions() as session:
        rows = list_opt_outs(session)
    if fmt is Format.JSON:
        echo(json.dumps([_optout_json(row) for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        echo("Nobody has opted out. People opt out by replying to the bot (\"stop\", say), or an"
             " organiser adds them with 'tcbot optout add USER'.")  # fmt: skip
        return
    for row in rows:
        how = "added by an organiser"
        if row.source != "organiser":
            told = ", told they will not hear again" if row.acknowledged else ""
            how = f"asked on X (post {row.tweet_id}{told})"
        echo(f"@{row.username:<16} since {local_text(row.created_at, zone)}  {how}")
    echo(f"{_count(len(rows), 'opt-out')} in force; opt-outs are kept for ever.")


def _optout_json(row: OptOutRow) -> dict[str, object]:
    return {
        "username": row.username, "user_id": row.user_id, "source": row.source,
        "since": utc_text(row.created_at), "tweet_id": row.tweet_id,
        "acknowledged": row.acknowledged,
    }  # fmt: skip


def optout_remove(
    username: str, *, sessions: sessionmaker[Session], now: datetime, assume_yes: bool,
    confirm: Confirm, echo: Echo,
) -> bool:  # fmt: skip
    """End a person's opt-out after asking (unless `assume_yes`); False when the answer was no."""
    key = checked_username(username)
    with sessions() as session:
        found = session.scalar(
            select(OptOut.id).where(OptOut.username_key == key, OptOut.removed_at.is_(None))
        )
    if found is None:
        raise TcbotError(f"@{key} has not opted out", "see 'tcbot optout list'")
    question = f"Only do this if @{key} asked to hear from the bot again. End their opt-out?"
    if not assume_yes and not confirm(question):
        echo("Nothing was changed.")
        return False
    with write_transaction(sessions) as session:
        remove_opt_out(session, key, now=now)
    echo(f"@{key}'s opt-out is ended (the record of it is kept).")
    return True


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"
