import importlib

import pytest

from connector.interface import CAPABILITIES


@pytest.mark.parametrize(
    "path", ["connector.sim.connector:SimConnector", "connector.hyperliquid.connector:HyperliquidConnector", "connector.lighter.connector:LighterConnector",
     "connector.binance_usdm.connector:BinanceUsdmConnector", "connector.backpack.connector:BackpackConnector"]
)
def test_every_connector_declares_only_documented_capabilities(path):
    module, _, name = path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert set(cls.capabilities) <= set(CAPABILITIES), set(cls.capabilities) - set(CAPABILITIES)
    for method in ("start", "stop", "list_markets", "submit_limit_order", "cancel_all", "get_margin"):
        assert hasattr(cls, method)
    if "amend" in cls.capabilities:
        assert hasattr(cls, "modify_order")
    if "dead_man_switch" in cls.capabilities:
        assert hasattr(cls, "schedule_cancel_all")
    if "native_triggers" in cls.capabilities:
        assert all(hasattr(cls, m) for m in ("submit_trigger_order", "cancel_trigger_order", "get_trigger_orders"))
        assert cls.trigger_kinds and cls.trigger_sources
    if "leverage" in cls.capabilities:
        assert hasattr(cls, "set_leverage")
    if "leverage_account_wide" in cls.capabilities:
        assert "leverage" in cls.capabilities
