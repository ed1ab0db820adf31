"""Data leaving the session: shared to other accounts, mailed or uploaded after a sensitive read."""
