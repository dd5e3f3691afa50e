"""Who the sandbox's simulated community is and what they say (data only, no behaviour).

The usernames are not the demo's (sam_trainee, priya_mbacp), so a script that adds those
by hand still can while the community is on. Every line is short, plausible for people in
counselling or psychotherapy training, and fits any question: the community does not read
the question, only its number and hashtag.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANSWERS",
    "BODIES",
    "FOLLOW_UPS",
    "HELLOS",
    "NEWCOMERS",
    "OPENERS",
    "REGULARS",
    "Persona",
]


@dataclass(frozen=True, slots=True)
class Persona:
    """A pretend participant: the account, and the role and city an introduction names."""

    username: str
    name: str
    role: str
    city: str


REGULARS = (
    Persona("ellie_counsels", "Ellie R", "trainee counsellor", "Bristol"),
    Persona("tom_ptherapy", "Tom Okafor", "psychotherapist", "Manchester"),
    Persona("ngozi_mbacp", "Ngozi A, MBACP", "counsellor", "Birmingham"),
    Persona("raj_cbt_trainee", "Raj (CBT trainee)", "CBT trainee", "Glasgow"),
)

# One newcomer joins each chat; once these are used, they come back numbered (leeds_hannah2).
NEWCOMERS = (
    Persona("leeds_hannah", "Hannah W", "trainee psychotherapist", "Leeds"),
    Persona("owen_trainee", "Owen P", "trainee counsellor", "Cardiff"),
    Persona("maya_pgdip", "Maya S", "counselling student", "Brighton"),
    Persona("fin_counselling", "Fin", "trainee counsellor", "Belfast"),
    Persona("kwame_tt", "Kwame A", "trainee psychotherapist", "London"),
    Persona("aisha_trainee", "Aisha B", "trainee integrative counsellor", "Nottingham"),
)

OPENERS = ("", "Good question! ", "Honestly? ", "For me it's simple. ", "Ooh, great Q. ")

BODIES = (
    "Supervision. Saying it out loud to someone who gets it changes everything.",
    "Journalling after placement days, even just three lines.",
    "My own therapy is where I work most of this out.",
    "Still figuring this one out! My peer group helps a lot.",
    "Rereading Rogers reminded me why I started the course.",
    "Boundaries: learning to leave the work in the room.",
    "Walking to and from placement with no podcast, just space.",
    "Asking for help much earlier than I used to.",
    "Our tutor said good enough is good enough, and it stuck.",
    "Noticing my body. If my shoulders are up by my ears, I need a break.",
    "Process group. Terrifying in year one, the best bit now.",
    "Taking my client work to supervision with curiosity, not shame.",
    "A spreadsheet for placement hours saved me at the end of year one.",
    "Remembering the relationship matters more than any technique.",
    "Talking to trainees a year ahead of me on the course.",
    "Making time for things that have nothing to do with therapy. I climb!",
    "Reflective practice groups: hearing others' doubts eases mine.",
    "Being honest in supervision when I don't know what I'm doing.",
    "Keeping a tiny ritual between clients: window open, glass of water.",
    "Reading one chapter a week instead of cramming before essays.",
    "Letting myself be a beginner. Everyone was one once.",
    "Checking in with my course buddy after every tricky session.",
)

# ANSWERS[o * len(BODIES) + b] is OPENERS[o] + BODIES[b]
ANSWERS = tuple(opener + body for opener in OPENERS for body in BODIES)

FOLLOW_UPS = (
    "Same here, this really resonates.",
    "Love this. Stealing it for my next placement day!",
    "Yes! My supervisor says something very similar.",
    "This is so helpful, thank you for sharing.",
    "Really needed to hear this today.",
    "100%. It took me a whole year to learn that.",
    "Oh that's a good one, I might try it this week.",
    "So true. Process group taught me the same.",
)

HELLOS = (
    "Hi all! Evening from Manchester, looking forward to this one",
    "Hello everyone, first time joining live",
    "Evening! Tea in hand and ready",
    "Hi! Great topic tonight",
    "Hello from a very rainy Cardiff",
    "Hi everyone, glad to be here",
    "Evening all, just back from placement and ready to chat",
    "Hello! Lurked last week, joining in properly this time",
)
