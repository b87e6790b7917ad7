"""The simulated venue's single cross-margin account, in integer maths.

Money is quote-scaled by ``QUOTE_DECIMALS``.  A price times a size is
``price_i * size_i * 10**QUOTE_DECIMALS / 10**(price_decimals + size_decimals)``.
Rules (simple, and the same as the hand-computed tests):

- fees: ``notional_q * fee_ppm / 1e6``, rounded half up; maker 100 ppm (1 bp), taker 450 ppm (4.5 bp).
- entry price: size-weighted when the position grows, rounded half up; unchanged when it shrinks;
  the fill price when it flips.
- initial margin per market: ``max(|L + buys|, |L - sells|) / leverage`` (rounded up), where ``L`` is the
  signed position value at mark and ``buys``/``sells`` the value of resting non-reduce-only orders at
  their price: only the worse side of the book counts, and a closing order adds nothing.
- maintenance margin: position value at mark ``/ (2 * max_leverage)`` (rounded up).
- liquidation: when equity (collateral + unrealized PnL) falls below the total maintenance margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.interface import QUOTE_DECIMALS, MarketInfo

_Q = 10**QUOTE_DECIMALS
PPM = 1_000_000


def _div_trunc(a: int, b: int) -> int:
    """Integer division rounding toward zero (PnL is symmetric for longs and shorts)."""
    q = abs(a) // b
    return q if a >= 0 else -q


def _div_ceil(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(slots=True)
class SimPosition:
    size_i: int = 0
    entry_i: int = 0
    realized_q: int = 0


class SimAccount:
    def __init__(
        self, markets: dict[str, MarketInfo], collateral_q: int, *, maker_fee_ppm: int, taker_fee_ppm: int
    ) -> None:
        self.markets = markets
        self.deposit_q = collateral_q
        self.collateral_q = collateral_q
        """Deposit plus realized PnL minus fees paid."""
        self.fees_q = 0
        self.maker_fee_ppm = maker_fee_ppm
        self.taker_fee_ppm = taker_fee_ppm
        self.positions: dict[str, SimPosition] = {s: SimPosition() for s in markets}
        self.leverage: dict[str, int] = {s: m.max_leverage for s, m in markets.items()}
        self._scale = {s: 10 ** (m.price_decimals + m.size_decimals) for s, m in markets.items()}

    def add_market(self, info: MarketInfo) -> None:
        """Trade one more market (or take a venue's refreshed rules for one already known); a position
        held in it is kept."""
        self.markets[info.symbol] = info
        self.positions.setdefault(info.symbol, SimPosition())
        self.leverage.setdefault(info.symbol, info.max_leverage)
        self._scale[info.symbol] = 10 ** (info.price_decimals + info.size_decimals)

    def value_q(self, symbol: str, price_i: int, size_i: int) -> int:
        """Quote value of ``size_i`` (signed) at ``price_i``, truncated toward zero."""
        return _div_trunc(price_i * size_i * _Q, self._scale[symbol])

    def fee_q(self, symbol: str, price_i: int, size_i: int, is_maker: bool) -> int:
        ppm = self.maker_fee_ppm if is_maker else self.taker_fee_ppm
        return (self.value_q(symbol, price_i, size_i) * ppm + PPM // 2) // PPM

    def apply_fill(self, symbol: str, is_buy: bool, price_i: int, size_i: int, is_maker: bool) -> int:
        """Book one fill into the position and collateral; returns the fee charged."""
        pos = self.positions[symbol]
        fee = self.fee_q(symbol, price_i, size_i, is_maker)
        signed = size_i if is_buy else -size_i
        old = pos.size_i
        if old == 0 or (old > 0) == is_buy:
            total = abs(old) + size_i
            pos.entry_i = (pos.entry_i * abs(old) + price_i * size_i + total // 2) // total
        else:
            closed = min(size_i, abs(old))
            direction = 1 if old > 0 else -1
            pnl = self.value_q(symbol, (price_i - pos.entry_i) * direction, closed)
            pos.realized_q += pnl
            self.collateral_q += pnl
            if size_i > abs(old):
                pos.entry_i = price_i
            elif size_i == abs(old):
                pos.entry_i = 0
        pos.size_i = old + signed
        self.collateral_q -= fee
        self.fees_q += fee
        return fee

    def unrealized_q(self, symbol: str, mark_i: int) -> int:
        pos = self.positions[symbol]
        if pos.size_i == 0:
            return 0
        return self.value_q(symbol, mark_i - pos.entry_i, pos.size_i)

    def initial_q(self, symbol: str, mark_i: int, buys_q: int = 0, sells_q: int = 0) -> int:
        lv = self.value_q(symbol, mark_i, self.positions[symbol].size_i)
        exposure = max(abs(lv + buys_q), abs(lv - sells_q))
        return _div_ceil(exposure, self.leverage[symbol])

    def maintenance_q(self, symbol: str, mark_i: int) -> int:
        lv = abs(self.value_q(symbol, mark_i, self.positions[symbol].size_i))
        return _div_ceil(lv, 2 * self.markets[symbol].max_leverage)

    def equity_q(self, marks: dict[str, int]) -> int:
        return self.collateral_q + sum(self.unrealized_q(s, marks[s]) for s, p in self.positions.items() if p.size_i)

    def total_maintenance_q(self, marks: dict[str, int]) -> int:
        return sum(self.maintenance_q(s, marks[s]) for s, p in self.positions.items() if p.size_i)

    def has_positions(self) -> bool:
        return any(p.size_i for p in self.positions.values())

    def liquidation_price_i(self, symbol: str, marks: dict[str, int]) -> int | None:
        """The mark at which equity meets maintenance, other markets held still; None if never.

        Long ``s``: ``E + v(s, p - m) = M_other + v(s, p) / 2L``, solved for ``p`` in integers
        (``v(s, x) = s * x * 10**Q / S``); a short mirrors it with ``2L + 1``.
        """
        pos = self.positions[symbol]
        s = pos.size_i
        if s == 0:
            return None
        mark = marks[symbol]
        scale = self._scale[symbol]
        two_l = 2 * self.markets[symbol].max_leverage
        equity = self.equity_q(marks)
        m_other = self.total_maintenance_q(marks) - self.maintenance_q(symbol, mark)
        if s > 0:
            num = (m_other - equity) * scale + s * mark * _Q
            if num <= 0:
                return None
            return num * two_l // (s * _Q * (two_l - 1))
        a = -s
        num = (equity - m_other) * scale + a * mark * _Q
        return max(0, num * two_l // (a * _Q * (two_l + 1)))
