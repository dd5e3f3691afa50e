"""The hosts' password (TCBOT_WEB_PASSWORD): checking a login against it, and hashing it.

The setting holds either the password itself or a hashed form,
``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (what `tcbot serve --hash-password`
prints), so the .env file need not hold the password in the clear. The hash is
PBKDF2-HMAC-SHA256 from the standard library (hashlib), `hash` in base64; both forms
are compared in constant time (secrets.compare_digest). Everything here is pure.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from bot.errors import ConfigError

__all__ = ["ITERATIONS", "PREFIX", "check_setting", "hash_password", "verify_password"]

PREFIX = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
SETTING = "TCBOT_WEB_PASSWORD"


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """The hashed form of `password`, to put in TCBOT_WEB_PASSWORD."""
    salt = salt or secrets.token_urlsafe(16)
    digest = _digest(password, salt=salt, iterations=iterations)
    return f"{PREFIX}${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def verify_password(setting: str, given: str) -> bool:
    """True when `given` is the password `setting` (plain or hashed) stands for."""
    if not setting.startswith(PREFIX + "$"):
        return secrets.compare_digest(setting.encode("utf-8"), given.encode("utf-8"))
    iterations, salt, expected = _parts(setting)
    return secrets.compare_digest(_digest(given, salt=salt, iterations=iterations), expected)


def check_setting(setting: str) -> None:
    """ConfigError if a hashed setting is malformed (a plain password is always usable)."""
    if setting.startswith(PREFIX + "$"):
        _parts(setting)


def _parts(setting: str) -> tuple[int, str, bytes]:
    fields = setting.split("$")
    try:
        if len(fields) != 4 or not fields[2]:
            raise ValueError(setting)
        iterations = int(fields[1])
        expected = base64.b64decode(fields[3], validate=True)
        if iterations < 1 or not expected:
            raise ValueError(setting)
    except ValueError:
        raise ConfigError(
            SETTING,
            f"{SETTING} starts with {PREFIX}$ but is not a whole hashed password",
            "run 'tcbot serve --hash-password' and paste all it prints, in single quotes",
        ) from None
    return iterations, fields[2], expected


def _digest(password: str, *, salt: str, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode(), iterations)
