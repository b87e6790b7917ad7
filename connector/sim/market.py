"""One simulated market: its spec, a seeded price process and a synthetic L2 book.

The book is never stored: a level's size is a hash of its price and a slowly moving
epoch, so it can be built lazily (only when someone looks or subscribes) and the
market is the same whether or not anyone watched it.  Each step draws exactly one
32-bit random number per market, so user activity never changes the market path.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from connector.interface import MarketInfo

MOVE_TABLE = 4096
SIZE_TABLE = 1024
TRADE_TABLE = 512
EPOCH_STEPS = 10
"""Level sizes refresh every ``EPOCH_STEPS`` steps (a quarter of the levels at a time)."""
MAX_WALK_LEVELS = 1000


@dataclass(frozen=True, slots=True)
class SimMarketSpec:
    """A simulated perp market.  Shape parameters may be floats: they only shape the seeded tables."""

    symbol: str
    base: str
    price_decimals: int
    size_decimals: int
    min_size_i: int
    start_price_i: int
    max_leverage: int
    level_size_i: int
    """Typical resting size of one synthetic level."""
    trade_size_i: int
    """Typical size of one public trade."""
    spread_ticks: int = 1
    level_gap_ticks: int = 10
    vol_ticks: float = 3.0
    """Standard deviation of one mid move, in ticks."""
    move_prob: float = 0.4
    trade_prob: float = 0.3
    jumps: int = 2
    """Entries of the move table (out of ``MOVE_TABLE``) that are jumps of 20 sigma."""
    tick_i: int = 1
    step_i: int = 1
    quote: str = "USDC"

    def market_info(self) -> MarketInfo:
        return MarketInfo(
            symbol=self.symbol,
            base=self.base,
            quote=self.quote,
            price_decimals=self.price_decimals,
            size_decimals=self.size_decimals,
            min_size_i=self.min_size_i,
            tick_i=self.tick_i,
            step_i=self.step_i,
            max_leverage=self.max_leverage,
            prev_day_price_i=self.start_price_i,  # the sim's day opens at its seeded price
            info={"venue": "sim", "start_price_i": self.start_price_i},
        )


DEFAULT_MARKETS: tuple[SimMarketSpec, ...] = (
    SimMarketSpec(
        "BTC-PERP", "BTC", 1, 4, min_size_i=10, start_price_i=650_000, max_leverage=20,
        level_size_i=5_000, trade_size_i=1_000, spread_ticks=1, level_gap_ticks=10, vol_ticks=10.0,
    ),
    SimMarketSpec(
        "ETH-PERP", "ETH", 2, 3, min_size_i=10, start_price_i=340_000, max_leverage=20,
        level_size_i=5_000, trade_size_i=1_000, spread_ticks=1, level_gap_ticks=5, vol_ticks=5.0,
    ),
    SimMarketSpec(
        "SOL-PERP", "SOL", 3, 2, min_size_i=10, start_price_i=150_000, max_leverage=10,
        level_size_i=20_000, trade_size_i=2_000, spread_ticks=2, level_gap_ticks=10, vol_ticks=2.5,
    ),
)  # fmt: skip


def _size_table(rng: random.Random, typical_i: int, spec: SimMarketSpec, n: int) -> list[int]:
    """Log-normal sizes rounded to the size step, never below the minimum size."""
    out = []
    for _ in range(n):
        raw = int(typical_i * math.exp(rng.gauss(0.0, 0.7)))
        out.append(max(spec.min_size_i, raw - raw % spec.step_i))
    return out


def _move_table(rng: random.Random, spec: SimMarketSpec) -> list[int]:
    still = int(MOVE_TABLE * (1.0 - spec.move_prob))
    moves = [0] * still
    for _ in range(MOVE_TABLE - still):
        m = round(rng.gauss(0.0, spec.vol_ticks))
        moves.append(m or rng.choice((-1, 1)))
    for j in range(spec.jumps):
        moves[j] = round(20 * spec.vol_ticks) * (1 if j % 2 else -1)
    return moves


@functools.lru_cache(maxsize=512)
def _tables(seed: int, spec: SimMarketSpec) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]:
    """Move, level-size and trade-size tables plus the level hash salt (cached: engines are built often in tests)."""
    rng = random.Random(f"perpdesk-sim:{seed}:{spec.symbol}:tables")
    moves = tuple(_move_table(rng, spec))
    sizes = tuple(_size_table(rng, spec.level_size_i, spec, SIZE_TABLE))
    trade_sizes = tuple(_size_table(rng, spec.trade_size_i, spec, TRADE_TABLE))
    return moves, sizes, trade_sizes, rng.getrandbits(32)


class MarketState:
    """Mutable state of one market; the engine drives ``bid_i`` and ``epoch``."""

    __slots__ = (
        "_cache",
        "asks",
        "bid_i",
        "bids",
        "book_seq",
        "depleted",
        "dirty",
        "epoch",
        "gap_i",
        "info",
        "moves",
        "rng",
        "salt",
        "sizes",
        "spec",
        "spread_i",
        "tick",
        "trade_sizes",
        "trade_thresh",
    )

    def __init__(self, spec: SimMarketSpec, seed: int) -> None:
        self.spec = spec
        self.info = spec.market_info()
        self.tick = spec.tick_i
        self.spread_i = spec.spread_ticks * spec.tick_i
        self.gap_i = spec.level_gap_ticks * spec.tick_i
        self.moves, self.sizes, self.trade_sizes, self.salt = _tables(seed, spec)
        self.trade_thresh = int(1024 * spec.trade_prob)
        self.rng = random.Random(f"perpdesk-sim:{seed}:{spec.symbol}:walk")
        start = spec.start_price_i - spec.start_price_i % spec.tick_i
        self.bid_i = start - (self.spread_i // 2) // spec.tick_i * spec.tick_i
        self.epoch = 0
        self.depleted: dict[int, tuple[int, int]] = {}
        self._cache: dict[int, tuple[int, int]] = {}
        self.bids: list = []
        """The user's resting bids, best first (price desc, then time)."""
        self.asks: list = []
        self.dirty = True
        self.book_seq = 0

    @property
    def ask_i(self) -> int:
        return self.bid_i + self.spread_i

    @property
    def mid_i(self) -> int:
        return self.bid_i + self.spread_i // 2

    def set_mid(self, price_i: int) -> None:
        bid = price_i - self.spread_i // 2
        self.bid_i = max(self.tick, bid - bid % self.tick)
        self.dirty = True

    def move(self, ticks: int) -> None:
        self.bid_i = max(self.tick, self.bid_i + ticks * self.tick)
        self.dirty = True

    def _key(self, price_i: int) -> tuple[int, int]:
        h = ((price_i // self.tick) * 2654435761 + self.salt) & 0xFFFFFFFF
        h ^= h >> 15
        return h, (self.epoch + (h >> 24)) >> 2

    def _fresh(self, price_i: int) -> tuple[int, int]:
        """``(size before the user's takes, level key)``, cached until the epoch moves."""
        got = self._cache.get(price_i)
        if got is None:
            h, k = self._key(price_i)
            got = self._cache[price_i] = (self.sizes[(h ^ (k * 40503)) & (SIZE_TABLE - 1)], k)
        return got

    def level_size(self, price_i: int) -> int:
        """Visible synthetic size at ``price_i`` now (after the user's takes this epoch)."""
        size, k = self._fresh(price_i)
        d = self.depleted.get(price_i)
        if d is not None and d[0] == k:
            size = max(0, size - d[1])
        return size

    def consume(self, price_i: int, size_i: int) -> None:
        _, k = self._key(price_i)
        d = self.depleted.get(price_i)
        taken = d[1] if d is not None and d[0] == k else 0
        self.depleted[price_i] = (k, taken + size_i)
        self.dirty = True

    def next_epoch(self) -> None:
        self.epoch += 1
        self.dirty = True
        self._cache.clear()
        if self.depleted:
            self.depleted = {p: d for p, d in self.depleted.items() if self._key(p)[1] == d[0]}

    def level_prices(self, is_ask: bool):
        """Synthetic level prices from the touch outwards: the touch, then the level grid."""
        gap = self.gap_i
        if is_ask:
            p = self.ask_i
            yield p
            p = (p // gap + 1) * gap
            for _ in range(MAX_WALK_LEVELS):
                yield p
                p += gap
        else:
            p = self.bid_i
            yield p
            p = ((p - 1) // gap) * gap
            for _ in range(MAX_WALK_LEVELS):
                if p <= 0:
                    return
                yield p
                p -= gap

    def synthetic_side(self, is_ask: bool, depth: int) -> list[tuple[int, int]]:
        if self.depleted:
            out = []
            for p in self.level_prices(is_ask):
                size = self.level_size(p)
                if size > 0:
                    out.append((p, size))
                    if len(out) >= depth:
                        break
            return out
        # The hot path of a watched market: nothing taken this epoch, so every level has size.
        gap = self.gap_i
        if is_ask:
            touch = self.ask_i
            first = (touch // gap + 1) * gap
            grid = range(first, first + gap * (depth - 1), gap)
        else:
            touch = self.bid_i
            first = ((touch - 1) // gap) * gap
            grid = range(first, max(0, first - gap * (depth - 1)), -gap)
        cache, fresh = self._cache, self._fresh
        prices = [touch, *grid]
        return [(p, (cache.get(p) or fresh(p))[0]) for p in prices]

    def synthetic_touch(self, is_ask: bool) -> int | None:
        """Best synthetic price with size left (the touch may be taken out by the user)."""
        for p in self.level_prices(is_ask):
            if self.level_size(p) > 0:
                return p
        return None
