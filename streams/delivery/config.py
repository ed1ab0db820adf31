"""Delivery settings (the ``delivery`` block of :class:`streams.settings.Settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

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
