"""The reading pages in a real browser (Debian's Chromium through Playwright) on a real server:
what a person looks for on each page, the filter form without JavaScript, hostile text shown
as text with no dialog ever opening, nothing the Content-Security-Policy had to block, and a
screenshot of each page (build/test-artifacts/screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import archive.db
from archive.web.app import create_app
from tests.web_harness import chromium, screenshot, serve
from tests.web_seed import HOSTILE_NAME, HOSTILE_TEXT, Seeded, seed_archive

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


class Site:
    """One browser page on the served, seeded archive, with what it has seen."""

    def __init__(self, base: str, page: Any, seeded: Seeded) -> None:
        self.base, self.page, self.seeded = base, page, seeded
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self.on_dialog)
        page.on("console", self.on_console)

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("web-reading")
    url = f"sqlite:///{folder / 'tcbot.db'}"
    engine = archive.db.make_engine(url)
    archive.db.upgrade(engine)
    writer = archive.db.make_session_factory(engine)
    seeded = seed_archive(writer, NOW)
    read_only = archive.db.make_read_only_engine(url)
    app = create_app(
        read_sessions=archive.db.make_session_factory(read_only), write_sessions=writer,
        zone=ZoneInfo("Europe/London"), secret_key="test-secret", state={"now": lambda: NOW},
    )  # fmt: skip
    with serve(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        yield Site(base, page, seeded)
        page.close()
    read_only.dispose()
    engine.dispose()


@pytest.fixture(autouse=True)
def no_dialog_and_nothing_blocked(site: Site) -> Iterator[None]:
    yield
    assert site.dialogs == []
    assert [e for e in site.console_errors if "Content Security Policy" in e] == []


def test_browser_chats_page(site: Site) -> None:
    page = site.open("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Chats"
    assert page.get_by_role(
        "img", name="Participants and newcomers in the last 2 chats"
    ).is_visible()
    assert page.get_by_role("link", name="endings with clients").first.is_visible()
    assert page.get_by_role("cell", name="9", exact=True).is_visible()
    screenshot(page, "chats")


def test_browser_chat_page_answers_newcomers_and_hostile_text(site: Site) -> None:
    page = site.open(f"/chats/{site.seeded.manual_chat}")
    assert page.get_by_role("heading", name="endings with clients", level=1).is_visible()
    q1 = page.locator("section.question", has=page.get_by_role("heading", name="Q1"))
    assert q1.locator("article.answer").count() == 2
    answer = page.locator(f"#t{site.seeded.newcomer_answer}")
    assert "planning it together" in answer.inner_text()
    assert answer.locator(".badge.new").inner_text() == "first time"
    assert page.locator(f"#t{site.seeded.hostile_tweet} .tweet").inner_text() == HOSTILE_TEXT
    assert page.locator(f"#t{site.seeded.hostile_tweet} .byline a").first.inner_text() == HOSTILE_NAME  # fmt: skip
    assert page.locator("img").count() == 0  # the <img> in the tweet is text, not an element
    link = answer.get_by_role("link", name="12:07 (open on X)")
    assert link.get_attribute("href") == "https://x.com/cara/status/2011"
    screenshot(page, "chat")


def test_browser_chat_filter_form_works_without_scripts(site: Site) -> None:
    page = site.open(f"/chats/{site.seeded.manual_chat}")
    page.get_by_label("Question").select_option("2")
    page.get_by_label("Only people here for the first time").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/chats/*?question=2*")
    assert "newcomers=1" in page.url
    assert page.get_by_role("heading", name="Q1").count() == 0
    assert page.locator(f"#t{site.seeded.hostile_tweet} .tweet").inner_text() == HOSTILE_TEXT
    assert page.get_by_text("boundaries too").count() == 0  # ben is not new
    screenshot(page, "chat-filtered")


def test_browser_thread_page(site: Site) -> None:
    page = site.open(f"/threads/{site.seeded.nested_reply}")
    assert page.get_by_role("heading", name="Thread", level=1).is_visible()
    focus = page.locator("article.focus")
    assert "naming it early helps" in focus.inner_text()
    parent = page.locator("#t2013").bounding_box()
    reply = focus.bounding_box()
    assert parent is not None and reply is not None and reply["x"] > parent["x"]  # indented
    screenshot(page, "thread")


def test_browser_person_page(site: Site) -> None:
    page = site.open("/people/cara")
    assert page.get_by_role("heading", level=1).inner_text() == "Cara Newcomer @cara"
    assert page.get_by_text("welcomed by the bot").is_visible()
    screenshot(page, "person")
    hostile = site.open("/people/mal")
    assert hostile.get_by_role("heading", level=1).inner_text() == f"{HOSTILE_NAME} @mal"
    assert hostile.locator(".tweet").first.inner_text() == HOSTILE_TEXT


def test_browser_intros_page(site: Site) -> None:
    page = site.open("/intros")
    assert page.get_by_role("heading", name="Introductions", level=1).is_visible()
    assert page.get_by_text("I'm Priya, a trainee counsellor").is_visible()
    screenshot(page, "intros")


def test_browser_search_highlights_the_match(site: Site) -> None:
    page = site.open("/search")
    page.get_by_label("Words to look for").fill("supervision")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=supervision")
    marks = page.locator("mark")
    assert marks.count() == 4 and marks.first.inner_text().lower() == "supervision"
    ben = page.locator("#t2022 .tweet")
    assert ben.inner_text() == "A2: supervision <b>matters</b> & boundaries too #TraineeTalk"
    assert ben.locator("b").count() == 0
    screenshot(page, "search")
    bad = site.page.goto(site.base + "/search?q=%22")
    assert bad is not None and bad.status == 400
    assert site.page.get_by_role("alert").inner_text().startswith("Cannot search for that")


def test_browser_status_page(site: Site) -> None:
    page = site.open("/status")
    assert page.get_by_role("heading", name="Status", level=1).is_visible()
    assert page.get_by_role("heading", name="Next posts").is_visible()
    assert page.get_by_text("failed: X refused the post: duplicate content").is_visible()
    screenshot(page, "status")
