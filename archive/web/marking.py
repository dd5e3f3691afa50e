"""Search matches marked in a tweet's text, safely: escape the text first, then mark.

`archive.search_query.highlight` gives character ranges of the text as its author wrote
it. Each piece of text, inside a match or not, is HTML-escaped on its own and only
then wrapped, so a `<mark>` can never land inside markup the text contained, and
nothing in the text can close or open a tag.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["marked_html"]


def marked_html(text: str, spans: Sequence[tuple[int, int]]) -> Markup:
    """`text` escaped, with each (start, end) range in <mark>; ranges sorted, not overlapping."""
    pieces: list[Markup] = []
    position = 0
    for start, end in spans:
        if start < position or end <= start or end > len(text):
            continue  # (highlight merges its ranges; anything else is left unmarked)
        pieces.append(escape(text[position:start]))
        pieces.append(Markup("<mark>%s</mark>") % text[start:end])
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
