"""The sandbox's simulated community: pretend trainees answer the bot's questions."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from bot.clock import FakeClock
from bot.sandbox.clock import parse_timestamp
from bot.sandbox.community import Community, CommunitySettings, question_number
from bot.sandbox.posting import Draft, create_post
from bot.sandbox.records import Tweet
from bot.sandbox.server import SandboxServer, serve_forever, start_sandbox
from bot.sandbox.state import State
from tests.test_sandbox_support import BEARER, BOT_ID, START, Admin, tweepy_client

pytest_plugins = ["tests.test_sandbox_support"]

QUIET = CommunitySettings(seed=7, introduce=False, hello_chance=0.0, follow_up_chance=0.0)
FIELDS = "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets"


@pytest.fixture
def community_server(sandbox_clock: FakeClock) -> Iterator[SandboxServer]:
    with start_sandbox(clock=sandbox_clock.now, community=True) as server:
        yield server


def ask(server: SandboxServer, text: str, *, reply_to: str | None = None) -> str:
    """The bot posts `text` through real tweepy; its id."""
    response = tweepy_client(server.url).create_tweet(text=text, in_reply_to_tweet_id=reply_to)
    return str(response.data["id"])


def search(server: SandboxServer, query: str) -> list[dict[str, Any]]:
    """Every post the query finds, oldest first, each with `username` added."""
    response = requests.get(
        f"{server.url}/2/tweets/search/recent",
        params={"query": query, "tweet.fields": FIELDS, "expansions": "author_id"},
        headers=BEARER,
        timeout=5,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    names = {u["id"]: u["username"] for u in body.get("includes", {}).get("users", [])}
    posts = [{**t, "username": names[t["author_id"]]} for t in body.get("data", [])]
    return posts[::-1]


def parent(post: dict[str, Any]) -> str | None:
    refs = [r["id"] for r in post.get("referenced_tweets", []) if r["type"] == "replied_to"]
    return refs[0] if refs else None


def admin_put(server: SandboxServer, body: object) -> requests.Response:
    return requests.put(f"{server.url}/_sandbox/community", json=body, timeout=5)


def test_community_answers_a_question_after_the_delay_and_not_before(
    community_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    question = ask(community_server, "Q1 What helps you switch off after a session? #TraineeTalk")
    assert search(community_server, f"conversation_id:{question}") == []
    sandbox_clock.advance(1.9)  # the default delay is 2-40 seconds
    assert search(community_server, f"conversation_id:{question}") == []
    sandbox_clock.advance(60)
    replies = search(community_server, f"conversation_id:{question}")
    answers = [p for p in replies if parent(p) == question]
    assert 2 <= len(answers) <= 4
    assert len({a["username"] for a in answers}) == len(answers)
    for answer in answers:
        assert answer["text"].startswith("@tcbot A1 ")
        assert answer["text"].endswith(" #TraineeTalk")
        assert answer["conversation_id"] == question
        assert answer["in_reply_to_user_id"] == BOT_ID
        created = parse_timestamp(answer["created_at"])
        assert created is not None
        assert START + timedelta(seconds=2) <= created <= START + timedelta(seconds=40)


def test_community_is_off_by_default(
    sandbox_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    question = ask(sandbox_server, "Q1 What brought you to counselling? #TraineeTalk")
    sandbox_clock.advance(600)
    assert search(sandbox_server, f"conversation_id:{question}") == []
    assert search(sandbox_server, "#TherapistsConnect") == []
    users = requests.get(f"{sandbox_server.url}/_sandbox/users", timeout=5).json()["users"]
    assert [u["username"] for u in users] == ["tcbot"]
    status = requests.get(f"{sandbox_server.url}/_sandbox/community", timeout=5).json()
    assert (status["enabled"], status["pending"]) == (False, 0)


def test_community_answers_after_leading_mentions_with_fast_demo_delays(
    sandbox_clock: FakeClock,
) -> None:
    fast = CommunitySettings(seed=3, reply_delay=(1, 5), introduce=False)
    with start_sandbox(clock=sandbox_clock.now, community=fast) as server:
        Admin(server.url).user("ana")
        question = ask(server, "@ana Q2: How do you prepare for supervision? #TraineeTalk")
        sandbox_clock.advance(5)
        answers = [
            p for p in search(server, f"conversation_id:{question}") if parent(p) == question
        ]
    assert 2 <= len(answers) <= 4
    assert all(a["text"].startswith("@tcbot A2 ") for a in answers)
    for answer in answers:
        created = parse_timestamp(answer["created_at"])
        assert created is not None
        assert START + timedelta(seconds=1) <= created <= START + timedelta(seconds=5)


def run_chat(clock: FakeClock, settings: CommunitySettings) -> list[tuple[str, str, str]]:
    """An intro and two questions on a fresh sandbox; (username, text, created_at) seen."""
    with start_sandbox(clock=clock.now, community=settings) as server:
        intro = ask(server, "Welcome to tonight's #TraineeTalk! Topic: placements")
        q1 = ask(server, "Q1 How did you find your placement? #TraineeTalk", reply_to=intro)
        ask(server, "Q2 What surprised you in your first session? #TraineeTalk", reply_to=q1)
        clock.advance(120)
        posts = search(server, f"conversation_id:{intro} OR #TherapistsConnect")
    return [(p["username"], p["text"], p["created_at"]) for p in posts]


def test_community_is_deterministic_for_a_seed() -> None:
    first = run_chat(FakeClock(START), CommunitySettings(seed=11))
    again = run_chat(FakeClock(START), CommunitySettings(seed=11))
    other = run_chat(FakeClock(START), CommunitySettings(seed=12))
    assert len(first) >= 5
    assert first == again
    assert first != other


@pytest.mark.parametrize(("chance", "greetings"), [(1.0, 1), (0.0, 0)])
def test_community_may_greet_an_intro_with_the_hashtag(
    sandbox_clock: FakeClock, chance: float, greetings: int
) -> None:
    settings = CommunitySettings(seed=5, hello_chance=chance, introduce=False)
    with start_sandbox(clock=sandbox_clock.now, community=settings) as server:
        intro = ask(server, "Welcome to tonight's #TraineeTalk! Our topic: endings with clients")
        sandbox_clock.advance(60)
        replies = search(server, f"conversation_id:{intro}")
    assert len(replies) == greetings
    for reply in replies:
        assert parent(reply) == intro
        assert reply["text"].startswith("@tcbot ")
        assert not reply["text"].startswith("@tcbot A")
        assert reply["text"].endswith(" #TraineeTalk")


def test_community_newcomer_introduces_themselves_once(
    community_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    for week in (1, 2):
        ask(community_server, f"Welcome to #TraineeTalk week {week}!")
        sandbox_clock.advance(60)
    intros = search(community_server, "#TherapistsConnect")
    assert [(p["username"], parent(p)) for p in intros] == [("leeds_hannah", None)]
    assert intros[0]["text"].startswith("Hi all, I'm a trainee psychotherapist in Leeds")


def test_community_reply_to_an_answer_has_no_hashtag(sandbox_clock: FakeClock) -> None:
    settings = CommunitySettings(seed=9, follow_up_chance=1.0, introduce=False)
    with start_sandbox(clock=sandbox_clock.now, community=settings) as server:
        question = ask(server, "Q3 What do you wish you had known in year one? #TraineeTalk")
        sandbox_clock.advance(120)
        posts = search(server, f"conversation_id:{question}")
    answers = {p["id"]: p for p in posts if parent(p) == question}
    follow_ups = [p for p in posts if parent(p) in answers]
    assert len(follow_ups) == 1
    target = answers[str(parent(follow_ups[0]))]
    assert follow_ups[0]["username"] != target["username"]
    assert follow_ups[0]["text"].startswith(f"@{target['username']} ")
    assert "#" not in follow_ups[0]["text"]
    assert follow_ups[0]["created_at"] > target["created_at"]


# the community on a bare State: flush(now) by hand -----------------------------------


def bot_post(state: State, text: str, when: datetime, reply_to: str | None = None) -> Tweet:
    bot = state.user(BOT_ID)
    assert bot is not None
    return create_post(state, Draft(author=bot, text=text, created_at=when, reply_to=reply_to))


def test_community_flush_posts_only_what_is_due() -> None:
    state = State(bot_username="tcbot", now=START)
    community = Community(QUIET, state=state, enabled=True)
    question = bot_post(state, "Q1 Hello? #TraineeTalk", START)
    made: list[Tweet] = []
    for second in range(0, 45, 3):
        now = START + timedelta(seconds=second)
        batch = community.flush(state, now)
        assert all(t.created_at <= now for t in batch)
        made += batch
    assert 2 <= len(made) <= 4
    assert [int(t.id) for t in made] == sorted(int(t.id) for t in made)
    assert {t.in_reply_to_tweet_id for t in made} == {question.id}
    assert community.to_json()["pending"] == 0


def test_community_ignores_bot_posts_made_before_it_was_switched_on() -> None:
    state = State(bot_username="tcbot", now=START)
    community = Community(QUIET, state=state)
    bot_post(state, "Q1 Before? #TraineeTalk", START)
    assert community.flush(state, START + timedelta(seconds=60)) == []
    community.update(state, {"enabled": True})
    bot_post(state, "Q2 After? #TraineeTalk", START + timedelta(seconds=61))
    made = community.flush(state, START + timedelta(seconds=200))
    assert made and all(" A2 " in t.text for t in made)


def weekly_chats(community: Community, state: State, weeks: int) -> list[Tweet]:
    made: list[Tweet] = []
    for week in range(weeks):
        start = START + timedelta(days=7 * week)
        intro = bot_post(state, f"Welcome to #TraineeTalk week {week}!", start)
        previous = intro.id
        for number in (1, 2, 3, 4):
            when = start + timedelta(minutes=number)
            previous = bot_post(state, f"Q{number} (week {week}) #TraineeTalk", when, previous).id
        made += community.flush(state, start + timedelta(hours=1))
    return made


def test_community_answers_never_hit_duplicates_across_chats() -> None:
    state = State(bot_username="tcbot", now=START)
    settings = CommunitySettings(seed=1, reply_delay=(1, 5))
    community = Community(settings, state=state, enabled=True)
    made = weekly_chats(community, state, weeks=20)
    assert community.skipped == 0
    per_question = Counter(t.in_reply_to_tweet_id for t in made if " A" in t.text[:10])
    assert len(per_question) == 20 * 4
    assert all(2 <= count <= 4 for count in per_question.values())
    by_author = Counter((t.author_id, t.text) for t in made)
    assert max(by_author.values()) == 1


def test_community_tries_another_text_when_the_first_is_a_duplicate() -> None:
    def chat(state: State) -> tuple[Community, Tweet]:
        community = Community(QUIET, state=state, enabled=True)
        question = bot_post(state, "Q1 Hello? #TraineeTalk", START)
        community.flush(state, START)  # notices the question, makes the accounts
        return community, question

    first_state = State(bot_username="tcbot", now=START)
    community, _ = chat(first_state)
    first = community.flush(first_state, START + timedelta(seconds=60))[0]
    state = State(bot_username="tcbot", now=START)
    community, question = chat(state)
    author = first_state.user(first.author_id)
    assert author is not None
    taken = state.user_by_username(author.username)
    assert taken is not None
    draft = Draft(author=taken, text=first.text, created_at=START, reply_to=question.id, gate=False)
    create_post(state, draft)
    second = community.flush(state, START + timedelta(seconds=60))
    again = [t for t in second if t.author_id == taken.id]
    assert len(again) == 1 and again[0].text != first.text
    assert again[0].text.startswith("@tcbot A1 ")
    assert community.skipped == 0


def test_community_participant_answers_the_bot_reply_to_them() -> None:
    state = State(bot_username="tcbot", now=START)
    settings = CommunitySettings(seed=2, hello_chance=1.0, reply_delay=(1, 2), introduce=False)
    community = Community(settings, state=state, enabled=True)
    intro = bot_post(state, "Welcome to #TraineeTalk!", START)
    [hello] = community.flush(state, START + timedelta(seconds=10))
    assert hello.in_reply_to_tweet_id == intro.id
    person = state.user(hello.author_id)
    assert person is not None
    welcome = bot_post(state, f"Lovely to see you, @{person.username}!",
                       START + timedelta(seconds=20), hello.id)  # fmt: skip
    [answer] = community.flush(state, START + timedelta(seconds=60))
    assert (answer.author_id, answer.in_reply_to_tweet_id) == (person.id, welcome.id)
    assert answer.text.startswith("@tcbot ") and "#" not in answer.text  # the bot used none


def test_community_brings_one_new_participant_to_each_chat() -> None:
    state = State(bot_username="tcbot", now=START)
    community = Community(QUIET, state=state, enabled=True)
    counts = []
    for week in range(3):
        bot_post(state, f"Q1 week {week} #TraineeTalk", START + timedelta(days=week))
        community.flush(state, START + timedelta(days=week))
        counts.append(len(community.to_json()["participants"]))
    assert counts == [5, 6, 7]
    assert len(state.users()) == 8  # and the bot


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Q1 What helps? #TraineeTalk", 1),
        ("@ana @bo Q12: How so?", 12),
        ("  Q3 Spaces first", 3),
        ("Welcome to tonight's #TraineeTalk", None),
        ("A1 an answer", None),
        ("Q1a is not a label", None),
        ("About Q1", None),
    ],
)
def test_community_question_number(text: str, number: int | None) -> None:
    assert question_number(text) == number


# the admin endpoint --------------------------------------------------------------------


def test_community_admin_switches_it_on_and_off_at_run_time(
    sandbox_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    before = ask(sandbox_server, "Q1 Before it was on? #TraineeTalk")
    response = admin_put(sandbox_server, {"enabled": True, "seed": 4, "reply_delay": [1, 3]})
    assert response.status_code == 200
    status = response.json()
    assert (status["enabled"], status["seed"], status["reply_delay"]) == (True, 4, [1, 3])
    assert status["hello_chance"] == CommunitySettings().hello_chance
    during = ask(sandbox_server, "Q2 While it is on? #TraineeTalk")
    sandbox_clock.advance(3)
    assert search(sandbox_server, f"conversation_id:{before}") == []
    assert len(search(sandbox_server, f"conversation_id:{during}")) >= 2
    after = ask(sandbox_server, "Q3 Just before it goes off? #TraineeTalk")
    status = requests.get(f"{sandbox_server.url}/_sandbox/community", timeout=5).json()
    assert status["pending"] >= 2
    assert admin_put(sandbox_server, {"enabled": False}).json()["pending"] == 0
    sandbox_clock.advance(60)
    assert search(sandbox_server, f"conversation_id:{after}") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reply_delay": [5, 1]}, "reply_delay [5.0, 1.0] must be [soonest, latest] seconds"),
        ({"reply_delay": 3}, "reply_delay must be [soonest, latest]"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"hello_chance": 2}, "hello_chance must be a share between 0 and 1"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"colour": "red"}, "unknown community settings ['colour']"),
    ],
)
def test_community_admin_rejects_bad_settings(
    sandbox_server: SandboxServer, body: dict[str, Any], message: str
) -> None:
    response = admin_put(sandbox_server, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    status = requests.get(f"{sandbox_server.url}/_sandbox/community", timeout=5).json()
    assert status == {**status, "enabled": False, "seed": 2026, "reply_delay": [2.0, 40.0]}


def test_community_reset_drops_pending_reactions_and_stays_on(
    community_server: SandboxServer, sandbox_clock: FakeClock
) -> None:
    ask(community_server, "Q1 Anyone there? #TraineeTalk")
    requests.get(f"{community_server.url}/_sandbox", timeout=5)  # noticed: answers pending
    assert requests.post(f"{community_server.url}/_sandbox/reset", timeout=5).ok
    status = requests.get(f"{community_server.url}/_sandbox/community", timeout=5).json()
    assert (status["enabled"], status["pending"], status["participants"]) == (True, 0, [])
    sandbox_clock.advance(120)
    assert search(community_server, "#TraineeTalk OR #TherapistsConnect") == []
    question = ask(community_server, "Q1 Anyone there now? #TraineeTalk")
    sandbox_clock.advance(120)
    assert len(search(community_server, f"conversation_id:{question}")) >= 2


def test_community_setting_of_serve_forever_reaches_the_server(sandbox_clock: FakeClock) -> None:
    ready: list[SandboxServer] = []
    started = threading.Event()

    def on_ready(server: SandboxServer) -> None:
        ready.append(server)
        started.set()

    settings = CommunitySettings(seed=99)
    kwargs = {"clock": sandbox_clock.now, "community": settings, "on_ready": on_ready}
    thread = threading.Thread(target=serve_forever, kwargs=kwargs)
    thread.start()
    assert started.wait(5)
    status = requests.get(f"{ready[0].url}/_sandbox/community", timeout=5).json()
    ready[0].shutdown()
    thread.join(5)
    assert (status["enabled"], status["seed"]) == (True, 99)


def test_community_settings_refuse_a_negative_delay() -> None:
    with pytest.raises(ValueError, match="0 <= soonest <= latest"):
        CommunitySettings(reply_delay=(-1, 2))
