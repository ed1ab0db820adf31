"""Impact: cloud resources hijacked for someone else's benefit (compute, models)."""
