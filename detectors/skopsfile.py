"""Reading a skops archive's declared types before anything is built: shared by every model file
chainwatch loads (the session models of ``detectors.models``, the content model of
``detectors.provenance.addressing``). A skops archive is a zip whose ``schema.json`` names, for each node,
the loader and the class it would build; reading that JSON builds nothing, so a file that declares a type
its kind of model never holds can be refused unread. Pickles are never loaded at all."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

PICKLE_MAGIC = (b"\x80", b"(", b"c", b"]", b"}")  # protocol 2+ opcode, or the first opcodes of protocol 0/1
# Plain data any chainwatch model file may hold: containers, strings and numbers, numpy arrays and dtypes.
DATA_NODES = frozenset(
    {
        *(("JsonNode", "builtins", c) for c in ("str", "int", "float", "bool", "NoneType")),
        ("DictNode", "builtins", "dict"),
        ("ListNode", "builtins", "list"),
        ("TupleNode", "builtins", "tuple"),
        ("TypeNode", "builtins", "str"),  # the type of a dict's keys
        ("NdArrayNode", "numpy", "ndarray"),
        # numpy scalars and dtypes: plain data; another scikit-learn release may keep an attribute as one
        *(("NdArrayNode", "numpy", c) for c in ("float64", "float32", "int64", "int32", "bool_", "bool")),
        ("DTypeNode", "numpy", "dtype"),
    }
)


def looks_like_pickle(data: bytes) -> bool:
    return data.startswith(PICKLE_MAGIC) and not data.startswith(b"PK")


def declared_nodes(data: bytes) -> set[tuple[str, str, str]]:
    """(loader, module, class) of every node in the archive's ``schema.json``, read as plain JSON; raises
    ValueError (with the reason) when the bytes are not a zip holding a readable schema."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"no readable skops schema: {exc}") from None
    found: set[tuple[str, str, str]] = set()
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__loader__" in node or "__class__" in node:
                found.add(
                    (str(node.get("__loader__")), str(node.get("__module__")), str(node.get("__class__")))
                )
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
