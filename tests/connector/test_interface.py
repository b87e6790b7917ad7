import importlib

import pytest

from connector.interface import CAPABILITIES, NO_INFO, BookUpdate


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


# -- BookUpdate: built per frame, so a slots class; behaves as the frozen dataclass it was -------------


def test_a_book_update_is_immutable():
    update = BookUpdate("BTC", ((100, 1),), ((101, 2),), False, 5, 7)
    for name in ("symbol", "bids", "asks", "is_snapshot", "ts_ms", "seq", "info", "other"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(update, name, None)
    with pytest.raises(AttributeError, match="immutable"):
        del update.bids
    assert (update.symbol, update.bids, update.asks, update.is_snapshot, update.ts_ms, update.seq) == (
        "BTC", ((100, 1),), ((101, 2),), False, 5, 7,
    )  # fmt: skip
    assert type(update) is BookUpdate and not hasattr(update, "__dict__")


def test_a_book_update_without_info_shares_one_read_only_empty_mapping():
    a, b = BookUpdate("BTC", (), (), True, 0), BookUpdate("ETH", (), (), True, 0, None)
    assert a.info is b.info is NO_INFO and "stale" not in a.info and a.info.get("synced") is None
    with pytest.raises(TypeError):
        a.info["x"] = 1  # type: ignore[index]
    assert BookUpdate("BTC", (), (), True, 0, info={"stale": "why"}).info == {"stale": "why"}


def test_book_updates_compare_and_hash_without_info_and_survive_copy_and_pickle():
    import copy
    import pickle

    plain = BookUpdate("BTC", ((100, 1),), (), False, 5, 7)
    told = BookUpdate(symbol="BTC", bids=((100, 1),), asks=(), is_snapshot=False, ts_ms=5, seq=7, info={"U": 3})
    assert plain == told and hash(plain) == hash(told) and plain != BookUpdate("BTC", ((100, 2),), (), False, 5, 7)
    assert "info" not in repr(told) and repr(plain).startswith("BookUpdate(symbol='BTC', bids=((100, 1),)")
    for update in (plain, told):
        for twin in (copy.copy(update), copy.deepcopy(update), pickle.loads(pickle.dumps(update))):
            assert twin == update and type(twin) is BookUpdate and twin.info == update.info
    match told:
        case BookUpdate(symbol, bids):
            assert (symbol, bids) == ("BTC", ((100, 1),))
