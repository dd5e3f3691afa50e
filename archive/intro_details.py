"""Role and place as a person states them in a tweet: where they are and how they are said.

Pure functions over a tweet's text (archive/intros.py normalises it first). A
role is a profession or training stage from the lexicon (archive/intro_lexicon.py)
with its safe modifiers, in the words the person used. Each role mention says how
it is attached to the writer:

- SELF: right after a self-reference ("I'm a", "I work as a", "soy", "ich bin",
  "now a") or after the writer's name and a comma ("I'm Priya, a ..."), or
  followed by "here" ("LCSW from Atlanta here");
- LEAD: opens a sentence or a line, bio style ("Clinical psychologist from Dublin");
- OTHER: anything else, including negated ("not a therapist (yet!)").

A place is one to four capitalised words after a place preposition of a language
the tweet is in ("based in Leeds", "aus Hamburg", "em São Paulo"), with an optional
", REGION" ("Austin, TX"), or a bare place listed after a role ("Student
counsellor, Sheffield"). Known non-places that follow "in" (months, modalities,
"the NHS", "Ausbildung") are refused. In an all-lower-case tweet capitals carry
no signal, so a single lower-case word is accepted after a strong preposition
("from liverpool") or right after the writer's role ("psychotherapist in
leicester"). Nothing is looked up: place is text, as written.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from archive.intro_lexicon import (
    LOWERCASE_NOT_PLACES,
    NAME_MARKERS,
    NAME_PHRASES,
    NOT_PLACES,
    PLACE_ADJECTIVES,
    PLACE_CONNECTORS,
    PLACE_DIRECTIONS,
    ROLE_HEADS,
    ROLE_JOINERS,
    ROLE_MODIFIERS,
    ROLE_POSTMODIFIERS,
    STRONG_PLACE_PREPOSITIONS,
    WEAK_PLACE_PREPOSITIONS,
    alternation,
)

_MOD = alternation(ROLE_MODIFIERS)
_HEAD = alternation(ROLE_HEADS)
_POST = alternation(ROLE_POSTMODIFIERS)
_ONE_ROLE = rf"(?:{_MOD}\s+){{0,3}}{_HEAD}(?:\s+{_POST})?"
ROLE = re.compile(
    rf"(?<![\w#@-]){_ONE_ROLE}(?:\s*(?:{ROLE_JOINERS})\s+{_ONE_ROLE})?(?![\w-])", re.IGNORECASE
)
_ARTICLE = r"(?:(?:an?|un|une|una|uma|um|ein|eine|uno)\s+)"
_SELF_MARKER = re.compile(
    r"\b(?:i'?m|im|i am|i work as|working as|work as|now|soy|sou|sono|je suis|ich bin|bin)\s+"
    rf"{_ARTICLE}?(?:[^\s,]+\s+){{0,2}}(?:(?:and|&)\s+)?$",
    re.IGNORECASE,
)
_COMMA_MARKER = re.compile(rf",\s*{_ARTICLE}?(?:[^\s,]+\s+){{0,2}}$", re.IGNORECASE)
_NAME_BEFORE = re.compile(
    rf"(?<![\w'])(?:{'|'.join((*NAME_MARKERS.values(), *NAME_PHRASES.values()))})"
    r"\s+[^\W\d_][\w'-]*(?:\s+[A-Z][\w'-]*)?\s*(?:\([^)]*\))?\s*$",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\bnot (?:yet )?(?:an? )?$", re.IGNORECASE)
_HERE_AFTER = re.compile(r"^(?:\s+(?:from|in|based in)\s+[^.!?,]{1,30}?)?\s+here\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")
_WORD = re.compile(r"(?<![#@\w])[^\W\d_][\w'-]*")
_TOKEN = re.compile(r"[^\W\d_][\w'-]*")
_LEAD_BOUNDARY = set(".!?:;|•·–—\n")
_LEAD_WORDS = 2
_COMMA_NAME_WORDS = 4
_MAX_PLACE_TOKENS = 4
_ROLE_PLACE_REACH = 45
_CONTEXT_WINDOW = 100


class RoleContext(enum.Enum):
    """How a role mention is tied to the writer (see the module docstring)."""

    SELF = "self"
    LEAD = "lead"
    OTHER = "other"


class PlaceStrength(enum.Enum):
    """How sure a place is: after a strong preposition, listed after a role, or after "in"."""

    STRONG = "strong"
    LISTED = "listed"
    WEAK = "weak"


@dataclass(frozen=True, slots=True)
class RoleMention:
    """A role as written, where it is, and how it is tied to the writer."""

    text: str
    start: int
    end: int
    context: RoleContext


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A place as written, where it is, and how sure the finder is."""

    text: str
    start: int
    end: int
    strength: PlaceStrength


def find_roles(text: str) -> tuple[RoleMention, ...]:
    """Every singular role mention in `text`, in order, with its context."""
    return tuple(
        RoleMention(
            text=" ".join(m.group().split()),
            start=m.start(),
            end=m.end(),
            context=_role_context(text, m.start(), m.end()),
        )
        for m in ROLE.finditer(text)
    )


def choose_role(roles: Iterable[RoleMention]) -> RoleMention | None:
    """The writer's own role: the first SELF mention, else the first LEAD one."""
    ranked = [r for r in roles if r.context is not RoleContext.OTHER]
    ranked.sort(key=lambda r: (r.context is not RoleContext.SELF, r.start))
    return ranked[0] if ranked else None


def _role_context(text: str, start: int, end: int) -> RoleContext:
    # Only a bounded window before the role matters ("I'm Claire, a"), which also
    # keeps a long post with many role words linear rather than quadratic.
    window_start = max(0, start - _CONTEXT_WINDOW)
    prefix = text[window_start:start]
    clause = _SENTENCE_END.split(prefix)[-1]
    if _NEGATED.search(clause):
        return RoleContext.OTHER
    if _SELF_MARKER.search(clause) or _HERE_AFTER.match(text[end:]):
        return RoleContext.SELF
    comma = _COMMA_MARKER.search(clause)
    if comma and (
        len(_WORD.findall(clause[: comma.start()])) <= _COMMA_NAME_WORDS
        or _NAME_BEFORE.search(clause[: comma.start()])
    ):
        return RoleContext.SELF
    lead = _since_boundary(prefix)
    if (lead is not prefix or window_start == 0) and len(_WORD.findall(lead)) <= _LEAD_WORDS:
        return RoleContext.LEAD
    return RoleContext.OTHER


def _since_boundary(prefix: str) -> str:
    """The part of `prefix` after the last sentence, line, dash or emoji boundary."""
    for index in range(len(prefix) - 1, -1, -1):
        char = prefix[index]
        dash = char == "-" and prefix[index - 1 : index] == " "
        if char in _LEAD_BOUNDARY or dash or unicodedata.category(char) == "So":
            return prefix[index + 1 :]
    return prefix


# -- places -----------------------------------------------------------------------------


def find_places(
    text: str, *, languages: Iterable[str], lowercase: bool = False
) -> tuple[PlaceMention, ...]:
    """Every place stated in `text` for the given languages (English is always included)."""
    langs = {"en", *languages}
    found: list[PlaceMention] = []
    for strength, table in (
        (PlaceStrength.STRONG, STRONG_PLACE_PREPOSITIONS),
        (PlaceStrength.WEAK, WEAK_PLACE_PREPOSITIONS),
    ):
        parts = tuple(p for lang in sorted(langs) for p in table.get(lang, ()))
        pattern = re.compile(rf"(?<![\w'#@-])(?:{alternation(parts)})\s+", re.IGNORECASE)
        for match in pattern.finditer(text):
            span = parse_place(
                text, match.end(), lowercase=lowercase and strength is PlaceStrength.STRONG
            )
            if span:
                found.append(_place(text, span, strength))
    for role in find_roles(text):
        span = _listed_place(text, role.end)
        if span is None and lowercase:
            after = _AFTER_ROLE.match(text, role.end)
            span = parse_place(text, after.end(), lowercase=True) if after else None
        if span:
            found.append(_place(text, span, PlaceStrength.LISTED))
    return tuple(sorted(set(found), key=lambda p: p.start))


def choose_place(places: Iterable[PlaceMention]) -> PlaceMention | None:
    """The most certain place: strong before listed before weak, then the first."""
    order = list(PlaceStrength)
    ranked = sorted(places, key=lambda p: (order.index(p.strength), p.start))
    return ranked[0] if ranked else None


def place_follows_role(place: PlaceMention, role: RoleMention, text: str) -> bool:
    """Whether `place` comes shortly after `role`, in the same sentence ("therapist in Leeds")."""
    between = text[role.end : place.start]
    return 0 <= len(between) <= _ROLE_PLACE_REACH and not _SENTENCE_END.search(between)


def _place(text: str, span: tuple[int, int], strength: PlaceStrength) -> PlaceMention:
    return PlaceMention(text=text[span[0] : span[1]], start=span[0], end=span[1], strength=strength)


def parse_place(text: str, pos: int, *, lowercase: bool = False) -> tuple[int, int] | None:
    """The span of a place name starting at `pos` (after a preposition), or None."""
    pos = _skip_words(text, pos, {"the"} | PLACE_ADJECTIVES)
    start = pos
    token = _TOKEN.match(text, pos)
    if token and token.group().lower() in PLACE_DIRECTIONS:
        pos = token.end() + 1 if text[token.end() : token.end() + 1] == " " else len(text) + 1
        token = _TOKEN.match(text, pos)
    if token is None or not _place_word(token.group(), lowercase=lowercase):
        return None
    if lowercase:
        return start, token.end()
    end = _more_place_words(text, token.end())
    return start, _comma_region(text, end)


def _skip_words(text: str, pos: int, words: set[str] | frozenset[str]) -> int:
    while (token := _TOKEN.match(text, pos)) and token.group().lower() in words:
        if text[token.end() : token.end() + 1] != " ":
            break
        pos = token.end() + 1
    return pos


def _place_word(word: str, *, lowercase: bool = False) -> bool:
    key = word.lower()
    if key in NOT_PLACES or (key.endswith("s") and key[:-1] in NOT_PLACES):  # "Saturdays"
        return False
    if lowercase:
        return word.islower() and word not in LOWERCASE_NOT_PLACES
    return word[0].isupper()


def _more_place_words(text: str, end: int) -> int:
    count = 1
    while count < _MAX_PLACE_TOKENS and text[end : end + 1] == " ":
        nxt = _TOKEN.match(text, end + 1)
        if nxt is None:
            break
        if _place_word(nxt.group()):
            end, count = nxt.end(), count + 1
            continue
        after = (
            _TOKEN.match(text, nxt.end() + 1) if text[nxt.end() : nxt.end() + 1] == " " else None
        )
        if nxt.group() in PLACE_CONNECTORS and after and _place_word(after.group()):
            end, count = after.end(), count + 2
            continue
        break
    return end


_REGION = re.compile(r",\s*((?:[A-Z][\w'-]*)(?: [A-Z][\w'-]*){0,2})")
_REGION_CODE = re.compile(r"[A-Z]{2,3}")
_CLAUSE_END = re.compile(r"$|\s*[.!?;:)…]|\s*[^\w\s,#@]|\s+#", re.UNICODE)


def _comma_region(text: str, end: int) -> int:
    """Extend "Austin" to "Austin, TX": a state or country code, or words closing the clause."""
    region = _REGION.match(text, end)
    if region is None or any(not _place_word(w) for w in region.group(1).split()):
        return end
    if _REGION_CODE.fullmatch(region.group(1)) or _CLAUSE_END.match(text, region.end()):
        return region.end()
    return end


_AFTER_ROLE = re.compile(r"\s+(?:in|from|based in)\s+", re.IGNORECASE)
_LISTED_SEGMENT = re.compile(r"\s*,\s*([^,.!?;]*)")
_MAX_LISTED_SEGMENTS = 3


def _listed_place(text: str, role_end: int) -> tuple[int, int] | None:
    """A bare place in the comma list after a role: "Integrative counsellor, MBACP, Galway."."""
    pos = role_end
    paren = re.compile(r"\s*\([^)]*\)").match(text, pos)
    if paren:
        pos = paren.end()
    for _ in range(_MAX_LISTED_SEGMENTS):
        segment = _LISTED_SEGMENT.match(text, pos)
        if segment is None:
            return None
        body = segment.group(1).rstrip()
        span = parse_place(text, segment.start(1)) if body else None
        if span and span[1] >= segment.start(1) + len(_cut_symbols(body)):
            return span
        pos = segment.end()
    return None


def _cut_symbols(body: str) -> str:
    """`body` up to its first emoji or symbol (a place is followed by them, not made of them)."""
    for index, char in enumerate(body):
        if unicodedata.category(char).startswith("S"):
            return body[:index].rstrip()
    return body
