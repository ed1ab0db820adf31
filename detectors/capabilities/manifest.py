"""A user's tool manifest: what their tools do, said once, overriding every inference.

```yaml
# tools.yml (CHAINWATCH_ENGINE__TOOL_MANIFEST=tools.yml)
tools:
  - match: payments_*            # glob on the tool name (case-sensitive)
    capabilities: [money, write]
  - match: crm
    action: export_*             # optional glob on the action
    capabilities: [read, egress]
  - match: think
    capabilities: [read]         # a no-op tool: classified, harmless
```

The first entry that matches wins. Parsing is pure (text in, manifest out); the caller reads the file.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass

import yaml

from schemas.errors import ChainwatchError
from schemas.types import Capability


class ManifestError(ChainwatchError):
    """The tool manifest cannot be read: the message names the entry, the field and the fix."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(f"{where}: {problem}; fix: {fix}")


@dataclass(frozen=True)
class ManifestEntry:
    match: str
    action: str | None
    capabilities: tuple[Capability, ...]

    def matches(self, tool: str, action: str) -> bool:
        return fnmatch.fnmatchcase(tool, self.match) and (
            self.action is None or fnmatch.fnmatchcase(action, self.action)
        )


@dataclass(frozen=True)
class Manifest:
    entries: tuple[ManifestEntry, ...] = ()
    origin: str = "manifest"

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (frozen, hashable, few instances)
    def lookup(self, tool: str, action: str) -> ManifestEntry | None:
        return next((e for e in self.entries if e.matches(tool, action)), None)


def parse_manifest(text: str, origin: str = "manifest") -> Manifest:
    """A manifest from YAML text; every problem is a :class:`ManifestError` naming where and how to fix."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ManifestError(origin, f"not valid YAML ({exc})", "check the indentation and quoting") from None
    if not isinstance(data, dict) or not isinstance(data.get("tools", []), list):
        raise ManifestError(origin, "expected a mapping with a 'tools' list", "see docs/detectors-guide.md")
    known = {c.value for c in Capability}
    entries = []
    for number, raw in enumerate(data.get("tools") or [], 1):
        where = f"{origin}: tools entry {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("match"), str) or not raw["match"]:
            raise ManifestError(where, "needs 'match'", "add match: <glob on the tool name>")
        unknown_keys = set(raw) - {"match", "action", "capabilities", "note"}
        if unknown_keys:
            raise ManifestError(
                where, f"unknown field(s) {sorted(unknown_keys)}", "use match, action, capabilities, note"
            )
        capabilities = raw.get("capabilities")
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise ManifestError(
                where, "'capabilities' must be a list of names", "e.g. capabilities: [read, egress]"
            )
        wrong = [c for c in capabilities if c not in known]
        if wrong:
            raise ManifestError(where, f"unknown capabilities {wrong}", f"choose from {sorted(known)}")
        action = raw.get("action")
        entries.append(
            ManifestEntry(
                raw["match"],
                str(action) if action is not None else None,
                tuple(Capability(c) for c in capabilities),
            )
        )
    return Manifest(tuple(entries), origin)
