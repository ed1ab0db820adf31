-- chainwatch analytic views for data teams. Column meanings: docs/data-dictionary.md.
--
-- One DDL for two sources: the store runs it over its own tables on open, and
-- `chainwatch db views --parquet DIR` runs it over views named like the tables that read the Parquet
-- export. So these views only ever name tables (never files), and always name their columns: tables
-- gain columns over time (hashes, triage fields) and a view must not change shape when they do.
-- Every list is aggregated with a total ORDER BY, so the same data gives the same rows from either source.
-- Days are UTC days. Durations are seconds (DOUBLE).

-- Sensitivity weight of each environment: mirrors schemas.types.ENVIRONMENT_WEIGHT (a test keeps them equal).
CREATE OR REPLACE VIEW environment_weights AS
SELECT environment, CAST(weight AS DOUBLE) AS weight
FROM (VALUES ('prod', 1.0), ('unknown', 0.6), ('staging', 0.4), ('dev', 0.2)) AS w(environment, weight);

-- Every use of a credential: its own `used` events and the tool calls that carried it.
CREATE OR REPLACE VIEW credential_uses AS
SELECT credential_id, session_id, event_time, event_id
FROM credentials
WHERE action = 'used'
UNION ALL
SELECT credential_id, session_id, event_time, event_id
FROM events
WHERE kind = 'tool_call' AND credential_id IS NOT NULL
ORDER BY event_time, event_id;

-- One row per credential: its whole lifetime, across every session that saw it.
CREATE OR REPLACE VIEW credential_lifetimes AS
WITH lifecycle AS (
    SELECT
        credential_id,
        first(issuer ORDER BY event_time, event_id) FILTER (WHERE issuer IS NOT NULL) AS issuer,
        first(subject ORDER BY event_time, event_id) FILTER (WHERE subject IS NOT NULL) AS subject,
        first(on_behalf_of ORDER BY event_time, event_id) FILTER (WHERE on_behalf_of IS NOT NULL)
            AS on_behalf_of,
        coalesce(bool_or(inherited_from_human), false) AS inherited_from_human,
        list_sort(list_distinct(flatten(list(scopes) FILTER (WHERE scopes IS NOT NULL)))) AS scopes,
        min(event_time) FILTER (WHERE action = 'issued') AS issued_at,
        first(ttl_seconds ORDER BY event_time, event_id) FILTER (WHERE ttl_seconds IS NOT NULL)
            AS ttl_seconds,
        max(expires_at) AS expires_at,
        count(*) FILTER (WHERE action = 'refreshed') AS refreshes,
        min(event_time) FILTER (WHERE action = 'revoked') AS revoked_at,
        min(event_time) FILTER (WHERE action = 'expired') AS expired_at
    FROM credentials
    GROUP BY credential_id
),
used AS (
    SELECT credential_id, min(event_time) AS first_used, max(event_time) AS last_used, count(*) AS uses
    FROM credential_uses
    GROUP BY credential_id
),
seen_in AS (
    SELECT credential_id, count(DISTINCT session_id) AS sessions
    FROM (
        SELECT credential_id, session_id FROM credentials
        UNION ALL
        SELECT credential_id, session_id FROM credential_uses
    )
    GROUP BY credential_id
)
SELECT
    s.credential_id,
    l.issuer,
    l.subject,
    l.on_behalf_of,
    coalesce(l.inherited_from_human, false) AS inherited_from_human,
    coalesce(l.scopes, []::VARCHAR[]) AS scopes,
    l.issued_at,
    l.ttl_seconds,
    l.expires_at,
    coalesce(l.refreshes, 0) AS refreshes,
    u.first_used,
    u.last_used,
    coalesce(u.uses, 0) AS uses,
    l.revoked_at,
    l.expired_at,
    s.sessions
FROM seen_in s
LEFT JOIN lifecycle l USING (credential_id)
LEFT JOIN used u USING (credential_id)
ORDER BY s.credential_id;

-- One row per (session, credential the session issued, refreshed, revoked or used): the credential's
-- lifetime against the task's.
CREATE OR REPLACE VIEW session_credentials AS
WITH links AS (
    SELECT session_id, credential_id FROM credentials
    UNION
    SELECT session_id, credential_id FROM credential_uses
),
in_session AS (
    SELECT session_id, credential_id, min(event_time) AS first_used, max(event_time) AS last_used,
           count(*) AS uses
    FROM credential_uses
    GROUP BY session_id, credential_id
)
SELECT
    k.session_id,
    c.agent_id,
    c.principal,
    k.credential_id,
    l.issuer,
    l.inherited_from_human,
    l.scopes,
    l.issued_at,
    l.ttl_seconds,
    l.expires_at,
    l.first_used,
    l.last_used,
    l.uses,
    i.first_used AS first_used_in_session,
    i.last_used AS last_used_in_session,
    coalesce(i.uses, 0) AS uses_in_session,
    l.revoked_at,
    l.expired_at,
    l.revoked_at IS NULL AS never_revoked,
    c.started_at AS task_started_at,
    coalesce(c.ended_at, c.last_event_at) AS task_ended_at,
    (epoch_us(coalesce(c.ended_at, c.last_event_at)) - epoch_us(c.started_at)) / 1e6 AS task_seconds,
    l.ttl_seconds * 1e6
        / nullif(epoch_us(coalesce(c.ended_at, c.last_event_at)) - epoch_us(c.started_at), 0)
        AS ttl_over_task,
    (epoch_us(l.revoked_at) - epoch_us(coalesce(c.ended_at, c.last_event_at))) / 1e6
        AS revoked_after_task_seconds
FROM links k
JOIN credential_lifetimes l USING (credential_id)
LEFT JOIN in_session i USING (session_id, credential_id)
LEFT JOIN chains c USING (session_id)
ORDER BY k.session_id, k.credential_id;

-- One row per session: intent, every decision, every credential's lifetime, alerts and risk together.
CREATE OR REPLACE VIEW audit_trail AS
WITH calls AS (
    SELECT
        session_id,
        count(*) AS tool_calls,
        count(*) FILTER (WHERE decision IN ('auto_allowed', 'allowed_by_rule')) AS allowed,
        count(*) FILTER (WHERE decision = 'approved') AS approved,
        count(*) FILTER (WHERE decision = 'denied') AS denied,
        list_sort(list_distinct(list(approved_by) FILTER (WHERE approved_by IS NOT NULL))) AS approvers,
        list(
            {'event_time': event_time, 'event_id': event_id, 'tool': tool, 'action': action,
             'target': target, 'environment': environment, 'decision': decision,
             'approved_by': approved_by, 'outcome': outcome, 'credential_id': credential_id,
             'reason': decision_reason}
            ORDER BY event_time, event_id
        ) AS decisions
    FROM events
    WHERE kind = 'tool_call'
    GROUP BY session_id
),
modes AS (
    SELECT session_id, list(permission_mode ORDER BY event_time, event_id) AS permission_modes
    FROM events
    WHERE kind = 'session' AND action = 'permission_mode' AND permission_mode IS NOT NULL
    GROUP BY session_id
),
creds AS (
    SELECT
        session_id,
        count(*) AS credentials,
        count(*) FILTER (WHERE never_revoked) AS credentials_never_revoked,
        list(
            {'credential_id': credential_id, 'issuer': issuer, 'inherited_from_human': inherited_from_human,
             'issued_at': issued_at, 'ttl_seconds': ttl_seconds, 'expires_at': expires_at,
             'first_used': first_used, 'last_used': last_used, 'revoked_at': revoked_at,
             'revoked_after_task_seconds': revoked_after_task_seconds}
            ORDER BY credential_id
        ) AS credential_lifetimes
    FROM session_credentials
    GROUP BY session_id
),
raised AS (
    SELECT
        session_id,
        count(*) AS alerts,
        count(*) FILTER (WHERE suppressed_by IS NOT NULL) AS alerts_suppressed,
        list(
            {'alert_id': alert_id, 'detector_id': detector_id, 'severity': severity,
             'risk_score': risk_score, 'title': title, 'suppressed_by': suppressed_by}
            ORDER BY risk_score DESC, alert_id
        ) AS alert_list
    FROM alerts
    GROUP BY session_id
)
SELECT
    c.session_id,
    c.agent_id,
    c.parent_agent_id,
    c.principal,
    c.task,
    c.task_scope,
    c.started_at,
    c.ended_at,
    c.last_event_at,
    (epoch_us(coalesce(c.ended_at, c.last_event_at)) - epoch_us(c.started_at)) / 1e6 AS task_seconds,
    c.closed,
    coalesce(k.tool_calls, 0) AS tool_calls,
    coalesce(k.allowed, 0) AS allowed,
    coalesce(k.approved, 0) AS approved,
    coalesce(k.denied, 0) AS denied,
    coalesce(k.approvers, []::VARCHAR[]) AS approvers,
    coalesce(m.permission_modes, []::VARCHAR[]) AS permission_modes,
    k.decisions,
    coalesce(r.credentials, 0) AS credentials,
    coalesce(r.credentials_never_revoked, 0) AS credentials_never_revoked,
    r.credential_lifetimes AS credential_lifetimes,
    coalesce(a.alerts, 0) AS alerts,
    coalesce(a.alerts_suppressed, 0) AS alerts_suppressed,
    a.alert_list,
    c.max_risk
FROM chains c
LEFT JOIN calls k USING (session_id)
LEFT JOIN modes m USING (session_id)
LEFT JOIN creds r USING (session_id)
LEFT JOIN raised a USING (session_id)
ORDER BY c.started_at, c.session_id;

-- One row per (session, credential, granted scope): whether the session used it. A scope is used as in
-- detectors.helpers.scope_used: a scope with a resource pattern when a touched target matches the pattern
-- (GLOB), an opaque or all-resources scope (crm:read, iam:*) when a touched target or tool names its
-- service, a full wildcard when anything was touched.
CREATE OR REPLACE VIEW granted_scopes AS
WITH granted AS (
    SELECT DISTINCT session_id, credential_id, unnest(scopes) AS scope
    FROM session_credentials
),
parsed AS (
    SELECT
        session_id,
        credential_id,
        scope,
        regexp_extract(trim(scope), '^(\S*)', 1) AS scope_action,
        nullif(regexp_extract(trim(scope), '^\S+\s+(.*)$', 1), '') AS scope_resource
    FROM granted
),
rules AS (
    SELECT
        *,
        split_part(lower(scope_action), ':', 1) AS service,
        scope_resource IS NOT NULL
            AND scope_resource NOT IN ('*', '*:*', 'arn:*', 'arn:aws:*', 'arn:aws:*:*:*:*', 'arn:*:*:*:*:*')
            AS has_resource,
        scope_action IN ('*', '*:*', 'arn:*', 'arn:aws:*', 'arn:aws:*:*:*:*', 'arn:*:*:*:*:*')
            AND (scope_resource IS NULL
                 OR scope_resource IN ('*', '*:*', 'arn:*', 'arn:aws:*', 'arn:aws:*:*:*:*', 'arn:*:*:*:*:*'))
            AS wildcard
    FROM parsed
),
touches AS (
    SELECT DISTINCT session_id, credential_id, tool, target
    FROM events
    WHERE kind = 'tool_call'
),
matched AS (
    SELECT
        r.session_id,
        r.credential_id,
        r.scope,
        t.credential_id AS used_with,
        CASE
            WHEN r.has_resource THEN coalesce(t.target GLOB r.scope_resource, false)
            WHEN r.service IN ('', '*') THEN true
            ELSE contains(lower(coalesce(t.target, '')), r.service) OR contains(lower(t.tool), r.service)
        END AS hit
    FROM rules r
    JOIN touches t USING (session_id)
)
SELECT
    r.session_id,
    r.credential_id,
    r.scope,
    r.wildcard,
    coalesce(bool_or(m.hit), false) AS used_in_session,
    coalesce(bool_or(m.hit AND m.used_with = r.credential_id), false) AS used_by_credential
FROM rules r
LEFT JOIN matched m USING (session_id, credential_id, scope)
GROUP BY r.session_id, r.credential_id, r.scope, r.wildcard
ORDER BY r.session_id, r.credential_id, r.scope;

-- Per session: what its credentials' scopes could reach against what it touched, weighted by
-- environment sensitivity. Largest first.
CREATE OR REPLACE VIEW blast_radius_sessions AS
WITH touched AS (
    -- a target seen in several environments counts once, at its most sensitive one
    SELECT e.session_id, e.target, max(coalesce(w.weight, 0.6)) AS weight
    FROM events e
    LEFT JOIN environment_weights w ON w.environment = e.environment
    WHERE e.kind = 'tool_call' AND e.target IS NOT NULL
    GROUP BY e.session_id, e.target
),
touched_by_session AS (
    SELECT
        session_id,
        count(*) AS touched_targets,
        count(*) FILTER (WHERE weight = 1.0) AS touched_prod,
        sum(weight) AS touched_weighted,
        max(weight) AS environment_weight
    FROM touched
    GROUP BY session_id
),
scopes AS (
    SELECT session_id, scope, bool_or(wildcard) AS wildcard, bool_or(used_in_session) AS used
    FROM granted_scopes
    GROUP BY session_id, scope
),
reach AS (
    SELECT
        session_id,
        count(*) AS reachable_scopes,
        count(*) FILTER (WHERE used) AS scopes_used,
        bool_or(wildcard) AS wildcard
    FROM scopes
    GROUP BY session_id
),
held AS (
    SELECT session_id, count(*) AS credentials FROM session_credentials GROUP BY session_id
)
SELECT
    c.session_id,
    c.agent_id,
    c.principal,
    coalesce(h.credentials, 0) AS credentials,
    coalesce(r.reachable_scopes, 0) AS reachable_scopes,
    coalesce(r.scopes_used, 0) AS scopes_used,
    coalesce(r.reachable_scopes, 0) - coalesce(r.scopes_used, 0) AS scopes_unused,
    coalesce(r.wildcard, false) AS wildcard,
    coalesce(t.environment_weight, 0.6) AS environment_weight,
    coalesce(r.reachable_scopes, 0) * coalesce(t.environment_weight, 0.6) AS reachable_weighted,
    coalesce(t.touched_targets, 0) AS touched_targets,
    coalesce(t.touched_prod, 0) AS touched_prod,
    round(coalesce(t.touched_weighted, 0.0), 6) AS touched_weighted
FROM chains c
LEFT JOIN held h USING (session_id)
LEFT JOIN reach r USING (session_id)
LEFT JOIN touched_by_session t USING (session_id)
ORDER BY wildcard DESC, reachable_weighted DESC, scopes_unused DESC, touched_weighted DESC, session_id;

-- Per credential: what its scopes could reach against what the calls made with it touched. Largest first.
CREATE OR REPLACE VIEW blast_radius_credentials AS
WITH touched AS (
    SELECT e.credential_id, e.target, max(coalesce(w.weight, 0.6)) AS weight
    FROM events e
    LEFT JOIN environment_weights w ON w.environment = e.environment
    WHERE e.kind = 'tool_call' AND e.target IS NOT NULL AND e.credential_id IS NOT NULL
    GROUP BY e.credential_id, e.target
),
touched_by_credential AS (
    SELECT
        credential_id,
        count(*) AS touched_targets,
        count(*) FILTER (WHERE weight = 1.0) AS touched_prod,
        sum(weight) AS touched_weighted,
        max(weight) AS environment_weight
    FROM touched
    GROUP BY credential_id
),
scopes AS (
    SELECT credential_id, scope, bool_or(wildcard) AS wildcard, bool_or(used_by_credential) AS used
    FROM granted_scopes
    GROUP BY credential_id, scope
),
reach AS (
    SELECT
        credential_id,
        count(*) AS reachable_scopes,
        count(*) FILTER (WHERE used) AS scopes_used,
        bool_or(wildcard) AS wildcard
    FROM scopes
    GROUP BY credential_id
)
SELECT
    l.credential_id,
    l.issuer,
    l.inherited_from_human,
    l.sessions,
    coalesce(r.reachable_scopes, 0) AS reachable_scopes,
    coalesce(r.scopes_used, 0) AS scopes_used,
    coalesce(r.reachable_scopes, 0) - coalesce(r.scopes_used, 0) AS scopes_unused,
    coalesce(r.wildcard, false) AS wildcard,
    coalesce(t.environment_weight, 0.6) AS environment_weight,
    coalesce(r.reachable_scopes, 0) * coalesce(t.environment_weight, 0.6) AS reachable_weighted,
    coalesce(t.touched_targets, 0) AS touched_targets,
    coalesce(t.touched_prod, 0) AS touched_prod,
    round(coalesce(t.touched_weighted, 0.0), 6) AS touched_weighted,
    l.revoked_at
FROM credential_lifetimes l
LEFT JOIN reach r USING (credential_id)
LEFT JOIN touched_by_credential t USING (credential_id)
ORDER BY wildcard DESC, reachable_weighted DESC, scopes_unused DESC, touched_weighted DESC, credential_id;

-- Credential hygiene by agent and by issuer. `level` says which grouping a row is. A session without
-- any credential is counted under issuer '(no credential)' so agent shares cover all its sessions.
CREATE OR REPLACE VIEW credential_posture AS
WITH base AS (
    SELECT
        coalesce(c.agent_id, '(none)') AS agent_id,
        CASE WHEN sc.credential_id IS NULL THEN '(no credential)' ELSE coalesce(sc.issuer, '(none)') END
            AS issuer,
        c.session_id,
        sc.credential_id,
        sc.inherited_from_human,
        sc.never_revoked,
        sc.ttl_seconds,
        (epoch_us(coalesce(c.ended_at, c.last_event_at)) - epoch_us(c.started_at)) / 1e6 AS task_seconds,
        sc.ttl_over_task,
        sc.revoked_after_task_seconds
    FROM chains c
    LEFT JOIN session_credentials sc USING (session_id)
)
SELECT
    CASE
        WHEN grouping(agent_id) = 0 AND grouping(issuer) = 0 THEN 'agent_issuer'
        WHEN grouping(agent_id) = 0 THEN 'agent'
        WHEN grouping(issuer) = 0 THEN 'issuer'
        ELSE 'all'
    END AS level,
    agent_id,
    issuer,
    count(DISTINCT session_id) AS sessions,
    count(DISTINCT session_id) FILTER (WHERE inherited_from_human) AS sessions_inherited_human,
    round(count(DISTINCT session_id) FILTER (WHERE inherited_from_human)
          / nullif(count(DISTINCT session_id), 0), 6)
        AS inherited_human_share,
    count(DISTINCT credential_id) AS credentials,
    count(DISTINCT credential_id) FILTER (WHERE never_revoked) AS credentials_never_revoked,
    round(count(DISTINCT credential_id) FILTER (WHERE never_revoked)
          / nullif(count(DISTINCT credential_id), 0), 6) AS never_revoked_share,
    quantile_cont(ttl_seconds, 0.5) AS ttl_p50_seconds,
    quantile_cont(task_seconds, 0.5) FILTER (WHERE credential_id IS NOT NULL) AS task_p50_seconds,
    round(quantile_cont(ttl_over_task, 0.5), 6) AS ttl_over_task_p50,
    count(*) FILTER (WHERE ttl_seconds > task_seconds) AS ttl_exceeds_task,
    quantile_cont(revoked_after_task_seconds, 0.5) AS revocation_p50_seconds,
    quantile_cont(revoked_after_task_seconds, 0.9) AS revocation_p90_seconds,
    max(revoked_after_task_seconds) AS revocation_max_seconds
FROM base
GROUP BY GROUPING SETS ((agent_id, issuer), (agent_id), (issuer), ())
ORDER BY list_position(['all', 'agent', 'issuer', 'agent_issuer'], level), agent_id NULLS FIRST,
    issuer NULLS FIRST;

-- The first time each agent used a tool, touched a target, or acted in an environment.
CREATE OR REPLACE VIEW agent_first_seen AS
WITH calls AS (
    SELECT agent_id, session_id, event_id, event_time, tool, target, environment
    FROM events
    WHERE kind = 'tool_call' AND agent_id IS NOT NULL
),
facets AS (
    SELECT agent_id, 'tool' AS facet, tool AS value, event_time, event_id, session_id FROM calls
    UNION ALL
    SELECT agent_id, 'target', target, event_time, event_id, session_id FROM calls WHERE target IS NOT NULL
    UNION ALL
    SELECT agent_id, 'environment', environment, event_time, event_id, session_id FROM calls
    WHERE environment IS NOT NULL
)
SELECT
    agent_id,
    facet,
    value,
    min(event_time) AS first_seen_at,
    first(event_id ORDER BY event_time, event_id) AS first_event_id,
    first(session_id ORDER BY event_time, event_id) AS first_session_id,
    count(*) AS uses
FROM facets
GROUP BY agent_id, facet, value
ORDER BY agent_id, facet, first_seen_at, value;

-- What each agent did per UTC day: volume, breadth, environments and what was new that day.
CREATE OR REPLACE VIEW agent_activity AS
WITH calls AS (
    SELECT agent_id, CAST(timezone('UTC', event_time) AS DATE) AS day, session_id, tool, target,
           environment, decision
    FROM events
    WHERE kind = 'tool_call' AND agent_id IS NOT NULL
),
daily AS (
    SELECT
        agent_id,
        day,
        count(DISTINCT session_id) AS sessions,
        count(*) AS tool_calls,
        count(DISTINCT tool) AS distinct_tools,
        count(DISTINCT target) AS distinct_targets,
        list_sort(list_distinct(list(environment) FILTER (WHERE environment IS NOT NULL))) AS environments,
        list_sort(list_distinct(list(tool))) AS tools,
        count(*) FILTER (WHERE environment = 'prod') AS prod_calls,
        count(*) FILTER (WHERE decision = 'denied') AS denied_calls
    FROM calls
    GROUP BY agent_id, day
),
firsts AS (
    SELECT
        agent_id,
        CAST(timezone('UTC', first_seen_at) AS DATE) AS day,
        count(*) FILTER (WHERE facet = 'tool') AS new_tools,
        count(*) FILTER (WHERE facet = 'target') AS new_targets,
        count(*) FILTER (WHERE facet = 'environment') AS new_environments
    FROM agent_first_seen
    GROUP BY ALL
)
SELECT
    d.agent_id,
    d.day,
    d.sessions,
    d.tool_calls,
    d.distinct_tools,
    d.distinct_targets,
    d.tools,
    d.environments,
    d.prod_calls,
    d.denied_calls,
    coalesce(f.new_tools, 0) AS new_tools,
    coalesce(f.new_targets, 0) AS new_targets,
    coalesce(f.new_environments, 0) AS new_environments
FROM daily d
LEFT JOIN firsts f USING (agent_id, day)
ORDER BY d.agent_id, d.day;

-- Per detector per UTC day (of first_seen): findings, alerts, suppressions, analysts' verdicts.
CREATE OR REPLACE VIEW detector_health AS
WITH latest_verdicts AS (
    -- verdicts are append-only: the latest row of an alert is its verdict. Two rows recorded in the same
    -- microsecond have no latest: the graver status wins (true-positive, then false-positive, then benign),
    -- so a tie never hides a confirmed attack, and the same data gives the same answer from either source.
    SELECT alert_id, status
    FROM verdicts
    QUALIFY row_number() OVER (
        PARTITION BY alert_id
        ORDER BY recorded_at DESC,
            list_position(['true-positive', 'false-positive', 'benign'], status) NULLS LAST, status,
            analyst NULLS LAST, note NULLS LAST
    ) = 1
),
found AS (
    SELECT
        detector_id,
        CAST(timezone('UTC', first_seen) AS DATE) AS day,
        count(*) AS findings,
        count(*) FILTER (WHERE json_extract_string(details, '$.suppressed_by') IS NOT NULL)
            AS suppressed_in_engine
    FROM findings
    GROUP BY ALL
),
raised AS (
    SELECT
        a.detector_id,
        CAST(timezone('UTC', a.first_seen) AS DATE) AS day,
        count(*) AS alerts,
        count(*) FILTER (WHERE a.suppressed_by IS NOT NULL) AS suppressed_by_rule,
        count(*) FILTER (WHERE v.status = 'true-positive') AS true_positive,
        count(*) FILTER (WHERE v.status = 'false-positive') AS false_positive,
        count(*) FILTER (WHERE v.status = 'benign') AS benign,
        count(*) FILTER (WHERE v.status IS NULL) AS unreviewed
    FROM alerts a
    LEFT JOIN latest_verdicts v USING (alert_id)
    GROUP BY ALL
),
coverage AS (
    -- Tool calls no detector can reason about: classified, but no capability found (capabilities = []);
    -- calls stored without classification (capabilities NULL: older rows) are counted apart.
    SELECT
        CAST(timezone('UTC', event_time) AS DATE) AS day,
        count(*) AS tool_calls,
        count(*) FILTER (WHERE len(capabilities) = 0) AS calls_without_capability,
        count(*) FILTER (WHERE capabilities IS NULL) AS calls_not_classified
    FROM events
    WHERE kind = 'tool_call'
    GROUP BY ALL
),
per_detector AS (
    SELECT detector_id, day, f.findings, f.suppressed_in_engine, r.alerts, r.suppressed_by_rule,
        r.true_positive, r.false_positive, r.benign, r.unreviewed
    FROM found f
    FULL OUTER JOIN raised r USING (detector_id, day)
)
-- A day with tool calls but no detector activity still gets a row (detector_id NULL, counts 0), so the
-- share of calls without a capability is never hidden by a quiet day.
SELECT
    d.detector_id,
    day,
    coalesce(d.findings, 0) AS findings,
    coalesce(d.suppressed_in_engine, 0) AS suppressed_in_engine,
    coalesce(d.alerts, 0) AS alerts,
    coalesce(d.suppressed_by_rule, 0) AS suppressed_by_rule,
    coalesce(d.alerts, 0) - coalesce(d.suppressed_by_rule, 0) AS delivered,
    coalesce(d.true_positive, 0) AS true_positive,
    coalesce(d.false_positive, 0) AS false_positive,
    coalesce(d.benign, 0) AS benign,
    coalesce(d.unreviewed, 0) AS unreviewed,
    round(d.false_positive / nullif(d.true_positive + d.false_positive + d.benign, 0), 6)
        AS false_positive_rate,
    coalesce(c.tool_calls, 0) AS tool_calls,
    coalesce(c.calls_without_capability, 0) AS calls_without_capability,
    coalesce(c.calls_not_classified, 0) AS calls_not_classified,
    round(c.calls_without_capability / nullif(c.tool_calls - c.calls_not_classified, 0), 6)
        AS share_without_capability
FROM per_detector d
FULL OUTER JOIN coverage c USING (day)
ORDER BY d.detector_id NULLS LAST, day;

-- Per UTC day: what came in, what arrived late and what was dead-lettered. An event is late when the
-- session had already seen (by ingest time) an event more than 300 s newer: the engine's allowed
-- lateness (detectors.rules.ALLOWED_LATENESS), so such events skipped ordered detector state. Events
-- without ingest_time (file replays, which sort their input) are never late.
CREATE OR REPLACE VIEW ingest_health AS
WITH arrivals AS (
    SELECT session_id, event_id, event_time, ingest_time, false AS is_credential FROM events
    UNION ALL
    SELECT session_id, event_id, event_time, ingest_time, true FROM credentials
),
watermarked AS (
    SELECT
        event_time,
        is_credential,
        event_time < max(event_time) OVER (
            PARTITION BY session_id ORDER BY ingest_time
            RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL 1 MICROSECOND PRECEDING
        ) - INTERVAL 300 SECOND AS late
    FROM arrivals
    WHERE ingest_time IS NOT NULL
),
came_in AS (
    SELECT
        CAST(timezone('UTC', event_time) AS DATE) AS day,
        count(*) FILTER (WHERE NOT is_credential) AS events,
        count(*) FILTER (WHERE is_credential) AS credential_events
    FROM arrivals
    GROUP BY ALL
),
late AS (
    SELECT CAST(timezone('UTC', event_time) AS DATE) AS day, count(*) AS late_events
    FROM watermarked
    WHERE late
    GROUP BY ALL
),
dead AS (
    SELECT
        CAST(timezone('UTC', received_at) AS DATE) AS day,
        count(*) AS dead_letters,
        count(*) FILTER (WHERE stage = 'read') AS dead_read,
        count(*) FILTER (WHERE stage = 'parse') AS dead_parse,
        count(*) FILTER (WHERE stage = 'validate') AS dead_validate,
        count(*) FILTER (WHERE stage = 'process') AS dead_process
    FROM dead_letters
    GROUP BY ALL
)
SELECT
    day,
    coalesce(i.events, 0) AS events,
    coalesce(i.credential_events, 0) AS credential_events,
    coalesce(l.late_events, 0) AS late_events,
    coalesce(d.dead_letters, 0) AS dead_letters,
    coalesce(d.dead_read, 0) AS dead_read,
    coalesce(d.dead_parse, 0) AS dead_parse,
    coalesce(d.dead_validate, 0) AS dead_validate,
    coalesce(d.dead_process, 0) AS dead_process
FROM came_in i
FULL OUTER JOIN late l USING (day)
FULL OUTER JOIN dead d USING (day)
ORDER BY day;
