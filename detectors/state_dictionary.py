"""The preset dictionary of the saved state's version 4 (``detectors/state_codec.py``), built from the code.

Each key's state is deflated alone (a table value is read alone), so without a dictionary every name a
state holds costs its letters the first time it occurs, and a state of ~5 KB of JSON spells most of its
names once. With a preset dictionary deflate starts as if the state followed the dictionary's text: a name
found there costs a short back-reference. The text holds only what the code fixes, never a value seen in a
workload (a dictionary trained on the simulator's sessions would flatter the benchmark, which replays the
same simulator, and fit no one's real sessions):

* each stateful detector of the shipped catalog: its slot with its initial state (``"slot":{"name":…}``)
  and, for the lists it keeps windowed, the name as the saved form marks timed entries (``"name~T":[``);
* the reasons the code writes into a state: the content model's feature names (a source's reasons) and
  the literal parts of the identity heuristics' reasons;
* the values of the contract's enumerations and the key kinds;
* the saved form's names, each as ``"name":``, the shape marks, and the opening ``to_dict`` writes.

deflate's back-references cost fewer bits the nearer they reach, so what nearly every state holds comes
last. The catalog grows; the dictionary does not follow it: a dictionary is part of the format, kept under
its id for ever (states written with it must stay readable), and a better one is a new id, never the old
file rebuilt. Build: ``python -m detectors.state_dictionary --id N`` writes ``detectors/state_dicts/N.zdict``
and prints the digest to pin in ``state_codec.DICTIONARIES``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from detectors import context, engine
from detectors.base import KEY_KINDS, StatefulDetector
from detectors.identity import heuristics, resolver
from detectors.provenance.constructions import FEATURE_NAMES
from detectors.registry import load_catalog
from detectors.rules import SequenceRule
from detectors.state_form import _SHAPES, MARK
from schemas import types

FOLDER = Path(__file__).parent / "state_dicts"
_ENUMS = (
    types.Environment,
    types.Outcome,
    types.Decision,
    types.IdentityKind,
    types.Capability,
    types.CredentialAction,
)
# names to_dict writes that no table of names holds (detectors/engine.py, context.py, provenance/state.py)
_FORM_NAMES = (
    "v ctx det mt ip closed kk k sid if tsc now tools tgt te appr sess agents creds prov n sc ih "
    "text trusted tainted src secrets seen scripts overflow"
).split()


def build() -> bytes:
    parts = [_slots(), _reasons(), _enum_values(), _form_names(), _opening()]
    return b"".join(parts)


def _slots() -> bytes:
    out = []
    for detector in load_catalog().detectors:
        if not isinstance(detector, StatefulDetector):
            continue
        slot = detector.state_key or detector.id
        out.append(orjson.dumps({slot: detector.initial_state()})[1:-1])
        out += [orjson.dumps(f"{name}{MARK}T") + b":[" for name in detector.windows]
        if isinstance(detector, SequenceRule):
            out.append(_sequence_names(detector))
    return b",".join(out)


def _sequence_names(rule: SequenceRule) -> bytes:
    """A sequence rule's captures (``"step.path":``, in the order its partials gather them) and the
    fields it remembers for ties, as its ``recent`` list opens (``"recent~R":[["event_id",…]``)."""
    captures = [f"{step.name}.{path}" for step in rule.steps for path in step.capture]
    remembered = ["event_id", *dict.fromkeys(parts[0] for parts in rule._later_paths)]
    opening = orjson.dumps(f"recent{MARK}R") + b":[" + orjson.dumps(remembered)[:-1]
    return b"{" + b",".join(orjson.dumps(name) + b":" for name in captures) + opening


def _reasons() -> bytes:
    addressing = [name.replace("_", " ") for name in FEATURE_NAMES]
    identity = _literals(heuristics.heuristic_kind) + _literals(resolver.IdentityResolver._uncached)
    return orjson.dumps(addressing) + b"".join(orjson.dumps(text)[:-1] for text in identity)


def _enum_values() -> bytes:
    values = [str(member) for enum in _ENUMS for member in enum] + list(KEY_KINDS)
    return b",".join(orjson.dumps(value) for value in dict.fromkeys(values))


def _form_names() -> bytes:
    tables: Iterable[tuple[str, str]] = (
        *engine._KEY_STATE_FIELDS,
        *context._OPTIONAL_FIELDS,
        *context._COUNTS,
        *context._CREDENTIAL_FIELDS,
        *context._IMPLIED_FIELDS,
    )
    names = dict.fromkeys([*(short for _, short in tables), *_FORM_NAMES])
    marks = [f'{MARK}{letter}":[' for letter in _SHAPES]
    return b"".join(orjson.dumps(name) + b":" for name in names) + "".join(marks).encode()


def _opening() -> bytes:
    return b'{"v":%d,"ctx":{"kk":"session","k":"' % engine.STATE_FORM


def _literals(function: object) -> list[str]:
    """The string literals a function returns (an f-string's literal parts): the texts it can write."""
    tree = ast.parse(inspect.getsource(function).strip())  # type: ignore[arg-type]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and len(inner.value) > 2:
                    found.append(inner.value)
    return list(dict.fromkeys(found))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--id", type=int, required=True, help="the new dictionary's id (1-255, never reused)")
    parser.add_argument("--force", action="store_true", help="overwrite (only before any state used it)")
    args = parser.parse_args(argv)
    path = FOLDER / f"{args.id}.zdict"
    if path.exists() and not args.force:
        parser.error(f"{path} exists: a dictionary is never rebuilt in place; build a new id")
    data = build()
    path.write_bytes(data)
    print(f"{path}: {len(data)} bytes; pin in state_codec.DICTIONARIES: {args.id}: ")
    print(f'    "{hashlib.sha256(data).hexdigest()}"')


if __name__ == "__main__":
    main()
