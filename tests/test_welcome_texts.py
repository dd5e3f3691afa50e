"""The welcome texts file, its checks, and rendering welcomes safely (bot.welcome_texts)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from twitter_text import extract_urls  # type: ignore[import-untyped]

from bot.errors import ScheduleError, TcbotError
from bot.thread_text import MAX_WEIGHTED, weighted_length
from bot.welcome_texts import (
    DEFAULT_WELCOME_FILE,
    MAX_NAME,
    HashtagWelcome,
    Rendered,
    WelcomeConfig,
    check_welcome_file,
    default_config,
    describe_next_chat,
    display_first_name,
    load_welcome_config,
    render_digest,
    render_welcome,
    safe_name,
)

REPO = Path(__file__).resolve().parent.parent
MARK = "# <-"
NEXT = "Wednesday 16 December, 8pm GMT"

WELCOME = """\
[welcome]
hosts = ["TraineeTalk"]
digest_day = "friday"
digest_time = "12:00"
"""


def block(
    *,
    hashtag: str = '"#TraineeTalk"',
    modes: str = '["reply"]',
    texts: str = '["Welcome, {first_name}!", "Hello {first_name}, welcome to {hashtag}!"]',
    extra: str = "",
) -> str:
    return (
        f"\n[[hashtags]]\nhashtag = {hashtag}\nmodes = {modes}\ntexts = {texts}\n{extra}"
    ).replace("\ntexts = \n", "\n")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "welcome.toml"
    path.write_text(text, encoding="utf-8")
    return path


def marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1, "mark exactly one line"
    return lines[0]


def hw(*texts: str, digest: tuple[str, ...] = (), mentions: bool = False) -> HashtagWelcome:
    modes = frozenset({"reply", "digest"} if digest else {"reply"})
    return HashtagWelcome("#TraineeTalk", modes, texts, digest, mentions)


# --- The shipped file and the defaults ---------------------------------------------------


def test_shipped_file_loads_and_means_the_same_as_default_config() -> None:
    path = REPO / DEFAULT_WELCOME_FILE
    assert check_welcome_file(path) == []
    assert load_welcome_config(path) == default_config()


def test_default_config_texts_are_short_warm_and_mention_nobody() -> None:
    config = default_config()
    assert config.hosts == frozenset({"traineetalk"})
    assert (config.digest_day, config.digest_time) == (4, time(12, 0))
    for each in config.hashtags:
        assert 3 <= len(each.texts) <= 4
        assert len(set(each.texts)) == len(each.texts)
        for text in each.texts + each.digest_texts:
            assert "@" not in text
            assert weighted_length(text) < 140
        assert sum("{next_chat}" not in text for text in each.texts) >= 2


def test_load_welcome_config_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_welcome_config(tmp_path / "nope.toml") == default_config()
    assert check_welcome_file(tmp_path / "nope.toml") == []


def test_for_hashtag_is_case_insensitive_with_or_without_hash() -> None:
    config = default_config()
    for tag in ("#TraineeTalk", "traineetalk", "#TRAINEETALK", " TraineeTalk "):
        found = config.for_hashtag(tag)
        assert found is not None and found.hashtag == "#TraineeTalk"
    assert config.for_hashtag("#SomethingElse") is None


def test_load_welcome_config_reads_every_setting(tmp_path: Path) -> None:
    text = (
        '[welcome]\nhosts = ["@Host_One", "hosttwo"]\ndigest_day = "Mon"\ndigest_time = 09:30:00\n'
        + block(hashtag='"#tcTest"', modes='["organisers", "digest"]')
        + 'digest_texts = ["{count} new on {hashtag}: {names}", "Welcome, all {count}!"]\n'
        + "digest_mentions = true\n"
        + block(hashtag='"#Quiet"', modes="[]", texts="")
    )
    config = load_welcome_config(write(tmp_path, text))
    assert config == WelcomeConfig(
        hashtags=(
            HashtagWelcome(
                "#tcTest",
                frozenset({"organisers", "digest"}),
                ("Welcome, {first_name}!", "Hello {first_name}, welcome to {hashtag}!"),
                ("{count} new on {hashtag}: {names}", "Welcome, all {count}!"),
                True,
            ),
            HashtagWelcome("#Quiet", frozenset(), (), (), False),
        ),
        hosts=frozenset({"host_one", "hosttwo"}),
        digest_day=0,
        digest_time=time(9, 30),
    )


# --- Problems, each at its line ----------------------------------------------------------

LONG = "Welcome {first_name}! " + "la " * 90
PROBLEMS = [
    pytest.param(
        block(texts=f'["Welcome, {{firstname}}!",  {MARK}\n "Hi {{first_name}}"]'),
        "did you mean {first_name}?",
        id="unknown-field",
    ),
    pytest.param(
        block(texts=f'["Welcome, {{first_name}}!", "Hi {{first_name"]  {MARK}'),
        "stray { or }",
        id="unbalanced-brace",
    ),
    pytest.param(
        block(texts=f'[\n  "Hi {{first_name}}",\n  "Hi }} there",  {MARK}\n]'),
        "stray { or }",
        id="unbalanced-closing-brace",
    ),
    pytest.param(
        block(texts=f'[\n  "Hi {{first_name}}",\n  "{LONG}",  {MARK}\n]'),
        "with a 20-character name, over X's 280",
        id="too-long",
    ),
    pytest.param(
        block(texts=f'[\n  "Hi {{first_name}}!",\n  "Hello",\n  "hi  {{first_name}}!",  {MARK}\n]'),
        "text 3 is the same as text 1",
        id="duplicate",
    ),
    pytest.param(
        block(texts=f'["Hi {{first_name}}"]  {MARK}'), "has 1 text; write at least 2", id="one-text"
    ),
    pytest.param(block(texts=f"[]  {MARK}"), "has no texts; write at least 2", id="no-texts"),
    pytest.param(block(hashtag=f'"TraineeTalk"  {MARK}'), 'write "#TraineeTalk"', id="no-hash"),
    pytest.param(block(modes=f'["replies"]  {MARK}'), 'did you mean "reply"?', id="unknown-mode"),
    pytest.param(
        block(modes=f'["reply", "organisers"]  {MARK}'),
        'both "reply" and "organisers"; keep one',
        id="reply-and-organisers",
    ),
    pytest.param(
        WELCOME.replace('"friday"', f'"fryday"  {MARK}') + block(),
        "digest_day should be a day of the week",
        id="bad-day",
    ),
    pytest.param(
        WELCOME.replace('"12:00"', f'"25:00"  {MARK}') + block(),
        "digest_time should be a 24-hour time",
        id="bad-time",
    ),
    pytest.param(
        block(texts=f'["Hi {{first_name}}", "{{count}} of you!"]  {MARK}'),
        "{count} does not work in texts",
        id="digest-field-in-texts",
    ),
    pytest.param(
        block(modes='["digest"]', texts="")
        + f'digest_texts = ["Hi {{names}}", "Hello all {{count}}"]  {MARK}\n',
        "it needs digest_mentions = true",
        id="names-without-mentions",
    ),
    pytest.param(
        block(texts=f'["Hi {{first_name}}", "Ask @TraineeTalk anything"]  {MARK}'),
        "may not @mention anyone",
        id="mention-in-text",
    ),
    pytest.param(
        block(texts=f'["Hi {{first_name}}", "Hi #{{first_name}}"]  {MARK}'),
        "make a tag of a field",
        id="hash-before-field",
    ),
    pytest.param(
        block() + f'digest_texts = ["A {{count}}", "B {{count}}"]  {MARK}\n',
        'only used when modes includes "digest"',
        id="digest-texts-without-digest",
    ),
    pytest.param(
        f"\n[[hashtags]]  {MARK}\nhashtag = \"#X\"\nmodes = ['digest']\n",
        "this hashtag needs digest_texts",
        id="digest-without-texts",
    ),
    pytest.param(block() + f'text = "Hi"  {MARK}\n', "did you mean 'texts'?", id="unknown-key"),
    pytest.param(
        block() + block(hashtag=f'"#traineetalk"  {MARK}'),
        "#traineetalk is already at line 3",
        id="duplicate-hashtag",
    ),
    pytest.param(
        WELCOME.replace('["TraineeTalk"]', f'["TraineeTalk", "not a name"]  {MARK}') + block(),
        "should be an X username",
        id="bad-host",
    ),
    pytest.param(
        block(texts=f'["Hi {{first_name}}", "Hi]  {MARK}'), "not valid TOML", id="toml-syntax"
    ),
]


@pytest.mark.parametrize(("text", "expected"), PROBLEMS)
def test_check_welcome_file_reports_problem_at_its_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    problems = check_welcome_file(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{marked_line(text)}: error: "), problems
    assert expected in problems[0]


def test_load_welcome_config_raises_listing_every_problem(tmp_path: Path) -> None:
    text = WELCOME.replace('"12:00"', '"noon"') + block(modes='["reply", "shout"]')
    path = write(tmp_path, text)
    with pytest.raises(ScheduleError) as raised:
        load_welcome_config(path)
    message = str(raised.value)
    assert isinstance(raised.value, TcbotError)
    assert "2 problems" in message
    assert f"{path}:4: error: digest_time" in message
    assert f"{path}:8: error: modes: item 2" in message


def test_check_welcome_file_length_uses_the_blocks_hashtag(tmp_path: Path) -> None:
    # 280 - 20 (the sample name) - 13 (" #TraineeTalk"): fits exactly with this hashtag
    text = "{first_name}" + "x" * (MAX_WEIGHTED - 20 - 13) + " {hashtag}"
    fits = block(texts=f'["Hi", "{text}"]')
    assert check_welcome_file(write(tmp_path, fits)) == []
    longer = fits.replace("#TraineeTalk", "#TraineeTalkUK")
    assert "shorten it by 2" in check_welcome_file(write(tmp_path, longer))[0]


# --- Rendering welcomes ------------------------------------------------------------------

TEXTS = (
    "Welcome, {first_name}!",
    "Hi {first_name}, welcome to {hashtag}. Next chat: {next_chat}.",
    "Hello {name}, glad you found {hashtag}!",
)


def greet(
    welcome: HashtagWelcome,
    name: str | None,
    *,
    username: str = "newbie",
    next_chat: str | None = None,
    previous: str | None = None,
    turn: int = 0,
) -> Rendered | None:
    return render_welcome(
        welcome, name=name, username=username, next_chat=next_chat, previous=previous, turn=turn
    )


def test_render_welcome_takes_turns_round_the_texts() -> None:
    got = [greet(hw(*TEXTS), "Ana", next_chat=NEXT, turn=turn) for turn in range(4)]
    assert [r.template if r else None for r in got] == [0, 1, 2, 0]
    assert got[1] == Rendered(
        "Hi Ana, welcome to #TraineeTalk. Next chat: Wednesday 16 December, 8pm GMT.", 1
    )


def test_render_welcome_consecutive_newcomers_get_different_texts() -> None:
    for each in default_config().hashtags:
        for next_chat in (NEXT, None):
            previous = None
            for turn in range(10):
                got = greet(each, "Sam", next_chat=next_chat, previous=previous, turn=turn)
                assert got is not None and got.text != previous
                previous = got.text


def test_render_welcome_same_name_same_turn_skips_the_previous_text() -> None:
    first = greet(hw(*TEXTS), "Jo", username="jo1", turn=7)
    assert first is not None
    second = greet(hw(*TEXTS), "Jo", username="jo2", previous=first.text, turn=7)
    assert second is not None and second.text != first.text
    assert (first.template, second.template) == (2, 0)


def test_render_welcome_skips_next_chat_texts_when_there_is_no_chat() -> None:
    got = greet(hw(*TEXTS), "Ana", next_chat=None, turn=1)
    assert got == Rendered("Hello Ana, glad you found #TraineeTalk!", 2)
    assert greet(hw(TEXTS[1], TEXTS[1] + " See you!"), "Ana", next_chat=None) is None
    assert greet(hw(TEXTS[1], TEXTS[1] + " See you!"), "Ana", next_chat=NEXT) is not None


def test_render_welcome_over_280_moves_on_then_gives_none() -> None:
    padding = "x" * (MAX_WEIGHTED - 30)
    welcome = hw(f"{padding} {{name}}", "Welcome, {first_name}!")
    long_name = "Bartholomew Featherstonehaugh Smithson"
    assert greet(welcome, long_name) == Rendered("Welcome, Bartholomew!", 1)
    short = greet(welcome, "Bo")
    assert short is not None and short.template == 0
    assert weighted_length(short.text) == MAX_WEIGHTED - 30 + 3
    too_long = hw(f"{padding} {{name}}", f"{padding} {{first_name}} {{name}}")
    assert greet(too_long, long_name) is None


def test_render_welcome_with_only_the_previous_text_gives_none() -> None:
    welcome = hw("Welcome, {first_name}!", "Hi {first_name}, next chat {next_chat}")
    assert greet(welcome, "Al", previous="Welcome, Al!") is None


def test_render_welcome_rejects_a_broken_template() -> None:
    with pytest.raises(ScheduleError, match="cannot be filled in"):
        greet(hw("Hi {count}", "Hi"), "A")


# --- Names from X: never a mention, a hashtag or a link ----------------------------------

HOSTILE = [
    ("@elonmusk", "elonmusk", "elonmusk"),
    ("#ad", "ad", "ad"),
    ("http://x.co", "newbie", "newbie"),
    ("Visit example.com now", "Visit now", "Visit"),
    ("<script>", "script", "script"),
    ("", "newbie", "newbie"),
    (None, "newbie", "newbie"),
    ("   ", "newbie", "newbie"),
    ("🌱🌱", "newbie", "newbie"),
    ("Dr. Ana 🌱 (she/her)", "Dr. Ana 🌱", "Ana"),
    ("Prof Sam Lee | MSc, BACP", "Prof Sam Lee", "Sam"),
    ("Mx. Jo - Trainee counsellor", "Mx. Jo", "Jo"),
    ("Ｊｏ ＠bob ＃tag", "Jo bob tag", "Jo"),
    ("ana@gmail.com", "newbie", "newbie"),
    ("Kim $TSLA", "Kim TSLA", "Kim"),
    ("Lee\u202e\nline", "Lee line", "Lee"),
    ("Dr.", "Dr.", "newbie"),
    ("Ana   Lopez\t🌈", "Ana Lopez 🌈", "Ana"),
]


@pytest.mark.parametrize(("name", "safe", "first"), HOSTILE)
def test_safe_name_and_first_name_of_hostile_names(name: str | None, safe: str, first: str) -> None:
    assert safe_name(name, "@newbie") == safe
    assert display_first_name(name, "@newbie") == first


@pytest.mark.parametrize("name", [h[0] for h in HOSTILE] + ["x" * 100, "a.co/" * 20, "@" * 50])
def test_safe_name_never_makes_a_mention_tag_or_link(name: str | None) -> None:
    for value in (safe_name(name, "newbie"), display_first_name(name, "newbie")):
        assert value and len(value) <= MAX_NAME
        assert not set(value) & set("@#＠＃<>\n")
        assert extract_urls(value) == []
    for turn in (0, 1):
        got = greet(hw("Welcome, {name}!", "Hi {first_name}!"), name, turn=turn)
        assert got is not None and not set(got.text) & set("@#<>")


def test_safe_name_caps_at_a_whole_word() -> None:
    name = "Mary Jane Wilson-Smithington Counsellor Trainee"
    assert safe_name(name, "m") == "Mary Jane Wilson-Smithington Counsellor"
    assert safe_name("A" * 60, "m") == "A" * MAX_NAME


# --- The weekly digest -------------------------------------------------------------------

DIGEST = ("This week {count} joined {hashtag}!", "Welcome {names}: {count} new on {hashtag}.")


def test_render_digest_without_mentions_names_nobody() -> None:
    welcome = hw("a", "b", digest=DIGEST[:1] + ("{count} newcomers, welcome!",))
    got = render_digest(welcome, count=3, usernames=["ana", "bo"], next_chat=None, turn=0)
    assert got == "This week 3 joined #TraineeTalk!"
    assert render_digest(welcome, count=3, usernames=[], next_chat=None, turn=1) == (
        "3 newcomers, welcome!"
    )
    assert render_digest(welcome, count=0, usernames=[], next_chat=None, turn=0) is None


def test_render_digest_with_mentions_joins_the_usernames() -> None:
    welcome = hw("a", "b", digest=DIGEST, mentions=True)
    names = ["@ana", "bo", "ana", "not valid!", "cy_3"]
    got = render_digest(welcome, count=4, usernames=names, next_chat=None, turn=1)
    assert got == "Welcome @ana, @bo and @cy_3: 4 new on #TraineeTalk."
    one = render_digest(welcome, count=1, usernames=["ana"], next_chat=None, turn=1)
    assert one == "Welcome @ana: 1 new on #TraineeTalk."


def test_render_digest_drops_names_that_would_pass_280() -> None:
    welcome = hw("a", "b", digest=DIGEST, mentions=True)
    names = [f"user_{n:010d}" for n in range(40)]
    got = render_digest(welcome, count=40, usernames=names, next_chat=None, turn=1)
    assert got is not None and weighted_length(got) <= MAX_WEIGHTED
    included = [name for name in names if f"@{name}" in got]
    assert 5 < len(included) < 40 and included == names[: len(included)]


def test_render_digest_names_text_needs_a_name_and_next_chat_text_a_chat() -> None:
    welcome = hw("a", "b", digest=(DIGEST[1], "Next: {next_chat}. {count} new!"), mentions=True)
    assert render_digest(welcome, count=2, usernames=[], next_chat=NEXT, turn=0) == (
        "Next: Wednesday 16 December, 8pm GMT. 2 new!"
    )
    assert render_digest(welcome, count=2, usernames=[], next_chat=None, turn=0) is None


def test_render_digest_default_texts_fit_and_rotate() -> None:
    connect = default_config().for_hashtag("TherapistsConnect")
    assert connect is not None
    texts = {
        render_digest(connect, count=12, usernames=[], next_chat=None, turn=t) for t in range(3)
    }
    assert len(texts) == 3 and all(t and "12" in t and "@" not in t for t in texts)


def test_describe_next_chat_gives_local_day_time_and_zone() -> None:
    london = ZoneInfo("Europe/London")
    assert describe_next_chat(datetime(2026, 12, 16, 20, 0, tzinfo=london)) == NEXT
    assert describe_next_chat(datetime(2026, 6, 3, 19, 30, tzinfo=london)) == (
        "Wednesday 3 June, 7:30pm BST"
    )


def test_welcome_values_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_config().hashtags[0].texts = ()  # type: ignore[misc]
