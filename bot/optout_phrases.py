"""Recognising an opt-out: is this post someone asking the bot never to contact them again?

People who reply to the bot or mention it may ask it to stop ("@TraineeTalkBot stop",
"unsubscribe me", "no bots please"). Once they have, the bot must never contact them
again. The same words turn up all the time in chat answers that happen to sit in a
thread the bot started, so they carry its handle too: "I can't stop thinking about A2",
"A1: stop and reflect", "Should trainees opt out of the pension scheme?". Those must
not count.

The rule
--------
A post is an opt-out when, once the leading @mentions (X's reply prefix) are taken
off, the *whole* message is the request, with at most some filler around it. It is
not a keyword search: "stop" anywhere in a longer sentence is not enough.

1. Normalise: HTML entities as X sends them (``&amp;``) are unescaped, full-width
   characters (``＠``) folded (NFKC), case folded, curly apostrophes straightened.
2. Take off the leading @mentions (`strip_leading_mentions`), then anything at either
   end that is not a word: punctuation, emoji, hashtags, @mentions, links ("STOP!!",
   "Stop. #TraineeTalk", "stop messaging me @TraineeTalkBot", a quote tweet's link).
3. Split what is left into words (accents dropped, so "arrête" and "arrete" match)
   and match them, as a whole, against::

       FILLER* REQUEST (FILLER | REQUEST)*

   REQUEST is one of a fixed list of phrasings: stop / stop it / stop messaging,
   replying to, tagging, mentioning... me; unsubscribe (me) (from your list...);
   opt out, opt-out, optout, opt me out, I'd like to opt out (of these messages...);
   no bots, no more bots, no bot replies, no more messages; don't / do not / never
   message, contact, reply to, tag, @ ... me; leave me alone; remove me (from your
   list); take me off your list; and a few unambiguous ones in other languages
   (French "arrête", "ne me contactez plus", "désabonnez-moi"; Spanish "no me escribas
   más", "déjame en paz", "darme de baja"; German "abmelden", "lass mich in Ruhe",
   "keine Bots"; Portuguese and Italian "don't tag me" forms).
   FILLER is a polite or framing word: please, pls, kindly, thanks, thank you, now,
   again, anymore, just, ok, no, no thanks, not interested, I said, can you, a name
   ending in "bot", svp, merci, por favor, gracias, bitte, danke...

Three things veto a match, because they mark talk rather than a request: double
quotation marks (someone quoting someone else: '"Stop." One word my client needed'),
laughter (lol, haha, 😂, 🤣, 😅...: "@sam stop it 😂" is banter), and a bare "stop"
directly followed by a hashtag, which is then its object ("Stop #overthinking"),
whereas "Stop. #TraineeTalk" has a full stop between them. Retweets ("RT @x: Stop.")
never match because "RT" is not a filler. Messages of more than 20 words never match.

Known limits
------------
It errs towards NOT treating a chat answer as an opt-out, and so misses some real
requests: anything with extra words ("stop, I've had enough of this"), questions
("how do I unsubscribe?"), quoted or joking requests, a bare stop right before a
hashtag ("STOP #TherapistsConnect" reads like "Stop #overthinking"), and languages not
listed. The
other way round, a post that is nothing but a request said to someone else in the
same thread ("@TraineeTalkBot @sam stop!") counts, since X gives the bot no way to
tell; that is the safe side of consent. The bot's own handle is not known here, so
any trailing @mention is tolerated. Organisers can opt anyone out by hand with
``tcbot optout add USER``. tests/data/optout_phrases.jsonl holds the labelled
examples (requests and look-alikes) that tests/test_optout_phrases.py checks.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["is_opt_out", "strip_leading_mentions"]

MAX_WORDS = 20

_HANDLE = r"[@＠][A-Za-z0-9_]{1,15}(?![A-Za-z0-9_])"
_LEADING_MENTIONS = re.compile(rf"^\s*(?:{_HANDLE}[\s,;:]*)+")

# What may sit at either end of a request: mentions, hashtags, links, any non-word character.
_EDGE_UNIT = rf"(?:{_HANDLE}|#\w+|https?://\S+|[^\w])"
_LEADING_EDGE = re.compile(rf"^{_EDGE_UNIT}+")
_TRAILING_EDGE = re.compile(rf"{_EDGE_UNIT}+$")

_QUOTES = re.compile(r"[\"“”„‟«»]")
_LAUGHTER = re.compile(
    r"[😂🤣😆😅😹😜😝😛🙃😏😁😄🤭]"
    r"|\b(?:lo+l+|lolz|lmf?ao+|rofl|jk|(?:ha){2,}h?|(?:he){2,}h?|(?:ja){2,}|(?:je){2,}|mdr)\b"
)
_STOP_THEN_HASHTAG = re.compile(r"(?<![\w#@])(?:stop+|stopp|arr[eê]te?z?)\s+#\w")
_WORD = re.compile(r"[\w'@]+")

# -- the phrasebook (lower case, accents dropped, words separated by one space) ----------------

_ME = r"(?:me|us)"
_CONTACT_ING = (
    r"(?:messaging|msging|contacting|replying to|responding to|tagging|mentioning|dming|dm'ing"
    r"|@ing|@'ing|@ting|texting|writing to|tweeting at|tweeting|bothering|welcoming|spamming"
    r"|pinging|emailing|notifying|following|adding|including)"
)
_CONTACT_BASE = (
    r"(?:message|msg|contact|reply to|respond to|tag|mention|dm|@|text|write to|tweet at"
    r"|tweet|bother|welcome|spam|ping|email|notify|follow|add|include)"
)
_THINGS = (
    r"(?:messages|msgs|replies|tweets|dms|mentions|tags|notifications|welcomes|welcome messages"
    r"|spam|stuff|updates|bot replies|bot messages|bot tweets|automated messages|automated replies)"
)
_TARGET = (
    r"(?:(?:this|these|those|your|the|all|all your|all the|all these|all of these|this bot's"
    r"|the bot's|your bot's) )?(?:list|lists|mailing list|bot|bots|account|this|it|everything"
    rf"|all of this|all this|all|{_THINGS})"
)
_WANT = (
    r"(?:i(?:'d| would) like to|id like to|i want to|i wanna|i wish to|i need to|i'd love to"
    r"|let me)"
)
_UNSUBSCRIBE = r"(?:unsu(?:bs|b|s)c?ribe|unsub)"

_ENGLISH = (
    r"stop+(?: it| that| this)?",
    rf"(?:stop+|quit|cease) {_CONTACT_ING} (?:{_ME}|my tweets|my posts)",
    rf"(?:stop+|quit) sending (?:{_ME} )?(?:{_THINGS}|these|this)",
    (
        rf"stop+(?: it)?(?: with)? (?:the|these|those|your|all|all the|all these|all your)"
        rf" (?:{_THINGS}|bot|bots|tagging|tags)"
    ),
    rf"(?:{_WANT} )?{_UNSUBSCRIBE}(?: {_ME})?(?: from {_TARGET})?",
    rf"(?:(?:{_WANT}|i) )?(?:opt ?out|opt {_ME} out|be opted out)(?: of {_TARGET})?",
    rf"(?:i'm |im |i am |we're )?opting out(?: of {_TARGET})?",
    rf"no (?:more )?(?:ro)?bots?(?: {_THINGS})?",
    rf"no more {_THINGS}",
    rf"i (?:don't|dont|do not) want (?:any )?(?:more )?{_THINGS}",
    r"i (?:don't|dont|do not) want to be (?:contacted|tagged|mentioned|messaged|welcomed|added)",
    rf"(?:don't|dont|do not|never) (?:ever )?{_CONTACT_BASE} (?:{_ME}|my tweets|my posts)",
    r"leave (?:me|us) (?:alone|be|out of (?:it|this|this list|your list))",
    rf"remove {_ME}(?: (?:from|off) {_TARGET})?",
    rf"(?:take|delete|drop|strike) {_ME} (?:off|from|off of) {_TARGET}",
    rf"{_WANT} be removed(?: from {_TARGET})?",
)
_OTHER_LANGUAGES = (
    # French
    r"arretez?",
    (
        r"arretez? (?:de |d')(?:m'ecrire|me contacter|m'identifier|me mentionner|me taguer"
        r"|me tagger|m'envoyer des messages)"
    ),
    r"ne m'(?:ecrivez|ecris|identifiez|identifie) plus",
    r"ne me (?:contactez|contacte|mentionnez|mentionne|repondez|reponds|taguez|tague) plus",
    r"(?:je veux me |je me )?desabonner?|desabonnez moi|desabonne moi|desinscrivez moi",
    r"laissez? moi tranquille",
    # Spanish
    (
        r"no me (?:escribas|escriba|escriban|contactes|contacte|contacten|menciones|mencione"
        r"|mencionen|etiquetes|etiquete|etiqueten|respondas|responda|respondan|contestes"
        r"|mandes mensajes|manden mensajes)(?: mas| nunca mas)?"
    ),
    (
        r"(?:deja|dejen|deje|dejad) de (?:escribirme|contactarme|mencionarme|etiquetarme"
        r"|responderme|molestarme)"
    ),
    r"(?:dejame|dejenme|dejadme) en paz",
    r"(?:quiero )?darme de baja|dame de baja|denme de baja",
    # German
    r"(?:ich (?:mochte|will) mich |mich )?abmelden|abbestellen",
    r"keine (?:bots|bot nachrichten|nachrichten|erwahnungen|markierungen)(?: mehr)?",
    r"(?:lass|lasst|lassen sie) mich in ruhe",
    r"(?:schreib|schreibt|schreiben sie) mir nicht mehr",
    (
        r"(?:kontaktier|kontaktiert|kontaktieren sie|markier|markiert|markieren sie|erwahn"
        r"|erwahnt|erwahnen sie) mich nicht mehr"
    ),
    # Portuguese and Italian
    r"pare de me (?:marcar|mencionar|mandar mensagens?)",
    r"nao me (?:marque|marquem|mencione|mencionem|mande mensagens?|contate|escreva) mais",
    r"smettila di (?:scrivermi|taggarmi|menzionarmi|contattarmi)",
    r"non (?:scrivermi|taggarmi|contattarmi|menzionarmi) piu",
    r"lasciami in pace",
)
_FILLERS = (
    r"please|pls|plz|plse|pleas+e|kindly|hey|hi|hello|ok|okay|oh|ugh|um|sorry|seriously",
    r"honestly|just|really|now|already|again|anymore|any more|ever again|any longer|for good",
    r"forever|for ever|asap|immediately|right now|thanks|thank you|thank u|thanks a lot",
    r"many thanks|thx|ty|ta|cheers|no|nope|no thanks|no thank you|thanks but|thank you but",
    r"not interested|i'm not interested|im not interested|i am not interested|i said|enough",
    r"can you|could you|would you|will you|can u|could u|x+|[a-z0-9_]*bot",
    r"svp|stp|s'il vous plait|s'il te plait|merci|non merci|por favor|porfa|gracias|no gracias",
    r"bitte|danke|nein danke|per favore|grazie|obrigad[oa]",
)

_REQUEST = "|".join((*_ENGLISH, *_OTHER_LANGUAGES))
_FILLER = "|".join(_FILLERS)
_MESSAGE = re.compile(rf"(?:(?:{_FILLER}) )*(?:{_REQUEST})(?: (?:{_FILLER}|{_REQUEST}))*")


def strip_leading_mentions(text: str) -> str:
    """The text without leading @mentions (X's reply prefix) and surrounding whitespace.

    X puts the handles of everyone in the conversation at the start of a reply
    ("@TraineeTalkBot @sam stop"). A handle is 1-15 letters, digits or underscores
    after "@" (or the full-width "＠"); commas or colons between handles are dropped
    too. Mentions later in the text are kept, and so is everything else, as written.
    """
    return _LEADING_MENTIONS.sub("", text, count=1).strip()


def is_opt_out(text: str) -> bool:
    """True when the post, after any leading @mentions, asks the bot to stop contacting them."""
    body = _normalise(text)
    if _QUOTES.search(body) or _LAUGHTER.search(body) or _STOP_THEN_HASHTAG.search(body):
        return False
    words = _words(body)
    if not words or len(words) > MAX_WORDS:
        return False
    return _MESSAGE.fullmatch(" ".join(words)) is not None


def _normalise(text: str) -> str:
    """Unescaped, NFKC-folded, without the reply prefix, case-folded, straight apostrophes."""
    folded = unicodedata.normalize("NFKC", html.unescape(text))
    body = strip_leading_mentions(folded).casefold()
    return body.replace("’", "'").replace("‘", "'").replace("ʼ", "'")


def _words(body: str) -> list[str]:
    """The words between the edges (no punctuation, emoji, hashtags, mentions or links)."""
    middle = _TRAILING_EDGE.sub("", _LEADING_EDGE.sub("", body))
    plain = "".join(
        char for char in unicodedata.normalize("NFKD", middle) if unicodedata.category(char) != "Mn"
    )
    return [word.strip("'") for word in _WORD.findall(plain) if word.strip("'")]
