"""Who is calling: the Authorization header read as X reads it (signatures are not checked).

`OAuth ...` (OAuth 1.0a user context) names the user through its access token, whose form is
`<user_id>-<anything>`; `Bearer ...` is app-only (OAuth 2.0 application context). Anything
else, or nothing, is no credential at all (401).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["AuthKind", "Caller", "parse_authorization"]

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')


class AuthKind(enum.Enum):
    USER = "user"  # OAuth 1.0a user context
    APP = "app"  # OAuth 2.0 app-only bearer token


@dataclass(frozen=True, slots=True)
class Caller:
    """The credential a request carries; `user_id` is set for user context only."""

    kind: AuthKind
    user_id: str | None = None

    @property
    def limit_key(self) -> str:
        """Whose rate-limit window a request counts against."""
        return f"user:{self.user_id}" if self.kind is AuthKind.USER else "app"


def parse_authorization(header: str | None) -> Caller | None:
    """The caller named by an Authorization header, or None if it names nobody usable."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
        return Caller(AuthKind.APP) if token and token != "None" else None
    if scheme.lower() != "oauth":
        return None
    params = {key: unquote(value) for key, value in _PARAM.findall(rest)}
    user_id, dash, _ = params.get("oauth_token", "").partition("-")
    if not (dash and user_id.isdigit() and params.get("oauth_consumer_key")):
        return None
    return Caller(AuthKind.USER, user_id)
