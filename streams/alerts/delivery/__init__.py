"""Alert delivery: a durable local spool and the sinks it feeds (webhook, Slack, JSON lines).

Every alert that is not suppressed is written to the spool (one row per sink it is routed to) before
the loader commits its Kafka offsets; a deliverer sends the spool's due rows with retries and
exponential backoff and marks each one delivered only after the sink acknowledged it. The spool's key
is (sink, alert id): an alert redelivered by Kafka or replayed again is not sent a second time.
docs/alerts.md describes the configuration and the webhook signature.
"""
