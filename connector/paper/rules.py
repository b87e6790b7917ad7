"""The venue's entry rules a paper order meets beyond tick, step and minimum size (which the sim
checks): the minimum notional and the price band around the mark.

The band is the venue's own when its market data says (Binance's ``PERCENT_PRICE`` filter), else the
venue's documented limit from ``BANDS``, else ``DEFAULT_BAND``.
"""

from __future__ import annotations

from decimal import Decimal

from connector.errors import InvalidOrder
from connector.interface import QUOTE_DECIMALS, MarketInfo
from connector.scaling import scaled_to_str

BANDS: dict[str, tuple[Decimal, Decimal]] = {
    "hyperliquid": (Decimal("0.2"), Decimal("1.8")),  # at most 80% away from the reference price
}
DEFAULT_BAND = (Decimal("0.2"), Decimal("1.8"))


def band_of(venue: str, info: MarketInfo) -> tuple[Decimal, Decimal]:
    for f in info.info.get("filters") or ():
        if isinstance(f, dict) and f.get("filterType") == "PERCENT_PRICE":
            try:
                return Decimal(str(f["multiplierDown"])), Decimal(str(f["multiplierUp"]))
            except (KeyError, ArithmeticError):
                break
    return BANDS.get(venue, DEFAULT_BAND)


def check_band(venue: str, info: MarketInfo, price_i: int, mark_i: int) -> None:
    if not mark_i:
        return
    down, up = band_of(venue, info)
    low, high = int(down * mark_i), int(up * mark_i)
    if not low <= price_i <= high:
        pd = info.price_decimals
        raise InvalidOrder(
            f"price {scaled_to_str(price_i, pd)} is outside the venue's band "
            f"{scaled_to_str(low, pd)}..{scaled_to_str(high, pd)} on {info.symbol} (mark {scaled_to_str(mark_i, pd)})"
        )


def check_notional(info: MarketInfo, notional_q: int) -> None:
    if notional_q and notional_q < info.min_notional_q:
        raise InvalidOrder(
            f"order value {scaled_to_str(notional_q, QUOTE_DECIMALS)} is below the venue's minimum "
            f"{scaled_to_str(info.min_notional_q, QUOTE_DECIMALS)} on {info.symbol}"
        )
