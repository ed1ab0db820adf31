"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

Headers: ``X-Chainwatch-Timestamp`` (Unix seconds) and ``X-Chainwatch-Signature: v1=<hex>``. The
timestamp is inside the signed bytes, so a receiver that rejects old timestamps also rejects replays.
A receiver-side snippet (stdlib only) is in docs/alerts.md; :func:`verify` is the same check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Chainwatch-Timestamp"
SIGNATURE_HEADER = "X-Chainwatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ALERT_ID_HEADER = "X-Chainwatch-Alert-Id"
SCHEME = "v1"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SCHEME}={signature(secret, timestamp, body)}",
    }


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True when the signature is valid and the timestamp within ``tolerance_seconds`` of now."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        scheme, _, received = lowered[SIGNATURE_HEADER.lower()].partition("=")
    except (KeyError, ValueError):
        return False
    if scheme != SCHEME:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(received, signature(secret, timestamp, body))
