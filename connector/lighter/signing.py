"""Lighter's signing: transactions and auth tokens through lighter-sdk's ``SignerClient``.

Signing goes only through the SDK with an explicit nonce and API key index, so the native signer
never reaches the network on its own.  lighter-sdk is imported lazily (it loads a native library)
so the rest of perpdesk runs without the ``lighter`` extra.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError, InvalidOrder
from connector.lighter.wire import ALL_MARKETS, check_order_ranges

if TYPE_CHECKING:
    from lighter.nonce_manager import NonceManagerType

INSTALL_HINT = "lighter-sdk is not installed: run pip install -e '.[lighter]'"
MAINNET_CHAIN_ID, TESTNET_CHAIN_ID = 304, 300


def load_sdk() -> tuple[ModuleType, type[NonceManagerType]]:
    """Import lighter-sdk lazily (it loads a native library); ConfigError says how to install it."""
    try:
        with warnings.catch_warnings():  # the SDK imports a deprecated websockets API we never use
            warnings.simplefilter("ignore", DeprecationWarning)
            import lighter
            from lighter.nonce_manager import NonceManagerType
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return lighter, NonceManagerType


@dataclass(frozen=True, slots=True)
class SignedTx:
    tx_type: int
    tx_info: str
    tx_hash: str


class LighterSigner:
    """``SignerClient`` for one (account, API key).  Build it inside the running loop: the SDK
    creates an HTTP session in its constructor (it does no I/O; we never use that session).

    ``sign`` runs a signing on the key's own worker thread: the native signer releases the GIL, so
    the event loop paints and reads the book meanwhile, and it costs less CPU there than on the
    loop's thread.  One thread a key, and the caller holds the key's nonce lock (``NonceManager``),
    so signings run one at a time in nonce order."""

    def __init__(self, url: str, account_index: int, api_key_index: int, private_key: str, chain_id: int) -> None:
        lighter, nonce_manager_type = load_sdk()
        self.account_index = account_index
        self.api_key_index = api_key_index
        try:
            self._client = lighter.SignerClient(
                url,
                account_index,
                {api_key_index: private_key},
                nonce_management_type=nonce_manager_type.NONE,
                chain_id=chain_id,
            )
        except Exception as exc:  # the native library's message may echo the key: never forward it
            raise ConfigError(
                f"lighter: the API key for account {account_index} key index {api_key_index} was refused "
                f"by the signer ({type(exc).__name__}); check api_private_key in the key file"
            ) from None

        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lighter-sign-{api_key_index}")

    def __repr__(self) -> str:
        return f"<LighterSigner account={self.account_index} key={self.api_key_index}>"

    async def sign(self, build: Callable[[int], SignedTx], nonce: int) -> SignedTx:
        """``build(nonce)`` (one of the methods below) on this key's signing thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, build, nonce)

    async def close(self) -> None:
        self._thread.shutdown(wait=False)
        await self._client.api_client.close()

    @staticmethod
    def _check(result: tuple[Any, Any, Any, Any], what: str) -> SignedTx:
        tx_type, tx_info, tx_hash, err = result
        if err:
            raise InvalidOrder(f"lighter: cannot sign {what}: {err}", info={"error": err})
        return SignedTx(int(tx_type), tx_info, tx_hash)

    def create_order(
        self,
        *,
        market_id: int,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        order_type: int,
        time_in_force: int,
        reduce_only: bool,
        order_expiry: int,
        nonce: int,
        trigger_price: int = 0,
    ) -> SignedTx:
        check_order_ranges(client_order_index, base_amount, price)
        return self._check(
            self._client.sign_create_order(
                market_id,
                client_order_index,
                base_amount,
                price,
                is_ask,
                order_type,
                time_in_force,
                reduce_only,
                trigger_price,
                order_expiry,
                nonce=nonce,
                api_key_index=self.api_key_index,
            ),
            "order",
        )

    def cancel_order(self, *, market_id: int, order_index: int, nonce: int) -> SignedTx:
        return self._check(
            self._client.sign_cancel_order(market_id, order_index, nonce=nonce, api_key_index=self.api_key_index),
            "cancel",
        )

    def modify_order(self, *, market_id: int, order_index: int, base_amount: int, price: int, nonce: int) -> SignedTx:
        check_order_ranges(1, base_amount, price)
        return self._check(
            self._client.sign_modify_order(
                market_id, order_index, base_amount, price, 0, nonce=nonce, api_key_index=self.api_key_index
            ),
            "modify",
        )

    def cancel_all(
        self, *, time_in_force: int, timestamp_ms: int, nonce: int, market_id: int = ALL_MARKETS
    ) -> SignedTx:
        return self._check(
            self._client.sign_cancel_all_orders(
                time_in_force, timestamp_ms, market_id, nonce=nonce, api_key_index=self.api_key_index
            ),
            "cancel-all",
        )

    def update_leverage(self, *, market_id: int, fraction: int, margin_mode: int, nonce: int) -> SignedTx:
        """Tx 20: ``fraction`` = initial margin fraction in 1/10,000 (10_000 // leverage); mode 0 cross, 1 isolated."""
        return self._check(
            self._client.sign_update_leverage(
                market_id, fraction, margin_mode, nonce=nonce, api_key_index=self.api_key_index
            ),
            "leverage",
        )

    def auth_token(self, *, now_s: int, ttl_s: int) -> str:
        token, err = self._client.create_auth_token_with_expiry(
            ttl_s, timestamp=now_s, api_key_index=self.api_key_index
        )
        if err or not token:
            raise ConfigError(f"lighter: cannot create an auth token: {err}")
        return token


def parse_keys(keys: dict[str, Any]) -> tuple[int, int, str]:
    """The key file's ``account_index``, ``api_key_index`` and ``api_private_key`` (a Secret or str)."""
    missing = [k for k in ("api_private_key", "account_index", "api_key_index") if keys.get(k) in (None, "")]
    if missing:
        raise ConfigError(f"lighter key file is missing {', '.join(missing)} (see docs/venues/lighter.md)")
    try:
        account_index, api_key_index = int(keys["account_index"]), int(keys["api_key_index"])
    except (TypeError, ValueError):
        raise ConfigError("lighter key file: account_index and api_key_index must be integers") from None
    if not 0 <= api_key_index <= 254:
        raise ConfigError(f"lighter key file: api_key_index must be 0..254, got {api_key_index}")
    secret = keys["api_private_key"]
    for name in ("reveal", "get_secret_value"):
        if hasattr(secret, name):
            secret = getattr(secret, name)()
            break
    return account_index, api_key_index, str(secret)
