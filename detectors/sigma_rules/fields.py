"""CloudTrail field names, as Sigma rules write them, mapped onto chainwatch events.

The cloudtrail adapter (``docs/adapters.md``) turns a record into a tool call: ``eventName`` is the
``action`` (with Lambda's API-version suffix dropped), ``requestParameters`` are the ``arguments``, and the
rest of the record sits beside them under ``arguments`` (``error_code``, ``user_agent``, ``user_identity`` …).
This module is that mapping as data — the pySigma processing pipeline is built from it — and reads a
mapped path off an event.
"""

from __future__ import annotations

from typing import Any

from schemas.adapters.cloudtrail import CONTEXT_KEYS as CLOUDTRAIL_CONTEXT_KEYS
from schemas.events import AnyEvent

# Whole-field mappings: CloudTrail name -> chainwatch path.
EXACT: dict[str, str] = {
    "eventName": "action",
    "eventSource": "arguments.event_source",
    "eventID": "event_id",
    "eventTime": "event_time",
    "eventType": "arguments.event_type",
    "errorCode": "arguments.error_code",
    "errorMessage": "arguments.error_message",
    "userAgent": "arguments.user_agent",
    "sourceIPAddress": "arguments.source_ip",
    "awsRegion": "arguments.aws_region",
    "recipientAccountId": "arguments.aws_account",
    "readOnly": "arguments.read_only",
    "requestParameters": "request_parameters",
    "responseElements": "arguments.response",
    "userIdentity": "arguments.user_identity",
    "additionalEventData": "arguments.additional",
}
# Prefix mappings: ``requestParameters.userName`` -> ``arguments.userName``.
PREFIXES: dict[str, str] = {
    "requestParameters.": "arguments.",
    "responseElements.": "arguments.response.",
    "userIdentity.": "arguments.user_identity.",
    "additionalEventData.": "arguments.additional.",
}
# Keys the adapter adds beside requestParameters: not part of ``requestParameters`` as a whole.
CONTEXT_KEYS = CLOUDTRAIL_CONTEXT_KEYS
# Everything the pipeline lets through (after mapping): the chainwatch paths above.
MAPPED_PATTERNS = [f"^{p.replace('.', '[.]')}$" for p in EXACT.values()] + [
    f"^{p.replace('.', '[.]')}.+" for p in PREFIXES.values()
]


def chainwatch_path(field: str) -> str | None:
    """The chainwatch path of a CloudTrail field name; None when chainwatch does not keep it."""
    if field in EXACT:
        return EXACT[field]
    for prefix, target in PREFIXES.items():
        if field.startswith(prefix) and len(field) > len(prefix):
            return target + field[len(prefix) :]
    return None


_MISSING = object()


def _lookup(container: Any, parts: list[str]) -> Any:
    """Walk ``parts`` through dicts, also accepting flattened keys (the response summary keeps
    ``accessKey.userName`` as one key)."""
    if not parts:
        return container
    if not isinstance(container, dict):
        return _MISSING
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if key in container:
            found = _lookup(container[key], parts[cut:])
            if found is not _MISSING:
                return found
    return _MISSING


def read_field(event: AnyEvent, path: str) -> tuple[bool, Any]:
    """(present, value) of a chainwatch path on an event."""
    if path == "request_parameters":
        arguments = getattr(event, "arguments", None)
        if not isinstance(arguments, dict):
            return False, None
        return True, {k: v for k, v in arguments.items() if k not in CONTEXT_KEYS}
    head, _, rest = path.partition(".")
    value = getattr(event, head, _MISSING)
    if value is _MISSING:
        return False, None
    if rest:
        value = _lookup(value, rest.split("."))
    if value is _MISSING or value is None:
        return False, None
    return True, value
