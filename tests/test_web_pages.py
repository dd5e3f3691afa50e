"""The reading pages over HTTP, on SQLite and PostgreSQL: what each page shows of a seeded
archive (tests/web_seed.py), that untrusted text stays text, that protected accounts stay
hidden unless an organiser who is logged in asks, and the pages' accessibility rules."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from archive.db import make_read_only_engine, make_session_factory
from archive.ingest import ingest_page
from archive.web import intro_page, search_page
from archive.web.app import create_app
from archive.web.chart import Point, bar_chart
from archive.web.marking import marked_html
from archive.web.security import LOGIN_KEY
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user
from tests.web_seed import HOSTILE_NAME, HOSTILE_TEXT, PEOPLE, Seeded, seed_archive

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/London")
PRICES = SimpleNamespace(post_read=0.005, user_read=0.01, post_create=0.01)


async def pretend_login(request: Request) -> PlainTextResponse:
    request.session[LOGIN_KEY] = NOW.timestamp()
    return PlainTextResponse("logged in")


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def seeded(writer: sessionmaker[Session]) -> Seeded:
    return seed_archive(writer, NOW)


@pytest.fixture
def client(db_url: str, writer: sessionmaker[Session], seeded: Seeded) -> Iterator[TestClient]:
    read_only = make_read_only_engine(db_url)
    app = create_app(
        read_sessions=make_session_factory(read_only), write_sessions=writer, zone=ZONE,
        secret_key="test-secret", extra_routes=[Route("/test-login", pretend_login)],
        state={"now": lambda: NOW, "prices": PRICES},
    )  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    read_only.dispose()


def pages(seeded: Seeded) -> list[str]:
    return [
        "/", f"/chats/{seeded.manual_chat}", f"/chats/{seeded.bot_chat}",
        f"/threads/{seeded.hostile_tweet}", "/people/cara", "/people/mal", "/intros",
        "/search?q=supervision", "/search", "/status",
    ]  # fmt: skip


# -- what each page shows ------------------------------------------------------------------


def test_web_chats_page_lists_chats_newest_first_with_counts_and_gaps(
    client: TestClient, seeded: Seeded
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    manual, bot = text.index(f'href="/chats/{seeded.manual_chat}"'), text.index(f'href="/chats/{seeded.bot_chat}"')  # fmt: skip
    table = text[text.index('id="all-chats"') :]
    assert table.index("endings with clients") < table.index("settling before sessions")
    assert manual and bot
    row = table[table.index("endings with clients") : table.index("</tr>", table.index("endings with clients"))]  # fmt: skip
    cells = [c.split("</td>")[0].strip() for c in row.split('<td class="num">')[1:]]
    assert cells == ["9", "5", "2"]  # tweets, participants, newcomers (priv's answer hidden)
    assert "Wed 2 Dec 2026, 12:30 GMT to Wed 2 Dec 2026, 12:40 GMT not collected" in row


def test_web_chats_chart_is_inline_svg_with_title_desc_and_a_table(client: TestClient) -> None:
    text = client.get("/").text
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'role="img"' in svg and '<title id="chart-title">' in svg and "<desc" in svg
    assert svg.count('class="bar participants"') == 2 and svg.count('class="bar newcomers"') == 2
    assert "<title>5 participants</title>" in svg and "<title>2 newcomers</title>" in svg
    numbers = text[text.index('class="chart-numbers"') :]
    assert "+2" in numbers and "-1" in numbers  # participants 3 -> 5, newcomers 3 -> 2
    assert "<script" not in text


def test_web_chat_page_shows_questions_answers_replies_and_newcomers(
    client: TestClient, seeded: Seeded
) -> None:
    text = client.get(f"/chats/{seeded.manual_chat}").text
    q1 = text[text.index('id="q1"') : text.index('id="q2"')]
    assert "What makes a good ending" in q1
    assert q1.index("planning it together") < q1.index("naming the ending early")
    reply = q1[q1.index(f'id="t{seeded.nested_reply}"') - 60 :]
    assert "depth-1 reply" in reply[:80]  # cara's reply sits under ana's answer
    newcomer = q1[q1.index(f'id="t{seeded.newcomer_answer}"') :]
    assert '<span class="badge new">first time</span>' in newcomer[:400]
    assert 'href="https://x.com/cara/status/2011"' in q1
    assert "secret protected answer" not in text
    for fmt in ("json", "md", "html", "csv"):
        assert f'href="/chats/{seeded.manual_chat}.{fmt}"' in text


def test_web_chat_page_of_a_bot_chat_shows_the_questions_it_posted(
    client: TestClient, seeded: Seeded
) -> None:
    text = client.get(f"/chats/{seeded.bot_chat}").text
    assert 'id="q1"' in text and 'id="q2"' in text and 'id="q3"' not in text  # Q3 failed
    q1 = text[text.index('id="q1"') : text.index('id="q2"')]
    assert "breathing exercises" in q1 and 'depth-1 reply" id="t1013"' in q1


@pytest.mark.parametrize(
    ("query", "shown", "left_out"),
    [
        ("question=2", ["What do you take to supervision"], ["planning it together", 'id="general"']),
        ("person=%40Cara", ["planning it together", "naming it early helps"], ["naming the ending early", "boundaries too"]),
        ("newcomers=1", ["planning it together", "&lt;img src=x"], ["naming the ending early", "boundaries too"]),
        ("question=1&newcomers=1", ["planning it together"], ["&lt;img src=x", "naming the ending early"]),
        ("question=abc&person=", ["planning it together", "boundaries too"], []),
    ],
)  # fmt: skip
def test_web_chat_page_filters_by_query_string(
    client: TestClient, seeded: Seeded, query: str, shown: list[str], left_out: list[str]
) -> None:
    response = client.get(f"/chats/{seeded.manual_chat}?{query}")
    assert response.status_code == 200
    for text in shown:
        assert text in response.text, text
    for text in left_out:
        assert text not in response.text, text


def test_web_chat_downloads_are_attachments_made_by_the_archive_renderers(
    client: TestClient, seeded: Seeded
) -> None:
    base = f"/chats/{seeded.manual_chat}"
    data = client.get(f"{base}.json")
    assert data.headers["content-disposition"] == 'attachment; filename="chat-2-2026-12-02.json"'
    body = json.loads(data.text)
    assert [q["number"] for q in body["questions"]] == [1, 2]
    assert HOSTILE_TEXT in data.text.replace("\\u003c", "<")
    markdown = client.get(f"{base}.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown.text
    html = client.get(f"{base}.html")
    assert html.headers["content-disposition"].startswith("attachment;")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html.text and HOSTILE_TEXT not in html.text
    rows = list(csv.reader(io.StringIO(client.get(f"{base}.csv").text)))
    assert rows[0][0] == "tweet_id" and any(r[8] == HOSTILE_TEXT for r in rows[1:])
    assert not any("secret protected answer" in r[8] for r in rows[1:])
    assert client.get(f"{base}.pdf").status_code == 404


def test_web_thread_page_shows_the_conversation_as_an_indented_tree(
    client: TestClient, seeded: Seeded
) -> None:
    text = client.get(f"/threads/{seeded.nested_reply}").text
    order = [text.index(f'id="t{i}"') for i in ("2000", "2010", "2013", "2014", "2020")]
    assert order == sorted(order)
    assert 'class="post depth-3 focus" id="t2014"' in text  # root > Q1 > ana's answer > reply
    assert "1 tweet from protected or suspended accounts is hidden" in text
    assert client.get("/threads/999999").status_code == 404
    assert client.get("/threads/abc").status_code == 404


def test_web_person_page_shows_tweets_first_seen_welcome_and_opt_out(
    client: TestClient, seeded: Seeded
) -> None:
    cara = client.get("/people/CARA").text
    assert "Cara Newcomer" in cara and "welcomed by the bot" in cara and "has not opted out" in cara
    assert "2 tweets archived" in cara and f'href="/chats/{seeded.manual_chat}?person=cara"' in cara
    assert "First tweet in the archive</dt><dd>Wed 2 Dec 2026, 12:07 GMT" in cara
    dee = client.get("/people/@dee").text
    assert "opted out on" in dee and "no welcome decided" in dee
    priv = client.get("/people/priv").text
    assert "protected or suspended" in priv and "secret protected answer" not in priv
    assert "Private Person" not in priv
    missing = client.get("/people/nobody_here")
    assert missing.status_code == 404 and "Nobody called @nobody_here" in missing.text


def test_web_intros_page_lists_introductions_newest_first_in_pages(
    client: TestClient, writer: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = client.get("/intros").text
    assert "I&#39;m Priya, a trainee counsellor" in text and "Role: trainee counsellor" in text
    assert "webinar" not in text and "I&#39;m Sam" not in text
    assert "1 introduction from protected or suspended accounts is hidden" in text
    with writer.begin() as session:
        later = make_tweet("3010", "Hello all, I'm Jo, a counselling student from Cardiff, new here "
                           "#TherapistsConnect", author_id=PEOPLE["ana"], created_at=NOW - timedelta(hours=1))  # fmt: skip
        ingest_page(session, make_page([later], users=[make_user(PEOPLE["ana"], "ana")]),
                    endpoint=SEARCH_ENDPOINT, fetched_at=NOW)  # fmt: skip
    monkeypatch.setattr(intro_page, "PER_PAGE", 1)
    first = client.get("/intros").text
    assert "I&#39;m Jo" in first and "Priya" not in first
    assert 'href="/intros?before=3010"' in first
    second = client.get("/intros?before=3010").text
    assert "Priya" in second and "I&#39;m Jo" not in second and "Back to the newest" in second


def test_web_search_marks_matches_after_escaping(client: TestClient) -> None:
    text = client.get("/search?q=supervision").text
    assert "A2: <mark>supervision</mark> &lt;b&gt;matters&lt;/b&gt; &amp; boundaries too" in text
    assert text.count("<mark>") == 4
    none = client.get("/search?q=nowhereword")
    assert none.status_code == 200 and "Nothing matches" in none.text


def test_web_search_pages_through_results(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_page, "PER_PAGE", 3)
    first = client.get("/search?q=supervision").text
    assert first.count("<mark>") == 3 and 'href="/search?q=supervision&amp;page=2"' in first
    second = client.get("/search?q=supervision&page=2").text
    assert second.count("<mark>") == 1 and "More matches" not in second


@pytest.mark.parametrize(
    "query", ['"', ")(", "a*", "x" * 600, "-only", "NEAR(", "'; DROP TABLE tweets; --"]
)
def test_web_search_bad_query_gives_a_friendly_message(client: TestClient, query: str) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code in (200, 400)
    assert "Something went wrong" not in response.text
    if response.status_code == 400:
        assert "Cannot search for that" in response.text and "Try this:" in response.text


def test_web_search_far_page_says_what_to_do(client: TestClient) -> None:
    response = client.get("/search?q=supervision&page=999")
    assert response.status_code == 400 and "Add a word to narrow it" in response.text


def test_web_status_page_shows_queue_problems_gaps_and_usage(client: TestClient) -> None:
    text = client.get("/status").text
    upcoming = text[text.index('id="next"') : text.index('id="problems"')]
    assert "Wed 16 Dec 2026, 12:00 GMT" in upcoming and "rest and recovery" in upcoming
    problems = text[text.index('id="problems"') : text.index('id="gaps"')]
    assert "failed: X refused the post: duplicate content" in problems
    assert "missed: tcbot run was not running then" in problems
    assert "reminder 1 h before" in problems
    usage = text[text.index('id="usage"') :]
    assert "December 2026" in usage and ">120<" in usage and ">5<" in usage
    assert "about $0.95" in usage  # 120 * 0.005 + 30 * 0.01 + 5 * 0.01
    assert "No 'tcbot run' is running" in text


# -- protected accounts --------------------------------------------------------------------


def test_web_protected_tweets_hidden_unless_logged_in_and_asked(
    client: TestClient, seeded: Seeded
) -> None:
    chat = f"/chats/{seeded.manual_chat}"
    secret = "secret protected answer"
    assert secret not in client.get(f"{chat}?include_protected=1").text  # not logged in
    anonymous = client.get(chat).text
    assert "1 tweet from protected or suspended accounts is hidden" in anonymous
    assert "Organisers who are logged in can choose to see them" in anonymous
    client.get("/test-login")
    logged_in = client.get(chat).text
    assert secret not in logged_in and "include_protected=1" in logged_in
    shown = client.get(f"{chat}?include_protected=1").text
    assert secret in shown and "Showing protected and suspended accounts" in shown
    assert secret in client.get(f"{chat}.csv?include_protected=1").text
    assert "Private Person" in client.get("/people/priv?include_protected=1").text
    assert "I&#39;m Sam" in client.get("/intros?include_protected=1").text
    assert (
        "<mark>secret</mark> protected" in client.get("/search?q=secret&include_protected=1").text
    )
    assert "<mark>secret</mark>" not in client.get("/search?q=secret").text
    assert "Some matches are from protected" in client.get("/search?q=secret").text


# -- untrusted text and page rules -----------------------------------------------------------


def test_web_hostile_text_and_names_are_escaped_on_every_page(
    client: TestClient, seeded: Seeded
) -> None:
    seen_text = seen_name = False
    for path in pages(seeded):
        text = client.get(path).text
        assert HOSTILE_TEXT not in text and HOSTILE_NAME not in text, path
        seen_text |= "&lt;img src=x onerror=alert(1)&gt;" in text
        seen_name |= "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert seen_text and seen_name


class PageRules(HTMLParser):
    """Collects what the page rules are about: headings, fields and labels, inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.fields: list[str] = []
        self.labels: set[str] = set()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.h1 += tag == "h1"
        if tag in ("input", "select", "textarea") and values.get("type") not in (
            "hidden",
            "submit",
        ):
            self.fields.append(values.get("id") or "(no id)")
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        if "style" in values or tag == "style" or any(k.startswith("on") for k in values):
            self.problems.append(f"inline style or handler on <{tag}>")
        if tag == "script" and not (values.get("src") or "").startswith("/"):
            self.problems.append("inline or foreign script")
        for key in ("src", "href"):
            link = values.get(key) or ""
            loads = tag in ("link", "script", "img", "iframe") and key in ("src", "href")
            if loads and link.startswith(("http:", "https:", "//")):
                self.problems.append(f"<{tag}> loads {link}")


def test_web_every_reading_page_has_one_h1_labelled_fields_and_no_inline_code(
    client: TestClient, seeded: Seeded
) -> None:
    for path in [*pages(seeded), "/search?q=%22"]:
        rules = PageRules()
        rules.feed(client.get(path).text)
        assert rules.h1 == 1, path
        assert set(rules.fields) <= rules.labels, (path, rules.fields)
        assert rules.problems == [], (path, rules.problems)


def test_web_unknown_chat_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/chats/999")
    assert response.status_code == 404 and "There is no chat with that number" in response.text


def test_web_chats_page_counts_follow_new_tweets(
    client: TestClient, writer: sessionmaker[Session], seeded: Seeded
) -> None:
    assert ">9<" in client.get("/").text
    late = make_tweet("2040", "A2 one more thought on supervision #TraineeTalk",
                      author_id=PEOPLE["dee"], created_at=NOW - timedelta(days=8, minutes=-50))  # fmt: skip
    with writer.begin() as session:
        ingest_page(session, make_page([late], users=[make_user(PEOPLE["dee"], "dee")]),
                    endpoint=SEARCH_ENDPOINT, fetched_at=NOW)  # fmt: skip
    text = client.get("/").text
    row = text[text.index('id="all-chats"') :]
    assert ">10<" in row and ">6<" in row and ">3<" in row  # tweets, participants, newcomers


# -- pure pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spans", "html"),
    [
        ("a <b>word</b>", ((3, 6),), "a &lt;<mark>b&gt;w</mark>ord&lt;/b&gt;"),
        ("<mark>x</mark> x", ((15, 16),), "&lt;mark&gt;x&lt;/mark&gt; <mark>x</mark>"),
        ("café & co", ((0, 4), (7, 9)), "<mark>café</mark> &amp; <mark>co</mark>"),
        ("abc", ((2, 1), (0, 9)), "abc"),
    ],
)
def test_marked_html_escapes_before_marking(
    text: str, spans: tuple[tuple[int, int], ...], html: str
) -> None:
    assert str(marked_html(text, spans)) == html


def test_bar_chart_scales_bars_to_a_round_maximum() -> None:
    chart = bar_chart([Point("1 Dec", 8, 2), Point("8 Dec", 3, 0)])
    assert [t.value for t in chart.ticks] == [0, 5, 10]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert (tallest.kind, tallest.value) == ("participants", 8)
    assert all(b.y + b.height == pytest.approx(chart.bottom) for b in chart.bars)
    assert [label.text for label in chart.labels] == ["1 Dec", "8 Dec"]


def test_web_chats_page_sees_imported_history_before_a_chat(
    client: TestClient, writer: sessionmaker[Session], seeded: Seeded
) -> None:
    """Tweets from long before every chat change who was new: the counts follow."""
    before = client.get("/").text
    old = make_tweet("1500", "an old hello #TraineeTalk", author_id=PEOPLE["cara"],
                     created_at=NOW - timedelta(days=400))  # fmt: skip
    with writer.begin() as session:
        ingest_page(session, make_page([old], users=[make_user(PEOPLE["cara"], "cara")]),
                    endpoint=SEARCH_ENDPOINT, fetched_at=NOW)  # fmt: skip
    after = client.get("/").text
    latest, earlier = newcomers(before)  # cara was new in the latest chat
    assert newcomers(after) == [latest - 1, earlier]


def newcomers(page: str) -> list[int]:
    """The Newcomers column of the chats table, newest chat first."""
    table = page[page.index('id="all-chats"') :]
    cells = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table)]
    return cells[2::3]


def test_web_chats_are_counted_in_the_background_at_start(
    client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive.web import chat_counts
    from archive.web.chat_pages import warm_counts

    warm_counts(client.app).join(timeout=60)

    def no_counting(*args: object) -> None:
        raise AssertionError("the chats page counted again instead of using the warm counts")

    monkeypatch.setattr(chat_counts, "_count", no_counting)
    monkeypatch.setattr(chat_counts, "chat_stats", no_counting)
    response = client.get("/")
    assert response.status_code == 200 and newcomers(response.text)
