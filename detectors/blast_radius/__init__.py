"""Identity blast radius: what a session could reach, weighted by sensitivity."""
