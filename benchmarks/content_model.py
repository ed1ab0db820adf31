"""Train and evaluate the content model (how much outside content addresses the agent), leave one corpus out.

    python -m benchmarks.content_model                      # evaluate: one fold per corpus, print the table
    python -m benchmarks.content_model --detail             # ... and the generated corpus by style/carrier
    python -m benchmarks.content_model --styles             # leave one generated injection style out
    python -m benchmarks.content_model --out detectors/provenance/content_model.skops   # train on all, write

The corpus (docs/content-model.md says what each part is and why): injected instructions from the
labelled public data in ../shared/data (``CHAINWATCH_SHARED_DATA`` points elsewhere) -- BIPIA's attacks
placed in BIPIA's e-mails, ASB's injected tool observations as the agents saw them -- and benign tool
output (tau-bench API answers, OpenHands command output, file reads and web pages without the agent's own
task file, ASB's clean observations, BIPIA's e-mails), plus the texts of ``benchmarks.content_corpus``
written for this project in many styles and carriers. Two parts are scored but never trained on:
BIPIA's task-style attacks (plain questions and requests such as "what movies are playing?", which only
look injected next to the user's task) and the chat replies of OpenHands' simulated colleagues (people
who address the agent with requests in a conversation it started).

A window of up to three sentences is one training row (``detectors.provenance.addressing.windows``); an
injected text's rows are the windows that hold injected words, a benign text's rows are all its windows.
The model is a logistic regression whose weights are held to the sign each feature's meaning gives it
(addressing evidence cannot lower the score, ordinary-content evidence cannot raise it), so it cannot
learn "no digits means injected". Each fold trains without one corpus, picks its thresholds on the
training corpora, and scores the held-out corpus's texts (a text's score is its most addressing window).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.provenance.addressing import (
    DEFAULT_THRESHOLDS,
    FEATURE_NAMES,
    FEATURE_SIGNS,
    FEATURE_VERSION,
    MODEL_FORMAT,
    ContentModel,
    model_from_pipeline,
    windows,
)

SHARED = Path(
    os.environ.get("CHAINWATCH_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
csv.field_size_limit(sys.maxsize)
C_PENALTY = 1.0  # inverse L2 strength, as scikit-learn's C
HIGH_FPR = 0.02  # the "high" operating point: at most this share of every benign training corpus above it
MEDIUM_FPR = 0.05  # the "medium" one


@dataclass(frozen=True)
class Text:
    corpus: str
    text: str
    label: int  # 1: addresses the agent (injected), 0: benign
    payload: str = ""  # for injected texts: the injected part (its windows are the positive rows)
    subset: str = ""  # a part reported on its own ("task-style", "npc-chat", a generated style)
    train: bool = True  # False: scored and reported, never trained on


# ------------------------------------------------------------------------------------------------ corpora

# BIPIA's attack categories that are plain tasks or questions, not instructions about the agent's answer.
_BIPIA_TASK_STYLE = {
    "text_attack_train.json": {
        "Information Retrieval",
        "Content Creation",
        "Learning and Tutoring",
        "Language Translation",
        "Programming Help",
    },
    "text_attack_test.json": {
        "Task Automation",
        "Business Intelligence",
        "Conversational Agent",
        "Research Assistance",
        "Sentiment Analysis",
    },
}


def _bipia() -> Iterator[Text]:
    root = SHARED / "injections" / "bipia" / "benchmark"
    emails = []
    for name in ("train.jsonl", "test.jsonl"):
        for line in (root / "email" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                emails.append(json.loads(line)["context"])
    rng = random.Random(1)
    for email in emails:
        yield Text("bipia", email, 0)
    for name in (
        "text_attack_train.json",
        "text_attack_test.json",
        "code_attack_train.json",
        "code_attack_test.json",
    ):
        for category, attacks in json.loads((root / name).read_text(encoding="utf-8")).items():
            task_style = category in _BIPIA_TASK_STYLE.get(name, set())
            for attack in attacks:
                carrier = rng.choice(emails)
                cut = rng.choice([0, len(carrier) // 2, len(carrier)])
                yield Text(
                    "bipia",
                    carrier[:cut] + "\n" + attack + "\n" + carrier[cut:],
                    1,
                    attack,
                    "task-style" if task_style else "instruction",
                    train=not task_style,
                )


def _asb_observations(path: Path) -> Iterator[str]:
    for row in csv.DictReader(path.open(encoding="utf-8")):
        for message in ast.literal_eval(row["messages"]):
            content = message.get("content") or ""
            if "[Observation]:" in content:
                observation = content.split("[Observation]:", 1)[1]
                # "The knowledge I get from <tool> is:" is the framework's wrapper, not the tool's answer
                yield observation.split(" is:", 1)[1].strip() if " is:" in observation[:120] else observation


def _asb() -> Iterator[Text]:
    root = SHARED / "agents" / "asb"
    normals = [
        json.loads(line)["Expected Achievements"]
        for line in (root / "data" / "all_normal_tools.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    instructions = [
        json.loads(line)["Attacker Instruction"]
        for line in (root / "data" / "all_attack_tools.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    seen: set[str] = set()
    for path in sorted((root / "logs").glob("*/*/*/*.csv")):
        for text in _asb_observations(path):
            if text in seen:
                continue
            seen.add(text)
            injected = any(i[:40] in text for i in instructions)
            normal = next((n for n in normals if n[:40] in text), None)
            if injected:
                payload = text.split(normal, 1)[1] if normal and normal in text else text
                yield Text("asb", text, 1, payload.strip(" ;\n"))
            elif normal and "attacker" not in text:
                yield Text("asb", text, 0)
            # else: the attacker tool's canned success message ("You have used the attacker tool ..."),
            # the benchmark's own bookkeeping, neither a clean answer nor an injection
    for text in normals:
        if text not in seen:
            yield Text("asb", text, 0)


def _tau() -> Iterator[Text]:
    path = SHARED / "transcripts" / "tau-bench" / "gpt-4o-airline.json"
    seen: set[str] = set()
    for item in json.loads(path.read_text(encoding="utf-8")):
        for message in item["traj"]:
            if message.get("role") == "tool" and isinstance(message.get("content"), str):
                text = message["content"]
                if text not in seen and len(seen) < 1500:
                    seen.add(text)
                    yield Text("tau-bench", text, 0)


def _is_task_file(event: dict[str, Any]) -> bool:
    """The agent reading its own task (``/instruction/task.md``): the user's instruction, not outside
    content."""
    extras = event.get("extras") or {}
    where = f"{extras.get('path', '')} {extras.get('command', '')} {extras.get('code', '')}"
    return "/instruction/" in where or "/instruction/task.md" in str(event.get("content", ""))


def _openhands() -> Iterator[Text]:
    root = SHARED / "agents" / "openagentsafety" / "evaluation" / "o3-mini"
    rng = random.Random(3)
    outputs: list[str] = []
    chats: list[str] = []
    for path in sorted(root.glob("traj_*.json")):
        for event in json.loads(path.read_text(encoding="utf-8")):
            kind, content = event.get("observation"), event.get("content")
            if not kind or not isinstance(content, str) or len(content) <= 40 or _is_task_file(event):
                continue
            if kind == "chat":
                chats.append(content[:4000])
            elif kind in ("run", "read", "edit", "browse", "run_ipython", "error"):
                outputs.append(content[:4000])
            # "recall" is the framework adding workspace context, not a tool result
    for text in rng.sample(outputs, min(1500, len(outputs))):
        yield Text("openhands", text, 0)
    for text in sorted(set(chats)):
        yield Text("openhands", text, 0, subset="npc-chat", train=False)


def _generated() -> Iterator[Text]:
    from benchmarks.content_corpus import generated_texts

    for item in generated_texts():
        yield Text("generated", item.text, item.label, item.payload, f"{item.carrier}/{item.style}")


LOADERS = {
    "bipia": _bipia,
    "asb": _asb,
    "tau-bench": _tau,
    "openhands": _openhands,
    "generated": _generated,
}


def load_corpus() -> list[Text]:
    texts: list[Text] = []
    for loader in LOADERS.values():
        texts.extend(loader())
    return texts


# ---------------------------------------------------------------------------------------------- training


def rows_of(item: Text) -> list[tuple[tuple[float, ...], int]]:
    rows = []
    payload_words = set(item.payload.split()) if item.label and item.payload else set()
    need = min(4, len(payload_words))
    for window, features in windows(item.text):
        if payload_words:
            # a window is positive when it holds injected words; carrier-only windows are left out
            label = 1 if len(payload_words & set(window.split())) >= need else -1
        else:
            label = item.label
        if label >= 0:
            rows.append((features, label))
    return rows


def _fit_signed(x: np.ndarray, y: np.ndarray, signs: Sequence[int], c: float) -> tuple[np.ndarray, float]:
    """Weights and intercept of an L2-penalised, class-balanced logistic regression with each weight held
    to its feature's sign (L-BFGS-B with bounds on the loss scikit-learn's LogisticRegression minimises)."""
    from scipy.optimize import minimize

    weight = np.where(y == 1, len(y) / (2.0 * max(1, y.sum())), len(y) / (2.0 * max(1, len(y) - y.sum())))
    target = 2.0 * y - 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        margin = target * (x @ w + b)
        value = float(np.sum(weight * np.logaddexp(0.0, -margin)) + 0.5 / c * w @ w)
        d = -weight * target / (1.0 + np.exp(margin))
        return value, np.concatenate([x.T @ d + w / c, [d.sum()]])

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    result = minimize(
        loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]
    )
    return result.x[:-1], float(result.x[-1])


def _raw_fit(texts: Sequence[Text]) -> tuple[Any, int, int]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rows = [row for item in texts if item.train for row in rows_of(item)]
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    scaler = StandardScaler().fit(x)
    w, b = _fit_signed(scaler.transform(x), y, FEATURE_SIGNS, C_PENALTY)
    regression = LogisticRegression(C=C_PENALTY)
    regression.classes_ = np.array([0, 1])
    regression.coef_ = w.reshape(1, -1)
    regression.intercept_ = np.array([b])
    regression.n_features_in_ = x.shape[1]
    regression.n_iter_ = np.array([0], dtype=np.int32)
    return Pipeline([("scale", scaler), ("model", regression)]), len(rows), int(y.sum())


def operating_points(model: ContentModel, texts: Sequence[Text]) -> dict[str, float]:
    """The lowest scores that keep every benign training corpus at or under MEDIUM_FPR / HIGH_FPR."""
    benign: dict[str, list[float]] = {}
    for t in texts:
        if t.label == 0 and t.train:
            benign.setdefault(t.corpus, []).append(model.score(t.text).score)
    out = {}
    for name, rate in (("medium", MEDIUM_FPR), ("high", HIGH_FPR)):
        worst = 0.0
        for scores in benign.values():
            ordered = sorted(scores)
            worst = max(worst, ordered[min(len(ordered) - 1, int(np.ceil((1 - rate) * len(ordered))))])
        out[name] = min(1 - 1e-6, max(1e-6, worst))
    return out


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def fit(texts: Sequence[Text]) -> tuple[Any, int, int]:
    """A scikit-learn pipeline (scaler, logistic regression) fitted on the texts' window rows, then
    calibrated: its weights and intercept scaled and shifted (a monotone map of the logit that keeps every
    sign) so that the medium and high operating points on the training corpora fall at exactly
    ``DEFAULT_THRESHOLDS`` (0.5 and 0.8), the values the detectors compare the score with."""
    pipeline, rows, positive = _raw_fit(texts)
    raw = operating_points(model_from_pipeline(pipeline), texts)
    low, high = _logit(raw["medium"]), _logit(raw["high"])
    target_low, target_high = _logit(DEFAULT_THRESHOLDS["medium"]), _logit(DEFAULT_THRESHOLDS["high"])
    scale = (target_high - target_low) / (high - low) if high - low > 1e-6 else 1.0
    regression = pipeline.steps[-1][1]
    regression.coef_ = regression.coef_ * scale
    regression.intercept_ = regression.intercept_ * scale + (target_low - scale * low)
    return pipeline, rows, positive


# -------------------------------------------------------------------------------------------- evaluation


def _figures(scores: list[float], labels: list[int], cut: dict[str, float]) -> dict[str, object]:
    from sklearn.metrics import roc_auc_score

    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    row: dict[str, object] = {"texts": len(scores), "injected": len(positives)}
    if positives and negatives:
        row["auc"] = round(float(roc_auc_score(labels, scores)), 3)
    for name, threshold in cut.items():
        if positives:
            row[f"recall@{name}"] = round(sum(s >= threshold for s in positives) / len(positives), 3)
        if negatives:
            row[f"fpr@{name}"] = round(sum(s >= threshold for s in negatives) / len(negatives), 3)
    return row


def _groups(item: Text, detail: bool) -> list[str]:
    """The subsets a text is reported in: always the parts never trained on; with ``detail``, every
    subset, and the generated texts by style and by carrier."""
    if not item.train:
        return [item.subset]
    if not detail or not item.subset:
        return []
    if item.corpus != "generated":
        return [item.subset]
    carrier, style = item.subset.split("/", 1)
    return [f"style {style.split('+')[0]}", f"carrier {carrier}"]


def evaluate(texts: list[Text], detail: bool = False) -> list[dict[str, object]]:
    """One fold per corpus: train on the others, thresholds from the others, score the held-out corpus."""
    table = []
    for held in LOADERS:
        train = [t for t in texts if t.corpus != held]
        test = [t for t in texts if t.corpus == held]
        if not test:
            continue
        pipeline, _, _ = fit(train)
        model = model_from_pipeline(pipeline)
        cut = dict(DEFAULT_THRESHOLDS)
        scored = [(t, model.score(t.text).score) for t in test]
        main = [(t, s) for t, s in scored if t.train]
        row = {"held_out": held, **_figures([s for _, s in main], [t.label for t, _ in main], cut)}
        table.append(row)
        groups: dict[str, list[tuple[Text, float]]] = {}
        for t, s in scored:
            for key in _groups(t, detail):
                groups.setdefault(key, []).append((t, s))
        for subset, items in sorted(groups.items()):
            if all(t.label for t, _ in items) and subset != "npc-chat":
                items = items + [(t, s) for t, s in main if not t.label]  # against the corpus' benign texts
            row = _figures([s for _, s in items], [t.label for t, _ in items], cut)
            table.append({"held_out": f"{held}: {subset}", **row})
    return table


def _style(item: Text) -> str:
    return item.subset.split("/", 1)[1].split("+")[0] if item.corpus == "generated" and item.label else ""


def evaluate_styles(texts: list[Text]) -> list[dict[str, object]]:
    """Leave one generated injection style out: train on every corpus without that style's texts (the
    benign texts stay), then the recall on the unseen style at the calibrated thresholds."""
    table = []
    for style in sorted({_style(t) for t in texts} - {""}):
        pipeline, _, _ = fit([t for t in texts if _style(t) != style])
        model = model_from_pipeline(pipeline)
        scores = [model.score(t.text).score for t in texts if _style(t) == style]
        row: dict[str, object] = {"unseen_style": style, "texts": len(scores)}
        for name, threshold in DEFAULT_THRESHOLDS.items():
            row[f"recall@{name}"] = round(sum(x >= threshold for x in scores) / len(scores), 3)
        table.append(row)
    return table


def write_model(texts: list[Text], out: Path) -> None:
    import skops.io

    pipeline, rows, positive = fit(texts)
    model = model_from_pipeline(pipeline)
    counts: dict[str, list[int]] = {}
    for t in texts:
        if t.train:
            counts.setdefault(t.corpus, [0, 0])[t.label] += 1
    bundle = {
        "format": MODEL_FORMAT,
        "feature_version": FEATURE_VERSION,
        "features": list(FEATURE_NAMES),
        "pipeline": pipeline,
        "metadata": {
            "rows": rows,
            "positive_rows": positive,
            "thresholds": dict(DEFAULT_THRESHOLDS),
            "operating_points": {
                "medium": f"<= {MEDIUM_FPR:.0%} of every benign corpus",
                "high": f"<= {HIGH_FPR:.0%}",
            },
            "texts_by_corpus": {k: {"benign": v[0], "injected": v[1]} for k, v in sorted(counts.items())},
        },
    }
    out.write_bytes(skops.io.dumps(bundle))
    weights = ", ".join(f"{n}={w:+.2f}" for n, w in zip(FEATURE_NAMES, model.weights, strict=True) if w)
    print(f"wrote {out}: {rows} rows ({positive} injected)")
    print(f"weights: {weights}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, help="train on every corpus and write the model file here")
    parser.add_argument("--detail", action="store_true", help="also report the subsets of every corpus")
    parser.add_argument(
        "--styles", action="store_true", help="leave one generated injection style out instead"
    )
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is missing: set CHAINWATCH_SHARED_DATA to the shared public data folder")
    texts = load_corpus()
    if args.out:
        write_model(texts, args.out)
        return
    for row in evaluate_styles(texts) if args.styles else evaluate(texts, args.detail):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
