"""Key material found in session 19's blind sets stored raw: a ground station's config with its command key
and link key under ``…_key_hex`` and a VPN's pre-shared key (``psk``)."""

from __future__ import annotations

from schemas.redaction import is_secret_key, redact_text, redact_value

STATION = """ttc:
  command_auth:
    key_id: 0x0007
    key_hex: 9f3c2a71e8b04d55c6a1f07e2b9d8c43a5e61f0b7d2c94e8813a6f5b0c2d7e19
xband:
  encryption_key_hex: 4b8e1d09c27af36e55d0b91c8a7f2e4360d1b58ca93e07f4d2c6a18b5e9f0d31
vpn:
  psk: "Sv2-moc!tunnel#8842"
  wg_preshared_key = Zx81kd92Qp
"""


def test_key_material_under_its_encoding_and_pre_shared_keys_are_redacted_in_text() -> None:
    redacted = redact_text(STATION)
    for secret in ("9f3c2a71e8b04d55", "4b8e1d09c27af36e", "Sv2-moc!tunnel#8842", "Zx81kd92Qp"):
        assert secret not in redacted
    assert "key_id: 0x0007" in redacted  # a key's id is no secret


def test_the_same_names_as_json_keys() -> None:
    value = {"psk": "Sv2-moc!tunnel#8842", "key_hex": "9f3c2a71e8b04d55c6a1f07e2b9d8c43", "key_id": "0x0007"}
    redacted = redact_value(value)
    assert redacted["key_id"] == "0x0007"
    assert "Sv2-moc" not in str(redacted) and "9f3c2a71" not in str(redacted)


def test_a_public_key_under_its_encoding_is_kept() -> None:
    public = "public_key_hex: 9f3c2a71e8b04d55c6a1f07e2b9d8c43a5e61f0b7d2c94e8813a6f5b0c2d7e19"
    assert redact_text(public) == public
    assert not is_secret_key("public_key_hex") and is_secret_key("wifi_psk")
