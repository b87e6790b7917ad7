"""Numbers as a trader types them, and their exact scaled integers: the console's one number parser.

The order ticket, the chase ticket and the command bar read every number here, so ``64,950.5``
and ``1_000`` mean the same in every field, and a value with more decimals than the market
allows is refused the same way everywhere: never rounded, since a rounded price is another order.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from connector.scaling import decimal_to_scaled

_EXPONENT = re.compile(r"[+-]?[\d,_]*\.?\d*[eE][+-]?\d+")


def parse_decimal(text: str) -> Decimal | None:
    """``"64,950.5"`` -> ``Decimal("64950.5")``; None for anything that is not a finite number.

    Blanks around the number are ignored; ``,`` and ``_`` may group digits.  Exponent notation
    (``1e3``) is refused: one stray letter must not make a thousand of anything.
    """
    if "e" in text.lower():
        return None
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_int(text: str) -> int | None:
    """A whole number (a count of ticks); None for anything else, ``"1.5"`` included."""
    try:
        return int(text.strip())
    except ValueError:
        return None


def to_scaled(value: Decimal, decimals: int) -> int | None:
    """``value × 10**decimals`` when that lands on the ``10**-decimals`` grid, else None (too many decimals)."""
    try:
        return decimal_to_scaled(value, decimals)
    except ValueError:
        return None


def not_a_number(text: str) -> str:
    """The inline message for text ``parse_decimal`` refused."""
    shown = text.strip()
    if _EXPONENT.fullmatch(shown):
        return f"{shown!r}: write the number out in full; exponent notation (1e3) is not accepted"
    return f"{shown!r} is not a number"
