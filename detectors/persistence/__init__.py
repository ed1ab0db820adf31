"""Persistence: identities, keys, trusts and code that leave a way back in."""
