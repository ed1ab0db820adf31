"""Code execution on compute the agent reaches through the cloud control plane."""
