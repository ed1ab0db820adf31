"""JSON Schema of the contract, exported to files (``chainwatch schema export``) and checked by a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.alerts import Alert, ChainSummary, Finding
from schemas.events import Event

MODELS: dict[str, type[BaseModel]] = {"alert": Alert, "finding": Finding, "chain": ChainSummary}


def json_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {"event": TypeAdapter(Event).json_schema()}
    for name, model in MODELS.items():
        schemas[name] = model.model_json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def export_json_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
