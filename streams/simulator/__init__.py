"""The seeded workload of agent sessions with attack chains mixed in, and the demo database built from it."""
