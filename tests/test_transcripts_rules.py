"""Chat transcripts, the pure core: answer labels, the five placement rules, which tweets are
the chat's, reply nesting, protected accounts, newcomers and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.chat_labels import answer_labels, question_number, x_text
from archive.chat_rules import ChatTweet, Placement, Role, assign, select_chat_tweets
from archive.chat_tweets import found_questions, tweet_links
from archive.transcripts import MAX_DEPTH, ChatFrame, Transcript, build_transcript, walk

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
HOST = "TraineeTalk"
INTRO, Q1, Q2, Q3, CLOSING = "1", "10", "20", "30", "90"


def tw(
    tweet_id: int | str,
    text: str,
    *,
    user: str = "ana",
    reply: str | None = None,
    quote: str | None = None,
    rt: str | None = None,
    tags: tuple[str, ...] = ("traineetalk",),
    conv: str | None = None,
    protected: bool = False,
    name: str | None = None,
    links: tuple[str, ...] = (),
    at: float | None = None,
) -> ChatTweet:
    """A tweet `tweet_id` seconds after T0 (ids grow with time, as on X)."""
    seconds = float(tweet_id) if at is None else at
    return ChatTweet(
        id=str(tweet_id), author_id=f"id-{user}", username=user, name=name or user.title(),
        protected=protected, text=text, created_at=T0 + timedelta(seconds=seconds),
        conversation_id=conv, replied_to=reply, quoted=quote, retweeted=rt,
        hashtags=frozenset(tags), links=links,
    )  # fmt: skip


def host_posts() -> list[ChatTweet]:
    """The bot's thread: intro, Q1..Q3 each replying to the one before, closing."""
    return [
        tw(INTRO, "Welcome to #TraineeTalk! Answer with A1, A2...", user=HOST, conv=INTRO),
        tw(Q1, "Q1 What drew you to training? #TraineeTalk", user=HOST, reply=INTRO, conv=INTRO),
        tw(Q2, "Q2 How do you rest? #TraineeTalk", user=HOST, reply=Q1, conv=INTRO),
        tw(Q3, "Q3 What did supervision teach you? #TraineeTalk", user=HOST, reply=Q2, conv=INTRO),
        tw(CLOSING, "Thanks all! #TraineeTalk", user=HOST, reply=Q3, conv=INTRO, at=3600),
    ]


QUESTION_OF = {Q1: 1, Q2: 2, Q3: 3}
HEADINGS = {1: Q1, 2: Q2, 3: Q3}


def place(*tweets: ChatTweet) -> dict[str, Placement]:
    return assign(
        [*host_posts(), *tweets], question_of=QUESTION_OF, headings=HEADINGS, host=HOST,
        other_posts=(INTRO, CLOSING),
    )  # fmt: skip


def frame() -> ChatFrame:
    return ChatFrame(
        id=7, hashtag="#TraineeTalk", host=HOST, starts_at=T0 - timedelta(minutes=15),
        ends_at=T0 + timedelta(hours=2), topic="Endings", origin="bot",
    )  # fmt: skip


def transcript(*tweets: ChatTweet, **options: object) -> Transcript:
    return build_transcript(
        frame(), [*host_posts(), *tweets], question_of=QUESTION_OF, headings=HEADINGS,
        other_posts=(INTRO, CLOSING), **options,  # type: ignore[arg-type]
    )  # fmt: skip


# -- labels --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("A1: supervision", (1,)),
        ("A1. supervision", (1,)),
        ("a1 - supervision", (1,)),
        ("A1 - supervision", (1,)),
        ("A 1: supervision", (1,)),
        ("A 1. supervision", (1,)),
        ("A 1 - supervision", (1,)),
        ("A1) supervision", (1,)),
        ("(A1) supervision", (1,)),
        ("[A2] supervision", (2,)),
        ("A1 supervision", (1,)),
        ("A1", (1,)),
        ("a12: twelve", (12,)),
        ("A3/A4 both", (3, 4)),
        ("A4 & A5 both", (4, 5)),
        ("A4&A5 both", (4, 5)),
        ("A1, A2 both", (1, 2)),
        ("A1 and A2: both", (1, 2)),
        ("A1+A2 both", (1, 2)),
        ("A 1, A 2: both", (1, 2)),
        ("A3/A4/A5 three", (3, 4, 5)),
        ("A2/A2 twice", (2,)),
        ("@tcbot A2 after the reply prefix", (2,)),
        ("@tcbot @ana_b A3: after two mentions", (3,)),
        ("@tcbot, @ana A3: mentions with a comma", (3,)),
        ("＠tcbot A1 full-width at sign", (1,)),
        ("  A1 leading spaces", (1,)),
        ("\u00a0A1 a non-breaking space first", (1,)),
        ("A1, and also this", (1,)),
    ],
)
def test_answer_labels_read_every_common_form(text: str, numbers: tuple[int, ...]) -> None:
    assert answer_labels(text) == numbers


@pytest.mark.parametrize(
    "text",
    [
        "I agree with A1, great point",  # mid-sentence
        "Loved the A2 answers tonight",
        "So true. A1: yes",  # a label after a sentence is not at the start
        "#TraineeTalk A1 hashtag first",  # only @mentions may come before a label
        "A1C levels matter",  # a word, not a label
        "A100 reasons",  # three digits
        "A 2-hour session is long",  # spaced form needs a separator, and 2- is a word
        "a 1:1 with my supervisor",  # 1:1 is not "A 1:"
        "A 2.5 hour day",
        "A lot of A1 answers",
        "AA1 typo",
        "Answer: supervision",
        "A0 zero",
        "Q1 a question is not an answer",
        "",
    ],
)
def test_answer_labels_ignore_non_labels(text: str) -> None:
    assert answer_labels(text) == ()


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Q1 What drew you here?", 1),
        ("Q2: How do you rest?", 2),
        ("q3. lower case", 3),
        ("Q 4: spaced", 4),
        ("@ana @bob Q5 after mentions", 5),
        ("(Q6) bracketed", 6),
        ("Quick question", None),
        ("I liked Q1", None),
        ("Q1a", None),
        ("#TraineeTalk Q1", None),
    ],
)
def test_question_number_reads_host_questions(text: str, number: int | None) -> None:
    assert question_number(text) == number


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("A4 &amp; A5", "A4 & A5"),
        ("&lt;script&gt;", "<script>"),
        ("&amp;lt; stays one level", "&lt; stays one level"),
        ("no entities", "no entities"),
    ],
)
def test_x_text_undoes_x_escaping_once(raw: str, plain: str) -> None:
    assert x_text(raw) == plain


def test_answer_labels_read_x_escaped_ampersand_after_unescaping() -> None:
    assert answer_labels(x_text("A4 &amp; A5 both")) == (4, 5)


# -- the five rules ------------------------------------------------------------------------

ANSWER_1 = tw(100, "@TraineeTalk A1 curiosity #TraineeTalk", user="bob", reply=Q1, conv=INTRO)


@pytest.mark.parametrize(
    ("case", "tweets", "target", "expected"),
    [
        ("1: a retweet, even of a labelled answer, is never an answer",
         [ANSWER_1, tw(101, "A1 curiosity #TraineeTalk", user="cy", rt="100")],
         "101", Placement(Role.RETWEET)),
        ("2: a label wins over the question replied to",
         [tw(101, "@TraineeTalk A2: rest #TraineeTalk", reply=Q1)], "101",
         Placement(Role.ANSWER, (2,))),
        ("2: a multi-label answers each question",
         [tw(101, "A3/A1 both at once #TraineeTalk")], "101", Placement(Role.ANSWER, (1, 3))),
        ("2: a labelled reply to an answer is an answer, not a reply",
         [ANSWER_1, tw(101, "@bob A2 me too #TraineeTalk", user="cy", reply="100")], "101",
         Placement(Role.ANSWER, (2,))),
        ("2: a label for a question the chat never had is no label",
         [tw(101, "A7 nope #TraineeTalk")], "101", Placement(Role.GENERAL)),
        ("2: the host may answer with a label too",
         [tw(101, "A1 mine: curiosity #TraineeTalk", user=HOST)], "101",
         Placement(Role.ANSWER, (1,))),
        ("3: an unlabelled reply to question 2 answers it",
         [tw(101, "@TraineeTalk sleep, mostly", reply=Q2, tags=())], "101",
         Placement(Role.ANSWER, (2,))),
        ("3: a quote of question 3 answers it",
         [tw(101, "Boundaries. #TraineeTalk", quote=Q3)], "101", Placement(Role.ANSWER, (3,))),
        ("3: the host's reply to its own question is a host comment",
         [tw(101, "Take your time everyone", user=HOST, reply=Q1, tags=())], "101",
         Placement(Role.GENERAL)),
        ("4: a reply to an answer sits under it",
         [ANSWER_1, tw(101, "@bob same here", user="cy", reply="100", tags=())], "101",
         Placement(Role.REPLY, (1,), "100")),
        ("4: the host's reply to an answer sits under it",
         [ANSWER_1, tw(101, "@bob lovely", user=HOST, reply="100", tags=())], "101",
         Placement(Role.REPLY, (1,), "100")),
        ("4: a reply to a reply sits under that reply",
         [ANSWER_1, tw(101, "@bob same", user="cy", reply="100"),
          tw(102, "@cy @bob really?", user="dee", reply="101")], "102",
         Placement(Role.REPLY, (1,), "101")),
        ("4: a reply whose parent is missing is general",
         [tw(101, "@zed indeed #TraineeTalk", reply="999")], "101", Placement(Role.GENERAL)),
        ("4: ...unless rule 2 places it",
         [tw(101, "@zed A2 indeed", reply="999")], "101", Placement(Role.ANSWER, (2,))),
        ("4: a reply to general chat is general",
         [tw(101, "Hello all #TraineeTalk"), tw(102, "@ana hi!", user="cy", reply="101")],
         "102", Placement(Role.GENERAL)),
        ("4: a reply to a retweet is general",
         [ANSWER_1, tw(101, "RT @bob: A1", user="cy", rt="100"),
          tw(102, "@cy nice", user="dee", reply="101")], "102", Placement(Role.GENERAL)),
        ("5: an unlabelled hashtag tweet is general",
         [tw(101, "Evening all, first time here #TraineeTalk")], "101", Placement(Role.GENERAL)),
        ("5: a mid-sentence label is no label",
         [tw(101, "I agree with A1 #TraineeTalk")], "101", Placement(Role.GENERAL)),
        ("5: the intro is general", [], INTRO, Placement(Role.GENERAL)),
        ("5: the closing, though it replies to Q3, is general", [], CLOSING,
         Placement(Role.GENERAL)),
        ("the host's question posts head their questions", [], Q2,
         Placement(Role.QUESTION, (2,))),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else None,
)  # fmt: skip
def test_assign_applies_the_rules_in_order(
    case: str, tweets: list[ChatTweet], target: str, expected: Placement
) -> None:
    assert place(*tweets)[target] == expected, case


def test_assign_places_a_reply_that_comes_before_its_parent_in_time() -> None:
    answer = tw(100, "A1 early bird", at=50)
    reply = tw(101, "@ana yes", user="cy", reply="100", at=40)  # clocks disagree
    assert place(answer, reply)["101"] == Placement(Role.REPLY, (1,), "100")


def test_assign_survives_a_reply_loop() -> None:
    loop = [tw(100, "one", reply="101"), tw(101, "two", reply="100")]
    placed = place(*loop)
    assert {placed["100"].role, placed["101"].role} == {Role.GENERAL}


def test_assign_labels_may_name_a_question_whose_post_is_missing() -> None:
    headings = {1: Q1, 3: Q3}  # Q2's post was never archived
    placed = assign(
        [tw(101, "A2 still counts")], question_of={Q1: 1, Q3: 3}, headings=headings, host=HOST
    )
    assert placed["101"] == Placement(Role.ANSWER, (2,))


# -- which tweets are the chat's -------------------------------------------------------------


def test_select_chat_tweets_takes_hashtag_conversation_and_replies_to_chat_tweets() -> None:
    candidates = [
        *host_posts(),
        tw(100, "@TraineeTalk A1 in the thread, no tag", tags=(), reply=Q1, conv=INTRO),
        tw(101, "Standalone A2 #TRAINEETALK", tags=("TRAINEETALK".lower(),), conv="101"),
        tw(102, "@ana reply without tag", user="cy", tags=(), reply="101", conv="101"),
        tw(103, "@cy deeper, still no tag", user="dee", tags=(), reply="102", conv="101"),
        tw(104, "Another chat #OtherTag", tags=("othertag",), conv="104"),
        tw(105, "@zed unrelated reply", tags=(), reply="104", conv="104"),
        tw(106, "Not a reply, no tag", tags=(), conv="106"),
    ]
    chosen = select_chat_tweets(candidates, hashtag="#TraineeTalk", post_ids=QUESTION_OF)
    ids = [tweet.id for tweet in chosen]
    assert ids == [INTRO, Q1, Q2, Q3, "100", "101", "102", "103", CLOSING]


def test_found_questions_are_the_hosts_q_posts_first_one_heads() -> None:
    candidates = [
        tw(10, "Q1 first #TraineeTalk", user="traineetalk"),  # the host, any case
        tw(11, "Q1 oops, again #TraineeTalk", user=HOST),
        tw(20, "@ana Q2: second #TraineeTalk", user=HOST),
        tw(21, "Q3 from someone else #TraineeTalk", user="ana"),
        tw(22, "RT Q4", user=HOST, rt="5"),
    ]
    posts = found_questions(candidates, host=HOST)
    assert posts.headings == {1: "10", 2: "20"}
    assert posts.question_of == {"10": 1, "11": 1, "20": 2}


@pytest.mark.parametrize(
    ("urls", "links"),
    [
        ([{"url": "https://t.co/a", "expanded_url": "https://example.org/a"}],
         ("https://example.org/a",)),
        ([{"url": "https://t.co/q", "expanded_url": "https://twitter.com/bob/status/123"}], ()),
        ([{"url": "https://t.co/j", "expanded_url": "javascript:alert(1)"}], ()),
        ([{"url": "https://t.co/u", "unwound_url": "https://example.org/u",
           "expanded_url": "https://bit.ly/u"}], ("https://example.org/u",)),
        ([{"url": "https://t.co/p", "expanded_url": "https://x.com/bob"}], ("https://x.com/bob",)),
        (None, ()),
        ("junk", ()),
    ],
)  # fmt: skip
def test_tweet_links_keep_web_links_only(urls: object, links: tuple[str, ...]) -> None:
    assert tweet_links(urls) == links


# -- building the transcript -----------------------------------------------------------------


def test_build_transcript_groups_answers_and_nests_replies() -> None:
    result = transcript(
        ANSWER_1,
        tw(101, "A1 second answer", user="cy"),
        tw(102, "@bob me too", user="dee", reply="100", tags=()),
        tw(103, "@dee really?", user="bob", reply="102", tags=()),
        tw(104, "A2/A3 double", user="dee"),
        tw(105, "hello #TraineeTalk", user="eve"),
        tw(106, "RT @bob: A1 curiosity", user="fay", rt="100"),
    )
    q1, q2, q3 = result.questions
    assert [entry.tweet.id for entry in q1.answers] == ["100", "101"]
    assert [(d, e.tweet.id) for d, e in walk(q1.answers)] == [
        (0, "100"), (1, "102"), (2, "103"), (0, "101"),
    ]  # fmt: skip
    assert [e.tweet.id for e in q2.answers] == ["104"] == [e.tweet.id for e in q3.answers]
    assert [t.id for t in result.general] == [INTRO, "105", CLOSING]
    assert q1.tweet is not None and q1.tweet.id == Q1
    assert result.stats.answers == 3  # the double answer counts once
    assert (result.stats.replies, result.stats.retweets) == (2, 1)
    assert result.stats.tweets == 5 + 6  # host posts and every shown tweet, no retweet
    assert "fay" not in [p.username for p in result.participants]


def test_build_transcript_nests_deep_threads_up_to_max_depth() -> None:
    chain = [tw(100, "A1 start", user="bob")]
    for n in range(1, 200):
        chain.append(tw(100 + n, f"@x reply {n}", user=f"u{n % 7}", reply=str(99 + n), tags=()))
    result = transcript(*chain)
    depths = [depth for depth, _ in walk(result.questions[0].answers)]
    assert depths[: MAX_DEPTH + 1] == list(range(MAX_DEPTH + 1))
    assert depths[MAX_DEPTH + 1 :] == [MAX_DEPTH] * (200 - MAX_DEPTH - 1)
    assert len(depths) == 200
    assert all(result.placements[t.id].role is Role.REPLY for t in chain[1:])


def test_build_transcript_leaves_out_protected_accounts_unless_asked() -> None:
    secret = tw(100, "A1 private answer", user="priv", protected=True)
    reply = tw(101, "@priv agreed", user="bob", reply="100", tags=())
    hidden = transcript(secret, reply)
    assert hidden.questions[0].answers == ()
    assert "priv" not in [p.username for p in hidden.participants]
    assert [t.id for t in hidden.general][-2:] == ["101", CLOSING]  # parent missing: general
    shown = transcript(secret, reply, include_protected=True)
    assert [(d, e.tweet.id) for d, e in walk(shown.questions[0].answers)] == [
        (0, "100"), (1, "101"),
    ]  # fmt: skip
    assert shown.protected_included and not hidden.protected_included


def test_build_transcript_marks_first_time_participants() -> None:
    result = transcript(ANSWER_1, tw(101, "A1 hi", user="cy"), returning={"id-bob", f"id-{HOST}"})
    people = {p.username: p for p in result.participants}
    assert (people["bob"].first_time, people["cy"].first_time) == (False, True)
    assert people[HOST].host and not people["bob"].host
    assert result.stats.first_time_participants == 1
    assert people[HOST].tweets == 5


def test_build_transcript_lists_shared_links_once_in_order() -> None:
    result = transcript(
        tw(100, "A1 see", user="bob", links=("https://example.org/a",)),
        tw(101, "A1 and", user="cy", links=("https://example.org/b", "https://example.org/a")),
    )
    assert [(k.url, k.author) for k in result.links] == [
        ("https://example.org/a", "bob"), ("https://example.org/b", "cy"),
    ]  # fmt: skip
