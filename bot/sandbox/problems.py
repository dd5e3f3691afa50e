"""X's error bodies, word for word, and the exception that carries one to the HTTP layer.

Handlers raise `ApiError(status, body)`; the server turns it into the response. The bodies
are those recorded in X-API-NOTES.md §1.4, §2.1-2.4 and §3 (problem+json, v2 style); the
`errors[]` items of a 200 lookup (Not Found / Authorization Error / suspended) are built
here too.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PROBLEMS",
    "ApiError",
    "duplicate_content",
    "invalid_request",
    "not_found_item",
    "problem",
    "quote_not_allowed",
    "rate_limited",
    "reply_not_allowed",
    "reply_target_gone",
    "server_error",
    "service_unavailable",
    "suspended_item",
    "unauthorized",
    "unauthorized_item",
    "unsupported_authentication",
]

Json = dict[str, Any]
PROBLEMS = "https://api.twitter.com/2/problems/"
_SERVER_ERROR_DETAIL = (
    "Something is broken. This is usually a temporary error, for example in a high load "
    "situation or if an endpoint is temporarily having issues. Check in the developer forums "
    "in case others are having similar issues, or try again later. "
)


class ApiError(Exception):
    """An X error response: HTTP `status` and the JSON `body` to send."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(f"{status}: {body.get('detail') or body.get('errors')}")
        self.status = status
        self.body = body


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> ApiError:
    return ApiError(status, {"title": title, "detail": detail, "type": type_, "status": status})


def unauthorized() -> ApiError:
    return problem(401, "Unauthorized", "Unauthorized")


def rate_limited() -> ApiError:
    return problem(429, "Too Many Requests", "Too Many Requests")


def server_error() -> ApiError:
    return problem(500, "Internal Server Error", _SERVER_ERROR_DETAIL)


def service_unavailable() -> ApiError:
    return problem(503, "Service Unavailable", "Service Unavailable")


def unsupported_authentication() -> ApiError:
    return problem(
        403,
        "Unsupported Authentication",
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        PROBLEMS + "unsupported-authentication",
    )


def duplicate_content() -> ApiError:
    return problem(
        403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
    )


def reply_not_allowed() -> ApiError:
    return problem(
        403,
        "Forbidden",
        "Reply to this conversation is not allowed because you have not been mentioned or "
        "otherwise engaged by the author of the post you are replying to.",
    )


def quote_not_allowed() -> ApiError:
    return problem(
        403,
        "Forbidden",
        "Quoting this post is not allowed because you have not been mentioned or are not part "
        "of the conversation thread of the post you are quoting.",
    )


def reply_target_gone() -> ApiError:
    return problem(
        403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."
    )


def invalid_request(message: str, parameters: dict[str, list[str]] | None = None) -> ApiError:
    """X's 400 `Invalid Request` with one `errors` item."""
    return ApiError(
        400,
        {
            "errors": [{"parameters": parameters or {}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
    )


def not_found_item(resource_id: str, *, parameter: str, resource_type: str = "tweet") -> Json:
    """The `errors[]` item for an id that does not exist (or was deleted)."""
    return {
        "value": resource_id,
        "detail": f"Could not find {resource_type} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": PROBLEMS + "resource-not-found",
    }


def suspended_item(resource_id: str, *, parameter: str, section: str) -> Json:
    """The `errors[]` item for a post whose author is suspended.

    X's documentation shows none; this borrows the wording of X's user lookup for a
    suspended account ("Forbidden", "User has been suspended: [...]", typed
    resource-not-found), which is what tcbot looks for (bot/x_answers.py).
    """
    return {
        "value": resource_id,
        "detail": f"User has been suspended: [{resource_id}].",
        "title": "Forbidden",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": resource_id,
        "section": section,
        "type": PROBLEMS + "resource-not-found",
    }


def unauthorized_item(resource_id: str, *, parameter: str, section: str) -> Json:
    """The `errors[]` item for a post whose author is protected."""
    return {
        "resource_id": resource_id,
        "parameter": parameter,
        "resource_type": "tweet",
        "section": section,
        "title": "Authorization Error",
        "value": resource_id,
        "detail": f"Sorry, you are not authorized to see the Tweet with {parameter}: "
        f"[{resource_id}].",
        "type": PROBLEMS + "not-authorized-for-resource",
    }
