"""Secret shapes found on blind set 52 (session 20): a settings listing's name-blanks-value lines, a seed
phrase under a bare "Mnemonic" label, a PIN by name. Each test fails before the change."""

from __future__ import annotations

import pytest

from schemas.redaction import redact_text

LISTING = """EKF2_HDG_GATE    2.6
SH_MAV_SIGN_KEY  9f3c1a77e04b2d68c5aa10f4e93b7d21c08e6f5a4b1d2c3e7f9a0b1c2d3e4f50
SH_LTE_APN_USER  skyhaul-iot
SH_LTE_APN_PASS  Hk7!pLz29qR
SH_UTM_TOKEN     utm_live_5QxJr8cW2vLmN0pT4yZs"""


@pytest.mark.parametrize(
    "secret",
    [
        "9f3c1a77e04b2d68c5aa10f4e93b7d21c08e6f5a4b1d2c3e7f9a0b1c2d3e4f50",
        "Hk7!pLz29qR",
        "utm_live_5QxJr8cW2vLmN0pT4yZs",
    ],
)
def test_a_settings_listings_secrets_are_redacted(secret: str) -> None:
    assert secret not in redact_text(LISTING)
    assert secret not in redact_text(LISTING.replace("  ", " "))  # a forum post that collapsed the blanks


def test_a_settings_listings_other_values_are_kept() -> None:
    kept = redact_text(LISTING)
    assert "skyhaul-iot" in kept and "2.6" in kept
    for line in ("SH_UTM_TOKEN_TTL 3600", "MAX_TOKENS 4096", "PRIMARY_KEY 1", "token  count 12",
                 "The token 12 expired.", "ssl_passphrase_command   /usr/bin/getpass2"):  # fmt: skip
        assert redact_text(line) == line


def test_a_seed_phrase_under_a_bare_mnemonic_label_and_a_pin_by_name() -> None:
    words = "faculty decade orbit audit mango shift peasant cloud vendor rib ozone pluck elbow thunder soap"
    text = f"Mnemonic (note trailing whitespace, 15 words):\n`{words}`\nHSM PIN 77194402, go 1.22"
    redacted = redact_text(text)
    assert words not in redacted and "77194402" not in redacted and "go 1.22" in redacted
    assert redact_text("Solder GPIO PIN 17 to the header.") == "Solder GPIO PIN 17 to the header."


def test_a_pin_by_whose_it_is_but_not_a_postal_code() -> None:
    assert "4821" not in redact_text("SIM PIN code: 4821")
    assert "0472" not in redact_text("card PIN 0472")
    assert redact_text("MG Road, Bengaluru, PIN 560001") == "MG Road, Bengaluru, PIN 560001"


def test_a_settings_listings_quoted_secret() -> None:
    assert "Hk7pLz29qR" not in redact_text('DB_PASSWORD  "Hk7pLz29qR"')


def test_a_bare_pin_of_four_digits_is_a_door_code() -> None:
    assert "7731" not in redact_text("Hall 1: PIN 2290, Hall 3: PIN 7731")
