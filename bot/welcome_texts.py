"""The welcome texts file (schedules/welcome.toml): how each hashtag welcomes newcomers, in words.

Hosts choose, per hashtag, any of three modes: `reply` (the bot answers a newcomer's
post; the caller allows that only where the newcomer addressed the bot), `organisers`
(a list for a person to welcome them, with a suggested text) and `digest` (one weekly
post from the bot welcoming the week's newcomers together). `reply` and `organisers`
together is an error: a reply that is not allowed falls back to the list by itself.

The file is read like a schedule file (bot.schedule_check's reader, bot.schedule_lines'
line numbers) and every problem names its line and what to change. A missing file means
the built-in defaults (`default_config`), which say the same as the shipped file.

Rendering is pure. Templates take turns (`turn`), so newcomers welcomed one after
another get different words, and a text equal to the previous one is skipped. Names
come from X display names, which anyone can fill with anything: `safe_name` keeps them
from creating a mention, a hashtag or a link, whatever they hold.

Fields, as they are filled in:

    {name}, {first_name}  texts: the newcomer's cleaned display name, and its first word
    {hashtag}             e.g. #TraineeTalk
    {next_chat}           when the next chat is, e.g. "Wednesday 16 December, 8pm GMT";
                          a text using it is skipped while no chat is planned
    {count}               digest_texts: how many newcomers this week
    {names}               digest_texts, only with digest_mentions = true: their @usernames
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any, TypeVar

from twitter_text import extract_urls_with_indices  # type: ignore[import-untyped]

from bot.errors import ScheduleError
from bot.schedule_check import _Bad, _clock, _flag, _hashtag, _Reader, _text, _weekday
from bot.schedule_files import _syntax_problem
from bot.schedule_lines import LineIndex
from bot.schedule_lines import Path as TomlPath
from bot.schedule_values import Locator, Problem
from bot.thread_text import MAX_WEIGHTED, describe_date, describe_time, weighted_length

__all__ = [
    "DEFAULT_WELCOME_FILE",
    "DIGEST_FIELDS",
    "MODES",
    "TEXT_FIELDS",
    "HashtagWelcome",
    "Rendered",
    "WelcomeConfig",
    "check_welcome_file",
    "default_config",
    "describe_next_chat",
    "display_first_name",
    "load_welcome_config",
    "render_digest",
    "render_welcome",
    "safe_name",
]

T = TypeVar("T")

MODES = ("reply", "organisers", "digest")
TEXT_FIELDS = ("name", "first_name", "hashtag", "next_chat")
DIGEST_FIELDS = ("count", "hashtag", "next_chat", "names")
DEFAULT_WELCOME_FILE = "schedules/welcome.toml"
MAX_NAME = 40  # characters of a display name kept for {name}

# What a text is measured with when the file is checked: a 20-character name and a long
# {next_chat}; a longer name at render time just moves on to a text that fits.
_SAMPLE = {
    "name": "Alexandra Whitehouse",
    "first_name": "Alexandra Whitehouse",
    "next_chat": "Wednesday 30 September, 10:30pm BST",
    "count": "100",
    "names": "@" + "u" * 15,  # one username as long as X allows
}
_TITLES = frozenset({"dr", "dra", "mx", "mr", "mrs", "ms", "miss", "prof", "professor", "rev"})
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# An @ that X would read as a mention, or a # or $ that would turn a field into a tag.
_MENTION_OR_TAG = re.compile(r"(?<![A-Za-z0-9_])[@＠]|[#＃$]\{")
_NO_MENTIONS = (
    "has an @, or a # or $ just before a field: texts may not @mention anyone (X adds the "
    "newcomer's @name itself) or make a tag of a field; write account names without the @"
)
_REPLY_AND_ORGANISERS = (
    'modes has both "reply" and "organisers"; keep one: with "reply", newcomers the bot '
    "may not reply to are listed for organisers anyway"
)
_MODES_SHOWN = '"reply", "organisers" and "digest"'
_DIGEST_DAY, _DIGEST_TIME = 4, time(12, 0)  # Friday noon, local time


@dataclass(frozen=True, slots=True)
class HashtagWelcome:
    """How one hashtag welcomes newcomers: its modes and its texts (templates)."""

    hashtag: str  # as written, "#TraineeTalk"
    modes: frozenset[str]
    texts: tuple[str, ...]
    digest_texts: tuple[str, ...]
    digest_mentions: bool


@dataclass(frozen=True, slots=True)
class WelcomeConfig:
    """The whole welcome file: every hashtag's welcome, the hosts, and the digest's time."""

    hashtags: tuple[HashtagWelcome, ...]
    hosts: frozenset[str]  # lower-cased usernames, never welcomed
    digest_day: int  # 0 = Monday, local time (TCBOT_TIMEZONE)
    digest_time: time

    def for_hashtag(self, tag: str) -> HashtagWelcome | None:
        """The welcome of `tag` (any case, with or without '#'), or None if not configured."""
        key = _tag_key(tag)
        return next((hw for hw in self.hashtags if _tag_key(hw.hashtag) == key), None)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A welcome's text and which template it came from (an index into `texts`)."""

    text: str
    template: int


def default_config() -> WelcomeConfig:
    """The built-in welcome settings: the same as the shipped schedules/welcome.toml."""
    trainee = HashtagWelcome(
        hashtag="#TraineeTalk",
        modes=frozenset({"reply"}),
        texts=(
            "Welcome to {hashtag}, {first_name}! Our next chat is {next_chat}. Do join us.",
            "Hi {first_name}, lovely to see you on {hashtag}! Next chat: {next_chat}.",
            "Welcome, {first_name}! Glad you found {hashtag}. Join in or read along, as suits you.",
            "Hello {first_name}, welcome to {hashtag}! Trainees at every stage are welcome here.",
        ),
        digest_texts=(),
        digest_mentions=False,
    )
    connect = HashtagWelcome(
        hashtag="#TherapistsConnect",
        modes=frozenset({"organisers", "digest"}),
        texts=(
            "Welcome to {hashtag}, {first_name}! Lovely to meet you. Do say hello to a few people.",
            "Hi {first_name}, thanks for introducing yourself on {hashtag}! Great to have you.",
            "Welcome, {first_name}! So glad you found {hashtag}. It's a friendly bunch here.",
            "Hello {first_name}, and a warm welcome to {hashtag}! Looking forward to knowing you.",
        ),
        digest_texts=(
            "Welcome to this week's newcomers on {hashtag} ({count} in all)! Do say hello.",
            "New faces on {hashtag} this week ({count} of them)! Welcome, all. Go and say hi.",
            "Introductions on {hashtag} this week: {count}. A warm welcome to every one of you!",
        ),
        digest_mentions=False,
    )
    return WelcomeConfig(
        hashtags=(trainee, connect),
        hosts=frozenset({"traineetalk"}),
        digest_day=_DIGEST_DAY,
        digest_time=_DIGEST_TIME,
    )


def load_welcome_config(path: Path) -> WelcomeConfig:
    """The welcome settings in `path`; the defaults if it does not exist.

    Raises ScheduleError listing every problem, each with its line.
    """
    if not path.exists():
        return default_config()
    config, problems = _read_file(path)
    if config is None or problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise ScheduleError(
            f"the welcome texts have {count}",
            f"change each line named, then try again:\n{listed}",
            path=str(path),
        )
    return config


def check_welcome_file(path: Path) -> list[str]:
    """Every problem in `path`, each as "file:line: error: what to change"; [] when fine.

    A missing file is fine: the built-in defaults are used.
    """
    if not path.exists():
        return []
    return [str(problem) for problem in _read_file(path)[1]]


def _read_file(path: Path) -> tuple[WelcomeConfig | None, list[Problem]]:
    spot = Locator(str(path)).spot(None)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [spot.error("is not UTF-8 text; save it as UTF-8 and try again")]
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [spot.error(f"cannot be read ({reason}); check the name and path")]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(str(path), text, exc)]
    reader = _Reader(Locator(str(path), LineIndex(text)))
    config = _read_document(reader, document)
    return config, reader.problems


def _read_document(reader: _Reader, document: Mapping[str, Any]) -> WelcomeConfig:
    reader.check_keys(document, (), allowed=("welcome", "hashtags"), required=(), name="the file")
    table = document.get("welcome", {})
    if not isinstance(table, dict):
        reader.error(("welcome",), "welcome must be a table: put [welcome] on a line of its own")
        table = {}
    path: TomlPath = ("welcome",)
    keys = ("hosts", "digest_day", "digest_time")
    reader.check_keys(table, path, allowed=keys, required=(), name="[welcome]")
    hosts = _read_list(reader, table, (*path, "hosts"), _host) or ()
    day = reader.read(table, path, "digest_day", _weekday)
    at = reader.read(table, path, "digest_time", _clock)
    raw = document.get("hashtags", [])
    if not isinstance(raw, list):
        reader.error(("hashtags",), "hashtags must be [[hashtags]] blocks, one per hashtag")
        raw = []
    found: dict[str, TomlPath] = {}
    hashtags = []
    for index, block in enumerate(raw):
        hw = _read_hashtag(reader, block, ("hashtags", index))
        if hw is not None and _tag_key(hw.hashtag) in found:
            line = reader.locate.spot(found[_tag_key(hw.hashtag)]).line
            again = f"{hw.hashtag} is already at line {line}; keep only one block for it"
            reader.error(("hashtags", index, "hashtag"), again)
        elif hw is not None:
            found[_tag_key(hw.hashtag)] = ("hashtags", index, "hashtag")
            hashtags.append(hw)
    return WelcomeConfig(
        hashtags=tuple(hashtags),
        hosts=frozenset(hosts),
        digest_day=_DIGEST_DAY if day is None else day,
        digest_time=at or _DIGEST_TIME,
    )


def _read_hashtag(reader: _Reader, raw: Any, path: TomlPath) -> HashtagWelcome | None:
    if not isinstance(raw, dict):
        reader.error(path, "each hashtag must be a [[hashtags]] block")
        return None
    before = len(reader.problems)
    keys = ("hashtag", "modes", "texts", "digest_texts", "digest_mentions")
    reader.check_keys(raw, path, allowed=keys, required=keys[:2], name="this [[hashtags]] block")
    hashtag = reader.read(raw, path, "hashtag", _hashtag)
    modes = frozenset(_read_list(reader, raw, (*path, "modes"), _mode) or ())
    if {"reply", "organisers"} <= modes:
        reader.error((*path, "modes"), _REPLY_AND_ORGANISERS)
    mentions = reader.read(raw, path, "digest_mentions", _flag) or False
    tag = hashtag or "#" + "h" * 20
    texts = _read_texts(reader, raw, (path, "texts"), TEXT_FIELDS, tag, modes - {"digest"})
    fields = DIGEST_FIELDS if mentions else DIGEST_FIELDS[:3]
    digest = _read_texts(reader, raw, (path, "digest_texts"), fields, tag, modes & {"digest"})
    for key in ("digest_texts", "digest_mentions"):
        if key in raw and "digest" not in modes:
            only = f'{key} is only used when modes includes "digest"; add "digest" to modes'
            reader.error((*path, key), only + " or delete this line")
    if len(reader.problems) > before or hashtag is None:
        return None
    return HashtagWelcome(hashtag, modes, texts, digest, mentions)


def _read_texts(
    reader: _Reader,
    raw: Mapping[str, Any],
    place: tuple[TomlPath, str],
    fields: Sequence[str],
    hashtag: str,
    modes: frozenset[str],
) -> tuple[str, ...]:
    """One list of templates, each checked; `modes` are those that need it (none: optional)."""
    path, key = place
    if key not in raw:
        if modes:
            need = f"with modes {', '.join(sorted(modes))}, this hashtag needs {key}"
            reader.error(path, f'{need}: add a line {key} = ["...", "..."]')
        return ()
    texts = _read_list(reader, raw, (*path, key), _text)
    if texts is not None and len(texts) < 2 and (modes or texts):
        few = f"{key} has {len(texts) or 'no'} text{'' if len(texts) == 1 else 's'}"
        reader.error(
            (*path, key),
            f"{few}; write at least 2 different ones, so two newcomers "
            "in a row never get the same words",
        )
    texts = texts or ()
    seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        where: TomlPath = (*path, key, index)
        same = seen.setdefault(" ".join(text.casefold().split()), index)
        problem = _template_problem(text, fields, key, hashtag)
        if same != index:
            problem = f"is the same as text {same + 1}; make each text different"
        if problem is not None:
            reader.error(where, f"{key}: text {index + 1} {problem}")
    return texts


def _read_list(
    reader: _Reader,
    raw: Mapping[str, Any],
    path: TomlPath,
    convert: Callable[[Any], T],
) -> tuple[T, ...] | None:
    """The converted items of the list at `path`; None if it is missing or not a list."""
    key = str(path[-1])
    if key not in raw:
        return None
    items = raw[key]
    if not isinstance(items, list):
        reader.error(path, f'{key} should be a list in square brackets: {key} = ["...", "..."]')
        return None
    values = []
    for index, item in enumerate(items):
        try:
            values.append(convert(item))
        except _Bad as exc:
            reader.error((*path, index), f"{key}: item {index + 1} {exc}")
    return tuple(values)


def _host(raw: Any) -> str:
    name = raw.strip().removeprefix("@") if isinstance(raw, str) else ""
    if not _USERNAME.fullmatch(name):
        raise _Bad(f'should be an X username in quotes, e.g. "TraineeTalk", not {raw!r}')
    return name.lower()


def _mode(raw: Any) -> str:
    if raw in MODES:
        return str(raw)
    close = difflib.get_close_matches(str(raw), MODES, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    raise _Bad(f"is {raw!r}, which is not a mode; {hint}the modes are {_MODES_SHOWN}")


def _template_problem(text: str, fields: Sequence[str], key: str, hashtag: str) -> str | None:
    """What is wrong with one text (the end of a sentence "text 2 ..."), or None."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return "has a stray { or }; write fields as {first_name}, and a real brace as {{ or }}"
    for _literal, field, spec, conversion in parts:
        if field is not None and (spec or conversion or field not in fields):
            return _field_problem(field, fields, key)
    if _MENTION_OR_TAG.search(text):
        return _NO_MENTIONS
    length = weighted_length(_fill(text, {**_SAMPLE, "hashtag": hashtag}))
    if length > MAX_WEIGHTED:
        over = f"is {length} characters long with a 20-character name, over X's {MAX_WEIGHTED}"
        return f"{over} (a link counts 23, an emoji 2); shorten it by {length - MAX_WEIGHTED}"
    return None


def _field_problem(field: str, fields: Sequence[str], key: str) -> str:
    shown = ", ".join(f"{{{each}}}" for each in fields)
    if field == "names" and key == "digest_texts":
        why = "it needs digest_mentions = true (or take {names} out)"
    elif field in TEXT_FIELDS or field in DIGEST_FIELDS:
        why = f"{{{field}}} does not work in {key}"
    else:
        close = difflib.get_close_matches(field, fields, n=1)
        why = f"tcbot has no field {{{field}}}" + (
            f" (did you mean {{{close[0]}}}?)" if close else ""
        )
    return f"uses {{{field}}}: {why}; the fields {key} can use are {shown}"


def safe_name(name: str | None, username: str) -> str:
    """A display name fit to put in a post: no mention, hashtag, cashtag or link can come of it.

    Drops brackets ("(she/her)"), everything after a "|" or "•" ("| MSc"), URLs, @ # $ < >
    and control characters; collapses spaces; keeps at most MAX_NAME characters (whole
    words where it can). Falls back to the username (without @) when nothing is left.
    """
    text = "".join(_visible(char) for char in unicodedata.normalize("NFKC", name or ""))
    text = re.split(r"[|•]|\s[-–—]\s", text, maxsplit=1)[0]
    text = re.sub(r"\([^)]*\)?|\[[^\]]*\]?|\{[^}]*\}?", " ", text)
    text = re.sub(r"[@#<>]|\$(?=[^\W\d_])|\S*://\S*", "", text)
    for url in reversed(extract_urls_with_indices(text)):
        start, end = url["indices"]
        text = f"{text[:start]} {text[end:]}"
    text = _cap(" ".join(text.split()).strip(" -–—,:;/&+*~"))
    if not any(char.isalnum() for char in text) or extract_urls_with_indices(text):
        return _clean_username(username)
    return text


def display_first_name(name: str | None, username: str) -> str:
    """The first real word of the safe name, titles (Dr, Mx, Prof...) skipped; else the username."""
    for word in safe_name(name, username).split():
        core = _trim(word)
        if core.casefold().rstrip(".") not in _TITLES and any(c.isalpha() for c in core):
            return core
    return _clean_username(username)


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    if category in ("Cf", "Co", "Cs", "Cn") and char != "\u200d":  # keep emoji joiners
        return ""
    return char


def _cap(text: str) -> str:
    if len(text) <= MAX_NAME:
        return text
    words = text[: MAX_NAME + 1].split()[:-1]  # the last one may be cut: drop it
    return " ".join(words) if words else text[:MAX_NAME]


def _trim(word: str) -> str:
    start, end = 0, len(word)
    while start < end and not word[start].isalnum():
        start += 1
    while end > start and not word[end - 1].isalnum():
        end -= 1
    return word[start:end]


def _clean_username(username: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "", username)[:15] or "there"


def render_welcome(
    hw: HashtagWelcome,
    *,
    name: str | None,
    username: str,
    next_chat: str | None,
    previous: str | None,
    turn: int,
) -> Rendered | None:
    """The welcome for one newcomer: the usable templates take turns (`turn`), the next
    one is tried when a text equals `previous` or is over X's 280; None if none fits.

    A template using {next_chat} is not usable while no chat is planned.
    """
    values = {
        "name": safe_name(name, username),
        "first_name": display_first_name(name, username),
        "hashtag": hw.hashtag,
        "next_chat": next_chat or "",
    }
    usable = [i for i, t in enumerate(hw.texts) if next_chat or "next_chat" not in _fields(t)]
    for step in _rotation(len(usable), turn):
        index = usable[step]
        text = _fill(hw.texts[index], values)
        if text != previous and weighted_length(text) <= MAX_WEIGHTED:
            return Rendered(text, index)
    return None


def render_digest(
    hw: HashtagWelcome, *, count: int, usernames: Sequence[str], next_chat: str | None, turn: int
) -> str | None:
    """The weekly digest: template `turn % len(digest_texts)` or the next that fits.

    {names} (digest_mentions only) takes as many @usernames, in order, as stay within
    280; a text using it needs at least one. None with no newcomers or no text that fits.
    """
    if count < 1:
        return None
    handles = list(dict.fromkeys(_handles(usernames))) if hw.digest_mentions else []
    values = {"count": str(count), "hashtag": hw.hashtag, "next_chat": next_chat or ""}
    for index in _rotation(len(hw.digest_texts), turn):
        template = hw.digest_texts[index]
        fields = _fields(template)
        if next_chat is None and "next_chat" in fields:
            continue
        if "names" in fields:
            text = _fill_names(template, values, handles)
        else:
            text = _fill(template, values)
        if text is not None and weighted_length(text) <= MAX_WEIGHTED:
            return text
    return None


def describe_next_chat(start: datetime) -> str:
    """A chat's start for {next_chat}, from an aware local time: "Wednesday 16 December, 8pm GMT"."""
    zone = start.tzname() or ""
    return f"{describe_date(start.date())}, {describe_time(start.time())} {zone}".strip()


def _fill_names(template: str, values: Mapping[str, str], handles: Sequence[str]) -> str | None:
    """The template with as many handles as fit (a too-long one is left out); None if none fit."""
    chosen: list[str] = []
    for handle in handles:
        text = _fill(template, {**values, "names": _join([*chosen, handle])})
        if weighted_length(text) <= MAX_WEIGHTED:
            chosen.append(handle)
    return _fill(template, {**values, "names": _join(chosen)}) if chosen else None


def _handles(usernames: Sequence[str]) -> Iterator[str]:
    for username in usernames:
        bare = username.strip().removeprefix("@")
        if _USERNAME.fullmatch(bare):
            yield "@" + bare


def _join(handles: Sequence[str]) -> str:
    if len(handles) < 2:
        return "".join(handles)
    return f"{', '.join(handles[:-1])} and {handles[-1]}"


def _rotation(size: int, turn: int) -> Iterator[int]:
    for step in range(size):
        yield (turn + step) % size


def _fields(template: str) -> set[str]:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return set()  # _fill says what is wrong
    return {field for _, field, _, _ in parts if field is not None}


def _fill(template: str, values: Mapping[str, str]) -> str:
    try:
        return template.format_map(values).strip()
    except (KeyError, ValueError, IndexError) as exc:
        raise ScheduleError(
            f"the welcome text {template!r} cannot be filled in ({exc})",
            "write fields in braces, e.g. {first_name}, and a real brace as {{ or }}",
        ) from None


def _tag_key(tag: str) -> str:
    return tag.strip().removeprefix("#").casefold()
