"""The sandbox's simulated community: pretend participants who answer the bot's questions.

For rehearsals and the demo. When it is on, a few trainees and therapists (accounts made
on first use) react to the bot's posts as people in a #TraineeTalk chat would:
- a question ("Q<n> ...", after any leading @mentions) gets 2-4 answers "A<n> ... #Tag",
  replies to the question (so X's reply prefix puts @bot first), carrying the question's
  first hashtag; sometimes one participant replies to another's answer, without hashtag;
- any other bot post (an intro, "Welcome ...", a closing) may get one hello with the tag;
  a bot post replying to one of the participants is answered by that participant;
- once, the first chat's newcomer introduces themselves with #TherapistsConnect.
A chat (one bot conversation) has the four regulars and one newcomer, a new account.

Reactions are scheduled `reply_delay` seconds of sandbox time after the bot's post and
wait in a queue that `flush(state, now)` empties up to `now`. The service flushes at the
start of every request, so a search made after the delay sees the answers, one made
before does not, and nothing is dated in the future. Posts go through
`posting.create_post` like the admin's "post as": length and duplicate rules apply, the
reply gate does not (it binds API clients, not people in X's app). A duplicate text makes
the participant try the next one. A seeded `random.Random` picks who answers and what:
the same seed and the same bot posts give the same community. The queue is memory only:
pending reactions are lost when the server stops (a state file keeps the posts made).
"""

from __future__ import annotations

import heapq
import logging
import random
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.sandbox import text as post_text
from bot.sandbox.community_lines import (
    ANSWERS,
    BODIES,
    FOLLOW_UPS,
    HELLOS,
    NEWCOMERS,
    OPENERS,
    REGULARS,
    Persona,
)
from bot.sandbox.credentials import BOT_USER_ID
from bot.sandbox.posting import Draft, create_post
from bot.sandbox.problems import ApiError, duplicate_content
from bot.sandbox.records import Tweet
from bot.sandbox.state import State

__all__ = ["Community", "CommunitySettings", "Reaction", "question_number"]

log = logging.getLogger(__name__)

Json = dict[str, Any]
_QUESTION = re.compile(r"\s*(?:[@＠][A-Za-z0-9_]{1,15}\s+)*Q([0-9]{1,3})\b")
_DUPLICATE = duplicate_content().body
_CHANCES = ("follow_up_chance", "hello_chance")


def question_number(text: str) -> int | None:
    """n for a question post ("Q3 ...", "@ana Q3: ..."), None for any other post."""
    match = _QUESTION.match(text)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class CommunitySettings:
    """How the community behaves. `reply_delay` is (soonest, latest) in sandbox seconds;
    a fast demo with 10-second intervals wants something like (1, 5)."""

    seed: int = 2026
    reply_delay: tuple[float, float] = (2.0, 40.0)
    follow_up_chance: float = 0.5
    hello_chance: float = 0.6
    introduce: bool = True

    def __post_init__(self) -> None:
        low, high = self.reply_delay
        if not 0 <= low <= high:
            raise ValueError(
                f"reply_delay {[low, high]} must be [soonest, latest] seconds with "
                "0 <= soonest <= latest, e.g. [2, 40]"
            )
        for name in _CHANCES:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a share between 0 and 1")

    def with_changes(self, changes: Mapping[str, Any]) -> CommunitySettings:
        """These settings with the JSON `changes` applied; ValueError names a bad key."""
        known = {"seed", "reply_delay", "introduce", *_CHANCES}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown community settings {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            values[key] = _checked(key, value)
        return replace(self, **values)

    def to_json(self) -> Json:
        return {
            "seed": self.seed,
            "reply_delay": list(self.reply_delay),
            "follow_up_chance": self.follow_up_chance,
            "hello_chance": self.hello_chance,
            "introduce": self.introduce,
        }


def _checked(key: str, value: object) -> object:
    number = (int, float)
    if key == "seed" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if key in ("introduce", "enabled") and isinstance(value, bool):
        return value
    if key in _CHANCES and isinstance(value, number) and not isinstance(value, bool):
        return float(value)
    if (
        key == "reply_delay"
        and isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, number) and not isinstance(v, bool) for v in value)
    ):
        return (float(value[0]), float(value[1]))
    wanted = {"seed": "an integer", "reply_delay": "[soonest, latest]", "enabled": "true or false"}
    wanted["introduce"] = wanted["enabled"]
    raise ValueError(f"{key} must be {wanted.get(key, 'a number between 0 and 1')}")


@dataclass(frozen=True, slots=True, order=True)
class Reaction:
    """A post `author` will make at `at`: `head + pool[start + i] + tail` for the first i
    that is not a duplicate, replying to `reply_to` or to the post reaction `after` made."""

    at: datetime
    key: int
    author: str
    pool: tuple[str, ...]
    start: int = 0
    head: str = ""
    tail: str = ""
    reply_to: str | None = None
    after: int | None = None

    def texts(self) -> Iterator[str]:
        for step in range(len(self.pool)):
            yield self.head + self.pool[(self.start + step) % len(self.pool)] + self.tail


class Community:
    """The pretend participants of one sandbox and their pending reactions; thread-safe."""

    def __init__(
        self, settings: CommunitySettings | None = None, *, state: State, enabled: bool = False
    ) -> None:
        self._lock = threading.RLock()
        self.settings = settings or CommunitySettings()
        self.enabled = enabled
        self._seen = _newest_id(state)
        self._ours: set[str] = set()
        self._start_afresh()

    def _start_afresh(self) -> None:
        self._random = random.Random(self.settings.seed)
        self._queue: list[Reaction] = []
        self._made: dict[int, str] = {}
        self._keys = 0
        self._newcomers: dict[str, Persona] = {}  # conversation id -> that chat's newcomer
        self._newcomer_count = 0
        self._introduced = False
        self.skipped = 0

    def update(self, state: State, changes: Mapping[str, Any]) -> None:
        """Apply admin JSON: "enabled" and any settings; missing keys keep their values.
        Switching off drops pending reactions; a new seed re-seeds the choices."""
        with self._lock:
            enabled = bool(_checked("enabled", changes.get("enabled", self.enabled)))
            settings = self.settings.with_changes(
                {k: v for k, v in changes.items() if k != "enabled"}
            )
            if settings.seed != self.settings.seed:
                self._random = random.Random(settings.seed)
            self.settings = settings
            if enabled and not self.enabled:
                self._seen = _newest_id(state)  # react to what the bot posts from now on
            if not enabled:
                self._queue.clear()
            self.enabled = enabled
            log.info("Sandbox community %s", "on" if enabled else "off")

    def reset(self) -> None:
        """Forget pending reactions and chats (the sandbox was reset); settings stay."""
        with self._lock:
            self._ours.clear()
            self._start_afresh()

    def flush(self, state: State, now: datetime) -> list[Tweet]:
        """Notice the bot's new posts, then make every reaction due by `now`; the posts made."""
        with self._lock:
            if not self.enabled:
                return []
            with state.lock:
                for post in self._new_bot_posts(state):
                    self._react(state, post)
                made: list[Tweet] = []
                while self._queue and self._queue[0].at <= now:
                    tweet = self._make(state, heapq.heappop(self._queue))
                    if tweet is not None:
                        made.append(tweet)
                self._seen = max(self._seen, _newest_id(state))
                return made

    def to_json(self) -> Json:
        with self._lock:
            return {
                "enabled": self.enabled,
                **self.settings.to_json(),
                "pending": len(self._queue),
                "skipped": self.skipped,
                "participants": sorted(self._ours),
            }

    # noticing and planning -------------------------------------------------------------
    def _new_bot_posts(self, state: State) -> list[Tweet]:
        fresh: list[Tweet] = []
        for tweet in state.newest_first():
            if int(tweet.id) <= self._seen:
                break
            if tweet.author_id == BOT_USER_ID and tweet.retweeted_tweet_id is None:
                fresh.append(tweet)
        self._seen = max(self._seen, _newest_id(state))
        return fresh[::-1]

    def _react(self, state: State, post: Tweet) -> None:
        cast = self._cast(state, post)
        hashtags = post_text.hashtags(post.text)
        tail = f" #{hashtags[0].value}" if hashtags else ""
        if self.settings.introduce and not self._introduced:
            self._introduced = True
            self._introduce(cast[-1], post.created_at)
        number = question_number(post.text)
        if number is not None:
            self._answer(post, cast, head=f"A{number} ", tail=tail)
        else:
            self._greet(state, post, cast, tail=tail)

    def _answer(self, post: Tweet, cast: list[Persona], *, head: str, tail: str) -> None:
        count = self._random.randint(2, min(4, len(cast)))
        people = self._random.sample(cast, count)
        bodies = self._random.sample(range(len(BODIES)), count)  # a different line each
        starts = [b + len(BODIES) * self._random.randrange(len(OPENERS)) for b in bodies]
        answers = [
            self._plan(post.created_at, person.username, ANSWERS, start=start, head=head,
                       tail=tail, reply_to=post.id)
            for person, start in zip(people, starts, strict=True)
        ]  # fmt: skip
        if self._random.random() < self.settings.follow_up_chance:
            target = self._random.choice(answers)
            others = [p.username for p in people if p.username != target.author]
            start = self._random.randrange(len(FOLLOW_UPS))
            self._plan(target.at, self._random.choice(others), FOLLOW_UPS, start=start,
                       after=target.key)  # fmt: skip

    def _greet(self, state: State, post: Tweet, cast: list[Persona], *, tail: str) -> None:
        if self._random.random() >= self.settings.hello_chance:
            return
        addressed = state.user(post.in_reply_to_user_id or "")
        if addressed is not None and addressed.username.lower() in self._ours:
            author = addressed.username
        else:
            author = self._random.choice(cast).username
        start = self._random.randrange(len(HELLOS))
        self._plan(post.created_at, author, HELLOS, start=start, tail=tail, reply_to=post.id)

    def _introduce(self, newcomer: Persona, when: datetime) -> None:
        text = (
            f"Hi all, I'm a {newcomer.role} in {newcomer.city}, new here and keen to meet "
            "others in training. Looking forward to the chats! #TherapistsConnect"
        )
        self._plan(when, newcomer.username, (text,))

    def _plan(
        self,
        base: datetime,
        author: str,
        pool: tuple[str, ...],
        *,
        start: int = 0,
        head: str = "",
        tail: str = "",
        reply_to: str | None = None,
        after: int | None = None,
    ) -> Reaction:
        low, high = self.settings.reply_delay
        delay = timedelta(milliseconds=round(self._random.uniform(low, high) * 1000))
        self._keys += 1
        reaction = Reaction(
            base + delay, self._keys, author, pool, start, head, tail, reply_to, after
        )
        heapq.heappush(self._queue, reaction)
        return reaction

    # the cast ---------------------------------------------------------------------------
    def _cast(self, state: State, post: Tweet) -> list[Persona]:
        """The chat's participants (regulars, then its newcomer), with accounts made."""
        newcomer = self._newcomers.get(post.conversation_id)
        if newcomer is None:
            newcomer = self._new_persona(state)
            self._newcomers[post.conversation_id] = newcomer
        cast = [*REGULARS, newcomer]
        for persona in cast:
            if state.user_by_username(persona.username) is None:
                state.add_user(
                    username=persona.username, name=persona.name, protected=False,
                    now=post.created_at,
                )  # fmt: skip
            self._ours.add(persona.username.lower())
        return cast

    def _new_persona(self, state: State) -> Persona:
        """The next newcomer whose username nobody has yet (numbered once the list is used)."""
        while True:
            base = NEWCOMERS[self._newcomer_count % len(NEWCOMERS)]
            round_ = self._newcomer_count // len(NEWCOMERS)
            self._newcomer_count += 1
            suffix = str(round_ + 1) if round_ else ""
            username = base.username[: 15 - len(suffix)] + suffix
            if state.user_by_username(username) is None:
                return replace(base, username=username)

    # posting ----------------------------------------------------------------------------
    def _make(self, state: State, reaction: Reaction) -> Tweet | None:
        author = state.user_by_username(reaction.author)
        parent = reaction.reply_to if reaction.after is None else self._made.get(reaction.after)
        if author is None or (reaction.after is not None and parent is None):
            self._skip(reaction, "its author or the post it answers is gone")
            return None
        for text in reaction.texts():
            draft = Draft(
                author=author, text=text, created_at=reaction.at, reply_to=parent, gate=False
            )
            try:
                tweet = create_post(state, draft)
            except ApiError as error:
                if error.body == _DUPLICATE:
                    continue
                self._skip(reaction, str(error))
                return None
            self._made[reaction.key] = tweet.id
            log.debug("Sandbox community: @%s posted %s", reaction.author, tweet.id)
            return tweet
        self._skip(reaction, "every text it could say would be a duplicate")
        return None

    def _skip(self, reaction: Reaction, why: str) -> None:
        self.skipped += 1
        log.warning("Sandbox community: @%s did not post (%s)", reaction.author, why)


def _newest_id(state: State) -> int:
    newest = state.newest_first()
    return int(newest[0].id) if newest else 0
