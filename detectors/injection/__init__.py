"""Prompt-injection chains: outside content that steers a sensitive action."""
