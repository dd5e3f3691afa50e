"""The text cues of the introductions score: their patterns, languages and weights.

archive/intros.py explains the method and adds the cues that need role and place
extraction (self_role, role_lead, place, role_place) and the structural ones
(reply, link_only); everything matched by a plain pattern is here. Patterns are
case-insensitive unless a capital letter is the signal (a name after "I'm").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from archive.intro_details import ROLE
from archive.intro_lexicon import NAME_MARKERS, NAME_PHRASES

# Cue name -> points. Order is the order cues are listed in a verdict.
WEIGHTS: dict[str, int] = {
    "greeting": 1,
    "name": 3,
    "self_role": 3,
    "role_lead": 2,
    "new_here": 4,
    "hoping_to_meet": 2,
    "place": 1,
    "role_place": 1,
    "chat_answer": -6,
    "link_only": -6,
    "welcome": -4,
    "event": -3,
    "event_time": -2,
    "question": -3,
    "addresses_other": -3,
    "response": -3,
    "promotion": -3,
    "group_voice": -2,
    "reply": -2,
}
ORDER = tuple(WEIGHTS)

Matched = list[tuple[str, str | None]]

GREETINGS: dict[str, str] = {
    "en": r"hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening)|morning"
    r"|evening|g'day",
    "es": r"hola|buenas|buenos d[ií]as",
    "fr": r"bonjour|salut|bonsoir|coucou",
    "de": r"hallo|guten (?:morgen|tag|abend)|moin|servus",
    "pt": r"ol[áa]|oi|bom dia|boa (?:tarde|noite)",
    "it": r"ciao|salve|buongiorno|buonasera",
}
_JOINED_END = (
    r"(?=\s*(?:$|[!.,;:)\-–—]|and\b|here\b|#|this\b|the (?:community|hashtag|chat)\b|twitter\b))"
)
NEW_HERE: dict[str, str] = {
    "en": r"new here|new to (?:this|the (?:hashtag|community|chat)|twitter|x\b|here|#)"
    r"|new (?:member|face|around here|on here)|newbie|newly (?:on|joined)"
    rf"|just (?:joined|found|discovered){_JOINED_END}|(?:time i|i've|i have) (?:just )?joined #"
    r"|first[- ](?:post|tweet|time (?:posting|here|on))|first[- ]time poster|for the first time"
    r"|introduce myself|introducing myself|(?:quick|little|brief) intro\b|a (?:bit|little) about me"
    r"|(?:wanted|thought i'd|just) (?:to )?say (?:hi|hello)|saying (?:hi|hello)"
    r"|long[- ]time lurker|here to learn",
    "es": r"nuev[oa] (?:en|por aqu[ií]|aqu[ií])|acabo de unirme|encantad[oa] de unirme"
    r"|me presento|primer (?:tweet|post|mensaje)",
    "fr": r"nouve(?:au|lle|l) (?:ici|sur)|ravie? de (?:rejoindre|vous rejoindre|faire partie)"
    r"|je me pr[ée]sente|premier (?:tweet|post|message)|je d[ée]couvre",
    "de": r"neu (?:hier|bei|dabei)|stelle mich (?:kurz )?vor|mein erster (?:tweet|post)",
    "pt": r"nov[oa] (?:por aqui|aqui)|acabei de (?:entrar|chegar)|primeiro (?:post|tweet)"
    r"|me apresent",
    "it": r"nuov[oa] (?:qui|su)|felice di (?:far parte|unirmi|essere qui)|mi presento"
    r"|primo (?:tweet|post)",
}
HOPING_TO_MEET: dict[str, str] = {
    "en": r"(?:looking forward to|keen to|would love to|hoping to|excited to) "
    r"(?:connect|connecting|meet|meeting|learn|learning)"
    r"|(?:glad|happy|delighted|excited|thrilled|pleased) to (?:be (?:here|part)|have found"
    r"|join|find|be on)|(?:lovely|great|glad) to (?:find|have found) this community"
    r"|nice to meet (?:you all|everyone|y'all)",
    "es": r"me encantar[ií]a conectar|encantad[oa] de (?:conocer|estar)",
    "fr": r"h[âa]te d'[ée]changer|ravie? de vous (?:lire|rencontrer)",
    "de": r"freue mich (?:auf|hier)",
    "pt": r"feliz (?:em|por) (?:fazer parte|estar aqui)",
    "it": r"felice di conoscer",
}
NEGATIVE_PATTERNS: dict[str, str] = {
    "welcome": r"(?<!the )(?<!warm )(?<!lovely )\bwelcome\b|bienvenu|bienvenid|benvenut"
    r"|willkommen|bem-vind",
    "event": r"join us|join me\b|rejoignez|[úu]nete|unisciti|seid dabei|vi aspettiamo|webinar"
    r"|register\b|registration|inscri|sign up|signup|book (?:your|a) (?:place|spot|seat)"
    r"|tickets?\b|rsvp|zoom link|reminder|spaces? (?:left|available)|\bapply\b|hiring"
    r"|recruiting|vacanc|\bwanted\b(?! to)|conference|workshop|(?<!of )\bcourse\b|meet-?up"
    r"|\bpanel\b|live[- ](?:chat|panel|session|stream|event)|diretta|speaking at"
    r"|research study|calling all|starts in",
    "event_time": r"\btonight\b|\btomorrow\b|this (?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|this week(?:end)?\b|next (?:week|month)\b|on (?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|\b\d{1,2}h\b|um \d{1,2} uhr|alle \d|a las \d"
    r"|esta noche|stasera|ce soir|\bheute\b",
    "promotion": r"check (?:it )?out|blog|article|out now|grab a copy|worth a read|podcast"
    r"|episode|this thread|resource|newsletter|details here|link in bio|read more|👇",
    "group_voice": r"\b(?:we|we're|we've|we'd|we'll|our|ours|nous|wir|unser\w*|nosotros"
    r"|nuestr[oa]s?|noi|nostr[oa]|n[óo]s|nossa|nosso)\b",
    "response": r"^(?:@\w+\s+)*(?:me too|same here|same!|this!|so true|totally|agreed|absolutely)"
    r"|\b(?:too|as well)\b(?=\s*(?:[!.,;—–-]|#|$))",
}
_ANSWER = re.compile(r"^\s*(?:@\w+\s+)*\(?a\s?\d+\b", re.IGNORECASE)
_GREETING_OTHERS = frozenset(
    ["all", "everyone", "everybody", "folks", "friends", "team", "there", "y'all", "world"]
)


def pattern_cues(clean: str, *, body: str, lowercase: bool, not_names: frozenset[str]) -> Matched:
    """The pattern cues in a normalised tweet, each with its language (None: any).

    `clean` is the whole text without URLs, `body` the same without leading
    @mentions; `lowercase` says the tweet has no capitals to go by.
    """
    found: Matched = []
    opening = re.sub(r"^[^\w@#]+", "", body)
    found += _by_language("greeting", GREETINGS, opening, anchor=True)
    found += _by_language("name", NAME_PHRASES, body)
    found += _names(body, lowercase=lowercase, not_names=not_names)
    found += _by_language("new_here", NEW_HERE, body)
    found += _by_language("hoping_to_meet", HOPING_TO_MEET, body)
    for name, pattern in NEGATIVE_PATTERNS.items():
        if re.search(pattern, clean, re.IGNORECASE):
            found.append((name, None))
    if _ANSWER.match(clean):
        found.append(("chat_answer", None))
    if "?" in clean or "¿" in clean:
        found.append(("question", None))
    if _addresses_other(opening):
        found.append(("addresses_other", None))
    return _first_of_each(found)


def _by_language(name: str, table: dict[str, str], text: str, *, anchor: bool = False) -> Matched:
    search: Callable[[str, str], re.Match[str] | None] = (
        (lambda p, t: re.match(rf"(?:{p})\b", t, re.IGNORECASE))
        if anchor
        else (lambda p, t: re.search(rf"(?<![\w'])(?:{p})", t, re.IGNORECASE))
    )
    return [(name, lang) for lang, pattern in table.items() if search(pattern, text)]


def _names(body: str, *, lowercase: bool, not_names: frozenset[str]) -> Matched:
    """A name after a self-reference ("I'm Priya", "Soy Lucía"), or "Nadia here, ..."."""
    found: Matched = []
    for lang, marker in NAME_MARKERS.items():
        for match in re.finditer(
            rf"(?<![\w'])(?:{marker})\s+([^\W\d_][\w'-]*)", body, re.IGNORECASE
        ):
            word = match.group(1)
            if _is_name(word, lowercase=lowercase, not_names=not_names):
                found.append(("name", lang))
                break
    here = re.search(r"(?:^|[.!?]\s+)([A-Z][a-z]+) here\s*[,!.—–-]", re.sub(r"^\W+", "", body))
    if here and not ROLE.fullmatch(here.group(1)) and here.group(1).lower() not in not_names:
        found.append(("name", "en"))
    return found


def _is_name(word: str, *, lowercase: bool, not_names: frozenset[str]) -> bool:
    if word.lower() in not_names or word.lower().endswith("ing") or ROLE.fullmatch(word):
        return False
    return word.islower() if lowercase else word[0].isupper()


def _addresses_other(opening: str) -> bool:
    """Greets someone else: "Hi Mel,", "Hello @zara", "lovely to meet you!"."""
    greeting = re.match(rf"(?:{'|'.join(GREETINGS.values())})\s+(@?[\w']+)", opening, re.IGNORECASE)
    if greeting:
        word = greeting.group(1)
        if word.startswith("@") or (word[0].isupper() and word.lower() not in _GREETING_OTHERS):
            return True
    return bool(
        re.search(
            r"(?:lovely|nice|great|good) to meet you\b(?!\s+(?:all|everyone))",
            opening,
            re.IGNORECASE,
        )
    )


def _first_of_each(found: Iterable[tuple[str, str | None]]) -> Matched:
    """Each cue once, but every language that matched it (for language detection)."""
    seen: set[tuple[str, str | None]] = set()
    out: Matched = []
    for item in found:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
