"""The words the introductions classifier looks for: roles, place prepositions, non-places.

Data only (regular-expression sources and word sets); archive/intro_details.py and
archive/intros.py compile and use them. Roles are professions and training
stages as people state them. Modifiers are kept to a safe list (training stage,
accreditation, modality, client group, setting), so a role never carries a
health condition, an ethnicity, a gender or any other personal characteristic
written next to it: "a Black male therapist" gives the role "therapist".
"""

from __future__ import annotations

# Accreditation bodies, optionally "-accredited"/"-registered": "MBACP", "BACP-accredited".
ACCREDITATION = (
    r"(?:m?bacp(?:\s*\(accred\))?|ukcp|hcpc|ncps|mncps|babcp|bps|cosca|iacp|pacfa|crpo)"
    r"(?:[- ](?:accredited|registered|accred))?"
)

# Words allowed before a role noun (English). Longer alternatives first.
ROLE_MODIFIERS = (
    r"(?:first|second|third|fourth|final)[- ]year",
    r"newly[- ]qualified",
    r"child and adolescent",
    r"dance[- ]movement",
    r"person[- ]cent(?:red|ered)",
    r"mental[- ]health",
    ACCREDITATION,
    r"qualified|trainee|student|retired|accredited|registered|chartered|licensed",
    r"senior|lead|principal|assistant|practi[sc]ing|freelance|volunteer|private|online",
    r"school|university|child|adolescent|youth|family|couples?|relationship",
    r"art|music|drama|play|integrative|psychodynamic|psychoanalytic|humanistic",
    r"existential|gestalt|systemic|cbt|dbt|emdr|clinical|counsell?ing|forensic",
    r"educational|health|occupational|psychiatric|psychology",
)

# Role nouns, singular only (a plural names other people: "any psychotherapists in ...").
ROLE_HEADS = (
    # English
    r"marriage and family therapist",
    r"psychotherapist|therapist|counsell?or|psychologist|psychiatrist|psychoanalyst",
    r"social worker|youth worker|support worker|nurse|supervisor|coach",
    r"student|graduate|undergrad(?:uate)?|trainee|lmft|mft|lpcc|lpc|lcsw|lmhc|lcpc",
    # Spanish, Portuguese, Italian
    r"psic[oó]log[oa]|psicoterapeuta|terapeuta|psiquiatra|psichiatra|consejer[oa]",
    r"trabajador(?:a)? social|assistente sociale?",
    r"estudiante de psicolog[ií]a|estudante de psicologia|studente(?:ssa)? di psicologia",
    # French
    r"psychologue|psychoth[ée]rapeute|(?:art-|musico)?th[ée]rapeute|psychiatre|psychanalyste",
    r"assistante? sociale?|[ée]tudiante? en psychologie",
    # German (nouns are compounds: Kunsttherapeutin, Familientherapeut)
    r"\w*therapeut(?:in)?|psycholog(?:e|in)|psychiater(?:in)?|sozialarbeiter(?:in)?",
    r"sozialp[äa]dagog(?:e|in)",
)

# Words allowed after a role noun: "psicóloga clínica", "Psychotherapeut in Ausbildung".
ROLE_POSTMODIFIERS = (
    r"in training|in ausbildung|en formaci[oó]n|en formation|em forma[cç][aã]o|in formazione",
    r"cl[ií]nic[oa]|clinicien(?:ne)?|ocupacional|familiar|infantil|familial(?:e)?",
)

# Words joining two roles: "counsellor and psychotherapist".
ROLE_JOINERS = r"and|&|/|et|y|e|und"


def _words(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(text.split())


def alternation(parts: tuple[str, ...]) -> str:
    """One regular-expression group matching any of `parts`."""
    return "(?:" + "|".join(parts) + ")"


# Prepositions before a place, by language. "Strong" ones say where the person is
# ("based in", "from"); "weak" ones are the plain "in", which many non-places follow.
STRONG_PLACE_PREPOSITIONS: dict[str, tuple[str, ...]] = {
    "en": (
        r"based in|living in|live in|lives in|working in|work in|practi[sc]ing in",
        r"practice in|hello from|greetings from|from|out of|near",
    ),
    "es": (r"desde|soy de|vivo en|trabajo en|basad[oa] en",),
    "fr": (r"depuis|bas[ée]e? [àa]|install[ée]e? [àa]|j'habite [àa]|vis [àa]|originaire de",),
    "de": (r"aus|wohne in|lebe in|arbeite in",),
    "pt": (r"vivo em|moro em|sou de|direto de|desde",),
    "it": (r"vivo a|vivo in|sono di|lavoro a|da",),
}
WEAK_PLACE_PREPOSITIONS: dict[str, tuple[str, ...]] = {
    "en": (r"in",),
    "es": (r"en",),
    "fr": (r"[àa]|en",),
    "de": (r"in",),
    "pt": (r"em|no|na",),
    "it": (r"a|in",),
}

# Lower-case words that may open a place ("north London") and are kept in it.
PLACE_DIRECTIONS = _words(
    "north south east west central northern southern eastern western north-east north-west"
    " south-east south-west inner outer greater rural coastal downtown upstate"
)
# Lower-case adjectives skipped before a place ("hello from sunny Brighton").
PLACE_ADJECTIVES = _words(
    "sunny lovely beautiful rainy windy bonny gorgeous chilly snowy bright grey gray wet glorious"
)
# Small words allowed inside a place name when a capitalised word follows them.
PLACE_CONNECTORS = _words("upon on under of de del la le di do da dos das am an der")
# Capitalised words that follow "in"/"from" but are not places (compared lower-cased).
NOT_PLACES = _words(
    "january february march april may june july august september sept october november"
    " december monday tuesday wednesday thursday friday saturday sunday nhs cbt dbt emdr"
    " act ifs cat year level private practice training ausbildung weiterbildung praxis"
    " teilzeit vollzeit klinik psychology counselling counseling person-centred gestalt"
    " english spanish french german twitter x zoom teams therapy supervision university i"
    " mbacp bacp ukcp hcpc ncps babcp bps crpo msc ma phd bsc the a an my our your this"
    " that"
)
# Lower-case words that are not places in an all-lower-case tweet ("from home").
LOWERCASE_NOT_PLACES = _words(
    "home work here there scratch experience school uni university the a an my our your"
    " this that you all everyone training private practice person placement"
)

# Phrases that give a name outright, and self-references a capitalised name may follow.
NAME_PHRASES: dict[str, str] = {
    "en": r"my name(?:'s| is)",
    "es": r"me llamo|mi nombre es",
    "fr": r"je m'appelle|moi c'est",
    "de": r"ich hei(?:ß|ss)e|mein name ist",
    "pt": r"me chamo|chamo-me|meu nome [ée]",
    "it": r"mi chiamo|il mio nome [èe]",
}
NAME_MARKERS: dict[str, str] = {
    "en": r"i'm|i am|im",
    "es": r"soy",
    "fr": r"je suis",
    "de": r"ich bin",
    "pt": r"sou(?: a| o)?",
    "it": r"sono",
}

# Capitalised words after "I'm" that are not names.
NOT_NAMES = _words(
    "not so just here back new also still in from on at a an the currently really very"
    " looking offering hosting"
)
