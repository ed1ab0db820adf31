"""Train and evaluate the content model (how much outside content addresses the agent), leave one corpus out.

    python -m benchmarks.content_model                      # evaluate: one fold per corpus, print the table
    python -m benchmarks.content_model --out detectors/provenance/content_model.skops   # train on all, write

The corpus is assembled here from the labelled public data in ../shared/data (docs/content-model.md says
what each part is and why it is there): injected instructions (BIPIA's text and code attacks, ASB's
attacker instructions) placed inside benign carriers, and benign tool output (tau-bench API answers,
OpenHands command output, file contents and web pages, ASB's normal tool answers, BIPIA's e-mails), plus
the texts of ``benchmarks.content_corpus`` written in many styles. A window of up to three sentences is one
training row (``detectors.provenance.addressing.windows``); an injected text's rows are the windows that
hold the injected sentences. Each fold trains without one corpus and scores that corpus's texts.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detectors.provenance.addressing import (
    FEATURE_NAMES,
    FEATURE_VERSION,
    MODEL_FORMAT,
    model_from_pipeline,
    windows,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Text:
    corpus: str
    text: str
    label: int  # 1: addresses the agent (injected), 0: benign
    payload: str = ""  # for injected texts: the injected part (its windows are the positive rows)


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
        for attacks in json.loads((root / name).read_text(encoding="utf-8")).values():
            for attack in attacks:
                carrier = rng.choice(emails)
                cut = rng.choice([0, len(carrier) // 2, len(carrier)])
                yield Text("bipia", carrier[:cut] + "\n" + attack + "\n" + carrier[cut:], 1, attack)


def _asb() -> Iterator[Text]:
    root = SHARED / "agents" / "asb"
    seen: set[str] = set()
    for row in (
        json.loads(line)
        for line in (root / "data" / "all_normal_tools.jsonl").read_text().splitlines()
        if line.strip()
    ):
        text = row["Expected Achievements"]
        if text not in seen:
            seen.add(text)
            yield Text("asb", text, 0)
    rng = random.Random(2)
    normals = sorted(seen)
    for row in (
        json.loads(line)
        for line in (root / "data" / "all_attack_tools.jsonl").read_text().splitlines()
        if line.strip()
    ):
        instruction = row["Attacker Instruction"]
        carrier = rng.choice(normals)
        yield Text("asb", f"{carrier}; {instruction}", 1, instruction)


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


def _openhands() -> Iterator[Text]:
    root = SHARED / "agents" / "openagentsafety" / "evaluation" / "o3-mini"
    rng = random.Random(3)
    texts: list[str] = []
    for path in sorted(root.glob("traj_*.json")):
        for event in json.loads(path.read_text(encoding="utf-8")):
            if (
                event.get("observation")
                and isinstance(event.get("content"), str)
                and len(event["content"]) > 40
            ):
                texts.append(event["content"][:4000])
    for text in rng.sample(texts, min(1500, len(texts))):
        yield Text("openagentsafety", text, 0)


def _generated() -> Iterator[Text]:
    try:
        from benchmarks.content_corpus import generated_texts
    except ImportError:
        return
    for text, label, payload in generated_texts():
        yield Text("generated", text, label, payload)


LOADERS = {
    "bipia": _bipia,
    "asb": _asb,
    "tau-bench": _tau,
    "openagentsafety": _openhands,
    "generated": _generated,
}


def load_corpus() -> list[Text]:
    texts: list[Text] = []
    for loader in LOADERS.values():
        texts.extend(loader())
    return texts


def rows_of(item: Text) -> list[tuple[list[float], int]]:
    rows = []
    for window, features in windows(item.text):
        if item.label and item.payload:
            # a window is positive when it holds injected words; carrier-only windows are left out
            payload_words = set(item.payload.split())
            label = 1 if len(payload_words & set(window.split())) >= min(4, len(payload_words)) else -1
        else:
            label = item.label
        if label >= 0:
            rows.append((list(features), label))
    return rows


def fit(texts: list[Text]):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rows = [row for item in texts for row in rows_of(item)]
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000)),
        ]
    )
    pipeline.fit(x, y)
    return pipeline, len(rows), int(y.sum())


def evaluate(texts: list[Text]) -> list[dict[str, object]]:
    from sklearn.metrics import roc_auc_score

    corpora = sorted({t.corpus for t in texts})
    table = []
    for held in corpora:
        train = [t for t in texts if t.corpus != held]
        test = [t for t in texts if t.corpus == held]
        pipeline, _, _ = fit(train)
        model = model_from_pipeline(pipeline)
        scores = [model.score(t.text).score for t in test]
        labels = [t.label for t in test]
        positives = [s for s, y in zip(scores, labels, strict=True) if y]
        negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
        row: dict[str, object] = {"held_out": held, "texts": len(test), "injected": len(positives)}
        if positives and negatives:
            row["auc"] = round(float(roc_auc_score(labels, scores)), 3)
        for threshold in (0.5, 0.8):
            if positives:
                row[f"recall@{threshold}"] = round(sum(s >= threshold for s in positives) / len(positives), 3)
            if negatives:
                row[f"fpr@{threshold}"] = round(sum(s >= threshold for s in negatives) / len(negatives), 3)
        table.append(row)
    return table


def write_model(texts: list[Text], out: Path) -> None:
    import skops.io

    pipeline, rows, positive = fit(texts)
    counts: dict[str, list[int]] = {}
    for t in texts:
        counts.setdefault(t.corpus, [0, 0])[t.label] += 1
    bundle = {
        "format": MODEL_FORMAT,
        "feature_version": FEATURE_VERSION,
        "features": list(FEATURE_NAMES),
        "pipeline": pipeline,
        "metadata": {
            "rows": rows,
            "positive_rows": positive,
            "texts_by_corpus": {k: {"benign": v[0], "injected": v[1]} for k, v in sorted(counts.items())},
        },
    }
    out.write_bytes(skops.io.dumps(bundle))
    print(f"wrote {out}: {rows} rows ({positive} injected)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, help="train on every corpus and write the model file here")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is missing: the content model is trained on the shared public data")
    texts = load_corpus()
    if args.out:
        write_model(texts, args.out)
        return
    for row in evaluate(texts):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
