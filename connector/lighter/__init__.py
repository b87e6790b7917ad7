"""connector/lighter."""
