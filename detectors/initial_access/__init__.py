"""Initial-access detectors: how an identity got in."""
