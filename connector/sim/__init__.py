"""The simulated venue: connector (the IConnector) over engine, matching, market and account."""

from connector.sim.connector import SimConnector

__all__ = ["SimConnector"]
