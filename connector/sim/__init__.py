"""connector/sim."""
