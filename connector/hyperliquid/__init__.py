"""Hyperliquid perpetuals: connector (the IConnector), stream (websocket), wire (payloads), signing (L1 actions)."""

from connector.hyperliquid.connector import HyperliquidConnector

__all__ = ["HyperliquidConnector"]
