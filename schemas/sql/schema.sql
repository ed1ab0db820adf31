-- chainwatch DuckDB schema. Every table is upserted by its id, so replays and at-least-once
-- redeliveries leave the same rows. Column meanings: docs/data-model.md.

CREATE TABLE IF NOT EXISTS events (
    event_id          VARCHAR PRIMARY KEY,
    kind              VARCHAR NOT NULL,      -- tool_call | session
    schema_version    INTEGER NOT NULL,
    event_time        TIMESTAMPTZ NOT NULL,
    ingest_time       TIMESTAMPTZ,
    source            VARCHAR NOT NULL,
    session_id        VARCHAR NOT NULL,
    agent_id          VARCHAR,
    parent_agent_id   VARCHAR,
    principal         VARCHAR,
    task              VARCHAR,
    task_scope        VARCHAR[],
    tool              VARCHAR,
    action            VARCHAR,
    target            VARCHAR,
    environment       VARCHAR,
    arguments         JSON,
    outcome           VARCHAR,
    decision          VARCHAR,
    approved_by       VARCHAR,
    credential_id     VARCHAR,
    duration_ms       DOUBLE,
    untrusted_content BOOLEAN,
    result_summary    VARCHAR,
    permission_mode   VARCHAR,
    tool_declaration  JSON,                  -- what the tool's provider declares (MCP annotations, description)
    capabilities      VARCHAR[],             -- what the call can do: read, write, delete, execute, ...
    decision_reason   VARCHAR                -- why the gateway decided so (chainwatch guard's one-line reason)
);
-- Databases written before a column existed get it (NULL in older rows, which keeps their hashes).
ALTER TABLE events ADD COLUMN IF NOT EXISTS tool_declaration JSON;
ALTER TABLE events ADD COLUMN IF NOT EXISTS capabilities VARCHAR[];
ALTER TABLE events ADD COLUMN IF NOT EXISTS decision_reason VARCHAR;

CREATE TABLE IF NOT EXISTS credentials (
    event_id             VARCHAR PRIMARY KEY,
    schema_version       INTEGER NOT NULL,
    event_time           TIMESTAMPTZ NOT NULL,
    ingest_time          TIMESTAMPTZ,
    source               VARCHAR NOT NULL,
    session_id           VARCHAR NOT NULL,
    agent_id             VARCHAR,
    principal            VARCHAR,
    credential_id        VARCHAR NOT NULL,
    action               VARCHAR NOT NULL,   -- issued | used | refreshed | revoked | expired
    subject              VARCHAR,
    on_behalf_of         VARCHAR,
    scopes               VARCHAR[],
    ttl_seconds          DOUBLE,
    expires_at           TIMESTAMPTZ,
    issuer               VARCHAR,
    inherited_from_human BOOLEAN
);

CREATE TABLE IF NOT EXISTS chains (
    session_id             VARCHAR PRIMARY KEY,
    agent_id               VARCHAR,
    parent_agent_id        VARCHAR,
    principal              VARCHAR,
    task                   VARCHAR,
    task_scope             VARCHAR[],
    started_at             TIMESTAMPTZ NOT NULL,
    last_event_at          TIMESTAMPTZ NOT NULL,
    ended_at               TIMESTAMPTZ,
    event_count            INTEGER NOT NULL,
    tool_calls             INTEGER NOT NULL,
    distinct_tools         INTEGER NOT NULL,
    distinct_targets       INTEGER NOT NULL,
    environments           VARCHAR[],
    decisions              JSON,
    outcomes               JSON,
    approvers              VARCHAR[],
    credentials            JSON,
    max_risk               DOUBLE NOT NULL,
    alert_count            INTEGER NOT NULL,
    finding_count          INTEGER NOT NULL,
    blast_radius_reachable INTEGER NOT NULL,
    blast_radius_touched   INTEGER NOT NULL,
    blast_radius_weighted  DOUBLE NOT NULL,
    closed                 BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS findings (
    finding_id       VARCHAR PRIMARY KEY,
    detector_id      VARCHAR NOT NULL,
    detector_version INTEGER NOT NULL,
    maturity         VARCHAR NOT NULL,
    key_kind         VARCHAR NOT NULL,
    key              VARCHAR NOT NULL,
    session_id       VARCHAR NOT NULL,
    agent_id         VARCHAR,
    principal        VARCHAR,
    severity         VARCHAR NOT NULL,
    risk_score       DOUBLE NOT NULL,
    title            VARCHAR NOT NULL,
    event_ids        VARCHAR[] NOT NULL,
    credential_ids   VARCHAR[],
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    mappings         JSON,
    runbook          VARCHAR,
    details          JSON
);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id         VARCHAR PRIMARY KEY,
    detector_id      VARCHAR NOT NULL,
    detector_version INTEGER NOT NULL,
    key_kind         VARCHAR NOT NULL,
    key              VARCHAR NOT NULL,
    session_id       VARCHAR NOT NULL,
    agent_id         VARCHAR,
    principal        VARCHAR,
    severity         VARCHAR NOT NULL,
    risk_score       DOUBLE NOT NULL,
    title            VARCHAR NOT NULL,
    description      VARCHAR,
    event_ids        VARCHAR[] NOT NULL,
    credential_ids   VARCHAR[],
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    mappings         JSON,
    runbook          VARCHAR,
    details          JSON
);

CREATE TABLE IF NOT EXISTS dead_letters (
    dead_letter_id VARCHAR PRIMARY KEY,      -- hash of origin, record number and raw bytes
    origin         VARCHAR NOT NULL,         -- file name, or topic/partition/offset
    record_no      BIGINT,
    stage          VARCHAR NOT NULL,         -- read | parse | validate | process
    reason         VARCHAR NOT NULL,
    raw            VARCHAR NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL
);

-- Alert triage (issue 6). A suppressed alert is stored with the rule that suppressed it and is not
-- delivered; databases created before these columns existed get them here.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS suppressed_by VARCHAR;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS suppression_reason VARCHAR;

-- Identity kinds (issue 13): who each chain's principal is, and the kind an alert was judged as.
ALTER TABLE chains ADD COLUMN IF NOT EXISTS identity_kind VARCHAR;
ALTER TABLE chains ADD COLUMN IF NOT EXISTS identity_reason VARCHAR;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS identity_kind VARCHAR;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS identity_kind VARCHAR;

-- Analysts' verdicts: append-only, the latest row of an alert wins (docs/alerts.md).
CREATE TABLE IF NOT EXISTS verdicts (
    alert_id    VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,            -- true-positive | false-positive | benign
    note        VARCHAR,
    analyst     VARCHAR,
    recorded_at TIMESTAMPTZ NOT NULL
);
-- Each verdict's own id, so that it can be sealed in the audit trail (streams/store/integrity.py); rows of
-- files from before it get one when the trail first seals the table.
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS verdict_id VARCHAR;
