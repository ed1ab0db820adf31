"""Tasks in other languages (detectors/provenance/languages.py): the table reads the act a task asks for,
the intent reader uses it only where it cannot read the task as English."""

from __future__ import annotations

import pytest
import yaml

from detectors.provenance.intent import intent_of, lexicon_of
from detectors.provenance.languages import TABLE, UNSPACED_TABLE, fold, read_foreign
from schemas.types import Capability as C


def _lexicon() -> set[str]:
    return {word for capability in C for word in lexicon_of(capability)}


def test_every_verb_of_the_table_means_an_english_lexicon_word() -> None:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    unknown = [
        (language, english)
        for language, spec in table.items()
        for part in ("verbs", "leading")
        for english in (spec.get(part) or {})
        if english not in _lexicon()
    ]
    assert not unknown, f"table words the intent lexicon does not know: {unknown}"


def test_every_verb_of_the_unspaced_table_means_an_english_lexicon_word() -> None:
    table = yaml.safe_load(UNSPACED_TABLE.read_text(encoding="utf-8"))
    parts = [
        (lang, verbs) for lang, spec in table.items() for verbs in (spec["verbs"], spec.get("nouns", {}))
    ]
    unknown = [(lang, e) for lang, verbs in parts for e in verbs if e not in _lexicon()]
    assert not unknown, f"table words the intent lexicon does not know: {unknown}"
    stems = [s for _, verbs in parts for stems in verbs.values() for s in stems]
    assert all(isinstance(s, str) and s for s in stems)


def test_every_entry_of_the_table_is_a_word() -> None:
    # YAML reads a bare ``no`` as false: such a word would silently drop out of the table
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    for language, spec in table.items():
        for part, value in spec.items():
            if part == "plurals_unseen":  # the one flag of the table
                assert isinstance(value, bool), (language, value)
                continue
            lists = value.values() if isinstance(value, dict) else [value]
            for words in lists:
                assert all(isinstance(w, str) for w in words), (language, part, words)


@pytest.mark.parametrize(
    ("task", "language", "expected"),
    [
        ("Envoie le rapport trimestriel à Paul avant midi.", "fr", C.COMMUNICATE),
        ("Merci de supprimer les brouillons de la semaine dernière.", "fr", C.DELETE),
        ("Bitte lade die Rechnungen ins Kundenportal hoch.", "de", C.EGRESS),
        ("Kannst du die Testkonten im Adminbereich löschen?", "de", C.DELETE),
        ("Reembolsa el cargo duplicado a la clienta y avísale por correo.", "es", C.MONEY),
        ("Mándale a Carla el contrato firmado.", "es", C.COMMUNICATE),
        ("Paga a los proveedores las facturas aprobadas de esta semana.", "es", C.MONEY),
        ("Partilhe a pasta do projeto com a equipa de design.", "pt", C.EGRESS),
        ("Inoltra la fattura all'amministrazione entro venerdì.", "it", C.EGRESS),
        ("Verwijder de testgebruikers uit de staging-omgeving.", "nl", C.DELETE),
    ],
)
def test_a_task_in_another_language_asks_for_its_verb(task: str, language: str, expected: C) -> None:
    reading = read_foreign(task)
    assert reading is not None and reading.language == language
    assert expected in intent_of(task).implied


@pytest.mark.parametrize(
    ("task", "ruled_out"),
    [
        ("Die Winterkonten bitte sperren, nicht löschen.", "delete"),
        ("Archive les anciens devis mais ne supprime pas les factures.", "delete"),
        ("Actualiza la ficha del cliente pero no borres el historial.", "delete"),
        ("Não apague os backups antigos, só mova para o arquivo.", "delete"),
    ],
)
def test_a_negated_verb_is_ruled_out_not_asked(task: str, ruled_out: str) -> None:
    reading = read_foreign(task)
    assert reading is not None and ruled_out in reading.ruled_out
    assert (C.DELETE, ruled_out) in intent_of(task).forbidden


@pytest.mark.parametrize(
    "task",
    [
        "La règle du pare-feu bloque le port 22 depuis hier, peux-tu vérifier pourquoi ?",  # la règle: a rule
        "Die Rolle der Buchhaltung im Teile-Lager: wer darf was sehen?",  # nouns, no request
        "Resume el contrato de arrendamiento y dime si hay cláusula de penalización.",
    ],
)
def test_nouns_and_questions_ask_for_no_act(task: str) -> None:
    assert not intent_of(task).implied.keys() & {C.MONEY, C.DELETE, C.COMMUNICATE, C.EGRESS, C.IDENTITY}


def test_a_question_in_another_language_asks_for_an_answer() -> None:
    assert intent_of("Résume le dossier Martin et dis-moi s'il manque une pièce.").asks
    assert intent_of("Prüf bitte, ob die Zertifikate diese Woche ablaufen.").asks


def test_the_language_is_told_by_its_own_words_not_by_shared_ones() -> None:
    # "la", "de" and "que" are French and Spanish both: the Spanish words decide
    reading = read_foreign("Lee la reseña del restaurante y dime si vale la pena.")
    assert reading is not None and reading.language == "es"


def test_joined_pronouns_and_accents_are_read() -> None:
    assert fold("Lösche") == "losche"
    reading = read_foreign("Revisa la lista de pagos y envíala al proveedor.")
    assert reading is not None and ("envíala", "send") in reading.acts


def test_an_english_task_is_read_as_before() -> None:
    assert intent_of("Send the report to Paul and delete the drafts.").implied.keys() >= {
        C.COMMUNICATE,
        C.DELETE,
    }
    assert C.COMMUNICATE not in intent_of("What did Paul say about the report?").implied
