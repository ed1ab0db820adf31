"""Where alerts go: a signed webhook POST, or a line appended to a file / standard output.

A sink's ``send`` returns normally when the alert was accepted, raises :class:`TransientFailure` when
trying again later may work (connection refused, timeout, HTTP 408/425/429/5xx) and
:class:`PermanentFailure` when the endpoint refused this body (other HTTP 4xx).
"""

from __future__ import annotations

import http.client
import os
import sys
import urllib.error
import urllib.request
from typing import Protocol

from streams.alerts.delivery.signing import ALERT_ID_HEADER, IDEMPOTENCY_HEADER, sign_headers
from streams.settings import FileSink, WebhookSink

RETRYABLE_STATUS = frozenset({408, 425, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is refused: urllib would replay a POST as a body-less GET somewhere else and call it a
    success. The 3xx surfaces as an HTTPError and the row is kept as rejected, with the status."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class TransientFailure(Exception):
    """Delivery failed in a way worth retrying."""


class PermanentFailure(Exception):
    """The endpoint refused the alert; retrying the same body will not help."""


class Sink(Protocol):
    name: str
    min_severity: str
    format: str

    def send(self, alert_id: str, body: bytes) -> None: ...


class Webhook:
    def __init__(self, config: WebhookSink, secret: bytes) -> None:
        self.config = config
        self.name = config.name
        self.min_severity: str = config.min_severity
        self.format: str = config.format
        self._secret = secret

    def send(self, alert_id: str, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "chainwatch-delivery/1",
            IDEMPOTENCY_HEADER: alert_id,
            ALERT_ID_HEADER: alert_id,
            **sign_headers(self._secret, body),
        }
        request = urllib.request.Request(self.config.url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=self.config.timeout_seconds) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code} from {self.name}"
            if exc.code >= 500 or exc.code in RETRYABLE_STATUS:
                raise TransientFailure(detail) from None
            raise PermanentFailure(f"{detail}: {exc.read(500).decode(errors='replace')}") from None
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            OSError,
            http.client.HTTPException,
        ) as exc:
            # HTTPException: a garbled status line, a truncated body (BadStatusLine, IncompleteRead, …);
            # not OSErrors, and uncaught they stopped the drain before the attempt was counted or backed off
            raise TransientFailure(f"{self.name}: {type(exc).__name__}: {exc}") from None


class JsonLines:
    """Appends one line per alert and fsyncs it before reporting success ('-': standard output)."""

    def __init__(self, config: FileSink) -> None:
        self.config = config
        self.name = config.name
        self.min_severity: str = config.min_severity
        self.format: str = config.format

    def send(self, alert_id: str, body: bytes) -> None:
        line = body.rstrip(b"\n") + b"\n"
        if self.config.path == "-":
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            return
        try:
            with open(self.config.path, "ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise TransientFailure(f"{self.name}: cannot append to {self.config.path}: {exc}") from None
