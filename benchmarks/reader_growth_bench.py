"""Growth benchmark for the readers of tasks, arguments and results: each reader on a hostile text of 10 KB
and of 100 KB (a long run of digits, of ``a.``, of ``re-``, of ``@/``, of counts, of capitalised words …),
and the ratio of the two times in the same run. A reader that stays linear grows about 10 times; one that
backtracks quadratically grows about 100 times (and takes seconds on 100 KB). The table lists the slowest
pairs; a ratio far above 10 with a 100 KB time over a few milliseconds is a pattern to rewrite.

Run: ``python -m benchmarks.reader_growth_bench [--top 12]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from benchmarks.engine_bench import best_of
from detectors.capabilities import everyone, grants, overrides, paths, safeguards
from detectors.provenance import breadth, intent
from detectors.provenance.destroyed import names_what_is_destroyed
from schemas.types import Capability

UNITS = {
    "digits": "1",
    "dots": "a.",
    "hyphens": "re-",
    "at-slash": "@/",
    "dashes": "-",
    "counts": "12 rows, ",
    "json counts": '"rows": 123, ',
    "capitalised": "Aaa Bbb ",
    "false fields": '"a": false, ',
    "matchers": "a=~",
    "comments": "/*",
    "refusals": "blocked --force ",
    "drops": "drop table a_1, ",
}
READERS: dict[str, Callable[[str], object]] = {
    "task objects": lambda s: breadth.task_objects(s),
    "record count": breadth.record_count,
    "set count": breadth.set_count,
    "file tokens": breadth.file_tokens,
    "names any": lambda s: breadth.names_any(["Aaa Bbb", "1140872"], s),
    "data subject": lambda s: breadth.data_subject(s, "Aaa Bbb"),
    "without comments": breadth.without_comments,
    "refused": overrides.refused,
    "switches": lambda s: overrides.switches({"sql": s}, s),
    "target words": lambda s: overrides.target_words({"a": s}, s),
    "statement to everyone": lambda s: grants.everyone_in_statement({"sql": s}, s),
    "role line": grants.line_admin_grant,
    "affected count": safeguards.affected_count,
    "safeguard off": lambda s: safeguards.safeguard_switched_off("tool", {"command": s}, s),
    "secret path": paths.is_secret_path,
    "open link": lambda s: everyone.everyone_in({"shared_link": {"access": s}}, link=True),
    "intent": intent.intent_of,
    "mentions a delete": lambda s: intent.mentions(s, Capability.DELETE),
    "objects destroyed": lambda s: names_what_is_destroyed(s, s, None),
}


def growth(reader: Callable[[str], object], unit: str) -> tuple[float, float]:
    """Seconds on 10 KB and on 100 KB of the unit repeated (fresh strings: the readers memoise)."""
    small, large = (unit * (size // len(unit)) for size in (10_000, 100_000))
    return best_of(3, lambda: reader(small + " ")), best_of(3, lambda: reader(large + " "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--top", type=int, default=12, help="rows to show, slowest at 100 KB first")
    args = parser.parse_args()
    rows = []
    for name, reader in READERS.items():
        for kind, unit in UNITS.items():
            small, large = growth(reader, unit)
            rows.append((large, small, name, kind))
    rows.sort(reverse=True)
    print(f"{'reader':24} {'input':14} {'10 KB ms':>9} {'100 KB ms':>10} {'growth':>7}")
    for large, small, name, kind in rows[: args.top]:
        ratio = large / small if small > 0 else float("nan")
        print(f"{name:24} {kind:14} {small * 1e3:9.2f} {large * 1e3:10.2f} {ratio:6.1f}x")


if __name__ == "__main__":
    main()
