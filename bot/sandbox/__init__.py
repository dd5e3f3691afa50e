"""A loopback stand-in for the X API v2. Imports neither `bot` nor `archive`.

Start one with `bot.sandbox.server.start_sandbox(...)`; its module docstring lists the X and
admin endpoints. Modules, one concept each:

    server       HTTP server, start/stop, SandboxServer, PortInUseError/SandboxError
    service      one request -> one answer: routing, auth, faults, limits, request log
    api          what each X endpoint does          admin     the /_sandbox/ endpoints
    posting      create/delete rules (280, duplicates, the 2026 reply gate)
    timelines    recent search and mentions          pagination  pages and opaque tokens
    render       post/user JSON, fields, expansions  fields/params  X's parameter checks
    state        users, posts, ids, indices          store     memory or SQLite, write-through
    limits       rate-limit windows                  faults    injected failures
    auth         Authorization header -> caller      problems  X's error bodies
    clock, ids, text, records, credentials, query (search-query language)
"""
