"""connector/hyperliquid."""
