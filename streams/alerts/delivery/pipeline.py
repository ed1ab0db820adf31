"""What happens to the alerts of a batch around its DuckDB write.

``before_write`` marks the alerts a suppression rule matches (they are stored with the rule and reason);
``after_write``, once the DuckDB transaction committed and before the loader commits its Kafka offsets,
builds each remaining alert's view from the store and queues it in the durable spool. A crash between
the two re-reads the records, and the spool's (sink, alert id) key makes the second enqueue a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from schemas.alerts import Alert
from schemas.events import CredentialEvent
from streams.alerts.delivery.deliverer import Deliverer, DeliveryThread
from streams.alerts.suppression import SuppressionRules
from streams.alerts.view import build_view
from streams.settings import DeliverySettings
from streams.store.database import Batch, Store

log = logging.getLogger("chainwatch.delivery")


class AlertPipeline:
    def __init__(
        self,
        suppression: SuppressionRules | None = None,
        deliverer: Deliverer | None = None,
        thread: DeliveryThread | None = None,
    ) -> None:
        self.suppression = suppression
        self.deliverer = deliverer
        self.thread = thread
        self.queued = 0
        self.suppressed = 0

    @classmethod
    def from_settings(cls, config: DeliverySettings, *, background: bool = False) -> AlertPipeline | None:
        """The pipeline the settings ask for, or None when neither suppression nor a sink is configured."""
        suppression = SuppressionRules.load(config.suppression_file) if config.suppression_file else None
        if suppression is not None:
            for rule in suppression.expired(datetime.now(UTC)):
                log.warning("suppression rule %s expired on %s and no longer applies", rule.id, rule.expires)
        deliverer = Deliverer(config) if config.enabled else None
        if suppression is None and deliverer is None:
            return None
        thread = DeliveryThread(deliverer) if background and deliverer is not None else None
        if thread is not None:
            thread.start()
        return cls(suppression, deliverer, thread)

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        if self.deliverer is not None:
            self.deliverer.close()

    def before_write(self, store: Store, batch: Batch) -> None:
        if self.suppression is None or not batch.alerts:
            return
        # credential events have no target: known, and (like a tool call without one) they never satisfy
        # a target pattern, so an alert with such a triggering step is not hidden by a target rule
        batch_targets: dict[str, str | None] = {
            e.event_id: None if isinstance(e, CredentialEvent) else getattr(e, "target", None)
            for e in batch.events
        }

        def targets_of(alert: Alert) -> Sequence[str] | None:
            found = {i: batch_targets[i] for i in alert.event_ids if i in batch_targets}
            missing = [i for i in alert.event_ids if i not in found]
            if missing:
                rows = store.query(
                    "SELECT event_id, target FROM events WHERE list_contains(?, event_id) UNION ALL "
                    "SELECT event_id, NULL FROM credentials WHERE list_contains(?, event_id)",
                    [missing, missing],
                )
                found.update({r[0]: r[1] for r in rows})
            if len(found) < len(alert.event_ids):
                return None  # not every triggering event is known yet: a target rule cannot vouch for it
            if not all(found.values()):
                return None  # a step without a target: "every triggering target matches" cannot hold
            return [t for t in found.values() if t]

        batch.suppressions.update(self.suppression.apply(batch.alerts, targets_of))
        self.suppressed += sum(1 for a in batch.alerts if a.alert_id in batch.suppressions)

    def after_write(self, store: Store, batch: Batch) -> None:
        if self.deliverer is None or not batch.alerts:
            return
        views = []
        for alert in {a.alert_id: a for a in batch.alerts}.values():
            hit = batch.suppressions.get(alert.alert_id)
            if hit is not None:
                continue
            views.append(build_view(store.con, alert))
        self.queued += self.deliverer.submit(views)
        if self.thread is not None:
            self.thread.wake()
