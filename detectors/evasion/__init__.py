"""Defence evasion: audit trails switched off, denials worked around, guardrails left behind."""
