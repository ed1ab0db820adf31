"""``chainwatch guard``: the detection engine asked *before* a tool call runs (docs/guard.md).

``decide.py`` is the one decision function (a proposed call and the session's state in, allow / ask /
deny with the detectors that spoke out), judged by the policy of ``policy.py``. ``live.py`` holds the
service's session states and the calls waiting for their result; ``trail.py`` writes every decision and
call into the normal pipeline (DuckDB or the Kafka events topic); ``service.py`` is the local HTTP service
(``guard serve``). The clients: ``client.py`` asks the service and spools what it cannot deliver
(``spool.py``); ``claude_hook.py`` is the Claude Code hook (``guard hook``), ``mcp_proxy.py`` the MCP
stdio proxy (``guard mcp``).
"""
