"""The root of tcbot's error tree, and the archive's own errors.

The root lives here because `archive` never imports `bot`, while `bot` builds on
`archive`: both packages raise subclasses of one `TcbotError`, and the CLI turns
any of them into ``Error: <what>, <what to do>`` on stderr with exit status 1.

    TcbotError                      every error a user can cause or fix
    ├── DatabaseError               the database cannot be opened, read or upgraded
    └── IngestError                 an X API page that cannot be archived
    (bot/errors.py adds ConfigError and the XError family)

Each exception builds its own message from its fields, so every message names
what went wrong and what to do next.
"""

from __future__ import annotations


class TcbotError(Exception):
    """Something the person running tcbot can understand and fix.

    `what` says what went wrong, `fix` says what to do next; str() joins them
    as "<what>; <fix>".
    """

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what}; {fix}" if fix else what)


class DatabaseError(TcbotError):
    """The database cannot be opened, read or brought up to date."""

    def __init__(self, what: str, fix: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(what, fix)


class IngestError(TcbotError):
    """An X API page that is not shaped like one (no `data`, or an object without an id)."""


class SearchError(TcbotError):
    """A search that cannot be run as typed: nothing to look for, too long, a bad filter.

    `query` is what the person typed (shown back to them, never run as syntax).
    """

    def __init__(self, what: str, fix: str = "", *, query: str = "") -> None:
        self.query = query
        super().__init__(
            what,
            fix
            or 'search for words, "a phrase", this OR that, -word to leave out, or begin* '
            "(at least 3 letters before *)",
        )
