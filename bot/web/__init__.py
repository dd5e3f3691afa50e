"""The hosts' web pages (`tcbot serve`): log in, queue a chat, welcomes, opt-outs, forget.

archive/web builds the site's frame and the reading pages; this package adds what
changes things, behind a password (TCBOT_WEB_PASSWORD):

    site.py          create_site(settings): the whole app, database sessions, state
    server.py        run it with uvicorn; refuse a public address without a password
    passwords.py     the password setting: plain or pbkdf2_sha256$..., checked in constant time
    login.py         GET/POST /login, POST /logout, the per-address limit on wrong passwords
    pagekit.py       what every hosting page shares: login and CSRF checks, messages, redirects
    chat_form.py     the queue form: a draft chat checked as `tcbot schedule check` would
    post_edits.py    changing the text of a post not yet sent
    queue_pages.py   /host/queue and /host/posts/N/...: queue, preview, hold, release, edit, cancel
    people_pages.py  /host/welcomes, /host/optouts, /host/forget

The web server never holds X credentials and never builds an X client: everything it
does goes through the database, and `tcbot run` does the posting.
"""
