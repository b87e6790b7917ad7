"""console/parsing."""
