"""execution/market."""
