"""Hyperliquid's signing: L1 actions signed by an API wallet as an EIP-712 "phantom agent".

The scheme mirrors the official SDK (``utils/signing.py``): the action is msgpack-encoded *in key
order*, the nonce, vault flag and optional expiry are appended, the keccak of that is the
``connectionId`` of a "phantom agent" signed as EIP-712.  Any byte that differs (a trailing zero in
a price, a key out of order, ``f: false`` where the SDK omits it) changes the hash, and the venue
then answers that some random address "does not exist" rather than "bad signature".
``eth-account`` and ``msgpack`` are imported lazily so the rest of perpdesk runs without the
``hyperliquid`` extra.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError

if TYPE_CHECKING:
    from eth_account import Account
    from eth_account.messages import SignableMessage
    from eth_account.signers.local import LocalAccount

INSTALL_HINT = "pip install -e '.[hyperliquid]'"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

_AGENT_TYPES = {
    "Agent": [{"name": "source", "type": "string"}, {"name": "connectionId", "type": "bytes32"}],
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
}
_DOMAIN = {"chainId": 1337, "name": "Exchange", "verifyingContract": ZERO_ADDRESS, "version": "1"}


@dataclass(frozen=True, slots=True)
class Crypto:
    """The optional libraries the scheme needs, imported on first use."""

    msgpack: ModuleType
    Account: type[Account]
    encode_typed_data: Callable[..., SignableMessage]
    keccak: Callable[[bytes], bytes]
    to_hex: Callable[[int], str]


def crypto() -> Crypto:
    """The lazily imported signing libraries, or a ``ConfigError`` saying how to install them."""
    try:
        import msgpack
        from eth_account import Account
        from eth_account.messages import encode_typed_data
        from eth_utils import keccak, to_hex
    except ImportError:
        raise ConfigError(f"the hyperliquid venue needs eth-account and msgpack: {INSTALL_HINT}") from None
    return Crypto(msgpack, Account, encode_typed_data, keccak, to_hex)


def load_wallet(keys: dict[str, Any]) -> tuple[LocalAccount, str]:
    """The API wallet that signs and the master account it trades for, from the key file's fields."""
    secret = keys.get("private_key")
    if not secret:
        raise ConfigError(
            "hyperliquid key file has no 'private_key': add the API wallet's key (see docs/venues/hyperliquid.md)"
        )
    raw = secret.reveal() if hasattr(secret, "reveal") else str(secret)
    try:
        wallet = crypto().Account.from_key(raw)
    except Exception:
        raise ConfigError("hyperliquid key file: 'private_key' is not a valid 32-byte hex key") from None
    address = keys.get("account_address") or wallet.address
    if not (isinstance(address, str) and address.startswith("0x") and len(address) == 42):
        raise ConfigError("hyperliquid key file: 'account_address' must be the master account's 0x address")
    return wallet, address


class NonceCounter:
    """Millisecond nonces, strictly increasing even when two signers ask in the same ms."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_ms: int) -> int:
        with self._lock:
            self._last = max(now_ms, self._last + 1)
            return self._last


def action_hash(action: dict[str, Any], vault_address: str | None, nonce: int, expires_after: int | None) -> bytes:
    c = crypto()
    data = c.msgpack.packb(action) + nonce.to_bytes(8, "big")
    data += b"\x00" if vault_address is None else b"\x01" + bytes.fromhex(vault_address.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return c.keccak(data)


def agent_payload(connection_id: bytes, is_mainnet: bool) -> dict[str, Any]:
    return {
        "domain": _DOMAIN,
        "types": _AGENT_TYPES,
        "primaryType": "Agent",
        "message": {"source": "a" if is_mainnet else "b", "connectionId": connection_id},
    }


def sign_l1_action(
    wallet: LocalAccount,
    action: dict[str, Any],
    nonce: int,
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """``{"r", "s", "v"}`` for an L1 action, signed by ``wallet``."""
    c = crypto()
    payload = agent_payload(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    signed = wallet.sign_message(c.encode_typed_data(full_message=payload))
    return {"r": c.to_hex(signed.r), "s": c.to_hex(signed.s), "v": signed.v}


def recover_l1_signer(
    action: dict[str, Any],
    nonce: int,
    signature: dict[str, Any],
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> str:
    """The address that signed (what the venue looks up as a user or API wallet)."""
    c = crypto()
    payload = agent_payload(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    vrs = (int(signature["v"]), int(str(signature["r"]), 16), int(str(signature["s"]), 16))
    return str(c.Account.recover_message(c.encode_typed_data(full_message=payload), vrs=vrs))
