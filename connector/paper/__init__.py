"""Paper trading: a venue's public market data drives the sim's matching engine and account."""

from connector.paper.connector import PaperConnector

__all__ = ["PaperConnector"]
