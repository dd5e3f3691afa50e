"""The reading pages (no login needed): which address shows what.

    /                          every chat, newest first, and a week-on-week chart (chat_pages)
    /chats/{id}                a chat's transcript, with filters (chat_pages, chat_view)
    /chats/{id}.json|md|html|csv  the transcript as a download (chat_pages)
    /threads/{tweet_id}        a conversation as a tree of replies (thread_pages)
    /people/{username}         a person's tweets, welcome and opt-out (people_pages)
    /intros                    introductions, newest first (intro_page)
    /search?q=...&page=N       full-text search, matches marked (search_page)
    /status                    the outbox, problems, gaps and API usage (status_page)

What they share (who may see protected accounts, the clock, paging) is in
archive/web/reading.py; every page renders a template in templates/reading/.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from archive.web.chat_pages import chat_page, chats_page, download
from archive.web.intro_page import intros_page
from archive.web.people_pages import person_page
from archive.web.search_page import search_page
from archive.web.status_page import status_page
from archive.web.thread_pages import thread_page

__all__ = ["reading_routes"]


def reading_routes() -> list[BaseRoute]:
    return [
        Route("/", chats_page, name="chats"),
        Route("/chats/{chat_id:int}.{fmt}", download, name="chat_download"),
        Route("/chats/{chat_id:int}", chat_page, name="chat"),
        Route("/threads/{tweet_id}", thread_page, name="thread"),
        Route("/people/{username}", person_page, name="person"),
        Route("/intros", intros_page, name="intros"),
        Route("/search", search_page, name="search"),
        Route("/status", status_page, name="status"),
    ]
