"""Sub-agents and delegation: a child holding more than its parent."""
