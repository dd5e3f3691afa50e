"""The sandbox's search-query language: X API v2 recent-search queries, parsed and matched.

`compile_query(text)` parses a query (recursive descent: `or := and ("OR" and)*`,
`and := unary+`, `unary := "-"? primary`, `primary := "(" or ")" | "phrase" | term`) into an
immutable `Query`; `Query.matches(item)` tests one stored post seen as a `Searchable`. Invalid
queries raise `QueryError`, worded like X's 400 `errors[].message` with its "(at position N)".

Choices where X documents the rules but not the tokeniser:
- Text is case-folded, NFKD-decomposed and stripped of combining marks, then split into tokens:
  runs of word characters and single symbols (emoji). Other punctuation, '#' and '@' included,
  only separates tokens, so the keyword `therapy` also matches `#therapy` in the text; a keyword
  with punctuation inside (`coca-cola`) and a "quoted phrase" match consecutive tokens.
- `#tag`/`@user` match the hashtag/mention entities exactly (folded); `from:` takes a username
  or numeric user id, `to:` a username. Only upper-case `OR` is an operator; `AND` is an error.
- `conversation_id:N` matches the replies in conversation N, never the root (X returns none).
- Sandbox posts are never promoted, so `-is:nullcast` always holds; `has:links` looks for
  http(s):// in the text. `lang:`, `has:media`, `is:verified`, `url:`, `list:` and the other X
  operators the sandbox stores no data for are rejected with a message saying so.
- Every OR branch needs a positive standalone term (not is:/has:/negated), so `is:reply`,
  `-#foo` and `#a OR is:reply` are errors. X advises against `-(a OR b)`; the sandbox allows it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

__all__ = ["MAX_QUERY_LENGTH", "Query", "QueryError", "Searchable", "compile_query"]

MAX_QUERY_LENGTH = 512
_PREFIX = "There were errors processing your request: "
_LEX = re.compile(r'\s+|(?P<sym>[()-])|"(?P<phrase>[^"]*)"|(?P<open>")|(?P<word>[^\s()"]+)')
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NAME = re.compile(r"\w+")
_DIGITS = re.compile(r"[0-9]+")
_OPERATOR = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_LINK = re.compile(r"https?://", re.IGNORECASE)
_FLAGS = frozenset(
    ["is:reply", "is:retweet", "is:quote", "is:nullcast", "has:hashtags", "has:mentions"]
    + ["has:links"]
)
_ID_FIELDS = {  # operator (and X's aliases) -> Searchable field holding that post id
    "conversation_id": "conversation_id",
    "in_reply_to_tweet_id": "in_reply_to_tweet_id",
    "in_reply_to_status_id": "in_reply_to_tweet_id",
    "quotes_of_tweet_id": "quoted_tweet_id",
    "quotes_of_status_id": "quoted_tweet_id",
    "retweets_of_tweet_id": "retweeted_tweet_id",
    "retweets_of_status_id": "retweeted_tweet_id",
}
_UNSUPPORTED = frozenset(  # real X operators the sandbox has no data for
    ["url", "retweets_of", "context", "entity", "list", "place", "place_country", "sample"]
    + ["point_radius", "bounding_box", "geo_bounding_box", "lang", "min_likes", "min_replies"]
    + ["min_reposts", "is:verified", "has:media", "has:media_link", "has:images", "has:geo"]
    + ["has:video_link", "has:videos", "has:cashtags"]
)
_KNOWN = (
    'keywords, "phrases", #hashtag, @username, from:, to:, conversation_id:, '
    "in_reply_to_tweet_id:, quotes_of_tweet_id:, retweets_of_tweet_id:, is:reply, is:retweet, "
    "is:quote, -is:nullcast, has:hashtags, has:mentions, has:links"
)


class QueryError(ValueError):
    """The query is not valid; `message` is X's wording for the 400 'errors[].message'."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _fail(what: str, pos: int | None = None) -> NoReturn:
    raise QueryError(_PREFIX + what + ("" if pos is None else f" (at position {pos})"))


@dataclass(frozen=True, slots=True)
class Searchable:
    """What the matcher may look at in one stored tweet."""

    tweet_id: str
    text: str
    author_id: str
    author_username: str
    conversation_id: str
    in_reply_to_username: str | None  # author of the parent when a reply (for to:)
    in_reply_to_tweet_id: str | None
    quoted_tweet_id: str | None
    retweeted_tweet_id: str | None
    hashtags: tuple[str, ...]  # without '#', as written
    mentions: tuple[str, ...]  # usernames without '@'

    @property
    def is_reply(self) -> bool:
        return self.in_reply_to_tweet_id is not None

    @property
    def is_retweet(self) -> bool:
        return self.retweeted_tweet_id is not None

    @property
    def is_quote(self) -> bool:
        return self.quoted_tweet_id is not None


def _fold(text: str) -> str:
    """Case- and diacritics-insensitive form: casefold, NFKD, drop combining marks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(text: str) -> tuple[str, ...]:
    found = _TOKEN.findall(_fold(text))
    return tuple(t for t in found if _NAME.match(t) or unicodedata.category(t)[0] == "S")


@dataclass(frozen=True, slots=True)
class _View:
    """One post folded once for all the terms that test it."""

    item: Searchable
    tokens: tuple[str, ...]
    hashtags: frozenset[str]
    mentions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Term:
    """One leaf. `op`: "words" (keyword or phrase; `args` its tokens), "#", "@", "from", "to",
    a Searchable id field ("conversation_id", "quoted_tweet_id", ...) or a flag ("is:reply");
    `args`: the folded argument."""

    op: str
    args: tuple[str, ...] = ()

    def matches(self, view: _View) -> bool:
        item, arg = view.item, self.args[0] if self.args else ""
        match self.op:
            case "words":
                n, have = len(self.args), view.tokens
                return any(have[i : i + n] == self.args for i in range(len(have) - n + 1))
            case "#":
                return arg in view.hashtags
            case "@":
                return arg in view.mentions
            case "from":
                return arg in (_fold(item.author_username), item.author_id)
            case "to":
                return _fold(item.in_reply_to_username or "") == arg
            case "conversation_id":  # the replies, never the root post itself
                return item.conversation_id == arg != item.tweet_id
            case "in_reply_to_tweet_id" | "quoted_tweet_id" | "retweeted_tweet_id":
                return bool(getattr(item, self.op) == arg)
            case "is:reply" | "is:retweet" | "is:quote":
                return bool(getattr(item, self.op.replace(":", "_")))
            case "has:hashtags" | "has:mentions":
                return bool(getattr(item, self.op[4:]))
            case "has:links":
                return _LINK.search(item.text) is not None
        return False  # is:nullcast: sandbox posts are never promoted-only ads


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr

    def matches(self, view: _View) -> bool:
        return not self.expr.matches(view)


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Expr, ...]

    def matches(self, view: _View) -> bool:
        return all(e.matches(view) for e in self.items)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Expr, ...]

    def matches(self, view: _View) -> bool:
        return any(e.matches(view) for e in self.items)


Expr = Term | Not | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Query:
    """A compiled query: immutable, safe to share between requests."""

    text: str
    root: Expr
    keyword_based: bool  # a positive keyword/phrase/#hashtag/@mention: X drops retweets
    conversation_ids: frozenset[str]  # named by conversation_id: (server excludes those roots)

    def matches(self, item: Searchable) -> bool:
        hashtags = frozenset(_fold(h) for h in item.hashtags)
        mentions = frozenset(_fold(m) for m in item.mentions)
        return self.root.matches(_View(item, _tokens(item.text), hashtags, mentions))


def compile_query(text: str) -> Query:
    """Parse and check `text`; raise QueryError with X-like wording where X would answer 400."""
    if not text.strip():
        raise QueryError("The `query` query parameter can not be empty; give a keyword or #tag")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"The `query` query parameter is {len(text)} characters long; recent search allows "
            f"at most {MAX_QUERY_LENGTH}. Shorten it or split it into several queries"
        )
    root = _Parser(_lex(text)).parse()
    leaves = list(_leaves(root, positive=True))
    if any(term.op == "is:nullcast" and positive for term, positive in leaves):
        _fail("'is:nullcast' must always be negated: use -is:nullcast")
    if not _anchored(root):
        _fail(
            "The query (and each OR branch) needs a positive standalone operator such as a "
            "keyword, #hashtag, @username, from: or conversation_id:; is:, has: and negated "
            "terms can only narrow one"
        )
    text_ops = ("words", "#", "@")
    return Query(
        text=text,
        root=root,
        keyword_based=any(positive and t.op in text_ops for t, positive in leaves),
        conversation_ids=frozenset(t.args[0] for t, _ in leaves if t.op == "conversation_id"),
    )


def _leaves(expr: Expr, *, positive: bool) -> Iterator[tuple[Term, bool]]:
    """Every leaf with its polarity (False under an odd number of negations)."""
    if isinstance(expr, Not):
        yield from _leaves(expr.expr, positive=not positive)
    elif isinstance(expr, AllOf | AnyOf):
        for item in expr.items:
            yield from _leaves(item, positive=positive)
    else:
        yield expr, positive


def _anchored(expr: Expr) -> bool:
    """True if every way of matching `expr` needs a positive standalone term."""
    if isinstance(expr, Not):
        return False
    if isinstance(expr, AllOf):
        return any(_anchored(e) for e in expr.items)
    if isinstance(expr, AnyOf):
        return all(_anchored(e) for e in expr.items)
    return ":" not in expr.op  # is:/has: flags need a standalone term beside them


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "-", "OR", "phrase" or "term"
    text: str
    pos: int  # 1-based, as in X's "(at position N)"


def _lex(text: str) -> list[_Token]:
    tokens = []
    for found in _LEX.finditer(text):
        pos = found.start() + 1
        if found["open"]:
            _fail("Missing closing '\"' for the phrase started here", pos)
        if found["phrase"] is not None:
            tokens.append(_Token("phrase", found["phrase"], pos))
        elif found["sym"]:
            tokens.append(_Token(found["sym"], found["sym"], pos))
        elif word := found["word"]:
            if word == "AND":
                _fail(
                    "Ambiguous use of and as a keyword. Use a space to logically join two "
                    'clauses, or "and" to find occurrences of and in text',
                    pos,
                )
            tokens.append(_Token("OR" if word == "OR" else "term", word, pos))
    return tokens


class _Parser:
    """Recursive descent over the tokens; one method per grammar rule."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._at = 0
        self._open: list[_Token] = []  # the '(' not yet closed

    def _peek(self) -> _Token | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> _Token:
        self._at += 1
        return self._tokens[self._at - 1]

    def parse(self) -> Expr:
        expr = self._or()
        if (extra := self._peek()) is not None:  # only an unmatched ')' stops _or() early
            _fail("Unexpected ')' with no matching '('", extra.pos)
        return expr

    def _or(self) -> Expr:
        branches = [self._and()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self._take()
            after = self._peek()
            if after is None or after.kind in ("OR", ")"):
                _fail("'OR' needs a term on both sides", token.pos)
            branches.append(self._and())
        return branches[0] if len(branches) == 1 else AnyOf(tuple(branches))

    def _and(self) -> Expr:
        items: list[Expr] = []
        while (token := self._peek()) is not None and token.kind not in ("OR", ")"):
            items.append(self._unary())
        if items:
            return items[0] if len(items) == 1 else AllOf(tuple(items))
        if token is None:  # only after a '(': _or() checks what follows each OR
            _fail("Missing ')' for this '('", self._open[-1].pos)
        if token.kind == "OR":
            _fail("'OR' needs a term on both sides", token.pos)
        if not self._open:
            _fail("Unexpected ')' with no matching '('", token.pos)
        _fail("Empty parentheses; put at least one term inside them", token.pos)

    def _unary(self) -> Expr:
        if self._tokens[self._at].kind != "-":
            return self._primary()
        minus = self._take()
        after = self._peek()
        if after is None or after.pos != minus.pos + 1 or after.kind not in ("(", "phrase", "term"):
            _fail(
                "'-' must be directly followed by a term or a (group), e.g. -is:retweet", minus.pos
            )
        return Not(self._primary())

    def _primary(self) -> Expr:
        token = self._take()  # a '(', phrase or term: _and() and _unary() see to that
        if token.kind == "phrase":
            return _words(token.text, token.pos, shown=f'"{token.text}"')
        if token.kind == "term":
            return _term(token.text, token.pos)
        self._open.append(token)
        expr = self._or()
        if self._peek() is None:
            _fail("Missing ')' for this '('", token.pos)
        self._take()
        self._open.pop()
        return expr


def _words(text: str, pos: int, *, shown: str) -> Term:
    tokens = _tokens(text)
    if not tokens:
        _fail(f"{shown} has no letters, digits or emoji to match; remove it", pos)
    return Term("words", tokens)


def _term(word: str, pos: int) -> Term:
    if word[0] in "#@":
        if not _NAME.fullmatch(word[1:]):
            kind = "hashtag" if word[0] == "#" else "username"
            _fail(
                f"'{word}': '{word[0]}' must be followed by a {kind} of letters, digits or _", pos
            )
        return Term(word[0], (_fold(word[1:]),))
    operator = _OPERATOR.fullmatch(word)
    if operator is None:
        return _words(word, pos, shown=word)
    name, value = operator[1].lower(), operator[2]
    key = f"{name}:{value.lower()}" if name in ("is", "has") else name
    if key in _FLAGS:
        return Term(key)
    if key in _UNSUPPORTED:
        shown = key if ":" in key else f"{key}:"
        _fail(f"Operator '{shown}' is valid on X but the sandbox has no data for it; drop it", pos)
    if name in ("from", "to"):
        if not _NAME.fullmatch(value):
            _fail(f"'{name}:' needs a username or user id, got '{value}'", pos)
        return Term(name, (_fold(value),))
    if name in _ID_FIELDS:
        if not _DIGITS.fullmatch(value):
            _fail(f"'{name}:' needs a numeric post id, got '{value}'", pos)
        return Term(_ID_FIELDS[name], (value,))
    _fail(f"Reference to invalid operator '{key}'. The sandbox supports {_KNOWN}", pos)
