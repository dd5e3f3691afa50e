"""Query parameters of the X endpoints, checked the way X checks them (400 Invalid Request).

Unknown parameters, field names outside X's enums, ids not matching `^[0-9]{1,19}$`,
`max_results` out of range and malformed times are refused with X's wording. `post.fields`
(the v2.167 name) is accepted as `tweet.fields`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.sandbox.clock import parse_timestamp
from bot.sandbox.fields import (
    OTHER_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    Fields,
)
from bot.sandbox.ids import ID_PATTERN, is_valid_id
from bot.sandbox.problems import invalid_request

__all__ = ["Params", "check_id"]


class Params:
    """One request's query parameters (first value of each), checked on access."""

    def __init__(self, raw: Mapping[str, Sequence[str]], *, allowed: Sequence[str]) -> None:
        self._values = {key: values[0] if values else "" for key, values in raw.items()}
        if "post.fields" in self._values and "tweet.fields" in allowed:
            allowed = [*allowed, "post.fields"]
        for key in self._values:
            if key not in allowed:
                shown = ",".join(a for a in allowed if a != "post.fields")
                raise invalid_request(
                    f"The query parameter [{key}] is not one of [{shown}]",
                    {key: [self._values[key]]},
                )

    def get(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if value else None

    def fields(self, *, expansions: Sequence[str] = TWEET_EXPANSIONS) -> Fields:
        tweet = self._list("tweet.fields", TWEET_FIELDS) | self._list("post.fields", TWEET_FIELDS)
        for name, choices in OTHER_FIELDS.items():
            self._list(name, choices)
        return Fields(
            tweet=tweet,
            user=self._list("user.fields", USER_FIELDS),
            expansions=self._list("expansions", expansions),
        )

    def _list(self, name: str, choices: Sequence[str]) -> frozenset[str]:
        value = self.get(name)
        if value is None:
            return frozenset()
        items = [item for item in value.split(",") if item]
        for item in items:
            if item not in choices:
                raise invalid_request(
                    f"The `{name}` query parameter value [{item}] is not one of "
                    f"[{','.join(choices)}]",
                    {name: [value]},
                )
        return frozenset(items)

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.get(name)
        if value is not None and value not in choices:
            raise invalid_request(
                f"The `{name}` query parameter value [{value}] is not one of [{','.join(choices)}]",
                {name: [value]},
            )
        return value

    def max_results(self, *, low: int, high: int, default: int) -> int:
        value = self.get("max_results")
        if value is None:
            return default
        number = int(value) if value.lstrip("-").isdigit() else None
        if number is None or not low <= number <= high:
            raise invalid_request(
                f"The `max_results` query parameter value [{value}] is not between {low} and "
                f"{high}",
                {"max_results": [value]},
            )
        return number

    def post_id(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        return int(check_id(name, value, where="query parameter"))

    def time(self, name: str) -> datetime | None:
        value = self.get(name)
        if value is None:
            return None
        parsed = parse_timestamp(value)
        if parsed is None:
            raise invalid_request(
                f"Invalid '{name}':'{value}'. '{name}' must be an RFC 3339 time such as "
                "2026-08-20T12:00:00Z",
                {name: [value]},
            )
        return parsed

    def id_list(self, name: str, *, most: int) -> list[str]:
        value = self.get(name)
        if value is None:
            raise invalid_request(f"The `{name}` query parameter can not be empty", {name: []})
        ids = value.split(",")
        if not 1 <= len(ids) <= most:
            raise invalid_request(
                f"The number of values in the `{name}` query parameter list [{len(ids)}] is not "
                f"between 1 and {most}",
                {name: [value]},
            )
        for item in ids:
            check_id(name, item, where="query parameter")
        return list(dict.fromkeys(ids))


def check_id(name: str, value: str, *, where: str) -> str:
    """`value` if it has the form of an X id, else X's 400."""
    if not is_valid_id(value):
        raise invalid_request(
            f"The `{name}` {where} value [{value}] does not match {ID_PATTERN}", {name: [value]}
        )
    return value
