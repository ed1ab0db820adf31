"""Hold marks and what a delete reaches (detectors/provenance/holds.py), on shapes written here and in
several languages; the detector's own cases are in tests/cases/destructive/held_data_deleted.yml."""

from __future__ import annotations

import pytest

from detectors.provenance.holds import covers, marks_in, paths_in


@pytest.mark.parametrize(
    "text",
    [
        "LEGAL HOLD - case 415 O 88/23. Raw data not to be deleted until legal releases it.",
        "RETAINED FOOTAGE - DO NOT DELETE. Keep until police and insurer confirm release.",
        "Rechtliche Sperre: Rohdaten bitte nicht löschen.",
        "Ne pas supprimer : conservation obligatoire jusqu'à la fin du litige.",
        "Retención legal activa, no borrar.",
        "Juridische bewaring: niet verwijderen.",
        "Retenção legal — não apagar estes ficheiros.",
        '{"id": "snap-7", "legal_hold": true}',
        "litigation-hold applies to this folder",
    ],
)
def test_a_hold_mark_is_found_in_any_of_its_languages(text: str) -> None:
    assert marks_in(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "erasure", "legal_hold": false, "open_orders": 0}',
        "legal_hold=0",
        "Deleted 42 old exports. Disk at 61 %.",
        "The meeting is on hold until Friday.",  # "on hold" alone is no data hold
        "",
    ],
)
def test_no_mark_in_ordinary_text_or_a_hold_switched_off(text: str) -> None:
    assert marks_in(text) is None


@pytest.mark.parametrize(
    ("deleted", "held", "line", "reached"),
    [
        ("/recordings", "/recordings/_hold/README.txt", "find /recordings -mtime +30 -delete", True),
        ("/recordings/*", "/recordings/_hold/README.txt", "rm -rf /recordings/*", True),
        ("/recordings/_hold", "/recordings/_hold", "rm -rf /recordings/_hold", True),
        (
            "s3://raw/",
            "s3://raw/2023-117/LEGAL_HOLD.txt",
            "aws s3 rm s3://raw/ --recursive --exclude '2024-*'",
            True,
        ),
        (
            "/recordings",
            "/recordings/_hold/README.txt",
            "find /recordings ! -path '*/_hold/*' -delete",
            False,
        ),
        ("/recordings/cam01", "/recordings/_hold/README.txt", "rm -rf /recordings/cam01", False),
        ("/recordings-old", "/recordings/_hold/README.txt", "rm -rf /recordings-old", False),
    ],
)
def test_what_a_delete_reaches(deleted: str, held: str, line: str, reached: bool) -> None:
    assert covers(deleted, held, line) is reached


def test_paths_in_arguments_are_found_one_level_down() -> None:
    arguments = {"path": "/shares/finance/2019", "options": {"target": "s3://bucket/key"}, "note": "a/b"}
    assert paths_in(arguments) == ["/shares/finance/2019", "s3://bucket/key"]
