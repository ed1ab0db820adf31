"""Load a user's folders of Sigma rules through pySigma: translated rules become detectors, the others are
reported with the reason (never dropped silently)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule, SigmaRuleBase

from detectors.base import Detector
from detectors.sigma_rules.correlation import _OPS, correlation_detector
from detectors.sigma_rules.fields import chainwatch_path
from detectors.sigma_rules.matcher import Predicate, Untranslatable, action_prefilter, compile_condition
from detectors.sigma_rules.pipeline import cloudtrail_pipeline
from detectors.sigma_rules.rule_detector import rule_detector, sigma_metadata

RULE_SUFFIXES = (".yml", ".yaml")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Skipped:
    """A Sigma rule chainwatch did not load, and why."""

    path: str
    title: str
    reason: str


@dataclass
class SigmaLoad:
    detectors: list[Detector] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_") or "rule"


@dataclass
class _Parsed:
    rule: SigmaRuleBase
    path: str
    detector_id: str


def _predicate(rule: SigmaRule) -> tuple[Predicate, object]:
    """The rule's compiled predicate and its action prefilter (the pipeline must have been applied)."""
    trees = [condition.parsed for condition in rule.detection.parsed_condition]
    predicates = [compile_condition(tree) for tree in trees]
    prefilters = [action_prefilter(tree) for tree in trees]

    def predicate(event: object) -> bool:
        return any(p(event) for p in predicates)  # type: ignore[arg-type]

    def prefilter(action: str) -> bool | None:
        results = [p(action) for p in prefilters]
        return True if True in results else (None if None in results else False)

    return predicate, prefilter


def _check_logsource(rule: SigmaRule) -> None:
    source = rule.logsource
    if (source.product or "").lower() != "aws" or (source.service or "cloudtrail").lower() != "cloudtrail":
        raise Untranslatable(
            f"logsource product={source.product} service={source.service}: "
            "chainwatch maps aws/cloudtrail only"
        )


def load_sigma_rules(dirs: Iterable[Path], taken_ids: Iterable[str] = ()) -> SigmaLoad:
    """Every Sigma rule file under ``dirs`` (``*.yml``, ``*.yaml``, recursively). Ids are
    ``sigma.<file name>`` (``sigma.<file name>_<n>`` for the n-th rule of a multi-document file)."""
    result = SigmaLoad()
    parsed: list[_Parsed] = []
    seen = set(taken_ids)
    for root in dirs:
        root = Path(root)
        if not root.is_dir():
            result.skipped.append(Skipped(str(root), "-", "not a folder of Sigma rules"))
            continue
        for path in sorted(p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()):
            try:
                collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"), collect_errors=True)
            except (SigmaError, OSError, ValueError) as exc:
                result.skipped.append(Skipped(str(path), "-", f"not a Sigma rule file: {exc}"))
                continue
            rules = list(collection.rules)
            for n, rule in enumerate(rules):
                detector_id = f"sigma.{_slug(path.stem)}" + (f"_{n + 1}" if len(rules) > 1 else "")
                if rule.errors:
                    reason = "; ".join(str(e) for e in rule.errors)
                    result.skipped.append(Skipped(str(path), rule.title or "-", f"pySigma: {reason}"))
                elif detector_id in seen:
                    result.skipped.append(
                        Skipped(str(path), rule.title, f"duplicate detector id {detector_id}")
                    )
                else:
                    seen.add(detector_id)
                    parsed.append(_Parsed(rule, str(path), detector_id))
    _translate(parsed, result)
    return result


def _translate(parsed: list[_Parsed], result: SigmaLoad) -> None:
    collection = SigmaCollection([p.rule for p in parsed])
    try:
        collection.resolve_rule_references()
    except SigmaError as exc:  # a correlation naming a rule that is not there
        for p in parsed:
            if isinstance(p.rule, SigmaCorrelationRule):
                result.skipped.append(Skipped(p.path, p.rule.title, f"references: {exc}"))
        parsed = [p for p in parsed if not isinstance(p.rule, SigmaCorrelationRule)]
    predicates: dict[int, Predicate] = {}  # id(rule) -> predicate, for correlations
    quiet: set[int] = set()  # rules only a correlation uses (generate: false)
    for p in parsed:
        if isinstance(p.rule, SigmaCorrelationRule) and not p.rule.generate:
            quiet.update(id(ref.rule) for ref in p.rule.rules or ())
    pipeline = cloudtrail_pipeline()
    for p in parsed:
        if not isinstance(p.rule, SigmaRule):
            continue
        try:
            _check_logsource(p.rule)
            pipeline.apply(p.rule)
            predicate, prefilter = _predicate(p.rule)
        except (SigmaError, Untranslatable) as exc:
            result.skipped.append(Skipped(p.path, p.rule.title, str(exc).split("\n")[0]))
            continue
        predicates[id(p.rule)] = predicate
        if id(p.rule) not in quiet:
            result.detectors.append(rule_detector(p.rule, p.detector_id, p.path, predicate, prefilter))  # type: ignore[arg-type]
    for p in parsed:
        if isinstance(p.rule, SigmaCorrelationRule):
            try:
                result.detectors.append(_correlation(p, predicates))
            except Untranslatable as exc:
                result.skipped.append(Skipped(p.path, p.rule.title, str(exc)))


def _correlation(p: _Parsed, predicates: dict[int, Predicate]) -> Detector:
    rule = p.rule
    assert isinstance(rule, SigmaCorrelationRule)
    kind = str(rule.type)
    if kind not in ("event_count", "value_count", "temporal", "temporal_ordered"):
        raise Untranslatable(f"correlation type {kind} is not supported (event_count, value_count, temporal)")
    if len(rule.aliases):
        raise Untranslatable("correlation field aliases are not supported")
    referenced = []
    for ref in rule.rules or ():
        predicate = predicates.get(id(ref.rule))
        if predicate is None:
            raise Untranslatable(f"it uses rule {ref.reference}, which could not be translated")
        referenced.append(predicate)
    groups = []
    for name in rule.group_by or ():
        path = chainwatch_path(name)
        if path is None:
            raise Untranslatable(f"group-by field '{name}' is not a CloudTrail field chainwatch keeps")
        groups.append(path)
    condition = rule.condition
    op = getattr(getattr(condition, "op", None), "name", "GTE").lower()
    if kind.startswith("temporal"):
        op, count, value_field = "gte", float(len(referenced)), None
    else:
        if op not in _OPS:
            raise Untranslatable(f"condition '{op}' needs a closed window; use gte, gt or eq")
        count = float(getattr(condition, "count", 1))
        fieldref = getattr(condition, "fieldref", None)
        value_field = None
        if kind == "value_count":
            name = fieldref[0] if isinstance(fieldref, list) else fieldref
            value_field = chainwatch_path(str(name)) if name else None
            if value_field is None:
                raise Untranslatable(f"value_count field '{name}' is not a CloudTrail field chainwatch keeps")
    attrs = sigma_metadata(rule, p.detector_id, p.path)
    attrs.update(
        correlation_type=kind,
        predicates=tuple(referenced),
        group_fields=tuple(groups),
        timespan=float(rule.timespan.seconds),
        op=op,
        count=count,
        value_field=value_field,
    )
    return correlation_detector(attrs)
