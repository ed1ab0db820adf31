"""Human-in-the-loop controls being switched off."""
