"""The user's identities file: which principals are agents, people, CI or services (YAML).

::

    version: 1
    principals:                      # optional: tags your principals carry (e.g. exported from IAM)
      - match: "arn:aws:iam::*:role/support-bot*"
        tags: {agent: "true"}
    identities:                      # first matching rule wins; every field given must match
      - kind: agent
        name: principals tagged agent=true
        match: {tags: {agent: "true"}}
      - kind: automation
        match: {role: ["arn:aws:iam::*:role/terraform-*", "arn:aws:iam::*:role/ci-*"]}

Match fields (glob patterns, case-insensitive; a list means any of them): ``arn``, ``role``,
``role_name``, ``session_name``, ``user_agent``, ``source_identity``, ``principal``, ``agent_id``,
``source``, ``identity_type``, ``invoked_by``; ``tags`` is a mapping of tag name to value pattern.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from detectors.identity.facts import PrincipalFacts
from schemas.types import IdentityKind

MATCH_FIELDS = (
    "arn",
    "role",
    "role_name",
    "session_name",
    "user_agent",
    "source_identity",
    "principal",
    "agent_id",
    "source",
    "identity_type",
    "invoked_by",
)
_KINDS = ", ".join(k.value for k in IdentityKind)


class IdentityFileError(ValueError):
    """An identities file that cannot be used; the message names the file, the entry and the fix."""


def _glob(value: str, patterns: tuple[str, ...]) -> bool:
    lowered = value.lower()
    return bool(value) and any(fnmatch.fnmatchcase(lowered, p) for p in patterns)


@dataclass(frozen=True, slots=True)
class IdentityRule:
    kind: IdentityKind
    name: str
    fields: tuple[tuple[str, tuple[str, ...]], ...]
    tags: tuple[tuple[str, tuple[str, ...]], ...]

    def matches(self, facts: PrincipalFacts, tags: Mapping[str, str]) -> bool:
        for field_name, patterns in self.fields:
            if not _glob(getattr(facts, field_name), patterns):
                return False
        return all(_glob(tags.get(key, ""), patterns) for key, patterns in self.tags)


@dataclass(frozen=True, slots=True)
class TaggedPrincipals:
    patterns: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class IdentitiesFile:
    path: str
    rules: tuple[IdentityRule, ...]
    principals: tuple[TaggedPrincipals, ...] = ()

    def tags_of(self, facts: PrincipalFacts) -> dict[str, str]:
        """Tags the event carries, then those the inventory gives the principal's ARN, role or id."""
        tags = dict(facts.tags)
        for entry in self.principals:
            if any(
                _glob(v, entry.patterns) for v in (facts.arn, facts.role, facts.principal, facts.agent_id)
            ):
                tags.update(entry.tags)
        return tags


def _patterns(where: str, value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | int) and str(v) for v in values):
        raise IdentityFileError(f"{where}: give a glob pattern or a list of them, got {value!r}")
    return tuple(str(v).lower() for v in values)


def _rule(where: str, entry: Any, index: int) -> IdentityRule:
    if not isinstance(entry, dict):
        raise IdentityFileError(f"{where}: each identity is a mapping with kind and match")
    unknown = set(entry) - {"kind", "name", "match"}
    if unknown:
        raise IdentityFileError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: kind, name, match)")
    try:
        kind = IdentityKind(str(entry.get("kind")))
    except ValueError:
        raise IdentityFileError(f"{where}.kind: {entry.get('kind')!r} is not one of {_KINDS}") from None
    match = entry.get("match")
    if not isinstance(match, dict) or not match:
        raise IdentityFileError(
            f"{where}.match: give at least one field to match ({', '.join(MATCH_FIELDS)}, tags)"
        )
    fields: list[tuple[str, tuple[str, ...]]] = []
    tags: list[tuple[str, tuple[str, ...]]] = []
    for key, value in match.items():
        if key == "tags":
            if not isinstance(value, dict) or not value:
                raise IdentityFileError(f"{where}.match.tags: give a mapping of tag name to value pattern")
            tags.extend((str(k), _patterns(f"{where}.match.tags.{k}", v)) for k, v in value.items())
        elif key in MATCH_FIELDS:
            fields.append((key, _patterns(f"{where}.match.{key}", value)))
        else:
            raise IdentityFileError(
                f"{where}.match: unknown field {key!r} (allowed: {', '.join(MATCH_FIELDS)}, tags)"
            )
    name = str(entry.get("name") or f"identities[{index}]")
    return IdentityRule(kind, name, tuple(fields), tuple(tags))


def parse_identities(data: Any, path: str) -> IdentitiesFile:
    if not isinstance(data, dict):
        raise IdentityFileError(f"{path}: expected a mapping with 'identities' (and optional 'principals')")
    unknown = set(data) - {"version", "identities", "principals"}
    if unknown:
        raise IdentityFileError(
            f"{path}: unknown key(s) {sorted(unknown)} (allowed: version, identities, principals)"
        )
    if data.get("version", 1) != 1:
        raise IdentityFileError(f"{path}: version {data.get('version')!r} is not supported (use 1)")
    raw_rules = data.get("identities") or []
    if not isinstance(raw_rules, list):
        raise IdentityFileError(f"{path}: 'identities' must be a list of rules")
    rules = tuple(_rule(f"{path}: identities[{i}]", entry, i) for i, entry in enumerate(raw_rules))
    principals: list[TaggedPrincipals] = []
    raw_principals = data.get("principals") or []
    if not isinstance(raw_principals, list):
        raise IdentityFileError(f"{path}: 'principals' must be a list of {{match, tags}}")
    for i, entry in enumerate(raw_principals):
        where = f"{path}: principals[{i}]"
        if (
            not isinstance(entry, dict)
            or set(entry) - {"match", "tags"}
            or not isinstance(entry.get("tags"), dict)
        ):
            raise IdentityFileError(f"{where}: give match (ARN glob or list) and tags (a mapping)")
        tag_items = tuple((str(k), str(v)) for k, v in entry["tags"].items())
        principals.append(TaggedPrincipals(_patterns(f"{where}.match", entry.get("match")), tag_items))
    return IdentitiesFile(path, rules, tuple(principals))


def load_identities(path: Path) -> IdentitiesFile:
    """Read and check an identities file; every problem is an IdentityFileError naming where and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IdentityFileError(f"{path}: cannot read the identities file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IdentityFileError(f"{path}: not valid YAML ({exc})") from None
    return parse_identities(data, str(path))
