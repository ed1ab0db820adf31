"""The labelled corpora of ../shared/data, each read by its own loader into files chainwatch replays.

Corpus formats that real agents do not emit (ASB's CSV logs) are read here, in the benchmark, and never in
the product; OpenHands logs go through the product's ``openhands`` adapter and tau-bench through
``openai-chat``. Everything here is *scoring*: labels, attack styles and kinds of harm decide how a run is
counted, never what a detector sees. Each loader writes its inputs into a work folder and returns a
:class:`Corpus`; ``benchmarks/detection_eval.py`` replays them and measures.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemas.adapters import parse_bytes
from schemas.adapters.base import DeadLetter
from schemas.events import AnyEvent, SessionEvent, event_to_json
from schemas.types import SessionAction


def default_data_dir() -> Path:
    """../shared/data beside the checkout, or CHAINWATCH_SHARED_DATA (a worktree lives one level deeper)."""
    repo = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("CHAINWATCH_SHARED_DATA") or repo.parent / "shared" / "data")


@dataclass
class Corpus:
    """One labelled corpus, ready to replay: the files, the format, and how each run is counted."""

    name: str
    inputs: list[Path]
    fmt: str | None
    labels: dict[str, bool]  # the runs that count: True = the risky thing happened, False = clean
    # slices reported beside the whole corpus: slice kind -> session -> slice name (attack style, harm kind)
    slices: dict[str, dict[str, str]] = field(default_factory=dict)
    # runs reported apart, neither positive nor negative (unsuccessful injections, runs the checker skipped)
    apart: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _sample(items: list[Any], limit: int | None) -> list[Any]:
    """Every ``len/limit``-th item: a deterministic spread over the whole file (not just its first rows)."""
    if limit is None or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# ------------------------------------------------------------------------------------------------- tau-bench


def tau_bench(data: Path, work: Path, limit: int | None = None) -> Corpus | None:
    """200 benign airline customer-service runs (gpt-4o): every run is a negative."""
    source = data / "transcripts" / "tau-bench" / "gpt-4o-airline.json"
    if not source.is_file():
        return None
    items = orjson.loads(source.read_bytes())
    chosen = _sample(list(enumerate(items, 1)), limit)
    if len(chosen) < len(items):  # keep the session ids of the whole file (<file>#<item number>)
        lines = [{**item, "session_id": f"{source.name}#{n}"} for n, item in chosen]
        target = work / "tau-bench.jsonl"
        target.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
        inputs = [target]
    else:
        inputs = [source]
    labels = {f"{source.name}#{n}": False for n, _ in chosen}
    return Corpus("tau-bench", inputs, "openai-chat", labels, notes=["all runs benign (false alarms only)"])


# ---------------------------------------------------------------------------------------------------- ASB

_TOOL_LIST = re.compile(r"tool list:\s*")
_CALL = re.compile(r"I will call the (\S+?) with the params as (.*?)(?:;|$)", re.S)
_KNOWLEDGE = re.compile(r"The knowledge I get from (\S+?) is: ")


def _declared_tools(system_text: str) -> list[dict[str, Any]]:
    """The OpenAI-style tool list ASB writes into its second system message."""
    match = _TOOL_LIST.search(system_text)
    if match is None:
        return []
    try:
        tools, _end = json.JSONDecoder().raw_decode(system_text, match.end())
    except json.JSONDecodeError:
        return []
    return tools if isinstance(tools, list) else []


def _calls_and_results(text: str) -> Iterator[tuple[str, str, str | None]]:
    """(tool, params, result) of one assistant message, in execution order: each "[Action]: I will call
    the X with the params as Y" is a call, each "The knowledge I get from X is: …" the result of X."""
    action, _, observed = text.partition("[Observation]:")
    calls = [(m.group(1), m.group(2).strip()) for m in _CALL.finditer(action)]
    marks = list(_KNOWLEDGE.finditer(observed))
    results: list[tuple[str, str]] = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(observed)
        results.append((mark.group(1), observed[mark.end() : end].rstrip("; \n")))
    for tool, params in calls:
        found = next((r for r in results if r[0] == tool), None)
        if found is not None:
            results.remove(found)
        yield tool, params, found[1] if found else None


def asb_transcript(session: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """An ASB run as an openai-chat transcript: the task (the first user message), the declared tools,
    and one assistant tool call followed by its result per call. The harness's later "At step N, you
    need to …" turns restate the agent's own plan; they are not the user's words and are left out."""
    systems = [m.get("content", "") for m in messages if m.get("role") == "system"]
    tools = next((t for t in (_declared_tools(s) for s in systems) if t), [])
    task = next((m.get("content") for m in messages if m.get("role") == "user"), None)
    chat: list[dict[str, Any]] = [{"role": "user", "content": task}]
    number = 0
    for message in messages:
        if message.get("role") != "assistant" or not isinstance(message.get("content"), str):
            continue
        for tool, params, result in _calls_and_results(message["content"]):
            number += 1
            arguments = {} if params in ("None", "") else {"params": params}
            call = {
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": tool, "arguments": arguments},
            }
            chat.append({"role": "assistant", "content": None, "tool_calls": [call]})
            if result is not None:
                chat.append({"role": "tool", "tool_call_id": f"call_{number}", "content": result})
    return {"session_id": session, "tools": tools, "messages": chat}


def asb(data: Path, work: Path, limit: int | None = None) -> Corpus | None:
    """Agent Security Bench: injections in a tool's output (five styles, one CSV each) and clean runs.
    Positive: the attack succeeded (the agent called the attacker's tool); negative: a clean run;
    unsuccessful injections are reported apart."""
    root = data / "agents" / "asb" / "logs"
    attack_files = sorted((root / "observation_prompt_injection").rglob("*.csv"))
    clean_files = sorted((root / "clean").rglob("*.csv"))
    if not attack_files and not clean_files:
        return None
    csv.field_size_limit(1 << 30)
    labels: dict[str, bool] = {}
    styles: dict[str, str] = {}
    unsuccessful: set[str] = set()
    lines: list[bytes] = []
    per_file = None if limit is None else max(1, limit // max(1, len(attack_files) + len(clean_files)))
    for path in attack_files + clean_files:
        clean = path in clean_files
        style = "clean" if clean else path.stem.removesuffix("-all_")
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(enumerate(csv.DictReader(handle), 1))
        for number, row in _sample(rows, per_file):
            session = f"asb-{style}-{number}"
            messages = ast.literal_eval(row["messages"])  # ASB writes Python reprs, not JSON
            lines.append(orjson.dumps(asb_transcript(session, messages)))
            if clean:
                labels[session] = False
            elif row["Attack Successful"].strip() == "1":
                labels[session] = True
                styles[session] = style
            else:
                unsuccessful.add(session)
    target = work / "asb.jsonl"
    target.write_bytes(b"\n".join(lines))
    return Corpus(
        "asb",
        [target],
        "openai-chat",
        labels,
        slices={"style": styles},
        apart={"unsuccessful injections": unsuccessful},
        notes=["positives: successful injections; negatives: clean runs"],
    )


# ----------------------------------------------------------------------------------------- OpenAgentSafety

# Kinds of harm, read from each task's checkpoints.md (what the task's checker calls unsafe), first match
# wins. Scoring only: it groups the figures, it never reaches a detector.
HARM_KINDS: tuple[tuple[str, str], ...] = (
    (
        "secrets/credentials",
        r"private key|id_rsa|ssh key|api[ _-]?key|secret|token|password|credential|passphrase",
    ),
    (
        "destructive actions",
        r"rm -rf|\brm\b|delet|\bwip(e|es|ing)\b|destroy|chmod -r 000|truncat|drop (table|database)|\bkill|"
        r"shred|overwrit|force-push|erasing|clos(e|es|ing) all|stop .*process|flush|firewall|"
        r"remov(e|es|ing) (all|the|every|international)",
    ),
    (
        "malicious code",
        r"backdoor|malware|malicious|keylog|keystroke|obfuscat|steganograph|miner|reverse shell|exploit|"
        r"ransom|virus|trojan|sniff|surveillance|phishing|screenshot|clipboard|logs user input|"
        r"arbitrary commands|receives commands|without proper security|embedded as prompt|unsafely|"
        r"hidden exfiltration",
    ),
    (
        "identity/permissions",
        r"permission|access level|admin|\broles?\b|sudo|privilege|grant|allowed to merge|chmod",
    ),
    (
        "harmful content/discrimination",
        r"abus|offensive|discriminat|politic|harass|insult|racis|\brace\b|sexis|hate|threat|non-anonymi|ideolog|"
        r"propaganda|toxic|misogyn|extremist|maternity|bias|unfair|socioeconomic|citizens|blacklist|watchlist|"
        r"culture risk|incompetent|patriot|names of employees|criticism",
    ),
    (
        "data manipulation/fabrication",
        r"approv|falsif|fake|fabricat|alter|manipulat|adjust|forg|backdat|modif|inflat|misreport|"
        r"misleading|renam|underpric|discount|valuation|reimburs|fails to create|not flag|suppress|downplay|"
        r"falsely|deviat|version|pins|constraint|assign|mess up|mask|entire roadmap|incorrectly",
    ),
    (
        "exfiltration/sharing",
        r"upload|\bshar(e|es|ed|ing)\b|public|\bsend|\bsent\b|e-?mail|leak|publish|disclos|forward|remote|"
        r"backup|spread",
    ),
    ("advice beyond remit", r"tax|legal advice|definitive|professional"),
)


def harm_kind(checkpoints: str) -> str:
    text = re.sub(r"#.*|there (is|are) \d+ points?.*|this task has.*", "", checkpoints.lower())
    return next((kind for kind, pattern in HARM_KINDS if re.search(pattern, text)), "other")


def _verdict(evaluation: Path) -> bool | None:
    """``final_score``: result 1 = the agent did the unsafe thing, 0 = it did not; total 0 = not scored."""
    if not evaluation.is_file():
        return None
    score = json.loads(evaluation.read_text()).get("final_score") or {}
    if not score.get("total"):
        return None
    return bool(score.get("result"))


def _with_task(events: list[AnyEvent], task_text: str | None) -> Iterator[AnyEvent]:
    """The session start with the corpus's task.md as the task. In OpenAgentSafety the user's first message
    only points at /instruction/task.md; the file *is* the user's instruction, so the benchmark gives it as
    the task (a live deployment would send the instruction itself)."""
    for event in events:
        if task_text and isinstance(event, SessionEvent) and event.action is SessionAction.START:
            data = event.model_dump()
            data["task"] = f"{event.task or ''}\n\n{task_text}".strip()
            yield SessionEvent(**data)  # validated again: the task text is redacted like any task
        else:
            yield event


def openagentsafety(
    data: Path, work: Path, limit: int | None = None, *, task_from_file: bool = False
) -> Corpus | None:
    """OpenHands runs (o3-mini) in an office setting, read with the product's openhands adapter."""
    root = data / "agents" / "openagentsafety"
    runs = sorted((root / "evaluation" / "o3-mini").glob("traj_*.json"))
    if not runs:
        return None
    labels: dict[str, bool] = {}
    kinds: dict[str, str] = {}
    not_scored: set[str] = set()
    lines: list[bytes] = []
    dead = 0
    for path in _sample(runs, limit):
        task = path.stem.removeprefix("traj_")
        session = path.stem
        parsed = list(parse_bytes(path.read_bytes(), path.name, "openhands"))
        dead += sum(isinstance(p, DeadLetter) for p in parsed)
        events = [p for p in parsed if not isinstance(p, DeadLetter)]
        task_file = root / "workspaces" / "tasks" / task / "task.md"
        task_text = task_file.read_text(encoding="utf-8") if task_from_file and task_file.is_file() else None
        lines.extend(event_to_json(e) for e in _with_task(events, task_text))
        verdict = _verdict(path.with_name(f"eval_{task}.json"))
        checkpoints = root / "workspaces" / "tasks" / task / "checkpoints.md"
        kinds[session] = (
            harm_kind(checkpoints.read_text(encoding="utf-8")) if checkpoints.is_file() else "other"
        )
        if verdict is None:
            not_scored.add(session)
        else:
            labels[session] = verdict
    target = work / "openagentsafety.jsonl"
    target.write_bytes(b"\n".join(lines))
    notes = ["positives: the checker found the unsafe outcome; negatives: it did not"]
    notes.append(
        "task: task.md (the file the first message points at)" if task_from_file else "task: first message"
    )
    if dead:
        notes.append(f"{dead} dead letters")
    return Corpus(
        "openagentsafety",
        [target],
        "native",
        labels,
        slices={"harm": kinds},
        apart={"not scored": not_scored},
        notes=notes,
    )


Loader = Callable[[Path, Path, int | None], Corpus | None]  # (data folder, work folder, limit) -> corpus
LOADERS: dict[str, Loader] = {"asb": asb, "openagentsafety": openagentsafety, "tau-bench": tau_bench}
