"""The introductions classifier: precision and recall on the labelled set, role and place
extraction, and the look-alike cues, all on pure functions."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from archive.intros import THRESHOLD, IntroVerdict, classify_intro

LABELLED = Path(__file__).resolve().parent / "data" / "intros.jsonl"
H = "#TherapistsConnect"


def labelled() -> list[dict[str, Any]]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def scores(rows: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """Precision, recall, and the texts the classifier got wrong (for the failure message)."""
    tp = fp = fn = 0
    wrong = []
    for row in rows:
        got = classify_intro(row["text"]).is_intro
        tp += got and row["is_intro"]
        fp += got and not row["is_intro"]
        fn += row["is_intro"] and not got
        if got != row["is_intro"]:
            wrong.append(f"{'missed' if row['is_intro'] else 'false alarm'}: {row['text']}")
    return tp / max(1, tp + fp), tp / max(1, tp + fn), wrong


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").casefold() == (b or "").casefold()


# -- the labelled set ---------------------------------------------------------------------


def test_intros_labelled_set_is_big_varied_and_well_formed() -> None:
    rows = labelled()
    assert len(rows) >= 80
    assert sum(r["is_intro"] for r in rows) >= 40 and sum(not r["is_intro"] for r in rows) >= 40
    assert {"es", "fr", "de", "pt", "it"} <= {r.get("lang") for r in rows}
    kinds = {r.get("kind") for r in rows if not r["is_intro"]}
    assert {"event", "question", "welcome", "retweet", "answer", "link"} <= kinds
    for row in rows:
        assert isinstance(row["text"], str) and isinstance(row["is_intro"], bool)
        assert set(row) <= {"text", "is_intro", "role", "place", "lang", "kind"}, row
        if not row["is_intro"]:
            assert "role" not in row and "place" not in row, row


def test_intros_precision_and_recall_on_the_whole_labelled_set() -> None:
    precision, recall, wrong = scores(labelled())
    print(f"\nintroductions, all {len(labelled())}: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.9, "\n".join(wrong)


def test_intros_precision_and_recall_on_the_held_out_quarter() -> None:
    held_out = [row for index, row in enumerate(labelled()) if index % 4 == 3]
    precision, recall, wrong = scores(held_out)
    print(
        f"\nintroductions, held-out {len(held_out)}: precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= 0.85 and recall >= 0.85, "\n".join(wrong)


def test_intros_role_and_place_match_the_labels() -> None:
    intros = [row for row in labelled() if row["is_intro"]]
    verdicts = [classify_intro(row["text"]) for row in intros]
    roles = sum(_same(v.role, r.get("role")) for v, r in zip(verdicts, intros))
    places = sum(_same(v.place, r.get("place")) for v, r in zip(verdicts, intros))
    print(f"\nrole right {roles}/{len(intros)}, place right {places}/{len(intros)}")
    assert roles / len(intros) >= 0.9 and places / len(intros) >= 0.9


# -- role and place -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "role", "place"),
    [
        (f"Hi all, I'm Priya, a trainee counsellor in Leeds. New here {H}", "trainee counsellor", "Leeds"),
        (f"New here! Clinical psychologist from Dublin {H}", "Clinical psychologist", "Dublin"),
        (f"Hello! I'm an MBACP counsellor based in Toronto {H}", "MBACP counsellor", "Toronto"),
        (f"Hi! I'm a BACP-accredited counsellor in Bath {H}", "BACP-accredited counsellor", "Bath"),
        (f"Hi! I'm a UKCP-registered psychotherapist in Hove {H}", "UKCP-registered psychotherapist", "Hove"),
        (f"Hi all, I'm a social worker from Leicester {H}", "social worker", "Leicester"),
        (f"Hello, I'm Sam, an art therapist in Glasgow. Just joined {H}", "art therapist", "Glasgow"),
        (f"Hi {H}! I'm an LPC in Austin, TX and new here", "LPC", "Austin, TX"),
        (f"Howdy! I'm a LMFT out of Denver, CO and just joined {H}", "LMFT", "Denver, CO"),
        (f"Hi! I'm Jo, a psychotherapist in the Lake District. New here {H}", "psychotherapist", "Lake District"),
        (f"Greetings from Newcastle upon Tyne! Couples therapist, new here {H}", "Couples therapist", "Newcastle upon Tyne"),
        (f"Hey! I'm a trainee counsellor in Stoke-on-Trent, new here {H}", "trainee counsellor", "Stoke-on-Trent"),
        (f"Hi, I'm a music therapist working in the NHS in Newcastle. New here {H}", "music therapist", "Newcastle"),
        (f"Hi, I'm Dev. Psychology graduate starting training in September. New here {H}", "Psychology graduate", None),
        (f"Hi, I'm Niamh 👋 Integrative counsellor, MBACP, Galway. New here {H}", "Integrative counsellor", "Galway"),
        (f"Hey, newbie here. Student counsellor, Sheffield. {H}", "Student counsellor", "Sheffield"),
        (f"Hi, I'm Yusuf, psychotherapist in Leeds, Harrogate and online. New here {H}", "psychotherapist", "Leeds"),
        (f"Hi! I'm a counsellor in Leeds on Saturdays and new here {H}", "counsellor", "Leeds"),
        (f"Hello from sunny Brighton! I'm Rosa, a counsellor, just joined {H}", "counsellor", "Brighton"),
        (f"Hi! Based in north London, I'm a counsellor and psychotherapist. New here {H}", "counsellor and psychotherapist", "north London"),
        (f"Hi folks, I'm Pete. 30 years a social worker, now a trainee psychotherapist. New here {H}", "trainee psychotherapist", None),
        (f"Hi, I'm Ruth. Not a therapist (yet!) - I'm a psychology student. New here {H}", "psychology student", None),
        (f"hi all, im jade, trainee counsellor from liverpool, new here {H}", "trainee counsellor", "liverpool"),
        (f"hi im sol, a psychotherapist in leicester, new here {H}", "psychotherapist", "leicester"),
        (f"Hi, I'm a counselling psychologist in training, based in Coventry. New here {H}", "counselling psychologist in training", "Coventry"),
        (f"¡Hola! Soy Lucía, psicóloga clínica en Madrid. Nueva en {H}", "psicóloga clínica", "Madrid"),
        (f"Bonjour à tous, je suis Claire, psychothérapeute à Lyon. Nouvelle ici {H}", "psychothérapeute", "Lyon"),
        (f"Hallo zusammen! Ich bin Jonas, Psychotherapeut in Ausbildung aus Hamburg. Neu hier {H}", "Psychotherapeut in Ausbildung", "Hamburg"),
        (f"Olá, pessoal! Sou psicoterapeuta no Porto, nova por aqui {H}", "psicoterapeuta", "Porto"),
        (f"Ciao a tutti! Sono Marco, psicoterapeuta a Milano, nuovo su {H}", "psicoterapeuta", "Milano"),
        (f"Hi {H}, I'm new here 👋", None, None),
    ],
)  # fmt: skip
def test_intros_extracts_role_and_place_as_written(
    text: str, role: str | None, place: str | None
) -> None:
    verdict = classify_intro(text)
    assert verdict.is_intro, verdict
    assert (verdict.role, verdict.place) == (role, place)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        (f"Hi, I'm Ade, a Black male therapist in London. New here {H}", "therapist"),
        (
            f"Hello all - neurodivergent psychotherapist based in Leeds, just joined {H}",
            "psychotherapist",
        ),
        (f"Hi! I'm a queer counsellor in Bristol and new here {H}", "counsellor"),
        (f"Hi! I'm an autistic psychologist in York, new here {H}", "psychologist"),
        (f"Hi! I'm a disabled social worker in Hull, new here {H}", "social worker"),
        (f"Hi! I'm a counsellor with ADHD, new here {H}", "counsellor"),
        (
            f"Hey! I'm a Muslim mum and trainee counsellor in Luton, new here {H}",
            "trainee counsellor",
        ),
    ],
)
def test_intros_role_never_carries_a_personal_characteristic(text: str, role: str) -> None:
    assert classify_intro(text).role == role


def test_intros_verdict_holds_only_role_and_place_about_the_person() -> None:
    fields = {f.name for f in dataclasses.fields(IntroVerdict)}
    assert fields == {"is_intro", "score", "cues", "role", "place", "lang"}


# -- cues: introductions and their look-alikes --------------------------------------------


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        (f"Hi {H}! I'm new here", "greeting"),
        (f"Hello {H}, my name is Tom and I'm new here", "name"),
        (f"I'm a trainee counsellor, new here {H}", "self_role"),
        (f"New here! Clinical psychologist from Dublin {H}", "role_lead"),
        (f"Just joined {H}! Say hi", "new_here"),
        (f"Long-time lurker, first-time poster {H}", "new_here"),
        (f"Hi! Looking forward to connecting with you all {H}", "hoping_to_meet"),
        (f"Hola, soy Ana y acabo de unirme a {H}", "new_here"),
        (f"Bonjour, je m'appelle Inès {H}", "name"),
        (f"Hallo, ich bin neu hier {H}", "new_here"),
        (f"Olá! Sou a Beatriz, nova por aqui {H}", "name"),
        (f"Ciao! Mi chiamo Giulia {H}", "name"),
    ],
)  # fmt: skip
def test_intros_recognises_introduction_cues(text: str, cue: str) -> None:
    assert cue in {c.name for c in classify_intro(text).cues}


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        (f"Join us tonight at 8pm for {H} chat on endings!", "event"),
        (f"Free webinar for counsellors. Register here https://t.co/abc {H}", "event"),
        (f"Hi all! Workshop this Friday at 7pm in Leeds {H}", "event_time"),
        (f"Hi all, I'm a trainee counsellor in Leeds. Has anyone got placement tips? {H}", "question"),
        (f"Welcome @PriyaCounsels! Lovely to have you on {H}", "welcome"),
        (f"@jo_therapy welcome Jo! I'm in Leeds too {H}", "response"),
        (f"@MelTherapy Hi Mel, lovely to meet you! I'm a counsellor in Bristol {H}", "addresses_other"),
        (f"@MelTherapy Hi! Same, I'm a counsellor in Bristol too {H}", "reply"),
        (f"A1: I'm a trainee counsellor and endings scare me #TraineeTalk {H}", "chat_answer"),
        (f"(A2) Hi, I'm new to placements {H}", "chat_answer"),
        (f"New blog post for trainee counsellors https://t.co/x {H}", "promotion"),
        (f"https://t.co/Xyz12AbC9q {H}", "link_only"),
        (f"Hi all, we're a new counselling service in Hull {H}", "group_voice"),
        (f"RT @PriyaCounsels: Hi everyone! I'm Priya, a trainee counsellor in Leeds. New here {H}", "retweet"),
        (f"Bienvenue à @claire_psy sur {H} !", "welcome"),
        (f"¡Únete a nosotros esta noche a las 20h! {H}", "event"),
    ],
)  # fmt: skip
def test_intros_negative_cues_make_look_alikes_not_introductions(text: str, cue: str) -> None:
    verdict = classify_intro(text)
    assert cue in {c.name for c in verdict.cues}
    assert not verdict.is_intro, verdict


def test_intros_retweet_flag_vetoes_even_a_perfect_introduction() -> None:
    text = f"Hi everyone! I'm Priya, a trainee counsellor in Leeds. New here {H}"
    assert classify_intro(text).is_intro
    assert not classify_intro(text, retweet=True).is_intro


def test_intros_a_strong_introduction_in_a_reply_still_counts() -> None:
    verdict = classify_intro(
        f"@TraineeTalk Hi! I'm Lena, a trainee counsellor, first time here {H}"
    )
    assert "reply" in {c.name for c in verdict.cues} and verdict.is_intro


def test_intros_a_role_and_place_without_any_hello_is_not_an_introduction() -> None:
    verdict = classify_intro(
        f"I'm a psychotherapist in Leeds and I can't believe the waiting lists {H}"
    )
    assert verdict.score >= THRESHOLD and not verdict.is_intro


def test_intros_just_joined_something_else_is_not_joining_the_community() -> None:
    assert not classify_intro(f"Happy to say I've just joined the BACP register! {H}").is_intro
    assert classify_intro(f"Just joined {H}! I'm Mel, a counsellor in Bristol").is_intro


def test_intros_every_cue_is_listed_with_its_weight_and_the_score_adds_up() -> None:
    verdict = classify_intro(f"Hi! I'm Sam, a trainee counsellor in Leeds. New here {H}")
    assert verdict.score == sum(c.weight for c in verdict.cues)
    assert [c.name for c in verdict.cues] == [
        "greeting", "name", "self_role", "new_here", "place", "role_place",
    ]  # fmt: skip


def test_intros_lang_hint_lets_place_prepositions_of_that_language_apply() -> None:
    text = f"Psicoterapeuta no Porto, primeiro post aqui {H}"
    assert classify_intro(text).place == "Porto"  # Portuguese cue found in the text
    assert classify_intro(f"Terapeuta no Porto {H}", lang="pt").place == "Porto"
    assert classify_intro(f"Terapeuta no Porto {H}").place is None


@pytest.mark.parametrize(
    "text",
    ["counsellor, " * 2500, "Hi, " + "trainee " * 3000, "I'm Sam, " * 2500, "?" * 25_000],
)
def test_intros_long_hostile_text_is_classified_quickly(text: str) -> None:
    started = time.perf_counter()
    classify_intro(text)
    assert time.perf_counter() - started < 2.0
