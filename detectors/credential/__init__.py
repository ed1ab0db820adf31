"""Credential lifetime and scope against the task: inherited, reused, outliving or overreaching it."""
