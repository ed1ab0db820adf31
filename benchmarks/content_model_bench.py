"""Cost of the content model per tool result, as ratios to two floors measured in the same run on the
same texts (docs/content-model.md):

- a plain regex scan: one compiled alternation of twenty instruction phrases searched through the text,
  what a phrase gate costs;
- JSON-decoding the event that carries the result (orjson, as the stream decodes every event).

Run: ``python -m benchmarks.content_model_bench [--texts N] [--repeat R]``. The texts are tool results of
the generated corpus (``benchmarks.content_corpus``: e-mails, pages, JSON answers, logs, code ...; benign
and injected) and, where ../shared/data exists, tau-bench API answers and OpenHands command output. Every
repeat clears the model's caches, so each result is scored cold, as a new result in the stream is.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable, Sequence
from functools import partial

import orjson

from detectors.provenance.addressing import ContentModel, shipped_model, window_matrix

PHRASES = re.compile(
    r"ignore (?:all )?(?:previous|prior) instructions|disregard (?:the )?above|you are now|new instructions|"
    r"system prompt|do not tell the user|forget (?:your|all) instructions|act as|developer mode|"
    r"override (?:your|the) instructions|reveal your prompt|as an ai|assistant, please|before answering|"
    r"send (?:the|all) (?:data|files) to|exfiltrate|jailbreak|pretend to be|important instructions|"
    r"from now on",
    re.I,
)


def _texts(count: int) -> dict[str, list[str]]:
    from benchmarks.content_corpus import generated_texts

    rng = random.Random(5)
    generated = [g.text for g in generated_texts()]
    out = {"generated": rng.sample(generated, min(count, len(generated)))}
    try:
        from benchmarks.content_model import SHARED, _openhands, _tau

        if SHARED.is_dir():
            out["tau-bench"] = [t.text for t in _tau()][:count]
            out["openhands"] = [t.text for t in _openhands() if t.train][:count]
    except (OSError, ValueError):  # the shared data is optional here
        pass
    return out


def _best(repeat: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _scan(texts: Sequence[str]) -> None:
    for text in texts:
        PHRASES.search(text)


def _decode(events: Sequence[bytes]) -> None:
    for event in events:
        orjson.loads(event)


def _score_cold(model: ContentModel, texts: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        window_matrix.cache_clear()
        ContentModel.score.cache_clear()
        for text in texts:
            model.score(text)

    return run


def _features_only(texts: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        window_matrix.cache_clear()
        for text in texts:
            window_matrix(text)

    return run


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1000, help="results per corpus")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    model = shipped_model()
    print(
        f"{'results':12} {'n':>5} {'avg chars':>9} {'model µs':>9} {'features':>9} "
        f"{'regex µs':>9} {'decode µs':>9} {'÷ regex':>8} {'÷ decode':>8}"
    )
    for name, texts in _texts(args.texts).items():
        events = [orjson.dumps({"kind": "tool_call", "tool": "fetch", "result_summary": t}) for t in texts]
        n = len(texts)
        t_model = _best(args.repeat, _score_cold(model, texts))
        t_features = _best(args.repeat, _features_only(texts))
        t_regex = _best(args.repeat, partial(_scan, texts))
        t_decode = _best(args.repeat, partial(_decode, events))
        chars = sum(len(t) for t in texts) / n
        print(
            f"{name:12} {n:5d} {chars:9.0f} {t_model / n * 1e6:9.1f} {t_features / n * 1e6:9.1f} "
            f"{t_regex / n * 1e6:9.1f} {t_decode / n * 1e6:9.1f} "
            f"{t_model / t_regex:8.1f} {t_model / t_decode:8.1f}"
        )


if __name__ == "__main__":
    main()
