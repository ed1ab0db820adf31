"""Cloud audit-log detectors: per-event coverage of high-signal AWS API calls from a data table
(``data/sensitive_apis.yml``), run by ``cloud.sensitive_api``."""
