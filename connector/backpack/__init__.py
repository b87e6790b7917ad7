"""Backpack Exchange perpetuals (``*_USDC_PERP``)."""
