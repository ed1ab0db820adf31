"""Web forms a browser-using agent fills: which call navigates to a page (and to what URL), which input
goes to a secret field, and which typed text is a credential (``injection.credential_on_planted_page``)."""

from __future__ import annotations

import functools
import re
from typing import Any

from detectors.capabilities.words import split_words

# a field for a secret, by the words of its selector, name or label: ``#password``, ``input[name=pin]``,
# ``type=password``, "One-time code" (whole words: ``#secretary-name``, "footprint", "boarding pass": none)
_SECRET_WORDS = frozenset("password passwd passcode passphrase pwd pin otp totp 2fa mfa cvv cvc".split())
_SECRET_PAIRS = (("one", "time"), ("verification", "code"), ("security", "code"), ("api", "key"))
_POSTAL = frozenset("address postal zip area map location delivery".split())  # "PIN code" of an address


def secret_field(text: str) -> bool:
    words = split_words(text[:200])
    found = set(words)
    if "pin" in found and (found & _POSTAL or "code" in found):
        found.discard("pin")
    return bool(found & _SECRET_WORDS) or any(set(pair) <= found for pair in _SECRET_PAIRS)


# a credential typed: a redacted secret, or a template or environment reference to one
_TYPED_SECRET = re.compile(
    r"\[REDACTED:|\{\{[^}]{0,80}(pass|secret|token|cred|key)[^}]{0,80}\}\}|\$\{?[A-Z0-9_]*(PASS|SECRET|TOKEN|KEY)",
    re.I,
)
_NAVIGATING = frozenset("navigate goto go open visit browse load url page".split())


def page_url(event: Any) -> str | None:
    """The URL a browser navigation goes to (``browser_navigate(url=…)``, ``page.goto``), else None."""
    if not _navigates(event.tool):
        return None
    url = next((v for k, v in event.arguments.items() if k.lower() in ("url", "uri", "href", "link")), None)
    return url if isinstance(url, str) and "://" in url else None


@functools.lru_cache(maxsize=1024)  # asked of every call: a session uses a handful of tools
def _navigates(tool: str) -> bool:
    return bool(_NAVIGATING & set(split_words(tool)))


_TYPED = frozenset("text value input keys content typed".split())
_FIELD = frozenset("selector field name label element target ref id placeholder".split())


def typed_into_secret(arguments: dict[str, Any]) -> str | None:
    """What names the secret when an input types text into a secret field (``#password``) or types a
    credential anywhere; None for other inputs and for clicks (a "Forgot password?" link is no secret)."""
    typed = [v for k, v in arguments.items() if k.lower() in _TYPED and isinstance(v, str) and v]
    if not typed:
        return None
    field = next((str(v) for k, v in arguments.items() if k.lower() in _FIELD and secret_field(str(v))), None)
    return field or next((text for text in typed if _TYPED_SECRET.search(text[:2000])), None)


def searches(event: Any) -> bool:
    """A web search (``web_search``, ``google.search``): the links it returns are the agent's own pick."""
    return _searches(event.tool)


@functools.lru_cache(maxsize=1024)  # asked of every call: a session uses a handful of tools
def _searches(tool: str) -> bool:
    words = set(split_words(tool))
    return ("search" in words and bool(words & _WEB)) or bool(words & {"serp", "tavily"})


_WEB = frozenset("web internet google bing serp duckduckgo brave tavily exa".split())
