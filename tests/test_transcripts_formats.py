"""Chat transcripts as JSON, Markdown, CSV and HTML: the issue's JSON names, and hostile text
and names escaped for every format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from archive.chat_rules import ChatTweet
from archive.transcript_formats import (
    CSV_COLUMNS,
    csv_id,
    md_escape,
    render_csv,
    render_json,
    render_markdown,
)
from archive.transcript_html import render_html
from archive.transcripts import Gap, Transcript
from tests.test_transcripts_rules import ANSWER_1, HOST, Q1, T0, transcript, tw

LONDON = ZoneInfo("Europe/London")
HOSTILE = "<script>alert(1)</script>"
BIG_ID = "1868001234567890123"


def sample() -> Transcript:
    """A chat with nesting, a double answer, hostile text, names and links, and a gap."""
    return transcript(
        ANSWER_1,
        tw(101, f"A1 {HOSTILE} & *stars* [x](javascript:alert(1))", user="cy", name=HOSTILE),
        tw(102, "@bob =1+2 me too", user="dee", name="=cmd|' /C calc'!A0", reply="100", tags=()),
        tw(BIG_ID, "@dee\n# not a heading\n- not a list", user="bob", reply="102", tags=(), at=103),
        tw(104, "A2/A3 double", user="eve", links=('https://example.org/?q="><script>',)),
        tw(105, f"hello {HOSTILE} #TraineeTalk", user="fay"),
        returning={"id-bob"},
        gaps=[Gap(T0, T0.replace(minute=5), "#TraineeTalk")],
    )


# -- JSON ----------------------------------------------------------------------------------

TWEET = {"tweet_id": {"type": "string"}, "author": {"type": "string"},
         "text": {"type": "string"}, "created_at": {"type": "string"}}  # fmt: skip
ENTRY: dict[str, object] = {
    "type": "object",
    "required": [*TWEET, "replies"],
    "properties": {**TWEET, "replies": {"type": "array", "items": {"$ref": "#/$defs/entry"}}},
}
ISSUE_SCHEMA = {
    "$defs": {"entry": ENTRY},
    "type": "object",
    "required": ["chat", "questions", "general", "participants", "gaps", "stats"],
    "properties": {
        "chat": {"type": "object",
                 "required": ["id", "hashtag", "host", "start", "end", "topic"]},
        "questions": {"type": "array", "items": {
            "type": "object",
            "required": ["number", "tweet_id", "text", "created_at", "answers"],
            "properties": {"number": {"type": "integer"},
                           "answers": {"type": "array", "items": {"$ref": "#/$defs/entry"}}},
        }},
        "general": {"type": "array", "items": {"type": "object", "required": list(TWEET),
                                               "properties": TWEET}},
        "participants": {"type": "array", "items": {
            "type": "object", "required": ["username", "name", "tweets", "first_time"],
            "properties": {"tweets": {"type": "integer"}, "first_time": {"type": "boolean"}},
        }},
        "gaps": {"type": "array"},
        "stats": {"type": "object", "required": ["tweets", "answers", "participants",
                                                  "first_time_participants", "retweets"]},
    },
}  # fmt: skip


def test_render_json_has_the_issue_schema_and_values() -> None:
    data = json.loads(render_json(sample()))
    jsonschema.validate(data, ISSUE_SCHEMA)
    assert data["chat"] == {
        "id": 7, "hashtag": "#TraineeTalk", "host": HOST, "start": "2026-12-02T19:45:00Z",
        "end": "2026-12-02T22:00:00Z", "topic": "Endings", "origin": "bot",
    }  # fmt: skip
    q1 = data["questions"][0]
    assert (q1["number"], q1["tweet_id"], q1["created_at"]) == (1, Q1, "2026-12-02T20:00:10Z")
    first = q1["answers"][0]
    assert (first["tweet_id"], first["author"]) == ("100", "bob")
    assert first["replies"][0]["replies"][0]["tweet_id"] == BIG_ID  # ids stay strings
    assert data["questions"][1]["answers"][0]["questions"] == [2, 3]
    assert data["questions"][1]["answers"] == data["questions"][2]["answers"]
    assert data["gaps"] == [
        {"start": "2026-12-02T20:00:00Z", "end": "2026-12-02T20:05:00Z", "hashtag": "#TraineeTalk"}
    ]
    people = {p["username"]: p for p in data["participants"]}
    assert people["bob"]["first_time"] is False and people["cy"]["first_time"] is True
    assert data["stats"]["first_time_participants"] == len(people) - 1


def test_render_json_of_an_empty_chat_keeps_every_key() -> None:
    empty = transcript()
    data = json.loads(render_json(empty))
    jsonschema.validate(data, ISSUE_SCHEMA)
    assert data["gaps"] == [] and data["stats"]["answers"] == 0


# -- HTML ----------------------------------------------------------------------------------


class Tags(HTMLParser):
    """Every start tag and attribute of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def test_render_html_escapes_hostile_text_names_topic_and_links() -> None:
    hostile = sample()
    hostile = replace(hostile, chat=replace(hostile.chat, topic=HOSTILE, host='"><b>x'))
    page = render_html(hostile, zone=LONDON, generated_at=T0)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tags = parsed(page)
    assert "script" not in tags.tags and "b" not in tags.tags
    assert not [name for name, _ in tags.attributes if name.startswith("on")]
    hrefs = [value or "" for name, value in tags.attributes if name == "href"]
    assert hrefs and all(href.startswith("https://") for href in hrefs)
    assert any(HOSTILE in text for text in tags.text)  # shown as text, to the letter
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_render_html_is_self_contained_with_questions_answers_and_links() -> None:
    page = render_html(sample(), zone=LONDON, generated_at=T0)
    tags = parsed(page)
    assert "link" not in tags.tags and "img" not in tags.tags and "iframe" not in tags.tags
    assert "style" in tags.tags  # inline CSS
    assert [t for t in tags.tags if t == "h2"].__len__() == 3 + 3  # Q1-Q3, general, people, links
    assert f'href="https://x.com/bob/status/{BIG_ID}"' in page
    assert "margin-left: 2.4rem" in page  # the reply to a reply is indented twice
    assert ">new<" in page  # newcomers are marked
    assert "20:00" in page and "GMT" in page  # local times
    assert "Not collected" in page  # the gap is shown
    assert "https://example.org/?q=&#34;&gt;&lt;script&gt;" in page  # the shared link, escaped


# -- Markdown ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (HOSTILE, "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("a|b ~c~ & d", "a&#124;b &#126;c&#126; &amp; d"),
        ("back\\slash", "back\\\\slash"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. item", "1\\. item"),
        ("2) item", "2\\) item"),
        ("=== rule", "&#61;== rule"),
        ("mid # - + 1. text", "mid # - + 1. text"),
        ("two\nlines", "two  \nlines"),
        ("  indented code?", "indented code?"),
    ],
)
def test_md_escape_neutralises_markdown(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


def test_render_markdown_renders_to_safe_html_showing_the_text() -> None:
    markdown = pytest.importorskip("markdown")
    document = render_markdown(sample(), zone=LONDON)
    assert "<script" not in document
    assert document.startswith("# \\#TraineeTalk: Endings\n")
    html = markdown.markdown(document)
    tags = parsed(html)
    assert "script" not in tags.tags
    assert HOSTILE in "".join(tags.text)
    assert "ul" in tags.tags and "h2" in tags.tags


def test_render_markdown_nests_replies_and_marks_newcomers() -> None:
    lines = render_markdown(sample(), zone=LONDON).splitlines()
    bob = next(i for i, line in enumerate(lines) if line.startswith("- **Bob** (@bob)"))
    assert lines[bob + 2].startswith("  - **&#61;cmd&#124;") and "(@dee)" in lines[bob + 2]
    assert lines[bob + 4].startswith("    - **Bob** (@bob)")
    assert "- Cy (@cy), 1 tweet (first time)" not in lines  # the name is hostile, escaped
    assert any(line.endswith("1 tweet (first time)") and "@cy" in line for line in lines)


# -- CSV -----------------------------------------------------------------------------------


def test_csv_id_is_a_text_formula_keeping_all_digits() -> None:
    assert csv_id(BIG_ID) == f'="{BIG_ID}"'
    assert csv_id(None) == ""


def test_render_csv_has_one_row_per_tweet_with_question_and_parent() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(sample()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_id = {row["tweet_id"].removeprefix('="').removesuffix('"'): row for row in rows}
    assert len(rows) == len(by_id) == sample().stats.tweets
    deep = by_id[BIG_ID]
    assert deep["tweet_id"] == f'="{BIG_ID}"'
    assert (deep["role"], deep["question"], deep["parent_id"]) == ("reply", "1", '="102"')
    assert (by_id["104"]["role"], by_id["104"]["question"]) == ("answer", "2;3")
    assert by_id["100"]["parent_id"] == f'="{Q1}"'  # an answer sits under its question
    assert by_id["102"]["text"] == "'@bob =1+2 me too"  # no formula
    assert by_id["102"]["name"] == "'=cmd|' /C calc'!A0"
    assert by_id[BIG_ID]["text"] == "@dee\n# not a heading\n- not a list".replace("@", "'@", 1)
    assert by_id["1"]["role"] == "general" and by_id["1"]["question"] == ""


def test_render_csv_keeps_commas_quotes_and_newlines_in_one_cell() -> None:
    text = 'A1 "quoted", with commas\nand a newline'
    table = render_csv(transcript(tw(100, text, user="bob")))
    rows = list(csv.reader(io.StringIO(table)))
    assert next(row for row in rows if row[0] == '="100"')[8] == text


def _now() -> datetime:
    return datetime(2026, 12, 2, tzinfo=UTC)


def test_chat_tweet_url_uses_i_when_the_username_is_unknown() -> None:
    tweet = ChatTweet(id="5", author_id=None, username="", name="", protected=False, text="",
                      created_at=_now())  # fmt: skip
    assert tweet.url == "https://x.com/i/status/5"
