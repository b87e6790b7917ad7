"""Checks every connector and the layers above share at the API boundary.

Prices and sizes cross the boundary as scaled integers (see ``connector.interface``).  A float, a
``bool``, a ``Decimal`` or a string that slips through reaches the wire as nonsense (``"0.0.042.5"``)
or breaks a signer, so each entry point calls ``require_ints`` before it records or sends anything.
"""

from __future__ import annotations

from connector.errors import InvalidOrder

_FIX = {
    "price": "md.to_price_i(venue, symbol, price)",
    "size": "md.to_size_i(venue, symbol, size)",
}


def _fix(field: str) -> str:
    if "price" in field:
        return _FIX["price"]
    if "size" in field or "amount" in field:
        return _FIX["size"]
    return "int(...) of a whole number"


def require_int(field: str, value: object, *, optional: bool = False) -> None:
    """``InvalidOrder`` unless ``value`` is exactly an ``int`` (``bool`` is refused; ``None`` if ``optional``)."""
    if optional and value is None:
        return
    if type(value) is not int:
        raise InvalidOrder(
            f"{field} must be a scaled int, got {type(value).__name__} {value!r}; use {_fix(field)}",
            info={"field": field, "type": type(value).__name__},
        )


def require_ints(**fields: object) -> None:
    """``require_int`` for each keyword (``price_i=..., size_i=...``), in the order given."""
    for field, value in fields.items():
        require_int(field, value)


def require_trigger_prices(kind: str, trigger_price: int | None, limit_price: int | None) -> None:
    """A venue-held trigger's prices: a positive trigger price, and a limit price exactly for the limit kinds."""
    if trigger_price is None or trigger_price <= 0:
        raise InvalidOrder(f"{kind} needs a positive trigger price")
    if ("limit" in kind) != (limit_price is not None):
        raise InvalidOrder(f"{kind}: a limit price is {'required' if 'limit' in kind else 'not accepted'}")


def require_native_trigger(
    venue: str,
    kind: str,
    trigger_on: str,
    trigger_price: int | None,
    limit_price: int | None,
    *,
    kinds: frozenset[str],
    sources: frozenset[str],
) -> None:
    """What every venue-held trigger needs before anything is built: a kind and a price source the venue
    keeps (the rest stays emulated by perpdesk), and scaled-int prices that fit the kind."""
    if kind not in kinds:
        name = kind.replace("_", " ")
        raise InvalidOrder(f"{venue} keeps no {name} orders: a {name} is held by perpdesk")
    if trigger_on not in sources:
        watched = " or ".join(f"the {s} price" for s in sorted(sources))
        raise InvalidOrder(f"{venue} triggers watch {watched}, not {trigger_on!r}")
    if kind == "trailing_stop":  # it starts from the price when placed unless given one
        if limit_price is not None:
            raise InvalidOrder(f"{kind}: a limit price is not accepted")
        require_int("trigger_price", trigger_price, optional=True)
        return
    require_trigger_prices(kind, trigger_price, limit_price)
    require_ints(trigger_price=trigger_price, **({"limit_price": limit_price} if limit_price is not None else {}))
