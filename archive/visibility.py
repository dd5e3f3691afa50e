"""Which archived tweets may be shown: one rule for transcripts, intros, search, stats, exports.

X's developer policy: content of protected accounts may only be shown to people
allowed to see it on X, and content X no longer shows (a suspended account's) must
not be shown either. Such tweets stay in the database (an account can become
public again) but everything that shows tweets leaves them out, unless an
organiser asks for them (`--include-protected`, which shows both kinds).

An author is hidden when its `users` row says protected or suspended; a tweet whose
author the archive has no row for is shown. SQLite's search index keeps the same
rule in its own terms (archive/search_index.py, INDEXED_META).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from archive.models import User


def shown(user: Any = User) -> ColumnElement[bool]:
    """True for a tweet whose author (`user`: User or an alias, outer-joined) may be shown."""
    return and_(
        or_(user.protected.is_(None), user.protected.is_(False)),
        or_(user.suspended.is_(None), user.suspended.is_(False)),
    )


def hidden(user: Any = User) -> ColumnElement[bool]:
    """True for a tweet whose author is protected or suspended (the opposite of `shown`)."""
    return not_(shown(user))


def is_hidden(protected: bool | None, suspended: bool | None) -> bool:
    """The same rule for an account's values already read."""
    return bool(protected) or bool(suspended)
