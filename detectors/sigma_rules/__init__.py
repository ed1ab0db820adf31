"""Sigma rules in chainwatch (issue 13): a user's folders of Sigma rules and correlation rules, read through
pySigma with a processing pipeline that maps CloudTrail field names onto chainwatch events, run in the
stream, in replays and in ``chainwatch detectors backtest`` beside the catalog. Rules that cannot be
translated are reported with the reason. ``docs/sigma.md`` says what translates and what does not.
Not a detector family: the rules are the user's, loaded from the folders given in the settings."""

from detectors.sigma_rules.loader import SigmaLoad, Skipped, load_sigma_rules

__all__ = ["SigmaLoad", "Skipped", "load_sigma_rules"]
