"""Hyperliquid's signing: L1 actions signed by an API wallet as an EIP-712 "phantom agent".

The scheme mirrors the official SDK (``utils/signing.py``): the action is msgpack-encoded *in key
order*, the nonce, vault flag and optional expiry are appended, the keccak of that is the
``connectionId`` of a "phantom agent" signed as EIP-712.  Any byte that differs (a trailing zero in
a price, a key out of order, ``f: false`` where the SDK omits it) changes the hash, and the venue
then answers that some random address "does not exist" rather than "bad signature".
``eth-keys``, ``eth-utils`` and ``msgpack`` (from the ``hyperliquid`` extra) are imported lazily so
the rest of perpdesk runs without the extra; eth-account itself is never imported (its import builds
py_ecc's BLS tables: ~0.3 s idle, 3 s on a loaded box, at every Hyperliquid start).

Cost (bench: orders): the EIP-712 digest is built here from its fixed parts (the domain separator and
the ``Agent`` type hash are constants; the message is one keccak of the source and the connection id),
and the digest signed with the wallet's ``eth_keys`` key, byte for byte what ``encode_typed_data`` +
``sign_message`` give (tests compare the two over generated actions).  The library path ran ~850
Python calls a signature (ABI-encoding the constant domain every time); with ``coincurve`` (in the
extra) a signature is ~0.1 ms on the loop's thread, where eth-keys' pure-Python fallback took ~8 ms:
too little now to be worth a thread hop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from connector.errors import ConfigError

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
    keccak: Callable[..., bytes]
    PrivateKey: Any
    Signature: Any


def crypto() -> Crypto:
    """The lazily imported signing libraries, or a ``ConfigError`` saying how to install them."""
    try:
        import msgpack
        from eth_keys.datatypes import PrivateKey, Signature
        from eth_utils import keccak
    except ImportError:
        raise ConfigError(f"the hyperliquid venue needs eth-account and msgpack: {INSTALL_HINT}") from None
    return Crypto(msgpack, keccak, PrivateKey, Signature)


@dataclass(frozen=True, slots=True)
class Wallet:
    """An API wallet: its eth-keys private key and its address (the repr never shows the key)."""

    key: Any
    address: str

    def __repr__(self) -> str:
        return f"<Wallet {self.address}>"

    @classmethod
    def from_key(cls, private_key: str | bytes) -> Wallet:
        raw = bytes.fromhex(private_key.removeprefix("0x")) if isinstance(private_key, str) else bytes(private_key)
        key = crypto().PrivateKey(raw)
        return cls(key, str(key.public_key.to_checksum_address()))


_AGENT_PREFIX: dict[bool, bytes] = {}
"""Per network: the domain separator, the Agent type hash and the keccak of the source (the digest's fixed parts)."""


def _agent_prefix(is_mainnet: bool) -> bytes:
    if not _AGENT_PREFIX:
        keccak = crypto().keccak
        domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
        separator = keccak(
            domain_type
            + keccak(text=str(_DOMAIN["name"]))
            + keccak(text=str(_DOMAIN["version"]))
            + int(_DOMAIN["chainId"]).to_bytes(32, "big")
            + bytes(12)
            + bytes.fromhex(str(_DOMAIN["verifyingContract"])[2:])
        )
        agent_type = keccak(text="Agent(string source,bytes32 connectionId)")
        _AGENT_PREFIX.update({main: separator + agent_type + keccak(b"a" if main else b"b") for main in (True, False)})
    return _AGENT_PREFIX[is_mainnet]


def agent_digest(connection_id: bytes, is_mainnet: bool) -> bytes:
    """The EIP-712 digest of the phantom agent (what eth-account's ``encode_typed_data(full_message=agent_payload(...))`` hashes to)."""
    keccak = crypto().keccak
    head = _agent_prefix(is_mainnet)
    struct = keccak(head[32:] + connection_id)  # keccak(typeHash ‖ keccak(source) ‖ connectionId)
    return keccak(b"\x19\x01" + head[:32] + struct)


def load_wallet(keys: dict[str, Any]) -> tuple[Wallet, str]:
    """The API wallet that signs and the master account it trades for, from the key file's fields."""
    secret = keys.get("private_key")
    if not secret:
        raise ConfigError(
            "hyperliquid key file has no 'private_key': add the API wallet's key (see docs/venues/hyperliquid.md)"
        )
    raw = secret.reveal() if hasattr(secret, "reveal") else str(secret)
    crypto()  # the install hint, not "not a valid key", when the extra is missing
    try:
        wallet = Wallet.from_key(raw)
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
    wallet: Any,
    action: dict[str, Any],
    nonce: int,
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """``{"r", "s", "v"}`` for an L1 action, signed by ``wallet`` (a ``Wallet``, or eth-account's
    ``LocalAccount``), as its ``sign_message`` of the typed data would be."""
    digest = agent_digest(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    key = wallet.key if isinstance(wallet, Wallet) else wallet._key_obj
    signed = key.sign_msg_hash(digest)
    return {"r": hex(signed.r), "s": hex(signed.s), "v": signed.v + 27}


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
    digest = agent_digest(action_hash(action, vault_address, nonce, expires_after), is_mainnet)
    v = int(signature["v"])
    vrs = (v - 27 if v >= 27 else v, int(str(signature["r"]), 16), int(str(signature["s"]), 16))
    return str(c.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest).to_checksum_address())
