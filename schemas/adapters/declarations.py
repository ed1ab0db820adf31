"""Tool declarations as the sources write them, read into :class:`~schemas.events.ToolDeclaration`.

Three shapes are common in real logs: OpenAI function specs (``{"type": "function", "function": {"name",
"description", "parameters"}}``, or the flat ``{"name", "description", "parameters"}`` of the legacy
``functions`` list and the Responses API), Anthropic tool specs (``{"name", "description",
"input_schema"}``) and MCP ``tools/list`` entries (``{"name", "description", "inputSchema",
"annotations": {"readOnlyHint", …}}``). A declaration is evidence for a call's capabilities
(``detectors/capabilities``); it never makes a call trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.events import ToolDeclaration

# MCP annotation -> ToolDeclaration field (MCP specification 2025-06-18, ToolAnnotations).
MCP_HINTS = {
    "readOnlyHint": "read_only",
    "destructiveHint": "destructive",
    "idempotentHint": "idempotent",
    "openWorldHint": "open_world",
}
MAX_PARAMETERS = 64


def parameter_names(schema: Any) -> tuple[str, ...]:
    """The top-level property names of a JSON Schema object (what the tool takes), in declared order."""
    if not isinstance(schema, Mapping):
        return ()
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ()
    return tuple(str(name) for name in list(properties)[:MAX_PARAMETERS])


def _description(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _hints(annotations: Any) -> dict[str, bool]:
    if not isinstance(annotations, Mapping):
        return {}
    return {
        field: annotations[hint]
        for hint, field in MCP_HINTS.items()
        if isinstance(annotations.get(hint), bool)
    }


def mcp_declaration(tool: Mapping[str, Any], source: str = "mcp") -> ToolDeclaration:
    """One entry of an MCP ``tools/list`` result (description, annotations, input schema)."""
    return ToolDeclaration(
        description=_description(tool.get("description")),
        parameters=parameter_names(tool.get("inputSchema")),
        source=source,
        **_hints(tool.get("annotations")),
    )


def function_declarations(tools: Any) -> dict[str, ToolDeclaration]:
    """Declarations by tool name from a list of OpenAI or Anthropic tool specs (others are skipped)."""
    declared: dict[str, ToolDeclaration] = {}
    if not isinstance(tools, list):
        return declared
    for spec in tools:
        if not isinstance(spec, Mapping):
            continue
        function = spec.get("function")
        inner: Mapping[str, Any] = function if isinstance(function, Mapping) else spec
        name = inner.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        anthropic = "input_schema" in inner and "parameters" not in inner
        schema = inner.get("input_schema") if anthropic else inner.get("parameters")
        declared.setdefault(
            name.strip(),
            ToolDeclaration(
                description=_description(inner.get("description")),
                parameters=parameter_names(schema),
                source="anthropic" if anthropic else "openai",
                **_hints(inner.get("annotations")),
            ),
        )
    return declared
