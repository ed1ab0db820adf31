"""Templates for `chainwatch detectors new`: a rule or a Python detector, plus its case file."""

from __future__ import annotations

import re
from pathlib import Path

_ID = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")

RULE = """id: {id}
title: {title}
alert_title: "{{agent_id}} did something risky on {{first.target}}"
description: |
  Why: say what risk this catches and why it matters for agents acting with real credentials.
  Known gaps: say what it will miss.
severity: medium
maturity: experimental        # findings only until tuned; then stable
mappings:
  owasp_agentic: [ASI02]
  owasp_nhi: []
  mitre_attack: []
runbook: Say what the analyst should check or revoke first.
by: session
within: 30m
steps:
  - name: first
    where: action == "FirstAction"
  - name: second
    where: action == "SecondAction" and target == $first.target
"""

PYTHON = '''"""{title}.

Why: say what risk this catches and why a rule file cannot say it.
Known gaps: say what it will miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import EventDetector, Signal
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Maturity, Severity


class {cls}(EventDetector):
    id: ClassVar[str] = "{id}"
    title: ClassVar[str] = "{title}"
    description: ClassVar[str] = __doc__ or ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    maturity: ClassVar[Maturity] = Maturity.EXPERIMENTAL
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02",))
    runbook: ClassVar[str] = "Say what the analyst should check or revoke first."
    kinds: ClassVar[frozenset[str] | None] = frozenset({{"tool_call"}})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if isinstance(event, ToolCall) and event.action == "FirstAction":
            yield Signal.of([event])
'''

CASES = """detector: {id}
cases:
  - name: fires on the risky case
    expect: finding
    events:
      - {{tool: test, action: FirstAction, target: "res-1"}}
      - {{tool: test, action: SecondAction, target: "res-1"}}
  - name: ordinary work does not fire
    expect: none
    events:
      - {{tool: test, action: SomethingElse, target: "res-1"}}
  - name: missing fields
    tags: [edge]
    expect: none
    events:
      - {{tool: test, action: SecondAction}}
"""


def scaffold(detector_id: str, kind: str, root: Path) -> list[Path]:
    match = _ID.match(detector_id)
    if not match:
        raise ValueError(
            f"'{detector_id}' is not <family>.<name> in lower case (e.g. exfiltration.dns_tunnel)"
        )
    if kind not in ("rule", "python"):
        raise ValueError("--kind must be 'rule' or 'python'")
    family, name = match.groups()
    folder = root / "detectors" / family
    source = folder / (f"{name}.yml" if kind == "rule" else f"{name}.py")
    cases = root / "tests" / "cases" / family / f"{name}.yml"
    for path in (folder / f"{name}.yml", folder / f"{name}.py", cases):
        if path.exists():
            raise ValueError(f"{path} already exists")
    title = name.replace("_", " ").capitalize()
    folder.mkdir(parents=True, exist_ok=True)
    init = folder / "__init__.py"
    written = []
    if not init.exists():
        init.write_text(f'"""{family} detectors."""\n', encoding="utf-8")
        written.append(init)
    cls = "".join(part.capitalize() for part in name.split("_"))
    template = RULE if kind == "rule" else PYTHON
    source.write_text(template.format(id=detector_id, title=title, cls=cls), encoding="utf-8")
    cases.parent.mkdir(parents=True, exist_ok=True)
    cases.write_text(CASES.format(id=detector_id), encoding="utf-8")
    return [*written, source, cases]
