"""Alerts for the SOC: the alert view read from the store, terminal rendering, OCSF, suppression, verdicts,
delivery through the spool, and the triage page. May import ``store`` and ``settings``."""
