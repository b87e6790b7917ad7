"""execution/tracking."""
