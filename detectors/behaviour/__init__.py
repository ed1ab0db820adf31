"""Agent behaviour over time: loops and bursts that no single call shows."""
