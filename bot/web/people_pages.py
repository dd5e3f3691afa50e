"""/host/welcomes, /host/optouts and /host/forget: the organisers' part in welcomes and consent.

- /host/welcomes: the organisers' list (Welcome rows LISTED, bot/welcome_commands.py)
  with "mark done" and "skip" per person, and the weekly digests held for review
  (release, or change the text first: bot/web/queue_pages.py does both).
- /host/optouts: the opt-outs in force; add one by username (which cancels any welcome
  still queued for them); remove one only after a confirmation page, as `tcbot optout
  remove` asks first.
- /host/forget: forget a person (bot/compliance_commands.py, archive/forgotten.py).
  The first POST shows what would be removed and changes nothing; only the second,
  carrying confirmed=yes, removes it.

Usernames come from the form and are checked by the functions they are handed to; names
and texts from X are shown through autoescaped templates only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from archive.forgotten import plan_forget
from archive.models import WelcomeStatus
from bot import compliance_commands, welcome_commands
from bot.errors import TcbotError
from bot.optouts import list_opt_outs
from bot.web.pagekit import Form, field, host, hosting, redirect, render
from bot.web.post_edits import held_digests

__all__ = ["people_routes"]

WELCOMES = "/host/welcomes"
OPTOUTS = "/host/optouts"
FORGET = "/host/forget"


def welcomes_page(request: Request, form: Form) -> Response:
    """Who waits to be welcomed by an organiser, and the digests held for review."""
    with host(request).read_sessions() as session:
        people = welcome_commands.list_people(session)
        digests = held_digests(session)
        bot = welcome_commands.bot_welcomes(session)
    return render(request, "host_welcomes.html", {"people": people, "digests": digests, "bot": bot})


def _mark(request: Request, form: Form, status: WelcomeStatus) -> Response:
    hosting = host(request)
    try:
        name = welcome_commands.mark(
            field(form, "username"), status, sessions=hosting.write_sessions,
            now=hosting.clock.now(),
        )  # fmt: skip
    except TcbotError as exc:
        return redirect(request, WELCOMES, str(exc), kind="error")
    done = "marked as welcomed" if status is WelcomeStatus.DONE else "skipped"
    return redirect(request, WELCOMES, f"@{name} {done}: off the list.")


def welcome_done(request: Request, form: Form) -> Response:
    """Mark a listed person as welcomed by an organiser."""
    return _mark(request, form, WelcomeStatus.DONE)


def welcome_skip(request: Request, form: Form) -> Response:
    """Take a listed person off the list without welcoming them."""
    return _mark(request, form, WelcomeStatus.SKIPPED)


def optouts_page(request: Request, form: Form) -> Response:
    """The opt-outs in force, newest first, and a form to add one."""
    with host(request).read_sessions() as session:
        rows = list_opt_outs(session)
    return render(request, "host_optouts.html", {"rows": rows})


def optout_add(request: Request, form: Form) -> Response:
    """Record that someone asked never to be contacted."""
    hosting = host(request)
    try:
        said = welcome_commands.optout_add(
            field(form, "username"), sessions=hosting.write_sessions, now=hosting.clock.now()
        )
    except TcbotError as exc:
        return redirect(request, OPTOUTS, str(exc), kind="error")
    return redirect(request, OPTOUTS, said)


def optout_remove(request: Request, form: Form) -> Response:
    """Ask first (no confirmed=yes), then end someone's opt-out (the record stays)."""
    hosting = host(request)
    username = field(form, "username")
    try:
        key = welcome_commands.checked_username(username)
        if field(form, "confirmed") != "yes":
            return render(request, "host_optout_remove.html", {"username": key})
        said: list[str] = []
        welcome_commands.optout_remove(
            key, sessions=hosting.write_sessions, now=hosting.clock.now(), assume_yes=True,
            confirm=lambda _question: True, echo=said.append,
        )  # fmt: skip
    except TcbotError as exc:
        return redirect(request, OPTOUTS, str(exc), kind="error")
    return redirect(request, OPTOUTS, *said)


def forget_page(request: Request, form: Form) -> Response:
    """The form: whom to forget."""
    return render(request, "host_forget.html", {"plan": None, "summary": "", "username": ""})


def forget(request: Request, form: Form) -> Response:
    """Without confirmed=yes: show what would be removed. With it: remove it."""
    hosting = host(request)
    username = field(form, "username")
    try:
        if field(form, "confirmed") != "yes":
            with hosting.read_sessions() as session:
                plan = plan_forget(session, username)
            context = {"plan": plan, "summary": compliance_commands.describe(plan),
                       "username": plan.username}  # fmt: skip
            return render(request, "host_forget.html", context)
        said: list[str] = []
        compliance_commands.forget(
            username, sessions=hosting.write_sessions, clock=hosting.clock, assume_yes=True,
            confirm=lambda _question: True, echo=said.append,
        )  # fmt: skip
    except TcbotError as exc:
        return redirect(request, FORGET, str(exc), kind="error")
    return redirect(request, FORGET, *said[1:])


def people_routes() -> list[BaseRoute]:
    return [
        Route(WELCOMES, hosting(welcomes_page), methods=["GET"]),
        Route(f"{WELCOMES}/done", hosting(welcome_done), methods=["POST"]),
        Route(f"{WELCOMES}/skip", hosting(welcome_skip), methods=["POST"]),
        Route(OPTOUTS, hosting(optouts_page), methods=["GET"]),
        Route(f"{OPTOUTS}/add", hosting(optout_add), methods=["POST"]),
        Route(f"{OPTOUTS}/remove", hosting(optout_remove), methods=["POST"]),
        Route(FORGET, hosting(forget_page), methods=["GET"]),
        Route(FORGET, hosting(forget), methods=["POST"]),
    ]
