"""The hosting pages over HTTP (Starlette's TestClient): login, its limits and expiry, CSRF,
queueing a chat (and what `tcbot queue list` and `tcbot schedule sync` then say), posts to
come, welcomes, opt-outs, forgetting, and `tcbot serve`'s refusal of a public address.

SQLite throughout; the tests taking `db_url` run on PostgreSQL too. The web clock is a
FakeClock at NOW; chats are dated in 2031 so the CLI's real clock finds them ahead too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from archive.db import make_engine, make_read_only_engine, make_session_factory, upgrade
from archive.ingest import ingest_page
from archive.models import (
    ForgottenUser,
    OptOut,
    OutboxChat,
    OutboxPost,
    PostKind,
    PostStatus,
    Tweet,
    User,
    WelcomeStatus,
)
from bot.cli import cli
from bot.clock import FakeClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.web import server
from bot.web.passwords import hash_password, verify_password
from bot.web.site import create_site
from tests.fakes import SEARCH_ENDPOINT, make_page, make_tweet, make_user
from tests.test_cli import assert_user_error, run
from tests.test_welcomes_cli import scene, statuses, welcome_post

NOW = datetime(2030, 12, 1, 12, 0, tzinfo=UTC)
DAY = "2031-01-08"  # a Wednesday, the series' weekday
PASSWORD = "correct horse battery"
SERIES = """[series]
id = "traineetalk"
hashtag = "#TraineeTalk"
weekday = "wednesday"
start = "20:00"
timezone = "Europe/London"
interval_minutes = 10
reminders_minutes_before = [60]
"""
FILE_CHAT = f"""
[[chats]]
date = {DAY}
topic = "From the file"
questions = ["A question from the file?"]
"""
HOST_GETS = ["/host/queue", "/host/welcomes", "/host/optouts", "/host/forget",
             "/host/posts/1/edit"]  # fmt: skip
HOST_POSTS = ["/host/queue", "/host/posts/1/hold", "/host/posts/1/release",
              "/host/posts/1/cancel", "/host/posts/1/edit", "/host/welcomes/done",
              "/host/welcomes/skip", "/host/optouts/add", "/host/optouts/remove",
              "/host/forget"]  # fmt: skip


@dataclass
class Site:
    client: TestClient
    clock: FakeClock
    sessions: sessionmaker[Session]  # read-write, to set scenes and check results
    folder: Path

    def token(self, path: str = "/login") -> str:
        """The CSRF token of the form on `path`."""
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get(path).text)
        assert found, f"no form on {path}"
        return found.group(1)

    def login(self, password: str = PASSWORD) -> None:
        response = self.post("/login", password=password, next="/host/queue")
        assert response.status_code == 303, response.text

    def post(self, path: str, **data: str | list[str]) -> Any:
        """POST a form with this session's CSRF token; the response (not followed)."""
        token = self.token("/login" if path == "/login" else "/host/queue")
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    def follow(self, path: str, **data: str | list[str]) -> str:
        """POST, follow the redirect; the text of the page it lands on."""
        response = self.post(path, **data)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        return page_text(self.client.get(location).text)

    def count(self, model: object, *where: object) -> int:
        with self.sessions() as session:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(session.scalar(query) or 0)


def page_text(html: str) -> str:
    """The words of a page, tags gone, spaces squeezed, entities for quotes undone."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text.replace("&quot;", '"'))


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dispose_cli_databases: None) -> Path:
    """A hosts' folder holding the series file; the CLI reads the same settings."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "series.toml").write_text(SERIES, encoding="utf-8")
    monkeypatch.setenv("TCBOT_SCHEDULE_FILES", "series.toml")
    monkeypatch.setenv("TCBOT_LOG_LEVEL", "WARNING")
    return tmp_path


MakeSite = Callable[..., Site]


@pytest.fixture
def make_site(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeSite]:
    engines = []

    def build(url: str, *, password: str | None = PASSWORD) -> Site:
        monkeypatch.setenv("TCBOT_DATABASE_URL", url)
        env = {"TCBOT_DATABASE_URL": url, "TCBOT_SCHEDULE_FILES": "series.toml"}
        if password is not None:
            env["TCBOT_WEB_PASSWORD"] = hash_password(password, iterations=1000)
        write, read = make_engine(url), make_read_only_engine(url)
        engines.extend([write, read])
        upgrade(write)
        clock = FakeClock(NOW)
        app = create_site(
            Settings.from_env(env), clock=clock, read_sessions=make_session_factory(read),
            write_sessions=make_session_factory(write), secret_key="test-secret",
        )  # fmt: skip
        return Site(TestClient(app), clock, make_session_factory(write), folder)

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def site(make_site: MakeSite, folder: Path) -> Site:
    """A site on a SQLite file, password set, not logged in."""
    return make_site(f"sqlite:///{folder / 'tcbot.db'}")


@pytest.fixture
def host(site: Site) -> Site:
    site.login()
    return site


@pytest.fixture
def any_db_host(make_site: MakeSite, db_url: str) -> Site:
    """Logged in, on SQLite and on PostgreSQL."""
    built = make_site(db_url)
    built.login()
    return built


def queue_chat(site: Site, *questions: str, topic: str = "Endings", action: str = "save") -> Any:
    return site.post("/host/queue", date=DAY, topic=topic, question=[*questions, ""], action=action)


# -- passwords and logging in ----------------------------------------------------------------


def test_web_password_hash_round_trip() -> None:
    hashed = hash_password("s3cret words", iterations=1000)
    assert hashed.startswith("pbkdf2_sha256$1000$") and "s3cret" not in hashed
    assert verify_password(hashed, "s3cret words")
    assert not verify_password(hashed, "s3cret word")
    assert hash_password("s3cret words", iterations=1000) != hashed  # a new salt each time
    assert verify_password("plain one", "plain one") and not verify_password("plain one", "plain")
    with pytest.raises(ConfigError, match="tcbot serve --hash-password"):
        verify_password("pbkdf2_sha256$1000$salt", "anything")


def test_web_password_setting_is_hidden_and_not_an_x_credential() -> None:
    settings = Settings.from_env({"TCBOT_WEB_PASSWORD": "pw-GGGG7777"})
    assert settings.web_password == "pw-GGGG7777" and settings.uses_sandbox
    assert "pw-GGGG7777" not in repr(settings)
    assert ("TCBOT_WEB_PASSWORD", "(set, hidden)") in settings.describe()
    unset = dict(Settings.from_env({}).describe())
    assert unset["TCBOT_WEB_PASSWORD"] == "(not set: no hosting pages)"


def test_cli_serve_hash_password_prints_a_line_for_env() -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("TCBOT_WEB_PASSWORD='pbkdf2_sha256$") and PASSWORD not in line
    assert verify_password(line.split("'")[1], PASSWORD)
    short = CliRunner().invoke(cli, ["serve", "--hash-password"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10" in str(short.exception)


def test_web_login_success_rotates_the_csrf_token(site: Site) -> None:
    before = site.token()
    response = site.post("/login", password=PASSWORD, next="/host/welcomes")
    assert response.status_code == 303
    assert response.headers["location"] == "/host/welcomes"
    page = site.client.get("/host/queue")
    assert page.status_code == 200 and "<h1>Queue a chat</h1>" in page.text
    assert "You are logged in." in page.text
    assert site.token("/host/queue") != before


def test_web_login_refuses_a_wrong_password_and_other_sites(site: Site) -> None:
    response = site.post("/login", password="wrong", next="//elsewhere.example/")
    assert response.status_code == 403
    assert "That password is not right" in response.text
    assert site.client.get("/host/queue", follow_redirects=False).status_code == 303
    right = site.post("/login", password=PASSWORD, next="//elsewhere.example/")
    assert right.headers["location"] == "/host/queue"  # never off this site


def test_web_login_limits_wrong_passwords_per_address(site: Site) -> None:
    for _ in range(4):
        assert site.post("/login", password="nope").status_code == 403
    fifth = site.post("/login", password="nope")
    assert fifth.status_code == 429
    assert "Try again after 12:15 (Europe/London time)" in page_text(fifth.text)
    assert fifth.headers["retry-after"] == "900"
    blocked = site.post("/login", password=PASSWORD)  # even the right one waits
    assert blocked.status_code == 429
    site.clock.advance(timedelta(minutes=15))
    assert site.post("/login", password=PASSWORD).status_code == 303


def test_web_login_expires_after_eight_hours(host: Site) -> None:
    host.clock.advance(timedelta(hours=8) - timedelta(seconds=1))
    assert host.client.get("/host/queue", follow_redirects=False).status_code == 200
    host.clock.advance(timedelta(seconds=1))
    response = host.client.get("/host/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert "Your login has expired" in host.client.get("/login").text
    assert host.client.get("/host/queue", follow_redirects=False).status_code == 303


def test_web_logout_ends_the_login(host: Site) -> None:
    assert "You are logged out." in host.follow("/logout")
    assert host.client.get("/host/queue", follow_redirects=False).status_code == 303


def test_web_hosting_pages_have_one_h1_and_a_label_for_every_field(host: Site) -> None:
    queue_chat(host, "How do you end?")
    for path in [*HOST_GETS, "/login"]:
        html = host.client.get(path).text
        assert html.count("<h1") == 1, path
        fields = re.findall(r'<(?:input|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', html)
        assert fields or path == "/host/welcomes", path
        for name in fields:
            assert f'<label for="{name}">' in html, (path, name)
        assert "<script>" not in html and " style=" not in html  # nothing inline (CSP)


@pytest.mark.parametrize("path", HOST_GETS)
def test_web_hosting_pages_send_strangers_to_login(site: Site, path: str) -> None:
    response = site.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", HOST_POSTS)
def test_web_hosting_posts_from_strangers_change_nothing(site: Site, path: str) -> None:
    response = site.post(path, username="ana_k", date=DAY, topic="T", question="Q?")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert site.count(OptOut) == 0 and site.count(OutboxPost) == 0


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_web_post_without_the_csrf_token_is_refused(host: Site, token: str | None) -> None:
    data = {"username": "ana_k"} if token is None else {"username": "ana_k", "csrf_token": token}
    response = host.client.post("/host/optouts/add", data=data, follow_redirects=False)
    assert response.status_code == 403 and "This form has expired" in response.text
    assert host.count(OptOut) == 0
    login = host.client.post("/login", data={"password": PASSWORD}, follow_redirects=False)
    assert login.status_code == 403


def test_web_without_a_password_hosting_says_how_to_switch_it_on(
    make_site: MakeSite, folder: Path
) -> None:
    site = make_site(f"sqlite:///{folder / 'tcbot.db'}", password=None)
    for path in ("/host/queue", "/login"):
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 403
        assert (
            "TCBOT_WEB_PASSWORD" in response.text and "tcbot serve --hash-password" in response.text
        )
    response = site.client.post("/login", data={"password": ""}, follow_redirects=False)
    assert response.status_code == 403
    assert site.client.get("/host/queue", follow_redirects=False).status_code == 403


# -- tcbot serve -----------------------------------------------------------------------------


def test_cli_serve_refuses_a_public_address_without_a_password(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(server, "bind", never)
    code, out, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert_user_error(code, out, err, "TCBOT_WEB_PASSWORD is not set", "127.0.0.1")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("address", "password", "allowed"),
    [("127.0.0.1", None, True), ("::1", None, True), ("localhost", None, True),
     ("0.0.0.0", None, False), ("192.168.1.20", None, False), ("0.0.0.0", "pw", True)],
)  # fmt: skip
def test_web_check_bind(address: str, password: str | None, allowed: bool) -> None:
    settings = Settings.from_env({"TCBOT_WEB_PASSWORD": password} if password else {})
    if allowed:
        server.check_bind(address, settings)
    else:
        with pytest.raises(Exception, match="TCBOT_WEB_PASSWORD"):
            server.check_bind(address, settings)


def test_web_site_never_builds_an_x_client(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import wiring

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the web server built an X client")

    monkeypatch.setattr(wiring, "connect_x", refuse)
    monkeypatch.setattr(wiring, "make_x_client", refuse)
    settings = Settings.from_env({"TCBOT_DATABASE_URL": f"sqlite:///{folder / 'web.db'}",
                                  "TCBOT_WEB_PASSWORD": PASSWORD})  # fmt: skip
    app = create_site(settings)
    try:
        assert app.state.prices == settings.prices
        assert TestClient(app).get("/login").status_code == 200
    finally:
        app.state.read_sessions.kw["bind"].dispose()
        app.state.write_sessions.kw["bind"].dispose()


# -- queueing a chat -------------------------------------------------------------------------


def test_web_queue_preview_shows_the_thread_and_saves_nothing(host: Site) -> None:
    response = queue_chat(host, "How do you end?", "What helps?", action="preview")
    text = page_text(response.text)
    assert response.status_code == 200
    assert "No problems found" in text
    assert "Q1 How do you end? #TraineeTalk" in text and "31/280" in text
    assert "Q2 What helps? #TraineeTalk" in text and "reminder 1 h before" in text
    assert "Wed 8 Jan 2031, 20:10 GMT" in text  # Q1, local time
    assert host.count(OutboxPost) == 0


def test_web_queue_lists_every_problem_in_schedule_check_words(host: Site) -> None:
    long_question = "Why? " * 60
    response = host.post("/host/queue", date=DAY, topic=" ", question=[long_question, ""],
                         action="save")  # fmt: skip
    text = page_text(response.text)
    assert response.status_code == 400
    assert "chat 2031-01-08: the topic is empty; give the chat a topic" in text
    assert "chat 2031-01-08, Q1: would be 315 characters as X counts them" in text
    assert "so shorten the question by 35" in text
    assert long_question.strip() in text  # the host's words are kept
    past = host.post("/host/queue", date="2030-11-27", topic="T", question="Q?", action="save")
    assert "which has passed" in page_text(past.text)
    bad = host.post("/host/queue", date="next week", topic="T", question="Q?", action="save")
    assert "give the chat's date ('next week') as 2026-12-16" in page_text(bad.text)
    assert host.count(OutboxPost) == 0


def test_web_queue_saves_a_web_chat_that_queue_list_shows(
    any_db_host: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    text = any_db_host.follow(
        "/host/queue", date=DAY, topic="Endings", question=["How do you end?", "What helps?", ""],
        action="save",
    )  # fmt: skip
    assert "2031-01-08 #TraineeTalk: new chat 'Endings', 5 posts" in text
    assert "Q1 How do you end? #TraineeTalk" in text  # listed among the posts to come
    with any_db_host.sessions() as session:
        chat = session.scalars(select(OutboxChat)).one()
        assert (chat.origin, chat.topic, str(chat.chat_date)) == ("web", "Endings", DAY)
    code, out, err = run(capsys, "queue", "list")
    assert code == 0, err
    assert "traineetalk 2031-01-08 Q1" in out and "How do you end?" in out
    assert "traineetalk 2031-01-08 Q2" in out and "queued" in out


def test_web_chat_survives_a_sync_of_a_file_listing_it(
    any_db_host: Site, capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    queue_chat(any_db_host, "How do you end?")
    (folder / "series.toml").write_text(SERIES + FILE_CHAT, encoding="utf-8")
    code, out, err = run(capsys, "schedule", "sync")
    assert code == 0, err
    assert "Not changed: queued outside the file" in out
    assert "already queued from the web viewer, so the chat in series.toml is left out" in out
    with any_db_host.sessions() as session:
        texts = session.scalars(select(OutboxPost.text).where(OutboxPost.kind == PostKind.QUESTION))
        assert list(texts) == ["Q1 How do you end? #TraineeTalk"]
        assert session.scalars(select(OutboxChat.origin)).one() == "web"


def test_web_queue_refuses_a_chat_a_file_already_queued(
    host: Site, capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    (folder / "series.toml").write_text(SERIES + FILE_CHAT, encoding="utf-8")
    assert run(capsys, "schedule", "sync")[0] == 0
    response = queue_chat(host, "Mine?")
    assert response.status_code == 409
    assert "already queued from series.toml" in page_text(response.text)
    with host.sessions() as session:
        assert session.scalars(select(OutboxChat.origin)).one() == "file:series.toml"
        assert "Mine?" not in " ".join(session.scalars(select(OutboxPost.text)))


def test_web_queue_saving_again_updates_the_web_chat(host: Site) -> None:
    queue_chat(host, "First?")
    text = host.follow("/host/queue", date=DAY, topic="Endings", question=["Second?"],
                       action="save")  # fmt: skip
    assert "Q1: text updated" in text
    assert host.count(OutboxChat) == 1


# -- posts to come ---------------------------------------------------------------------------


def post_id(site: Site, kind: PostKind, number: int = 1) -> int:
    with site.sessions() as session:
        query = select(OutboxPost.id).where(OutboxPost.kind == kind, OutboxPost.number == number)
        return int(session.scalars(query).one())


def post_status(site: Site, number: int) -> tuple[PostStatus, str]:
    with site.sessions() as session:
        post = session.get(OutboxPost, number)
        assert post is not None
        return post.status, post.text


def test_web_hold_release_edit_and_cancel_a_post(any_db_host: Site) -> None:
    host = any_db_host
    queue_chat(host, "How do you end?", "What helps?")
    q1 = post_id(host, PostKind.QUESTION)
    assert f"Post #{q1} (2031-01-08 #TraineeTalk Q1) held." in host.follow(f"/host/posts/{q1}/hold")
    assert post_status(host, q1)[0] is PostStatus.HELD
    again = host.follow(f"/host/posts/{q1}/hold")
    assert "was not held: only a queued post can be held" in again
    assert "released" in host.follow(f"/host/posts/{q1}/release")
    assert post_status(host, q1)[0] is PostStatus.QUEUED

    form = host.client.get(f"/host/posts/{q1}/edit")
    assert form.status_code == 200 and "Q1 How do you end? #TraineeTalk" in form.text
    saved = host.follow(f"/host/posts/{q1}/edit", text="Q1 How do you close? #TraineeTalk ")
    assert "text saved" in saved
    assert post_status(host, q1)[1] == "Q1 How do you close? #TraineeTalk"

    ask = host.post(f"/host/posts/{q1}/cancel")
    assert "Cancel post #" in page_text(ask.text)
    assert post_status(host, q1)[0] is PostStatus.QUEUED  # asking changes nothing
    assert "cancelled" in host.follow(f"/host/posts/{q1}/cancel", confirmed="yes")
    assert post_status(host, q1)[0] is PostStatus.CANCELLED


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "the new text is empty"), ("Q1 " + "x" * 290 + " #TraineeTalk", "the limit is 280"),
     ("Q1 no hashtag here", "does not carry #TraineeTalk")],
)  # fmt: skip
def test_web_edit_checks_the_text(host: Site, text: str, error: str) -> None:
    queue_chat(host, "How do you end?")
    q1 = post_id(host, PostKind.QUESTION)
    response = host.post(f"/host/posts/{q1}/edit", text=text)
    assert response.status_code == 400
    assert error in page_text(response.text)
    assert post_status(host, q1)[1] == "Q1 How do you end? #TraineeTalk"


def test_web_edit_refuses_sent_posts_and_posts_from_a_file(
    host: Site, capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    (folder / "series.toml").write_text(SERIES + FILE_CHAT, encoding="utf-8")
    assert run(capsys, "schedule", "sync")[0] == 0
    q1 = post_id(host, PostKind.QUESTION)
    text = host.follow(f"/host/posts/{q1}/edit", text="Q1 changed #TraineeTalk")
    assert "comes from series.toml" in text and "then run 'tcbot schedule sync'" in text
    with host.sessions.begin() as session:
        post = session.get(OutboxPost, q1)
        assert post is not None
        post.status = PostStatus.SENT
    assert "is sent, so its text can no longer change" in host.follow(
        f"/host/posts/{q1}/edit", text="Q1 changed #TraineeTalk"
    )
    assert post_status(host, q1)[1] == "Q1 A question from the file? #TraineeTalk"


# -- welcomes, digests, opt-outs, forgetting -------------------------------------------------


def test_web_welcomes_done_and_skip(host: Site) -> None:
    with host.sessions() as session:
        scene(session)
    page = page_text(host.client.get("/host/welcomes").text)
    assert "@ben_b" in page and "@ana_k" in page and "hidden_h" not in page
    assert "Hello #TherapistsConnect, I'm Ana Lopez" in page
    assert "@ana_k marked as welcomed" in host.follow("/host/welcomes/done", username="ana_k")
    assert "@ben_b skipped" in host.follow("/host/welcomes/skip", username="@ben_b")
    again = host.follow("/host/welcomes/done", username="ana_k")
    assert "@ana_k is not on the organisers' list: already marked as welcomed" in again
    with host.sessions() as session:
        found = statuses(session)
    assert found["ana_k"] is WelcomeStatus.DONE and found["ben_b"] is WelcomeStatus.SKIPPED


def test_web_digest_release_and_edit(host: Site) -> None:
    with host.sessions.begin() as session:
        digest = welcome_post(session, 0, PostStatus.HELD, kind=PostKind.DIGEST).id
    page = page_text(host.client.get("/host/welcomes").text)
    assert f"Digest #{digest}" in page and "Welcome 0" in page
    form = host.client.get(f"/host/posts/{digest}/edit?back=/host/welcomes")
    assert 'name="back" value="/host/welcomes"' in form.text
    response = host.post(f"/host/posts/{digest}/edit", text="Welcome to all our newcomers!",
                         back="/host/welcomes")  # fmt: skip
    assert response.headers["location"] == "/host/welcomes"
    assert post_status(host, digest) == (PostStatus.HELD, "Welcome to all our newcomers!")
    text = host.follow(f"/host/posts/{digest}/release", back="/host/welcomes")
    assert "released" in text and "No digest is waiting for review" in text
    assert post_status(host, digest)[0] is PostStatus.QUEUED


def test_web_optout_add_and_remove_after_confirming(host: Site) -> None:
    assert "@ana_k opted out" in host.follow("/host/optouts/add", username="@Ana_K")
    assert "@ana_k" in page_text(host.client.get("/host/optouts").text)
    assert "has already opted out" in host.follow("/host/optouts/add", username="ana_k")
    assert "is not an X username" in host.follow("/host/optouts/add", username="two words")
    ask = host.post("/host/optouts/remove", username="ana_k")
    assert "End @ana_k's opt-out?" in page_text(ask.text)
    assert host.count(OptOut, OptOut.removed_at.is_(None)) == 1
    done = host.follow("/host/optouts/remove", username="ana_k", confirmed="yes")
    assert "@ana_k's opt-out is ended" in done and "Nobody has opted out" in done
    assert host.count(OptOut) == 1  # the record stays


def test_web_forget_shows_what_goes_then_removes_it(host: Site) -> None:
    with host.sessions.begin() as session:
        users = [make_user("301", "ana_k"), make_user("302", "bob")]
        tweets = [make_tweet(f"80{n}", f"post {n} #TraineeTalk", author_id="301") for n in range(3)]
        tweets.append(make_tweet("811", "bob's post", author_id="302"))
        ingest_page(session, make_page(tweets, users=users), endpoint=SEARCH_ENDPOINT,
                    fetched_at=NOW)  # fmt: skip
    ask = page_text(host.post("/host/forget", username="@ana_k").text)
    assert "@ana_k: 3 posts and 1 profile will be removed from the archive." in ask
    assert host.count(Tweet) == 4  # showing changed nothing
    done = host.follow("/host/forget", username="ana_k", confirmed="yes")
    assert "Forgot @ana_k: removed 3 posts and 1 profile" in done
    assert host.count(Tweet) == 1 and host.count(User) == 1 and host.count(ForgottenUser) == 1
    assert "is not an X username" in host.follow("/host/forget", username="not a name!")
