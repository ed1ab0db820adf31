"""Discovery: a principal mapping the account (many kinds of resources listed or described in minutes)."""
