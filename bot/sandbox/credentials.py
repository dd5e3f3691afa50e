"""The sandbox's own credentials: obviously fake, safe to print, useless anywhere but here.

tcbot uses these when no X credentials are configured. The sandbox does not verify OAuth
signatures; it reads the user from the access token, whose form is `<user_id>-<anything>`
(as X's are), so SANDBOX_ACCESS_TOKEN acts as the bot account.
"""

from __future__ import annotations

__all__ = [
    "BOT_NAME",
    "BOT_USER_ID",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_ACCESS_TOKEN_SECRET",
    "SANDBOX_API_KEY",
    "SANDBOX_API_SECRET",
    "SANDBOX_BEARER_TOKEN",
    "access_token_for",
]

BOT_USER_ID = "1000000000000000001"
BOT_NAME = "tcbot (sandbox)"

SANDBOX_API_KEY = "sandbox-api-key"
SANDBOX_API_SECRET = "sandbox-api-secret"
SANDBOX_ACCESS_TOKEN = f"{BOT_USER_ID}-sandbox"
SANDBOX_ACCESS_TOKEN_SECRET = "sandbox-access-token-secret"
SANDBOX_BEARER_TOKEN = "sandbox-bearer-token"


def access_token_for(user_id: str) -> str:
    """The OAuth 1.0a access token that acts as `user_id` in the sandbox."""
    return f"{user_id}-sandbox"
