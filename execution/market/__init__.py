"""Market data: books, trades, symbol mapping, decimals and staleness per venue.

Code outside this package imports from here, never from a module inside it.
"""

from execution.market.book import L2Book
from execution.market.market_data import MarketDataService, UnknownSymbol, UnknownVenue

__all__ = ["L2Book", "MarketDataService", "UnknownSymbol", "UnknownVenue"]
