"""execution/orders."""
