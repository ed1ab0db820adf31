"""Tables whose header names a secret: the cells under it are redacted, the rest of the table kept."""

from __future__ import annotations

import pytest

from schemas.redaction import markers, may_hold_secret, redact_text

TABLES = [
    # (table, the secret values in it)
    ("user,password\nadmin,letmein\nbob,Sup3r-s3cret", ["letmein", "Sup3r-s3cret"]),
    (
        "station | uptime | modem_admin_pw\nKLX | 97.8% | Kl@x-modem22\nPUH | 99.1% | Puh!2023mdm",
        ["Kl@x-modem22", "Puh!2023mdm"],
    ),
    ("name\tapi_key\tscope\nci\tsk_live_51Habc\tread", ["sk_live_51Habc"]),
    ("| id | pin |\n|---|---|\n| 7 | 4821 |\n| 8 | 0990 |", ["4821", "0990"]),
    ("site;wifi passphrase;floor\nHQ;Blue-Otter-42;3", ["Blue-Otter-42"]),
    (
        " host     | db_password     \n----------+-----------------\n db-1     | pg!Secret2024   ",
        ["pg!Secret2024"],
    ),
]


@pytest.mark.parametrize(("table", "secrets"), TABLES)
def test_the_cells_under_a_secrets_column_are_redacted(table: str, secrets: list[str]) -> None:
    assert may_hold_secret(table)
    redacted = redact_text(table)
    for secret in secrets:
        assert secret not in redacted
    assert len(markers(redacted)) == len(secrets)
    assert redact_text(redacted) == redacted  # idempotent


KEPT = [
    "word | token | count\nthe | the | 412\nand | and | 377",  # a word list's tokens are words
    "user,password\nadmin,-\nbob,none\ncarol,****",  # no password written
    "The pin is on the card; the token bucket refills every second.",  # prose, no table
    "name,pincode,city\nAsha,560001,Bengaluru",  # a postal PIN code is no secret
    "user,password_last_changed\nadmin,2024-03-01",  # not a secret's column
]


@pytest.mark.parametrize("text", KEPT)
def test_tables_without_a_secret_in_a_secrets_column_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_other_columns_and_lines_are_left_as_they_are() -> None:
    table = "station | owner | modem_admin_pw\nKLX | R. Kealoha | Kl@x-modem22\n\nNotes: KLX is remote."
    redacted = redact_text(table)
    assert "station | owner | modem_admin_pw" in redacted
    assert "KLX | R. Kealoha | [REDACTED:password_assignment:" in redacted
    assert redacted.endswith("Notes: KLX is remote.")
