"""console/screens."""
