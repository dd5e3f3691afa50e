"""The search language: what a person types, parsed into a query that is safe to run.

People type words (all must match), "quoted phrases", `this OR that`, `-word` to
leave a word out and `begin*` for words that begin so. What they type is never
handed to SQLite's FTS5 or PostgreSQL's tsquery parser as syntax: it is split into
words here, the same way the index splits text (letters, digits and marks; every
other character separates words), and `fts5_match` and `tsquery` build the
expression from those words, each one quoted. So `"`, `)(`, `NEAR(`, `OR OR` or
`; DROP TABLE tweets; --` can only ever be words or nothing, and a query with
nothing left to look for is a `SearchError` that says what to type instead.

`highlight` finds the matched words in a tweet's text (character ranges), using
the same splitting and the same folding (case and accents ignored).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from archive.errors import SearchError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MIN_PREFIX = 3  # letters before `*`: shorter prefixes match most of the index and are slow
COMBINING_MARKS = re.compile("[\u0300-\u036f]+")

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase to look for: its words as typed, split as the index splits.

    `prefix` means the last word only has to begin the indexed word.
    """

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every group must match (a group matches when any of its terms does);
    no excluded term may match."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def wanted(self) -> tuple[Term, ...]:
        """The terms a match contains (what `highlight` marks)."""
        return tuple(term for group in self.groups for term in group)


@dataclass(frozen=True, slots=True)
class _Item:
    body: str
    negated: bool
    quoted: bool


def is_word_char(char: str) -> bool:
    """Letters, digits, marks and private-use characters make words (FTS5 unicode61)."""
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def words_with_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each word of `text` with its (start, end) character offsets."""
    start = -1
    for index, char in enumerate(text):
        if is_word_char(char):
            if start < 0:
                start = index
        elif start >= 0:
            yield start, index, text[start:index]
            start = -1
    if start >= 0:
        yield start, len(text), text[start:]


def fold(word: str) -> str:
    """A word as the index compares it: lower case, accents removed ("Café" -> "cafe")."""
    return COMBINING_MARKS.sub("", unicodedata.normalize("NFD", word.lower()))


def parse_query(text: str) -> SearchQuery:
    """Parse what a person typed; raise SearchError when there is nothing to search for."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(
            f"the search is too long ({len(text)} characters)",
            f"use at most {MAX_QUERY_CHARS} characters: a few distinctive words are enough",
            query=text,
        )
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    after_wanted = joining = False  # joining: an OR follows a wanted term
    for item in _items(text):
        if item.body == "OR" and not item.quoted and not item.negated:
            joining = after_wanted
            continue
        term = _term(item, text)
        if term is None:
            continue
        if item.negated:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        after_wanted, joining = not item.negated, False
    return _checked(SearchQuery(tuple(map(tuple, groups)), tuple(excluded)), text)


def _checked(query: SearchQuery, text: str) -> SearchQuery:
    if not query.groups:
        what = (
            f"the search {text.strip()!r} only says what to leave out"
            if query.excluded
            else f"there are no words to search for in {text.strip()!r}"
        )
        raise SearchError(what, query=text)
    if len(query.wanted) + len(query.excluded) > MAX_TERMS:
        raise SearchError(
            f"the search has more than {MAX_TERMS} words and phrases",
            "use fewer, more distinctive words",
            query=text,
        )
    return query


def _items(text: str) -> Iterator[_Item]:
    """Split on spaces; a double quote opens a phrase (closed by the next one, or the end)."""
    index, size = 0, len(text)
    while index < size:
        if text[index].isspace():
            index += 1
            continue
        negated = text[index] == "-" and index + 1 < size and not text[index + 1].isspace()
        if negated:
            index += 1
        if text[index] == '"':
            end = text.find('"', index + 1)
            end = size if end < 0 else end
            yield _Item(text[index + 1 : end], negated, quoted=True)
            index = end + 1
            continue
        end = index
        while end < size and not text[end].isspace() and text[end] != '"':
            end += 1
        yield _Item(text[index:end], negated, quoted=False)
        index = end


def _term(item: _Item, text: str) -> Term | None:
    """The item's words (None when it has none); a bare word ending in `*` is a prefix."""
    prefix = not item.quoted and item.body.endswith("*")
    words = tuple(word for _, _, word in words_with_spans(item.body) if fold(word))
    if not words:
        return None
    if prefix and len(fold(words[-1])) < MIN_PREFIX:
        raise SearchError(
            f"{item.body!r} is too short to search for words beginning with it",
            f"type at least {MIN_PREFIX} letters before the *",
            query=text,
        )
    return Term(words, prefix=prefix)


# --- the expressions the databases run: built from words, each one quoted ---


def fts5_match(query: SearchQuery) -> str:
    """The FTS5 MATCH expression: every word in double quotes, operators ours."""
    wanted = " AND ".join(_fts5_group(group) for group in query.groups)
    if not query.excluded:
        return wanted
    return f"({wanted}) NOT ({' OR '.join(_fts5_term(term) for term in query.excluded)})"


def _fts5_group(group: tuple[Term, ...]) -> str:
    if len(group) == 1:
        return _fts5_term(group[0])
    return "(" + " OR ".join(_fts5_term(term) for term in group) + ")"


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(word.replace('"', '""') for word in term.words) + '"'
    return quoted + ("*" if term.prefix else "")


def tsquery(query: SearchQuery) -> str:
    """The PostgreSQL tsquery text: folded words as quoted lexemes, operators ours."""
    wanted = " & ".join(_ts_group(group) for group in query.groups)
    if not query.excluded:
        return wanted
    return f"({wanted}) & !({' | '.join(_ts_term(term) for term in query.excluded)})"


def _ts_group(group: tuple[Term, ...]) -> str:
    if len(group) == 1:
        return _ts_term(group[0])
    return "(" + " | ".join(_ts_term(term) for term in group) + ")"


def _ts_term(term: Term) -> str:
    lexemes = [_lexeme(word) for word in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


def _lexeme(word: str) -> str:
    escaped = fold(word).replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


# --- highlighting ---


def highlight(text: str, query: SearchQuery) -> tuple[Span, ...]:
    """The (start, end) ranges of `text` that match the query's wanted terms, merged."""
    words = [(start, end, fold(word)) for start, end, word in words_with_spans(text)]
    spans: list[Span] = []
    for term in query.wanted:
        needle = [fold(word) for word in term.words]
        for first in range(len(words) - len(needle) + 1):
            if _matches_at(words, first, needle, prefix=term.prefix):
                spans.append((words[first][0], words[first + len(needle) - 1][1]))
    return _merged(spans)


def _matches_at(
    words: list[tuple[int, int, str]], first: int, needle: list[str], *, prefix: bool
) -> bool:
    for offset, wanted in enumerate(needle):
        word = words[first + offset][2]
        last = offset == len(needle) - 1
        if not (word.startswith(wanted) if prefix and last else word == wanted):
            return False
    return True


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def mark(text: str, spans: tuple[Span, ...], style: Callable[[str], str]) -> str:
    """`text` with each span passed through `style` (e.g. wrapped in ** or made bold)."""
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(style(text[start:end]))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
