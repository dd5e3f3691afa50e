"""The hosting pages in Chromium on a real server: log in, queue a chat through the form with
the live counter, preview, save, and find it in `tcbot queue list`; the same without
JavaScript; a screenshot of each hosting page (build/test-artifacts/screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine, make_read_only_engine, make_session_factory, upgrade
from archive.models import PostKind, PostStatus
from bot.clock import FakeClock
from bot.config import Settings
from bot.thread_text import weighted_length
from bot.web.passwords import hash_password
from bot.web.site import create_site
from tests.test_cli import run
from tests.test_web_hosting import DAY, NOW, PASSWORD, SERIES
from tests.test_welcomes_cli import scene, welcome_post
from tests.web_harness import chromium, screenshot, serve

QUESTION = "How do you end with a client? 🌱 https://example.org/endings"


@pytest.fixture
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dispose_cli_databases: None
) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """A running site (base URL) on a SQLite file the CLI also reads, and sessions on it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "series.toml").write_text(SERIES, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'tcbot.db'}"
    for name, value in {"TCBOT_DATABASE_URL": url, "TCBOT_SCHEDULE_FILES": "series.toml",
                        "TCBOT_LOG_LEVEL": "WARNING"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    write, read = make_engine(url), make_read_only_engine(url)
    upgrade(write)
    settings = Settings.from_env(
        {"TCBOT_DATABASE_URL": url, "TCBOT_SCHEDULE_FILES": "series.toml",
         "TCBOT_WEB_PASSWORD": hash_password(PASSWORD, iterations=1000)}
    )  # fmt: skip
    app = create_site(
        settings, clock=FakeClock(NOW), read_sessions=make_session_factory(read),
        write_sessions=make_session_factory(write), secret_key="browser-test",
    )  # fmt: skip
    try:
        with serve(app) as base:
            yield base, make_session_factory(write)
    finally:
        write.dispose()
        read.dispose()


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/host/queue")
    expect(page.get_by_role("heading", name="Log in to host")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/host/queue")


def watch_console(page: Any) -> list[str]:
    """Script errors and console errors (a script blocked by the CSP would be one), and
    any file of the page that failed to load (the browser's own /favicon.ico aside)."""
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def response(answer: Any) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            errors.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", response)
    return errors


def test_web_browser_queue_a_chat_with_the_live_counter(
    site: tuple[str, sessionmaker[Session]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _sessions = site
    with chromium() as browser:
        page = browser.new_page()
        errors = watch_console(page)
        log_in(page, base)
        assert page.get_by_role("heading", level=1).all_inner_texts() == ["Queue a chat"]
        page.get_by_label("Date of the chat").fill(DAY)
        page.get_by_label("Topic").fill("Endings")
        count = page.locator("#question-1-count")
        expect(count).to_have_text("")
        page.get_by_label("Question 1", exact=True).press_sequentially("How")
        expect(count).to_have_text(f"Posted as Q1: {weighted_length('Q1 How #TraineeTalk')}/280")
        page.get_by_label("Question 1", exact=True).fill(QUESTION)
        expected = weighted_length(f"Q1 {QUESTION} #TraineeTalk")
        expect(count).to_have_text(f"Posted as Q1: {expected}/280")  # the server's count
        page.get_by_label("Question 2", exact=True).fill("x" * 270)
        expect(page.locator("#question-2-count")).to_contain_text("too long by")
        page.get_by_label("Question 2", exact=True).fill("What helps you say goodbye?")
        expect(page.locator("#topic-count")).to_contain_text("Intro post")
        screenshot(page, "host-queue-typing")

        page.get_by_role("button", name="Preview").click()
        preview = page.locator(".preview")
        expect(preview.get_by_role("heading", name="Preview")).to_be_visible()
        expect(preview).to_contain_text("No problems found")
        expect(preview).to_contain_text(f"Q1 {QUESTION} #TraineeTalk")
        expect(preview).to_contain_text(f"{expected}/280")
        screenshot(page, "host-queue-preview")

        page.get_by_role("button", name="Save the chat").click()
        expect(page.get_by_text("new chat 'Endings', 5 posts")).to_be_visible()
        expect(page.get_by_role("button", name="Hold post 4")).to_be_visible()
        screenshot(page, "host-queue")

        page.get_by_role("link", name="Edit post 4").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Change the text")
        screenshot(page, "host-edit-post")
        assert errors == []

    code, out, err = run(capsys, "queue", "list")
    assert code == 0, err
    assert "traineetalk 2031-01-08 Q1" in out and "How do you end with a client?" in out


def test_web_browser_queue_works_without_javascript(
    site: tuple[str, sessionmaker[Session]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _sessions = site
    with chromium() as browser:
        page = browser.new_context(java_script_enabled=False).new_page()
        log_in(page, base)
        page.get_by_label("Date of the chat").fill(DAY)
        page.get_by_label("Topic").fill("Supervision")
        page.get_by_label("Question 1", exact=True).fill("What do you bring to supervision?")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#question-1-count")).to_have_text("")  # no live count, no harm
        expect(page.locator(".preview")).to_contain_text(
            "Q1 What do you bring to supervision? #TraineeTalk"
        )
        page.get_by_role("button", name="Save the chat").click()
        expect(page.get_by_text("new chat 'Supervision'")).to_be_visible()
    code, out, _ = run(capsys, "queue", "list")
    assert code == 0 and "What do you bring to supervision?" in out


def test_web_browser_screenshots_of_the_hosting_pages(
    site: tuple[str, sessionmaker[Session]],
) -> None:
    base, sessions = site
    with sessions() as session:
        scene(session)  # commits
        welcome_post(
            session, 0, PostStatus.HELD, kind=PostKind.DIGEST
        ).text = "A warm welcome to everyone who joined #TherapistsConnect this week!"
        session.commit()
    with chromium() as browser:
        page = browser.new_page()
        errors = watch_console(page)
        page.goto(f"{base}/login")
        screenshot(page, "host-login")
        log_in(page, base)

        page.get_by_role("link", name="Welcomes").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Newcomers to welcome")
        expect(page.get_by_role("button", name="Mark @ana_k as welcomed")).to_be_visible()
        expect(page.get_by_text("A warm welcome to everyone")).to_be_visible()
        screenshot(page, "host-welcomes")
        page.get_by_role("button", name="Mark @ana_k as welcomed").click()
        expect(page.get_by_text("@ana_k marked as welcomed")).to_be_visible()

        page.get_by_role("link", name="Opt-outs").click()
        page.get_by_label("X username of the person who asked").fill("@cat_c")
        page.get_by_role("button", name="Add the opt-out").click()
        expect(page.get_by_text("@cat_c opted out")).to_be_visible()
        screenshot(page, "host-optouts")
        page.get_by_role("button", name="End the opt-out of @cat_c").click()
        expect(page.get_by_role("heading", name="End @cat_c's opt-out?")).to_be_visible()
        screenshot(page, "host-optout-remove")
        page.get_by_role("link", name="No, keep it").click()

        page.get_by_role("link", name="forget a person").click()
        page.get_by_label("X username of the person").fill("ben_b")
        page.get_by_role("button", name="Show what would be removed").click()
        expect(page.get_by_text("@ben_b: 1 post and 1 profile will be removed")).to_be_visible()
        screenshot(page, "host-forget")
        page.get_by_role("button", name="Forget @ben_b").click()
        expect(page.get_by_text("Forgot @ben_b")).to_be_visible()
        assert errors == []
