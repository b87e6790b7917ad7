"""Lighter perpetuals: connector (the IConnector), stream (websocket), wire (payloads), signing, nonces."""

from connector.lighter.connector import LighterConnector

__all__ = ["LighterConnector"]
