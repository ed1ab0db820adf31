"""Labelled CloudTrail evaluation (issue 13): the Stratus Red Team detonations and the Panther rule tests.

Run: ``python -m benchmarks.cloudtrail_eval [--shared DIR] [--identities FILE] [--sigma DIR] [--verbose]``.

* **Stratus** (``cloudtrail/stratus-red-team/``, 35 files, one technique each): every file is replayed alone
  through the whole catalog. The technique's own calls are the records whose ``userAgent`` starts with
  ``stratus-red-team_`` — used here to score, never by a detector. A file without such records (the
  federation-token detonation ran through another tool) is the technique's detonation log as a whole: all
  its records are its calls. Figures: techniques with an alert holding one of their calls, and the share of
  all alerts whose evidence holds an attack call (precision).
* **Panther** (``cloudtrail/panther/rules/``, 464 labelled records): every record is replayed alone, with
  an id of its own. A record is *flagged* when a finding (building blocks included) or an alert holds it;
  figures for alerts, for alerts and findings of severity low and above, for any finding, and at the
  Panther rule's own severity (a record of a rule Panther rates Info counts when any finding holds it — a
  signal, not an alert, on both sides; every other record needs an alert or a low+ finding). Fixture gaps
  are repaired for scoring (``repair_fixture``: a missing eventTime, lower-case keys); records still
  unreadable (no ``Log``) count as not flagged. A Panther label belongs to one rule, so every record
  chainwatch scores otherwise is classified in ``panther_notes.yml`` (principle, state, unreadable, with the
  reason), and so is every should-alert record that only an info building block holds (building_block:
  why it stays below low); the figures are given as counted and *explained* (without the records chainwatch
  disagrees with on principle). A note that no longer matches what chainwatch does is reported as stale.

The scoring is ``detectors.evaluation.score`` (labels in, figures out), reusable by other corpora.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from detectors.base import Detector
from detectors.engine import Engine, Output, Runner
from detectors.evaluation import Label, Score, record_of, score
from detectors.identity import IdentityResolver, load_identities
from detectors.registry import load_catalog
from schemas.adapters import DeadLetter, parse_bytes
from schemas.alerts import Alert, Finding
from schemas.events import AnyEvent
from schemas.types import Severity

REPO = Path(__file__).resolve().parents[1]
ATTACK_USER_AGENT = "stratus-red-team_"  # scoring only: marks the attack's own calls in the shared data

EngineFactory = Callable[[], Engine]


def default_shared() -> Path:
    return Path(os.environ.get("CHAINWATCH_SHARED_DATA") or REPO.parent / "shared" / "data")


def replay_records(records: list[dict[str, Any]], engine: Engine, origin: str) -> tuple[Output, int]:
    """CloudTrail records through the engine; returns the output and how many records were dead letters."""
    parsed = list(parse_bytes(orjson.dumps(records), origin, "cloudtrail"))
    events: list[AnyEvent] = [p for p in parsed if not isinstance(p, DeadLetter)]
    runner = Runner(engine)
    output = runner.feed(events)
    output.extend(runner.flush())
    return output, sum(isinstance(p, DeadLetter) for p in parsed)


# ---------------------------------------------------------------------------------------------- Stratus


@dataclass
class StratusResult:
    alerts: Score
    per_technique: dict[str, int] = field(default_factory=dict)  # technique -> alerts on its calls
    by_detector: dict[str, set[str]] = field(default_factory=dict)  # detector -> techniques it alerted on
    off_target: Counter[str] = field(default_factory=Counter)  # detector -> alerts without an attack call
    findings: Score = field(default_factory=Score)  # findings of severity low+, alerts' or not (noise check)


def stratus_labels(technique: str, records: list[dict[str, Any]]) -> dict[str, Label]:
    marked = {
        str(r["eventID"]) for r in records if str(r.get("userAgent") or "").startswith(ATTACK_USER_AGENT)
    }
    everything = not marked  # a detonation log without the marker: every record is the technique's
    return {
        str(r["eventID"]): Label(positive=everything or str(r["eventID"]) in marked, group=technique)
        for r in records
        if r.get("eventID")
    }


def evaluate_stratus(root: Path, make_engine: EngineFactory) -> StratusResult:
    alerts, findings = [], []
    labels: dict[str, Label] = {}
    result = StratusResult(alerts=Score())
    for path in sorted(root.glob("aws.*.json")):
        records = orjson.loads(path.read_bytes())
        file_labels = stratus_labels(path.stem, records)
        labels.update(file_labels)
        output, _ = replay_records(records, make_engine(), path.name)
        alerts.extend(output.alerts)
        findings.extend(f for f in output.findings if f.severity != Severity.INFO)
        file_score = score(output.alerts, file_labels)
        result.per_technique[path.stem] = file_score.detections_on_positive
        for alert in output.alerts:
            result.by_detector.setdefault(alert.detector_id, set()).add(path.stem)
            if not any(file_labels.get(record_of(e), Label(False)).positive for e in alert.event_ids):
                result.off_target[alert.detector_id] += 1
    result.alerts = score(alerts, labels)
    result.findings = score(findings, labels)
    return result


# ---------------------------------------------------------------------------------------------- Panther


@dataclass
class PantherResult:
    findings: Score  # any finding, info building blocks included
    flags: Score  # an alert, or a finding of severity low or above (the headline figure)
    alerts: Score
    matched: Score = field(default_factory=Score)  # at the Panther rule's own severity (see the docstring)
    unreadable: int = 0
    flagged_by: Counter[str] = field(default_factory=Counter)  # detector -> should-alert records it flagged
    false_by: Counter[str] = field(default_factory=Counter)  # detector -> benign records it flagged
    names: dict[str, str] = field(default_factory=dict)  # record id -> "rule: test name"
    labels: dict[str, Label] = field(default_factory=dict)
    explained: dict[str, Score] = field(default_factory=dict)  # row -> score without the principle records
    notes: dict[str, Note] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)  # notes that no longer match what chainwatch does
    unclassified: list[str] = field(default_factory=list)  # misses and false flags without a note

    def rows(self) -> tuple[tuple[str, Score, Score], ...]:
        """(row, as counted, explained), the headline row (any finding) last."""
        return (
            ("an alert", self.alerts, self.explained["alerts"]),
            ("an alert or a finding of severity low+", self.flags, self.explained["flags"]),
            (
                "at the Panther rule's severity (Info rules: any finding)",
                self.matched,
                self.explained["matched"],
            ),
            ("any finding (info building blocks too)", self.findings, self.explained["findings"]),
        )


NOTES_PATH = Path(__file__).with_name("panther_notes.yml")
# building_block: a should-alert record an info finding holds, on purpose not raised to low+ (checked against
# the low+ row; the others against the headline row, any finding)
BUILDING_BLOCK = "building_block"
NOTE_CATEGORIES = ("principle", "state", "unreadable", BUILDING_BLOCK)


@dataclass(frozen=True, slots=True)
class Note:
    category: str  # principle | state | unreadable | building_block (panther_notes.yml says what each means)
    why: str


def load_notes(path: Path = NOTES_PATH) -> dict[str, Note]:
    """record id -> its note; a record noted twice or an unknown category is an error naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(data) - set(NOTE_CATEGORIES)
    if unknown:
        raise ValueError(f"{path}: unknown categories {sorted(unknown)} (use {', '.join(NOTE_CATEGORIES)})")
    notes: dict[str, Note] = {}
    for category in NOTE_CATEGORIES:
        for group in data.get(category) or []:
            why = " ".join(str(group["why"]).split())
            for record in group["records"]:
                if record in notes:
                    raise ValueError(f"{path}: {record} is noted twice")
                notes[record] = Note(category, why)
    return notes


def info_only(result: PantherResult) -> set[str]:
    """Should-alert records that an info building block holds and no alert or low+ finding does."""
    return set(result.flags.missed) - set(result.findings.missed)


def check_notes(result: PantherResult) -> None:
    """Stale notes (the record is now scored as labelled, or does not exist) and unclassified records, by
    the headline row (any finding); building-block notes by the low+ row (the record is still held by an
    info finding only), so every should-alert record missed at low+ is classified too."""
    wrong = set(result.findings.missed) | set(result.findings.false_flags)
    blocks = info_only(result)
    stale = []
    for record, note in result.notes.items():
        if record not in result.labels:
            stale.append(f"{record}: no such record")
        elif note.category == BUILDING_BLOCK and record not in blocks:
            stale.append(f"{record}: no longer held by an info building block only")
        elif note.category != BUILDING_BLOCK and record not in wrong:
            stale.append(f"{record}: now scored as labelled")
    result.stale = sorted(stale)
    noted = {r for r, note in result.notes.items() if note.category != BUILDING_BLOCK}
    noted_blocks = result.notes.keys() - noted
    result.unclassified = sorted((wrong - noted) | (blocks - noted_blocks))


def panther_records(root: Path) -> Iterable[tuple[str, str, bool, Any, str]]:
    """(record id, "rule: test", should alert, the CloudTrail record, the rule's severity) for every test of
    every rule file."""
    for path in sorted(root.rglob("*.yml")):
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(rule, dict):
            continue
        for n, test in enumerate(rule.get("Tests") or []):
            record_id = f"panther:{path.stem}:{n}"
            yield (
                record_id,
                f"{rule.get('RuleID')}: {test.get('Name')}",
                bool(test["ExpectedResult"]),
                test.get("Log"),
                str(rule.get("Severity") or ""),
            )


def _check(finding: Finding | Alert) -> str:
    check = finding.details.get("check")
    return f"/{check}" if check else ""


# Panther's test records are fixtures, not whole CloudTrail records: some lack eventTime (a required field the
# adapter rightly refuses) and some spell the top-level keys in lower case. Repaired here, for scoring only.
_CANONICAL_KEYS = {
    key.lower(): key
    for key in (
        "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
        "sourceIPAddress",
        "userAgent", "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID",
        "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory", "errorCode",
        "errorMessage", "resources", "sessionCredentialFromConsole",
    )
}  # fmt: skip
FIXTURE_TIME = "2024-01-01T00:00:00Z"


def repair_fixture(record: dict[str, Any], record_id: str) -> dict[str, Any]:
    fixed = {_CANONICAL_KEYS.get(key, key): value for key, value in record.items()}
    when = fixed.get("eventTime")
    if not isinstance(when, str) or not when[:4].isdigit():
        p_time = str(fixed.get("p_event_time") or "")
        fixed["eventTime"] = p_time.replace(" ", "T")[:19] + "Z" if p_time[:4].isdigit() else FIXTURE_TIME
    fixed["eventID"] = record_id
    return fixed


def evaluate_panther(
    root: Path, make_engine: EngineFactory, notes: dict[str, Note] | None = None
) -> PantherResult:
    labels: dict[str, Label] = {}
    findings, flags, alerts, matched = [], [], [], []
    result = PantherResult(findings=Score(), flags=Score(), alerts=Score())
    result.notes = load_notes() if notes is None else notes
    for record_id, name, expected, log, rule_severity in panther_records(root):
        labels[record_id] = Label(positive=expected, group=name.split(":")[0])
        result.names[record_id] = name
        if not isinstance(log, dict):
            result.unreadable += 1
            continue
        output, dead = replay_records([repair_fixture(log, record_id)], make_engine(), record_id)
        result.unreadable += dead
        findings.extend(output.findings)
        alerts.extend(output.alerts)
        flagging = [f for f in output.findings if f.severity != Severity.INFO] + list(output.alerts)
        flags.extend(flagging)
        matched.extend(list(output.findings) + list(output.alerts) if rule_severity == "Info" else flagging)
        for detector in sorted({f"{f.detector_id}{_check(f)}" for f in flagging}):
            (result.flagged_by if expected else result.false_by)[detector] += 1
            result.names[record_id] += f" [{detector}]"
    result.labels = labels
    result.findings = score(findings, labels)
    result.flags = score(flags, labels)
    result.alerts = score(alerts, labels)
    result.matched = score(matched, labels)
    principle = {r for r, note in result.notes.items() if note.category == "principle"}
    kept = {r: label for r, label in labels.items() if r not in principle}
    result.explained = {
        "findings": score(findings, kept),
        "flags": score(flags, kept),
        "alerts": score(alerts, kept),
        "matched": score(matched, kept),
    }
    check_notes(result)
    return result


# ---------------------------------------------------------------------------------------------- main


def engine_factory(identities: Path | None, sigma: Path | None) -> EngineFactory:
    detectors: list[Detector] = list(load_catalog().detectors)
    if sigma is not None:
        from detectors.sigma_rules import load_sigma_rules

        loaded = load_sigma_rules([sigma], taken_ids=[d.id for d in detectors])
        detectors += loaded.detectors
        print(f"sigma: {len(loaded.detectors)} rule(s) loaded, {len(loaded.skipped)} not translatable")
        for skipped in loaded.skipped:
            print(f"  not translated: {Path(skipped.path).name}: {skipped.reason}")
    loaded = load_identities(identities) if identities else None
    # a resolver per replay: it remembers session tags, and every file or record is replayed alone
    return lambda: Engine(detectors, identities=IdentityResolver(loaded))


def sigma_report(stratus: StratusResult | None, panther: PantherResult | None) -> None:
    """Per Sigma rule: the Stratus techniques it alerted on, the Panther records it flagged."""
    print("## Sigma rules (sigma.*): what fired")
    ids = sorted(
        {d for d in (stratus.by_detector if stratus else {}) if d.startswith("sigma.")}
        | {d.split("/")[0] for d in (panther.flagged_by if panther else {}) if d.startswith("sigma.")}
        | {d.split("/")[0] for d in (panther.false_by if panther else {}) if d.startswith("sigma.")}
    )
    print("| rule | Stratus techniques alerted | Panther should-alert flagged | Panther benign flagged |")
    print("|---|---|---|---|")
    for rule in ids:
        techniques = sorted(stratus.by_detector.get(rule, ())) if stratus else []
        good = panther.flagged_by.get(rule, 0) if panther else 0
        bad = panther.false_by.get(rule, 0) if panther else 0
        print(f"| {rule} | {', '.join(t.split('.', 2)[-1] for t in techniques) or '-'} | {good} | {bad} |")


def report(stratus: StratusResult | None, panther: PantherResult | None, *, verbose: bool) -> None:
    if stratus is not None:
        s = stratus.alerts
        print("## Stratus Red Team (35 techniques)")
        print(f"techniques alerted on their own calls: {s.groups_found}/{len(s.groups)}")
        print(
            f"alerts: {s.detections}; holding an attack call: {s.detections_on_positive} ({s.precision:.1%})"
        )
        missing = sorted(t for t, found in s.groups.items() if not found)
        print(f"techniques without an alert: {', '.join(missing) or 'none'}")
        f = stratus.findings
        print(
            f"findings of severity low+: {f.detections}; holding an attack call: {f.detections_on_positive}"
            f" ({f.precision:.1%})"
        )
        if stratus.off_target:
            print(
                "alerts without an attack call, by detector: "
                + ", ".join(f"{d} {n}" for d, n in stratus.off_target.most_common())
            )
    if panther is not None:
        panther_report(panther, verbose=verbose)


def _figures(sc: Score) -> str:
    return (
        f"{sc.positives_flagged}/{sc.positives} ({sc.recall:.1%}) | "
        f"{sc.negatives_flagged}/{sc.negatives} ({sc.false_positive_rate:.1%})"
    )


def panther_report(panther: PantherResult, *, verbose: bool) -> None:
    print("## Panther rule tests")
    print("| flagged by | should-alert flagged | benign flagged | explained: should-alert | benign |")
    print("|---|---|---|---|---|")
    for label, counted, explained in panther.rows():
        print(f"| {label} | {_figures(counted)} | {_figures(explained)} |")
    by_category = Counter(note.category for note in panther.notes.values())
    print(
        "explained = without the records chainwatch disagrees with on principle; notes (panther_notes.yml): "
        + ", ".join(f"{c} {by_category[c]}" for c in NOTE_CATEGORIES)
    )
    print(f"records the adapter could not read: {panther.unreadable}")
    for title, records in (("stale notes", panther.stale), ("unclassified", panther.unclassified)):
        if records:
            print(f"{title}: " + ", ".join(records))
    if verbose:
        f = panther.findings
        for title, records in (
            ("missed (any finding)", f.missed),
            ("benign flagged (any finding)", f.false_flags),
            ("missed at low+ (an info building block only)", sorted(info_only(panther))),
        ):
            print(f"{title}:")
            for record in records:
                note = panther.notes.get(record)
                why = f" — {note.category}: {note.why}" if note else " — UNCLASSIFIED"
                print(f"  - {panther.names[record]}{why}")
        for title, counts in (("benign", panther.false_by), ("should-alert", panther.flagged_by)):
            print(f"{title} flagged, by detector: " + ", ".join(f"{d} {n}" for d, n in counts.most_common()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=default_shared(), help="the shared data folder")
    parser.add_argument("--identities", type=Path, help="an identities file (default: heuristics only)")
    parser.add_argument("--sigma", type=Path, help="also run the Sigma rules of this folder")
    parser.add_argument("--verbose", action="store_true", help="list missed and falsely flagged records")
    args = parser.parse_args(argv)
    stratus_root = args.shared / "cloudtrail" / "stratus-red-team"
    panther_root = args.shared / "cloudtrail" / "panther" / "rules"
    if not stratus_root.is_dir() and not panther_root.is_dir():
        print(
            f"no CloudTrail corpora under {args.shared} (set --shared or CHAINWATCH_SHARED_DATA)",
            file=sys.stderr,
        )
        return 2
    make_engine = engine_factory(args.identities, args.sigma)
    stratus = evaluate_stratus(stratus_root, make_engine) if stratus_root.is_dir() else None
    panther = evaluate_panther(panther_root, make_engine) if panther_root.is_dir() else None
    report(stratus, panther, verbose=args.verbose)
    if args.sigma is not None:
        sigma_report(stratus, panther)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
