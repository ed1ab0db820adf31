"""The alert as an analyst reads it, assembled from the DuckDB store.

An :class:`schemas.alerts.Alert` carries the detection (who, what, how bad, which events). The
:class:`AlertView` adds what the store knows around it: the session's stated task, every event of the
chain (the triggering ones marked), each credential's lifetime (issued, TTL, last use, revoked), the
blast-radius figures, the suppression that matched it and the latest analyst verdict. The CLI, the
OCSF export, the webhook payloads and the triage page all render this one view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb
import orjson

from schemas.alerts import Alert, Mappings
from schemas.types import SEVERITY_RANK
from streams.alerts.chain_summary import vouched_chain

TIMELINE_LIMIT = 500  # events shown around the triggering ones for a very long session

_ALERT_COLUMNS = (
    "alert_id",
    "detector_id",
    "detector_version",
    "key_kind",
    "key",
    "session_id",
    "agent_id",
    "principal",
    "severity",
    "risk_score",
    "title",
    "description",
    "event_ids",
    "credential_ids",
    "first_seen",
    "last_seen",
    "mappings",
    "runbook",
    "details",
)


MIN_PREFIX = 6  # characters of an alert id that may stand for the whole id


class AlertNotFound(LookupError):
    """No alert (or more than one) matches the id or id prefix the analyst gave."""


@dataclass(frozen=True)
class TimelineEvent:
    event_id: str
    time: datetime
    kind: str  # tool_call | session | credential
    tool: str | None
    action: str | None
    target: str | None
    environment: str | None
    decision: str | None
    outcome: str | None
    credential_id: str | None
    triggering: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "time": self.time.isoformat(),
            "kind": self.kind,
            "tool": self.tool,
            "action": self.action,
            "target": self.target,
            "environment": self.environment,
            "decision": self.decision,
            "outcome": self.outcome,
            "credential_id": self.credential_id,
            "triggering": self.triggering,
        }


@dataclass(frozen=True)
class CredentialLifetime:
    """One credential of the alert, from its lifecycle events and the calls that used it."""

    credential_id: str
    issued_at: datetime | None = None
    ttl_seconds: float | None = None
    expires_at: datetime | None = None
    first_used: datetime | None = None
    last_used: datetime | None = None
    revoked_at: datetime | None = None
    uses: int = 0
    scopes: tuple[str, ...] = ()
    issuer: str | None = None
    inherited_from_human: bool = False

    @property
    def state(self) -> str:
        """revoked, expired (by its TTL as of the last thing the store saw) or still valid."""
        if self.revoked_at is not None:
            return "revoked"
        end = self.expires_at
        if end is None and self.issued_at is not None and self.ttl_seconds is not None:
            end = self.issued_at + timedelta(seconds=self.ttl_seconds)
        if end is not None and self.last_used is not None and end <= self.last_used:
            return "expired"
        return "not revoked"

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "credential_id": self.credential_id,
            "issued_at": iso(self.issued_at),
            "ttl_seconds": self.ttl_seconds,
            "expires_at": iso(self.expires_at),
            "first_used": iso(self.first_used),
            "last_used": iso(self.last_used),
            "revoked_at": iso(self.revoked_at),
            "uses": self.uses,
            "scopes": list(self.scopes),
            "issuer": self.issuer,
            "inherited_from_human": self.inherited_from_human,
            "state": self.state,
        }


@dataclass(frozen=True)
class Verdict:
    status: str
    note: str | None
    analyst: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    task: str | None = None
    task_scope: tuple[str, ...] = ()
    session_started: datetime | None = None
    session_ended: datetime | None = None
    events: tuple[TimelineEvent, ...] = ()
    credentials: tuple[CredentialLifetime, ...] = ()
    blast_radius: dict[str, float] = field(default_factory=dict)
    suppressed_by: str | None = None
    suppression_reason: str | None = None
    verdict: Verdict | None = None
    # Set when the session's chain summary is not plainly the one the audit trail vouches for (a second
    # row for the session, or none that matches the trail's head): what the analyst must not take on trust.
    integrity_warning: str | None = None

    @property
    def triggering_events(self) -> tuple[TimelineEvent, ...]:
        return tuple(e for e in self.events if e.triggering)

    def to_dict(self) -> dict[str, Any]:
        """The view as JSON-ready data: the webhook's generic body and `chainwatch alerts --json`."""
        alert = self.alert.model_dump(mode="json", exclude={"schema_version"})
        alert["mappings"] = self.alert.mappings.model_dump(mode="json", exclude={"schema_version"})
        return {
            "alert": alert,
            "task": self.task,
            "task_scope": list(self.task_scope),
            "session_started": self.session_started.isoformat() if self.session_started else None,
            "session_ended": self.session_ended.isoformat() if self.session_ended else None,
            "events": [e.to_dict() for e in self.events],
            "credentials": [c.to_dict() for c in self.credentials],
            "blast_radius": self.blast_radius,
            "suppressed_by": self.suppressed_by,
            "suppression_reason": self.suppression_reason,
            "integrity_warning": self.integrity_warning,
            "verdict": None
            if self.verdict is None
            else {
                "status": self.verdict.status,
                "note": self.verdict.note,
                "analyst": self.verdict.analyst,
                "recorded_at": self.verdict.recorded_at.isoformat(),
            },
        }


# -- reading alerts


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])
    return {r[0] for r in rows.fetchall()}


def _suppression_select(con: duckdb.DuckDBPyConnection) -> str:
    """Databases written before suppression existed (opened read-only) lack the columns."""
    if "suppressed_by" in _columns(con, "alerts"):
        return "suppressed_by, suppression_reason"
    return "NULL AS suppressed_by, NULL AS suppression_reason"


def _identity_select(con: duckdb.DuckDBPyConnection, prefix: str = "") -> str:
    """Databases written before identity kinds existed (opened read-only) lack the column."""
    if "identity_kind" in _columns(con, "alerts"):
        return f"{prefix}identity_kind"
    return "NULL AS identity_kind"


def alert_from_row(row: dict[str, Any]) -> Alert:
    data = {k: row[k] for k in _ALERT_COLUMNS}
    data["identity_kind"] = row.get("identity_kind")
    data["mappings"] = Mappings(**orjson.loads(data["mappings"])) if data["mappings"] else Mappings()
    data["details"] = orjson.loads(data["details"]) if data["details"] else {}
    data["description"] = data["description"] or ""
    data["runbook"] = data["runbook"] or ""
    data["credential_ids"] = tuple(data["credential_ids"] or ())
    data["event_ids"] = tuple(data["event_ids"])
    return Alert(**{k: v for k, v in data.items() if v is not None})


@dataclass(frozen=True)
class AlertRow:
    """An alert as the list shows it: the detection plus its suppression and latest verdict."""

    alert: Alert
    suppressed_by: str | None
    suppression_reason: str | None
    verdict: str | None


def list_alerts(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    min_severity: str | None = None,
    detector: str | None = None,
    include_suppressed: bool = True,
    limit: int | None = None,
) -> list[AlertRow]:
    """Alerts, newest first. ``detector`` is an id or an id prefix ending in '.' or '*'."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("a.last_seen >= ?")
        params.append(since)
    if min_severity is not None:
        allowed = [s for s, rank in SEVERITY_RANK.items() if rank >= SEVERITY_RANK[min_severity]]  # type: ignore[index]
        where.append(f"a.severity IN ({', '.join('?' for _ in allowed)})")
        params.extend(allowed)
    if detector:
        if detector.endswith(("*", ".")):
            where.append("starts_with(a.detector_id, ?)")
            params.append(detector.rstrip("*"))
        else:
            where.append("a.detector_id = ?")
            params.append(detector)
    if not include_suppressed and "suppressed_by" in _columns(con, "alerts"):
        where.append("a.suppressed_by IS NULL")
    verdict_join, verdict_col = _verdict_join(con)
    columns = ", ".join("a." + c for c in _ALERT_COLUMNS)
    sql = (
        f"SELECT {columns}, {_identity_select(con, 'a.')}, {_suppression_select(con)}, {verdict_col} "
        f"FROM alerts a {verdict_join}"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.last_seen DESC, a.risk_score DESC, a.alert_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    result = []
    for raw in cursor.fetchall():
        row = dict(zip(names, raw, strict=True))
        result.append(
            AlertRow(alert_from_row(row), row["suppressed_by"], row["suppression_reason"], row["verdict"])
        )
    return result


# The latest verdict of an alert wins; on a tie (same microsecond) the graver status, as detector_health
# (schemas/sql/views.sql) decides, so a tie never hides a confirmed attack and both agree.
LATEST_VERDICT_ORDER = (
    "recorded_at DESC, list_position(['true-positive', 'false-positive', 'benign'], status) NULLS LAST, "
    "status, analyst NULLS LAST, note NULLS LAST"
)


def _verdict_join(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    if "status" not in _columns(con, "verdicts"):
        return "", "NULL AS verdict"
    return (
        f"LEFT JOIN (SELECT alert_id, status FROM verdicts QUALIFY row_number() OVER "
        f"(PARTITION BY alert_id ORDER BY {LATEST_VERDICT_ORDER}) = 1) v "
        "ON v.alert_id = a.alert_id",
        "v.status AS verdict",
    )


def resolve_alert_id(con: duckdb.DuckDBPyConnection, alert_id: str) -> str:
    """The full id of the alert ``alert_id`` names (a full id, or a unique prefix of MIN_PREFIX+ chars)."""
    exact = con.execute("SELECT alert_id FROM alerts WHERE alert_id = ?", [alert_id]).fetchall()
    if exact:
        return str(exact[0][0])
    if len(alert_id) < MIN_PREFIX:
        raise AlertNotFound(
            f"no alert {alert_id!r}: an id prefix needs at least {MIN_PREFIX} characters "
            "(`chainwatch alerts` lists the ids)"
        )
    rows = con.execute(
        "SELECT alert_id FROM alerts WHERE starts_with(alert_id, ?) LIMIT 3", [alert_id]
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if len(rows) > 1:
        raise AlertNotFound(f"alert id prefix {alert_id!r} is ambiguous; give more characters")
    raise AlertNotFound(f"no alert {alert_id!r} in this database; list them with `chainwatch alerts`")


def load_view(con: duckdb.DuckDBPyConnection, alert_id: str) -> AlertView:
    """Assemble the view of one alert (``alert_id``: full id or unique prefix)."""
    full_id = resolve_alert_id(con, alert_id)
    cursor = con.execute(
        f"SELECT {', '.join(_ALERT_COLUMNS)}, {_identity_select(con)}, {_suppression_select(con)} "
        "FROM alerts WHERE alert_id = ?",
        [full_id],
    )
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone() or (), strict=True))
    return build_view(
        con, alert_from_row(row), suppressed_by=row["suppressed_by"], reason=row["suppression_reason"]
    )


def build_view(
    con: duckdb.DuckDBPyConnection,
    alert: Alert,
    *,
    suppressed_by: str | None = None,
    reason: str | None = None,
) -> AlertView:
    """The view of ``alert`` from whatever the store holds about its session and credentials."""
    chain, integrity_warning = vouched_chain(con, alert.session_id)
    events = _timeline(con, alert)
    task = chain["task"] if chain else None
    if task is None:
        task = next(
            iter(
                r[0]
                for r in con.execute(
                    "SELECT task FROM events WHERE session_id = ? AND task IS NOT NULL "
                    "ORDER BY event_time LIMIT 1",
                    [alert.session_id],
                ).fetchall()
            ),
            None,
        )
    blast = (
        {
            "reachable": float(chain["blast_radius_reachable"]),
            "touched": float(chain["blast_radius_touched"]),
            "weighted": float(chain["blast_radius_weighted"]),
        }
        if chain
        else {}
    )
    return AlertView(
        alert=alert,
        task=task,
        task_scope=tuple(chain["task_scope"] or ()) if chain else (),
        session_started=chain["started_at"] if chain else (events[0].time if events else None),
        session_ended=chain["ended_at"] if chain else None,
        events=tuple(events),
        credentials=tuple(_credentials(con, alert, events)),
        blast_radius=blast,
        suppressed_by=suppressed_by,
        suppression_reason=reason,
        verdict=latest_verdict(con, alert.alert_id),
        integrity_warning=integrity_warning,
    )


def _timeline(con: duckdb.DuckDBPyConnection, alert: Alert) -> list[TimelineEvent]:
    cursor = con.execute(
        "SELECT event_id, event_time, kind, tool, action, target, environment, decision, outcome, "
        "credential_id FROM events WHERE session_id = ? UNION ALL "
        "SELECT event_id, event_time, 'credential', 'credential', action, credential_id, NULL, NULL, NULL, "
        "credential_id FROM credentials WHERE session_id = ? ORDER BY 2, 1",
        [alert.session_id, alert.session_id],
    )
    triggering = set(alert.event_ids)
    events = [
        TimelineEvent(
            event_id=r[0],
            time=r[1],
            kind=r[2],
            tool=r[3],
            action=r[4],
            target=r[5],
            environment=r[6],
            decision=r[7],
            outcome=r[8],
            credential_id=r[9],
            triggering=r[0] in triggering,
        )
        for r in cursor.fetchall()
    ]
    return _around_triggers(events)


def _around_triggers(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """Keep a very long session readable: the triggering events and their neighbours, in order."""
    if len(events) <= TIMELINE_LIMIT:
        return list(events)
    triggers = [i for i, event in enumerate(events) if event.triggering]
    # The evidence first (cutting the sorted list used to drop the last triggering steps), then the
    # session's opening events and each step's neighbours while there is room.
    keep: set[int] = set(triggers[:TIMELINE_LIMIT])
    nearby = [*range(min(5, len(events)))]
    for i in triggers:
        nearby += [j for j in range(max(0, i - 3), min(len(events), i + 4)) if j != i]
    for j in nearby:
        if len(keep) >= TIMELINE_LIMIT:
            break
        keep.add(j)
    return [events[i] for i in sorted(keep)]


def _credentials(
    con: duckdb.DuckDBPyConnection, alert: Alert, events: Sequence[TimelineEvent]
) -> list[CredentialLifetime]:
    """Each credential's lifetime across every session (it may be issued in one and used in another)."""
    ids = list(
        dict.fromkeys(
            [*alert.credential_ids, *(e.credential_id for e in events if e.triggering and e.credential_id)]
        )
    )
    result = []
    for credential_id in ids:
        issued = con.execute(
            "SELECT event_time, ttl_seconds, expires_at, scopes, issuer, inherited_from_human "
            "FROM credentials "
            "WHERE credential_id = ? AND action IN ('issued', 'refreshed') ORDER BY event_time LIMIT 1",
            [credential_id],
        ).fetchone()
        ended = con.execute(
            "SELECT min(event_time) FILTER (WHERE action = 'revoked'), "
            "max(expires_at) FILTER (WHERE action IN ('issued', 'refreshed')) "
            "FROM credentials WHERE credential_id = ?",
            [credential_id],
        ).fetchone()
        used = con.execute(
            "SELECT min(event_time), max(event_time), count(*) FROM events WHERE credential_id = ?",
            [credential_id],
        ).fetchone()
        result.append(
            CredentialLifetime(
                credential_id=credential_id,
                issued_at=issued[0] if issued else None,
                ttl_seconds=issued[1] if issued else None,
                expires_at=(ended[1] if ended and ended[1] else (issued[2] if issued else None)),
                first_used=used[0] if used else None,
                last_used=used[1] if used else None,
                revoked_at=ended[0] if ended else None,
                uses=int(used[2]) if used else 0,
                scopes=tuple(issued[3] or ()) if issued else (),
                issuer=issued[4] if issued else None,
                inherited_from_human=bool(issued[5]) if issued else False,
            )
        )
    return result


def latest_verdict(con: duckdb.DuckDBPyConnection, alert_id: str) -> Verdict | None:
    if "status" not in _columns(con, "verdicts"):
        return None
    row = con.execute(
        "SELECT status, note, analyst, recorded_at FROM verdicts WHERE alert_id = ? "
        f"ORDER BY {LATEST_VERDICT_ORDER} LIMIT 1",
        [alert_id],
    ).fetchone()
    return Verdict(row[0], row[1], row[2], row[3]) if row else None
