"""`chainwatch ui`: a small triage web page over the DuckDB store (aiohttp, no JS framework)."""
