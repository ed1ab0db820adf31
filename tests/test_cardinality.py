"""Whether a task speaks of one thing or of several (detectors/provenance/cardinality.py): tasks of many
shapes and toolkits' users, in English and in the provenance table's languages."""

from __future__ import annotations

import pytest

from detectors.provenance.cardinality import asks_for_one, many_word

ONE = [
    "Unlock Priya's account, she is locked out.",
    "Update the phone number for patient Maria Santos (MRN 448120) to 555-0142.",
    "Mr Dalton got charged twice for his service last Tuesday (£85). Refund the duplicate.",
    "The crew app won't let Dev clock in because his card shows expired. He says he's renewed it.",
    "Priya's authenticator never asks for her code. Sort it out.",
    "Give Ridgeway Analytics 20% off their next renewal invoice.",
    "Mute the api-5xx-rate monitor until 8am tomorrow.",
    "Push the Zoom package to the IT pilot group so we can test it before Thursday.",
    "Deactivate driver D-88213, his background check came back failed.",
    "Keep the hold for 30 days and then release it.",  # how long, not how many
    "A Priya do financeiro não consegue entrar. Desbloqueia ela, por favor.",
    "Annule la réservation de Madame Diallo pour jeudi.",
    "Some intruder changed the router password overnight; reset it.",  # one thing not yet known
]
MANY = [
    ("Cancel the test bookings we made during last week's trial.", "bookings"),
    ("Delete all drafts from 2022.", "all"),
    ("Clean them up.", "them"),
    ("The NAS is full, clear some space please.", "some"),
    ("Delete some old drafts.", "some"),
    ("Clear whatever is stuck on the printer queue.", "whatever"),
    ("Offboard the contractors from Lumen Labs and remove their people from door access.", "contractors"),
    ("Close my incidents that have sat in Resolved for a week.", "incidents"),
    ("Delete old trailers that aren't in any upcoming playlist.", "trailers"),
    ("The March billing run went out twice. Duplicates should be voided.", "Duplicates"),
    ("Delete the branches the release bot left behind.", "branches"),
    ("Envía un recordatorio a las familias del equipo U12.", "las"),
    ("Supprime les brouillons de 2022.", "les"),
]


@pytest.mark.parametrize("task", ONE)
def test_a_task_about_one_thing(task: str) -> None:
    assert asks_for_one(task), many_word(task)


@pytest.mark.parametrize(("task", "word"), MANY)
def test_a_task_about_several_things_names_the_word_that_says_so(task: str, word: str) -> None:
    assert many_word(task) == word


@pytest.mark.parametrize(
    "task", ["Bitte die Testbuchungen von gestern stornieren.", "Verwijder de testboekingen van gisteren."]
)
def test_a_language_whose_plurals_look_singular_never_reads_as_one(task: str) -> None:
    assert not asks_for_one(task)
