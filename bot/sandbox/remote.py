"""A small client for a running sandbox's /_sandbox/ admin endpoints.

The demo and rehearsals use it to play the community: add participants, post as
them, move the sandbox's clock, switch faults on. Standard library only, like the
rest of bot/sandbox.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class SandboxAdminError(Exception):
    """The sandbox refused an admin request; the message is the sandbox's own."""


class SandboxAdmin:
    """Talks to the admin endpoints of the sandbox at `url` (e.g. http://127.0.0.1:8765)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/_sandbox"
        self.timeout = timeout

    def add_user(self, username: str, *, name: str | None = None) -> dict[str, Any]:
        """Create a participant; returns its id, username, name and access token."""
        return self._call("POST", "/users", {"username": username, "name": name or username})

    def post_as(self, author: str, text: str, **extra: Any) -> dict[str, Any]:
        """Post as `author` (reply_to=, quote_of=, retweet_of=, created_at= optional)."""
        answer = self._call("POST", "/tweets", {"author": author, "text": text, **extra})
        return dict(answer["data"])

    def remove_tweet(self, tweet_id: str) -> dict[str, Any]:
        """Delete a post as its author did (it then reads as not found)."""
        return self._call("DELETE", f"/tweets/{tweet_id}", {})

    def change_user(
        self, user_id: str, *, protected: bool | None = None, suspended: bool | None = None
    ) -> dict[str, Any]:
        """Make an account protected or public, suspend or reinstate it."""
        return self._call(
            "PATCH", f"/users/{user_id}", {"protected": protected, "suspended": suspended}
        )

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox's time forward (seconds may be large: a week is fine)."""
        return self._call("POST", "/clock", {"advance": seconds})

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Install faults, e.g. set_faults(queue=[503, "drop"]) or set_faults(unavailable=0.2)."""
        return self._call("PUT", "/faults", faults)

    def set_community(self, **settings: Any) -> dict[str, Any]:
        """Switch the pretend participants on or off and tune them, e.g. enabled=True."""
        return self._call("PUT", "/community", settings)

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:
            try:
                message = json.load(exc).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise SandboxAdminError(f"sandbox refused {method} {path}: {message}") from None
