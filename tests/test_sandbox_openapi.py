"""The sandbox's real answers, validated against X's published OpenAPI schemas (v2.166).

The spec is read from $TCBOT_OPENAPI_SPEC, else from `shared/x-api-openapi.json` beside the
repository; without it the module is skipped with a message naming both places.
`$ref`s resolve through a `referencing` registry over the whole document; OpenAPI 3.0's
`nullable: true` is turned into a JSON-Schema `null` type, and `discriminator` mappings
(which jsonschema ignores) are applied by hand: every problem object in a body is also
validated against the schema its `type` maps to (InvalidRequestProblem,
ResourceNotFoundProblem, ...). Error bodies are problem objects, so `default` responses are
checked against the spec's `application/problem+json` schema.

VALIDATED and SKIPPED are the module's record of which endpoint/status pairs were checked
and which were not (and why); test_openapi_summary prints both.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from referencing import Registry
from referencing.jsonschema import DRAFT4

from bot.clock import FakeClock
from bot.sandbox.server import start_sandbox
from tests.test_sandbox_support import BEARER, BOT_ID, Admin, oauth

Json = dict[str, Any]
_REPO = Path(__file__).resolve().parents[1]
_DEFAULT_SPEC = _REPO.parent / "shared" / "x-api-openapi.json"
_ENV_SPEC = os.environ.get("TCBOT_OPENAPI_SPEC")  # read at import: conftest clears TCBOT_*
_PLACES = [Path(_ENV_SPEC)] if _ENV_SPEC else []
_PLACES.append(_DEFAULT_SPEC)
SPEC_PATH = next((p for p in _PLACES if p.is_file()), None)
if SPEC_PATH is None:
    pytest.skip(
        "X's OpenAPI spec not found; looked at "
        + ", ".join(str(p) for p in _PLACES)
        + " (set TCBOT_OPENAPI_SPEC to its path)",
        allow_module_level=True,
    )

SPEC_URI = "urn:x-api-openapi"
VALIDATED: list[tuple[str, int, str, str]] = []  # endpoint, status, schema, case
SKIPPED: list[tuple[str, str]] = [
    (
        "GET /2/tweets/{id} 404",
        (
            "the sandbox answers a missing post as X classically does: 200 with only `errors` "
            "(validated as GET /2/tweets/{id} 200), never 404"
        ),
    ),
    ("DELETE /2/tweets/{id} 204", "X's docs list 204, the real API (and the sandbox) answer 200"),
    ("any 2xx application/problem+json", "the sandbox sends every body as application/json"),
    (
        "default responses as `Error` (application/json)",
        (
            "`Error` ({code, message}) is the v1.1 shape; X v2 (and the sandbox) send problem "
            "objects, checked against `Problem` instead"
        ),
    ),
    ("/2/compliance/jobs, /2/tweets/counts/recent, all other paths", "not served by the sandbox"),
]


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_x_timestamp(value: object) -> bool:
    """X's own form (`2026-08-20T12:05:00.000Z`), which tweepy needs, is the only one accepted."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value):
        raise ValueError(f"{value!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
    datetime.fromisoformat(value)
    return True


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema (draft 4): `nullable` becomes a null type."""
    if isinstance(node, dict):
        out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k != "discriminator"}
        if out.pop("nullable", False) is True and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_openapi_to_jsonschema(v) for v in node]
    return node


@dataclass(frozen=True)
class Spec:
    raw: Json
    registry: Registry

    @classmethod
    def load(cls, path: Path) -> Spec:
        raw = json.loads(path.read_text(encoding="utf-8"))
        converted = _openapi_to_jsonschema(copy.deepcopy(raw))
        registry = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(converted))
        return cls(raw, registry)

    def validate(self, pointer: str, instance: Any) -> None:
        schema = {"$ref": f"{SPEC_URI}#{pointer}"}
        validator = jsonschema.Draft4Validator(
            schema, registry=self.registry, format_checker=FORMATS
        )
        validator.validate(instance)

    def response_schema(self, template: str, method: str, status: int) -> str:
        """JSON pointer of the schema the spec gives for this answer."""
        responses = self.raw["paths"][template][method.lower()]["responses"]
        if str(status) in responses:
            media = responses[str(status)]["content"]["application/json"]
        else:
            media = responses["default"]["content"]["application/problem+json"]
        return "/components/schemas/" + media["schema"]["$ref"].rsplit("/", 1)[1]

    def problem_mapping(self) -> dict[str, str]:
        mapping = self.raw["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
        return {kind: ref.removeprefix("#") for kind, ref in mapping.items()}


def _problems(node: Any) -> Iterator[Json]:
    """Every problem object (a dict with `type` and `title`) anywhere in a body."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str) and "title" in node:
            yield node
        for value in node.values():
            yield from _problems(value)
    elif isinstance(node, list):
        for value in node:
            yield from _problems(value)


@dataclass(frozen=True)
class Case:
    """One request and the status it must get. `path`, `params` and `body` may name the
    scene's posts as {root}, {quote}, {reply}, {gone} or {priv}."""

    name: str
    method: str
    template: str  # the spec's path
    status: int
    path: str
    params: Json = field(default_factory=dict)
    body: Json | None = None
    auth: str = "user"  # "user" (OAuth 1.0a), "app" (bearer) or "none"
    faults: Json | None = None  # installed just before the request, cleared after


def _fill(value: Any, scene: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**scene)
    if isinstance(value, dict):
        return {k: _fill(v, scene) for k, v in value.items()}
    return value


def _run(case: Case, url: str, scene: dict[str, str]) -> requests.Response:
    headers = {"user": oauth(), "app": BEARER, "none": {"Authorization": "Nope"}}[case.auth]
    if case.faults is not None:
        requests.put(f"{url}/_sandbox/faults", json=case.faults, timeout=5)
    try:
        return requests.request(
            case.method,
            url + _fill(case.path, scene),
            params=_fill(case.params, scene),
            json=_fill(case.body, scene),
            headers=headers,
            timeout=5,
        )
    finally:
        if case.faults is not None:
            requests.delete(f"{url}/_sandbox/faults", timeout=5)


ALL_TWEET_FIELDS = (
    "author_id,conversation_id,created_at,display_text_range,edit_controls,entities,"
    "in_reply_to_user_id,possibly_sensitive,public_metrics,referenced_tweets,reply_settings"
)
ALL_USER_FIELDS = (
    "created_at,description,profile_image_url,protected,public_metrics,url,verified,verified_type"
)
EXPANSIONS = (
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id,"
    "entities.mentions.username"
)
FULL = {"tweet.fields": ALL_TWEET_FIELDS, "user.fields": ALL_USER_FIELDS, "expansions": EXPANSIONS}
SEARCH = "/2/tweets/search/recent"
MENTIONS = "/2/users/{id}/mentions"


def _scene(url: str, admin: Admin) -> dict[str, str]:
    """Posts the cases look at: ana's root, her quote, the bot's reply, a deleted and a
    protected post, and a dozen mentions of the bot (enough for next_token)."""
    admin.user("ana")
    admin.user("priv", protected=True)
    root = admin.post("ana", "Hello @tcbot and @ghost, #TraineeTalk tonight?")["id"]
    quote = admin.post("ana", "#TraineeTalk quoting myself", quote_of=root)["id"]
    gone = admin.post("ana", "#TraineeTalk soon gone", reply_to=quote)["id"]
    requests.delete(f"{url}/_sandbox/tweets/{gone}", timeout=5)
    priv = admin.post("priv", "#TraineeTalk private")["id"]
    reply = requests.post(
        f"{url}/2/tweets",
        json={"text": "Welcome! #TraineeTalk", "reply": {"in_reply_to_tweet_id": root}},
        headers=oauth(),
        timeout=5,
    ).json()["data"]["id"]
    for n in range(12):
        admin.post("ana", f"@tcbot #TraineeTalk answer {n}")
    return {"root": root, "quote": quote, "gone": gone, "priv": priv, "reply": reply}


CASES = [
    Case("create", "POST", "/2/tweets", 201, "/2/tweets", body={"text": "a fresh post"}),
    Case(
        "create reply", "POST", "/2/tweets", 201, "/2/tweets",
        body={"text": "and thanks", "reply": {"in_reply_to_tweet_id": "{root}"}},
    ),
    Case("create empty", "POST", "/2/tweets", 400, "/2/tweets", body={"text": ""}),
    Case("create too long", "POST", "/2/tweets", 400, "/2/tweets", body={"text": "x" * 300}),
    Case("create no auth", "POST", "/2/tweets", 401, "/2/tweets", body={"text": "x"}, auth="none"),
    Case("create duplicate", "POST", "/2/tweets", 403, "/2/tweets", body={"text": "a fresh post"}),
    Case("create bearer", "POST", "/2/tweets", 403, "/2/tweets", body={"text": "x"}, auth="app"),
    Case(
        "create reply gate", "POST", "/2/tweets", 403, "/2/tweets",
        body={"text": "hi", "reply": {"in_reply_to_tweet_id": "{quote}"}},
    ),
    Case("delete", "DELETE", "/2/tweets/{id}", 200, "/2/tweets/{reply}"),
    Case("delete missing", "DELETE", "/2/tweets/{id}", 404, "/2/tweets/42"),
    Case("delete not own", "DELETE", "/2/tweets/{id}", 403, "/2/tweets/{quote}"),
    Case(
        "lookup", "GET", "/2/tweets", 200, "/2/tweets",
        params={"ids": "{quote},{root}", **FULL}, auth="app",
    ),
    Case("lookup gone", "GET", "/2/tweets", 200, "/2/tweets", params={"ids": "{gone},{root}"}),
    Case("lookup protected", "GET", "/2/tweets", 200, "/2/tweets", params={"ids": "{priv}"}),
    Case("lookup bad ids", "GET", "/2/tweets", 400, "/2/tweets", params={"ids": "x"}),
    Case("lookup one", "GET", "/2/tweets/{id}", 200, "/2/tweets/{quote}", params=FULL),
    Case("lookup one gone", "GET", "/2/tweets/{id}", 200, "/2/tweets/{gone}", auth="app"),
    Case(
        "search", "GET", SEARCH, 200, SEARCH,
        params={"query": "from:ana -answer", "max_results": "10", **FULL}, auth="app",
    ),
    Case("search paged", "GET", SEARCH, 200, SEARCH, params={"query": "from:ana OR from:tcbot"}),
    Case("search empty", "GET", SEARCH, 200, SEARCH, params={"query": "#nothing"}, auth="app"),
    Case(
        "search max_results", "GET", SEARCH, 400, SEARCH,
        params={"query": "#a", "max_results": "5"},
    ),
    Case(
        "search stale since_id", "GET", SEARCH, 400, SEARCH,
        params={"query": "#a", "since_id": "100"},
    ),
    Case(
        "search spent window", "GET", SEARCH, 429, SEARCH, params={"query": "#a"}, auth="app",
        faults={"spent_endpoints": ["GET /2/tweets/search/recent"]},
    ),
    Case("me", "GET", "/2/users/me", 200, "/2/users/me", params={"user.fields": ALL_USER_FIELDS}),
    Case("me bearer", "GET", "/2/users/me", 403, "/2/users/me", auth="app"),
    Case("me injected 500", "GET", "/2/users/me", 500, "/2/users/me", faults={"queue": [500]}),
    Case("me injected 503", "GET", "/2/users/me", 503, "/2/users/me", faults={"queue": [503]}),
    Case(
        "mentions", "GET", MENTIONS, 200, f"/2/users/{BOT_ID}/mentions",
        params={"max_results": "5", **FULL}, auth="app",
    ),
    Case("mentions unknown user", "GET", MENTIONS, 200, "/2/users/42/mentions", auth="app"),
    Case(
        "mentions max_results", "GET", MENTIONS, 400, f"/2/users/{BOT_ID}/mentions",
        params={"max_results": "1"},
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def spec() -> Spec:
    assert SPEC_PATH is not None
    return Spec.load(SPEC_PATH)


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, requests.Response]]:
    """Every case's answer, from one sandbox, in CASES order (later cases see earlier ones)."""
    clock = FakeClock(datetime(2026, 8, 20, 12, 0, tzinfo=UTC))
    with start_sandbox(clock=clock.now) as server:
        scene = _scene(server.url, Admin(server.url))
        yield {case.name: _run(case, server.url, scene) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_openapi_answer_matches_x_schema(
    spec: Spec, answers: dict[str, requests.Response], case: Case
) -> None:
    response = answers[case.name]
    assert response.status_code == case.status, response.text
    body = response.json()
    pointer = spec.response_schema(case.template, case.method, case.status)
    spec.validate(pointer, body)
    mapping = spec.problem_mapping()
    mapped = []
    for problem in _problems(body):
        if problem["type"] in mapping:
            spec.validate(mapping[problem["type"]], problem)
            mapped.append(mapping[problem["type"]].rsplit("/", 1)[1])
    schema = pointer.rsplit("/", 1)[1] + (f" + {', '.join(sorted(set(mapped)))}" if mapped else "")
    VALIDATED.append((f"{case.method} {case.template}", case.status, schema, case.name))


def test_openapi_answers_cover_the_interesting_shapes(
    answers: dict[str, requests.Response],
) -> None:
    """The cases really exercise what they claim (so the schema checks mean something)."""
    assert "next_token" in answers["search paged"].json()["meta"]
    assert answers["search empty"].json() == {"meta": {"result_count": 0}}
    assert {"users", "tweets"} <= set(answers["search"].json()["includes"])
    assert answers["lookup gone"].json()["errors"][0]["title"] == "Not Found Error"
    assert "data" not in answers["lookup one gone"].json()
    assert "previous_token" not in answers["mentions"].json()["meta"]
    assert answers["lookup protected"].json()["errors"][0]["title"] == "Authorization Error"
    assert answers["lookup"].json()["data"][0]["created_at"] == "2026-08-20T12:00:00.000Z"
    assert any(
        e["parameter"] == "entities.mentions.username" for e in answers["search"].json()["errors"]
    )


def test_openapi_summary(spec: Spec, answers: dict[str, requests.Response]) -> None:
    """Print which endpoint/status pairs were validated (and against what) and which not."""
    for case in CASES:
        if not any(row[3] == case.name for row in VALIDATED):
            test_openapi_answer_matches_x_schema(spec, answers, case)
    pairs = sorted({(row[0], row[1]) for row in VALIDATED})
    lines = ["Validated against x-api-openapi.json:"]
    lines += [
        f"  {endpoint} {status}: "
        + "; ".join(
            sorted({f"{r[2]} ({r[3]})" for r in VALIDATED if (r[0], r[1]) == (endpoint, status)})
        )
        for endpoint, status in pairs
    ]
    lines += ["Not validated:"] + [f"  {what}: {why}" for what, why in SKIPPED]
    print("\n".join(lines))
    assert len(pairs) >= 15
    assert SKIPPED
