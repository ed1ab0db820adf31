"""One typed settings object for every chainwatch process: environment variables prefixed
``CHAINWATCH_`` with ``__`` for nesting (``CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS``).

Secrets (later: Kafka SASL passwords, webhook keys) come only from the environment, never from
the command line.
"""

from __future__ import annotations

import json
import logging
import os
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pydantic_settings
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.base import Detector
from detectors.capabilities import Classifier, ManifestError, parse_manifest
from detectors.engine import Engine, EngineSettings
from detectors.identity import IdentityResolver, load_identities
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import ChainwatchError

if TYPE_CHECKING:
    from detectors.sigma_rules import SigmaLoad

log = logging.getLogger(__name__)

# The `delivery` block: alert sinks, spool and suppression (docs/alerts.md).
SeverityName = Literal["info", "low", "medium", "high", "critical"]


class WebhookSink(BaseModel):
    name: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$", description="Stable sink name (the spool's key)."
    )
    url: str = Field(pattern=r"^https?://", description="Endpoint the alerts are POSTed to.")
    format: Literal["json", "slack", "ocsf"] = Field(
        "json", description="json: the alert view; slack: a Slack message body; ocsf: a Detection Finding."
    )
    min_severity: SeverityName = Field("low", description="Alerts below this severity are not sent here.")
    timeout_seconds: float = Field(10.0, gt=0, description="Per-request timeout.")


class FileSink(BaseModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$", description="Stable sink name.")
    path: str = Field(description="File to append JSON lines to, or '-' for standard output.")
    format: Literal["json", "ocsf"] = Field("json", description="json: the alert view; ocsf: OCSF 1.8.")
    min_severity: SeverityName = Field("info", description="Alerts below this severity are not written.")


class DeliverySettings(BaseModel):
    webhooks: list[WebhookSink] = Field(
        default_factory=list,
        description='Webhook sinks, e.g. CHAINWATCH_DELIVERY__WEBHOOKS=\'[{"name": "soc", "url": "https://…"}]\'.',
    )
    files: list[FileSink] = Field(default_factory=list, description="JSON-lines sinks (file or '-').")
    webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key that signs every webhook request (CHAINWATCH_DELIVERY__WEBHOOK_SECRET); "
        "required when a webhook is configured, at least 16 characters.",
    )
    spool_path: Path = Field(
        Path(".chainwatch-spool.sqlite"),
        description="The durable local spool (SQLite, WAL, fsync on commit).",
    )
    suppression_file: Path | None = Field(
        None, description="Reviewed YAML file of suppression/allowlist rules (docs/alerts.md)."
    )
    backoff_initial_seconds: float = Field(1.0, gt=0, description="First retry delay; doubles per attempt.")
    backoff_max_seconds: float = Field(300.0, gt=0, description="Longest delay between two attempts.")
    drain_seconds: float = Field(
        30.0,
        ge=0,
        description="How long `chainwatch run` keeps retrying before it exits; what is left stays "
        "in the spool for `chainwatch deliver`.",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks or self.files)


class KafkaSettings(BaseModel):
    bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    client_id: str = Field("chainwatch", description="Client id prefix seen in broker logs.")
    request_timeout_seconds: float = Field(30.0, description="Produce/admin request timeout.")
    max_message_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Byte cap of one batch message `chainwatch produce` sends (stays under "
        "the broker's default max.message.bytes of 1 MiB, so it also fits topics not created by chainwatch).",
    )
    loader_group_id: str = Field(
        "chainwatch-loader",
        description="Consumer group of `chainwatch load`; its "
        "offsets are committed only after the DuckDB transaction commits.",
    )
    loader_batch_records: int = Field(
        5000, ge=1, description="Kafka records per DuckDB transaction of the loader."
    )
    loader_batch_seconds: float = Field(
        1.0, gt=0, description="Longest time the loader holds records before writing them to DuckDB."
    )
    # -- authentication and encryption (issue 9; translated for every client by streams/kafka/security.py)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients talk to the brokers; production: SSL or SASL_SSL."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism of the SASL_* protocols."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(
        None, description="SASL password, from the environment only (or use sasl_password_file)."
    )
    sasl_password_file: Path | None = Field(
        None, description="File holding the SASL password (e.g. a mounted secret); trailing newline ignored."
    )
    ssl_cafile: Path | None = Field(
        None, description="PEM bundle of the CA(s) that signed the brokers' certificates (default: system)."
    )
    ssl_certfile: Path | None = Field(None, description="PEM client certificate, for brokers requiring mTLS.")
    ssl_keyfile: Path | None = Field(None, description="PEM private key of ssl_certfile (unencrypted).")
    ssl_check_hostname: bool = Field(
        True, description="Check that the broker's certificate names the host connected to (keep on)."
    )


class TopicSettings(BaseModel):
    events: str = Field("agent-events", description="Raw events in: one event or a batch per message.")
    dead_letters: str = Field("agent-events-dlq", description="Inputs that could not be processed, with why.")
    findings: str = Field("agent-findings", description="Every finding (signals, incl. experimental).")
    alerts: str = Field("agent-alerts", description="Alerts after dedup and suppression.")
    chains: str = Field("agent-chains", description="Session summaries when a session changes or closes.")
    partitions: int = Field(
        4,
        ge=1,
        description="Partitions of the source and repartition topics; bounds the "
        "number of workers that share the load.",
    )
    replication_factor: int = Field(1, ge=1, description="Replication of the topics chainwatch creates.")
    events_max_message_bytes: int = Field(
        16 * 1024 * 1024,
        description="max.message.bytes of the events topic: above the 8 MiB the worker reads "
        "(streams.kafka.wire.MAX_MESSAGE_BYTES), so an oversized message reaches the dead-letter topic "
        "with its reason "
        "instead of bouncing at the producer.",
    )


class WorkerSettings(BaseModel):
    app_id: str = Field("chainwatch", description="faust app id: consumer group and table changelog prefix.")
    web_host: str = Field("127.0.0.1", description="Bind address of the worker's web server.")
    web_port: int = Field(6066, description="Port of the worker's web server.")
    data_dir: Path = Field(
        Path(".chainwatch-worker"), description="Local table state (rebuilt from changelogs)."
    )
    session_idle_seconds: float = Field(
        1800.0, description="Wall-clock seconds without events after which a session closes."
    )
    sweep_interval_seconds: float = Field(
        5.0, description="How often idle sessions and due absences are checked."
    )
    batch_max_events: int = Field(2000, description="Events per batch message the producer sends.")
    broker_session_timeout: float = Field(6.0, description="Consumer group session timeout (s).")
    broker_heartbeat_interval: float = Field(1.0, description="Consumer heartbeat interval (s).")
    broker_rebalance_timeout: float = Field(10.0, description="Rebalance timeout (s).")
    web_enabled: bool = Field(
        True,
        description="Serve the worker's web pages (faust's and /chainwatch/stats/); tests that "
        "start several workers may turn it off.",
    )
    log_level: str = Field("info", description="Worker log level (debug, info, warning, error).")
    confirm_outputs: bool = Field(
        True,
        description="Wait until a batch's findings, alerts and chains are acknowledged by the broker "
        "before its session state is saved, so that a crash in between cannot lose them (one broker round "
        "trip per repartition message; off trades that guarantee for throughput on single-event messages).",
    )
    repartition_max_bytes: int = Field(
        900_000,
        ge=1024,
        description="Largest repartition message value: a partition's share of a batch "
        "is split into several messages above it (the broker's default message limit is 1 MiB).",
    )


class EngineConfig(BaseModel):
    allowed_lateness_seconds: float = Field(300.0, description="Out-of-order tolerance within one key.")
    idle_timeout_seconds: float = Field(
        1800.0, description="Event-time idle gap that closes a key in replays."
    )
    disabled: list[str] = Field(default_factory=list, description="Detector ids to leave out.")
    suppress_seconds: dict[str, float] = Field(
        default_factory=dict, description="Per-detector alert suppression."
    )
    rules_dirs: list[Path] = Field(
        default_factory=list, description="Extra folders of rule files (hot-reloaded)."
    )
    sigma_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders of Sigma rules (and correlation rules) over CloudTrail, run beside the catalog "
        "(docs/sigma.md); rules that cannot be translated are reported, not run.",
    )
    identities_file: Path | None = Field(
        None,
        description="YAML file saying which principals are agents, people, CI or services (issue 13, "
        "docs/detectors-guide.md#identity-kinds); unset: the documented heuristics alone decide.",
    )
    model_path: Path | None = Field(
        None,
        description="Anomaly model file (`chainwatch model train`); loaded lazily, re-read when it "
        "changes. Unset: no model detectors run (docs/models.md).",
    )
    tool_manifest: Path | None = Field(
        None,
        description="YAML file saying what your tools can do (capabilities), overriding every inference "
        "(docs/detectors-guide.md, 'See what the tools can do'); unset: capabilities are inferred.",
    )

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            allowed_lateness_seconds=self.allowed_lateness_seconds,
            idle_timeout_seconds=self.idle_timeout_seconds,
            suppress_seconds=dict(self.suppress_seconds),
            disabled=frozenset(self.disabled),
        )


class ReceiverSettings(BaseModel):
    """``chainwatch receive``, the OTLP/HTTP receiver (docs/telemetry.md)."""

    host: str = Field("127.0.0.1", description="Bind address; only loopback unless you mean to expose it.")
    port: int = Field(4318, ge=0, le=65535, description="Port (4318 is OTLP/HTTP's default).")
    token: SecretStr | None = Field(
        None, description="Bearer token exporters must send (CHAINWATCH_RECEIVER__TOKEN; environment only)."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body as sent (413 beyond it)."
    )
    max_decoded_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Largest body after gzip decompression (413 beyond it)."
    )
    deliver_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Longest wait for Kafka (or the database) to take a request's events before "
        "answering 503 so the exporter retries (OTLP exporters give up after 10 s by default).",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection must deliver a complete request header within this time after it opens "
        "or after its previous response; otherwise (a slow or idle client) it is closed.",
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest time to receive a request body once its header arrived (408 beyond)."
    )


class GuardSettings(BaseModel):
    """``chainwatch guard``: decisions before a tool call runs (docs/guard.md). The service reads the
    ``host``/``port``/``policy_file``/``restore_hours``/``pending_seconds`` fields; the hook and the MCP proxy
    read ``url``, ``token``, ``timeout_seconds``, ``on_unavailable``, ``spool_path`` and the call defaults."""

    host: str = Field("127.0.0.1", description="Bind address of `chainwatch guard serve`; loopback only.")
    port: int = Field(4320, ge=0, le=65535, description="Port of `chainwatch guard serve`.")
    url: str = Field(
        "http://127.0.0.1:4320", pattern=r"^https?://", description="Where the hook and the MCP proxy ask."
    )
    token: SecretStr | None = Field(
        None,
        description="Bearer token the service requires and its clients send (CHAINWATCH_GUARD__TOKEN; "
        "environment only).",
    )
    policy_file: Path | None = Field(
        None, description="YAML policy: which findings deny, ask or allow (docs/guard.md); unset: defaults."
    )
    dry_run: bool = Field(False, description="Decide and record, but always answer allow (only logs).")
    timeout_seconds: float = Field(
        2.0, gt=0, le=60, description="Hard limit of one hook or proxy question, connection included."
    )
    on_unavailable: Literal["allow", "ask", "deny"] = Field(
        "ask",
        description="The answer when the service is down or late: allow (fail open), deny (fail closed), "
        "ask (leave it to the human).",
    )
    spool_path: Path = Field(
        default_factory=lambda: Path.home() / ".chainwatch" / "guard-spool.sqlite",
        description="Where the hook and the proxy keep what the service could not take yet (sent later); "
        "in the home folder, as the hook runs in the project being edited.",
    )
    restore_hours: float = Field(
        24.0, ge=0, description="On start, sessions active this recently are rebuilt from the database."
    )
    pending_seconds: float = Field(
        3600.0,
        gt=0,
        description="How long an allowed or asked call waits for its report before it is recorded as "
        "decided with an unknown outcome.",
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body (413 beyond it).")
    agent_id: str | None = Field(None, description="Agent id the hook and proxy put on calls.")
    principal: str | None = Field(None, description="Who the agent acts for (default: the OS user).")
    credential_id: str | None = Field(None, description="The credential the agent runs with, if known.")
    environment: Literal["prod", "staging", "dev", "unknown"] = Field(
        "unknown", description="How sensitive what the agent touches is; policy rules match on it."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINWATCH_", env_nested_delimiter="__", extra="ignore")

    db_path: Path = Field(Path("chainwatch.duckdb"), description="The DuckDB file (one writer at a time).")
    lake: str | None = Field(
        None,
        description="A DuckLake instead of the DuckDB file (docs/lake.md): its catalog, a SQLite file path "
        "or postgres:CONNINFO; readers never wait for the loader, past snapshots stay queryable. `--db` "
        "still names a file.",
    )
    lake_data: Path | None = Field(
        None,
        description="The lake's data folder (Parquet files); needed to create a lake, default "
        "CATALOG.files/ beside a SQLite catalog.",
    )
    max_record_bytes: int = Field(
        DEFAULT_MAX_RECORD_BYTES,
        ge=1024,
        description="Largest input record (one JSON line, array item or event) `run`, the worker and the "
        "receiver accept; a bigger one is a dead letter with the reason (CHAINWATCH_MAX_RECORD_BYTES).",
    )
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    worker: WorkerSettings = WorkerSettings()
    engine: EngineConfig = EngineConfig()
    delivery: DeliverySettings = DeliverySettings()  # alert sinks, spool, suppression (docs/alerts.md)
    receiver: ReceiverSettings = ReceiverSettings()  # `chainwatch receive` (docs/telemetry.md)
    guard: GuardSettings = GuardSettings()  # `chainwatch guard` (docs/guard.md)


def build_engine(settings: Settings) -> Engine:
    """The detection engine with every enabled detector, as the replay and the worker build it."""
    from detectors.registry import load_catalog

    catalog = load_catalog(settings.engine.rules_dirs)
    sigma = sigma_rules_for(settings, taken_ids=[d.id for d in catalog.detectors])
    for skipped in sigma.skipped:
        log.warning("Sigma rule not translated: %s (%s): %s", skipped.path, skipped.title, skipped.reason)
    return Engine(
        catalog.detectors + model_detectors_for(settings) + sigma.detectors,
        settings.engine.engine_settings(),
        identities=identity_resolver_for(settings),
        classifier=classifier_for(settings),
    )


def classifier_for(settings: Settings) -> Classifier:
    """What tool calls can do, with the user's tool manifest first (CHAINWATCH_ENGINE__TOOL_MANIFEST); a
    missing or broken manifest raises ManifestError naming the file, the entry and the fix."""
    path = settings.engine.tool_manifest
    if path is None:
        return Classifier()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(
            f"CHAINWATCH_ENGINE__TOOL_MANIFEST={path}",
            f"cannot be read ({exc.strerror})",
            "point it at a YAML file",
        ) from None
    return Classifier(parse_manifest(text, str(path)))


def sigma_rules_for(settings: Settings, taken_ids: Iterable[str] = ()) -> SigmaLoad:
    """The Sigma rules of CHAINWATCH_ENGINE__SIGMA_DIRS, translated, and those that could not be, with why."""
    from detectors.sigma_rules import SigmaLoad, load_sigma_rules  # pySigma loads only when rules are set

    if not settings.engine.sigma_dirs:
        return SigmaLoad()
    return load_sigma_rules(settings.engine.sigma_dirs, taken_ids=taken_ids)


def identity_resolver_for(settings: Settings) -> IdentityResolver:
    """The identities file's rules before the heuristics (CHAINWATCH_ENGINE__IDENTITIES_FILE); a broken file
    raises IdentityFileError naming the entry and the fix."""
    path = settings.engine.identities_file
    return IdentityResolver(load_identities(path) if path is not None else None)


def model_detectors_for(settings: Settings) -> list[Detector]:
    """The anomaly-model detectors when a model file is configured (CHAINWATCH_ENGINE__MODEL_PATH), all
    reading one lazily loaded, hot-reloaded model file."""
    if settings.engine.model_path is None:
        return []
    from detectors.models import ModelHandle, model_detectors

    return model_detectors(ModelHandle(settings.engine.model_path))


ENV_PREFIX = "CHAINWATCH_"
_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")


class SettingsInvalid(ChainwatchError):
    """An environment variable holds a value its setting cannot take; the message names the variable."""


def load_settings() -> Settings:
    """The settings from the environment; a wrong value raises :class:`SettingsInvalid` naming the
    variable (``CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS``), not pydantic's field path."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsInvalid(_describe_invalid(exc)) from None
    except pydantic_settings.SettingsError as exc:  # a JSON-valued variable that is not JSON
        raise SettingsInvalid(_describe_unparsable(exc)) from None


def env_variable(loc: tuple[int | str, ...]) -> str:
    """The variable a field path comes from: ('delivery', 'webhooks', 0, 'url') is set through
    CHAINWATCH_DELIVERY__WEBHOOKS (a JSON list)."""
    names: list[str] = []
    for part in loc:
        if isinstance(part, int):
            break
        names.append(str(part))
    return ENV_PREFIX + "__".join(names).upper()


def _describe_invalid(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    variable = env_variable(loc)
    inner = ".".join(str(p) for p in loc[len(variable.split("__")) :])
    shown = "" if any(w in variable for w in _SECRET_WORDS) else f"={first.get('input')!r}"
    where = f" (item {inner}{shown})" if inner else shown
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return (
        f"setting {variable}{where}: {first['msg']}; fix the variable's value or unset it "
        f"(streams/settings.py describes each setting){more}"
    )


def _describe_unparsable(exc: Exception) -> str:
    """pydantic-settings reads list, dict and nested-model settings as JSON; say which variable is not."""
    for name, value in sorted(os.environ.items()):
        parts = name.upper().removeprefix(ENV_PREFIX).lower().split("__")
        kind = _json_kind(parts) if name.upper().startswith(ENV_PREFIX) else None
        if kind is None:
            continue
        try:
            json.loads(value)
        except ValueError as bad:
            return f"setting {name} must be a JSON {kind} ({bad}); fix the variable's value or unset it"
    return f"{exc}; check the {ENV_PREFIX}* variables that hold JSON"


def _json_kind(parts: list[str]) -> str | None:
    """'list' or 'object' when the variable for this field path is read as JSON, else None."""
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        last = i == len(parts) - 1
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if last:
                return "object"  # a whole block as one JSON object
            model = annotation
            continue
        origin = typing.get_origin(annotation)
        return {list: "list", dict: "object"}.get(origin) if last and origin else None
    return None
