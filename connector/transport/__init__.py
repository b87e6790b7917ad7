"""connector/transport."""
