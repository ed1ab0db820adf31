"""``chainwatch tools``: the tools a database has seen, what each can do and why (docs/detectors-guide.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.table import Table
from rich.text import Text

from detectors.capabilities import Manifest, ManifestError, classify, parse_manifest
from streams.cli.common import console, fail, open_db
from streams.settings import load_settings
from streams.store.tools import ToolSeen, tools_seen


def described(seen: ToolSeen, manifest: Manifest | None = None) -> dict[str, Any]:
    """One tool's entry: its calls, the stored capabilities, and its sample call classified again."""
    found = classify(seen.sample, manifest)
    return {
        "tool": seen.tool,
        "action": seen.action,
        "calls": seen.calls,
        "stored_capabilities": list(seen.stored),
        "calls_without_capability": seen.without_capability,
        "calls_not_classified": seen.not_classified,
        "sample_event_id": seen.sample.event_id,
        "capabilities": [str(c) for c in found.capabilities],
        "why": {str(c): why for c, why in found.evidence.items()},
        "unclassified": not found.capabilities and not seen.stored,
    }


def print_tools(entries: list[dict[str, Any]]) -> None:
    table = Table(title="Tools seen, what they can do and why")
    for column in ("tool / action", "calls", "capabilities (sample call)", "why", "stored on calls"):
        table.add_column(column, justify="right" if column == "calls" else "left", overflow="fold")
    for entry in entries:
        name = entry["tool"] if entry["action"] == entry["tool"] else f"{entry['tool']} / {entry['action']}"
        capabilities = (
            Text("UNCLASSIFIED", style="bold red")
            if entry["unclassified"]
            else Text(", ".join(entry["capabilities"]) or "-")
        )
        stored = ", ".join(entry["stored_capabilities"]) or "-"
        if entry["calls_without_capability"]:
            stored += f" ({entry['calls_without_capability']} calls with none)"
        if entry["calls_not_classified"]:
            stored += f" ({entry['calls_not_classified']} not classified)"
        why = "\n".join(f"{c}: {reason[:120]}" for c, reason in entry["why"].items())
        table.add_row(name, str(entry["calls"]), capabilities, Text(why), stored)
    console.print(table)
    calls = sum(e["calls"] for e in entries)
    blind = [e for e in entries if e["unclassified"]]
    blind_calls = sum(e["calls"] for e in blind)
    share = f"{blind_calls / calls:.1%}" if calls else "-"
    console.print(
        f"{len(entries)} tools/actions, {calls} calls; unclassified: {len(blind)} tools/actions, "
        f"{blind_calls} calls ({share}). Say what a tool does in a tool manifest (--manifest)."
    )


def tools_command(
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB file (default: CHAINWATCH_DB_PATH).")
    ] = None,
    manifest_file: Annotated[
        Path | None, typer.Option("--manifest", help="A tool manifest (YAML) that overrides the inference.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON list.")] = False,
) -> None:
    """List the tools seen, how often, what each can do (capabilities) and why; unclassified ones marked."""
    manifest = None
    manifest_file = manifest_file or load_settings().engine.tool_manifest  # CHAINWATCH_ENGINE__TOOL_MANIFEST
    if manifest_file is not None:
        if not manifest_file.is_file():
            raise fail(f"{manifest_file}: no such tool manifest")
        try:
            manifest = parse_manifest(manifest_file.read_text(encoding="utf-8"), str(manifest_file))
        except ManifestError as exc:
            raise fail(str(exc)) from None
    con = open_db(db)
    try:
        seen = tools_seen(con)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:  # no such table, or an older one
        raise fail(f"not a chainwatch database ({exc}); write one with `chainwatch run`") from None
    finally:
        con.close()
    entries = [described(s, manifest) for s in seen]
    if json_output:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return
    if not entries:
        console.print("no tool calls in this database")
        return
    print_tools(entries)


def register(app: typer.Typer) -> None:
    app.command("tools")(tools_command)
