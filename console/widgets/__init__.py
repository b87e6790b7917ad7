"""console/widgets."""
