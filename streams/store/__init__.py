"""The DuckDB store: tables and upserts, the tamper-evident audit trail, views, the Parquet export.
Imports only ``schemas`` and ``settings``: never ``kafka``, ``alerts``, ``ingest`` or ``cli``."""
