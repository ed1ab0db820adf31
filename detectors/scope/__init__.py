"""Intent against action: tool calls outside the session's declared task scope."""
