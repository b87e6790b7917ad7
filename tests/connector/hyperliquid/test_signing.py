"""Hyperliquid signing: the SDK's vectors, signer recovery, nonces, the install hint."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import ConfigError
from connector.hyperliquid import signing, wire

SDK_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
SDK_ORDER = {
    "type": "order",
    "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}],
    "grouping": "na",
}


@pytest.fixture
def sdk_wallet():
    return Account.from_key(SDK_KEY)


def test_sdk_order_vector_signs_identically_on_mainnet(sdk_wallet):
    sig = signing.sign_l1_action(sdk_wallet, SDK_ORDER, 0, is_mainnet=True)
    assert sig == {
        "r": "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        "s": "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        "v": 28,
    }


def test_sdk_order_vector_on_testnet_is_a_different_signature(sdk_wallet):
    sig = signing.sign_l1_action(sdk_wallet, SDK_ORDER, 0, is_mainnet=False)
    assert sig["v"] == 27
    assert sig["r"] != "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e"


def test_sdk_cloid_vector_keeps_the_r_without_its_leading_zero(sdk_wallet):
    action = {**SDK_ORDER, "orders": [{**SDK_ORDER["orders"][0], "c": wire.cloid_from_index(1)}]}
    assert action["orders"][0]["c"] == "0x00000000000000000000000000000001"
    sig = signing.sign_l1_action(sdk_wallet, action, 0, is_mainnet=True)
    assert sig == {
        "r": "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
        "s": "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
        "v": 27,
    }


def test_sdk_action_hash_vector():
    order = wire.order_wire(4, True, wire.to_wire(16701, 1), wire.to_wire(147, 4), False, "Ioc", None)
    digest = signing.action_hash(wire.order_action([order]), None, 1677777606040, None)
    assert digest.hex() == "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"


def test_signer_is_recovered_from_a_signature(sdk_wallet):
    sig = signing.sign_l1_action(sdk_wallet, SDK_ORDER, 1_700_000_000_000, is_mainnet=False)
    assert signing.recover_l1_signer(SDK_ORDER, 1_700_000_000_000, sig, is_mainnet=False) == sdk_wallet.address
    # the same signature read on the other network, or over another nonce, names someone else
    assert signing.recover_l1_signer(SDK_ORDER, 1_700_000_000_000, sig, is_mainnet=True) != sdk_wallet.address
    assert signing.recover_l1_signer(SDK_ORDER, 1_700_000_000_001, sig, is_mainnet=False) != sdk_wallet.address


def test_nonces_increase_strictly_within_one_millisecond_and_across_threads():
    counter = signing.NonceCounter()
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        got = [counter.next(1_700_000_000_000) for _ in range(500)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2000
    assert counter.next(1) > max(seen)  # a clock that steps back never reuses a nonce


def test_without_the_extra_the_venue_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "msgpack", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[hyperliquid\]'"):
        signing.crypto()


def test_importing_the_venue_leaves_the_sdk_unloaded_until_it_signs():
    code = "import sys, connector.hyperliquid; print(sorted(m for m in ('eth_keys', 'msgpack') if m in sys.modules))"
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _library_signature(wallet, action, nonce, is_mainnet):
    """What eth-account's own EIP-712 path gives (the way the SDK signs)."""
    payload = signing.agent_payload(signing.action_hash(action, None, nonce, None), is_mainnet)
    signed = wallet.sign_message(encode_typed_data(full_message=payload))
    return {"r": hex(signed.r), "s": hex(signed.s), "v": signed.v}


@settings(max_examples=60, deadline=None)
@given(
    coin=st.integers(0, 300),
    is_buy=st.booleans(),
    price=st.decimals(min_value="0.0001", max_value="99999", places=4),
    cloid=st.integers(1, 2**62),
    nonce=st.integers(0, 2**63 - 1),
    is_mainnet=st.booleans(),
)
def test_the_digest_built_from_its_fixed_parts_signs_as_eth_account_does(coin, is_buy, price, cloid, nonce, is_mainnet):
    wallet = Account.from_key(SDK_KEY)
    order = wire.order_wire(coin, is_buy, wire.to_wire(int(price * 10**4), 4), "0.01", False, "Alo", None)
    action = {**wire.order_action([order]), "orders": [{**order, "c": wire.cloid_from_index(cloid)}]}
    sig = signing.sign_l1_action(wallet, action, nonce, is_mainnet=is_mainnet)
    assert sig == _library_signature(wallet, action, nonce, is_mainnet)
    assert signing.recover_l1_signer(action, nonce, sig, is_mainnet=is_mainnet) == wallet.address


def test_a_signature_is_a_few_hundred_python_calls_not_an_abi_encoding_of_the_domain(sdk_wallet):
    """The work a signature does on the event loop's thread, counted: encoding the constant EIP-712
    domain with eth-abi each time was ~850 Python calls a signature (~200 now), and eth-keys' pure-Python
    curve (when coincurve is missing) thousands more."""
    signing.sign_l1_action(sdk_wallet, SDK_ORDER, 1, is_mainnet=True)  # imports and the fixed parts, once
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        signing.sign_l1_action(sdk_wallet, SDK_ORDER, 2, is_mainnet=True)
    finally:
        sys.setprofile(None)
    assert calls <= 300, calls


def test_the_key_file_wallet_signs_as_eth_account_does_and_a_start_never_imports_eth_account(sdk_wallet):
    wallet, address = signing.load_wallet({"private_key": SDK_KEY})
    assert address == wallet.address == sdk_wallet.address and SDK_KEY[2:] not in repr(wallet)
    assert signing.sign_l1_action(wallet, SDK_ORDER, 0, is_mainnet=True) == signing.sign_l1_action(
        sdk_wallet, SDK_ORDER, 0, is_mainnet=True
    )
    code = (
        "import sys; from connector.hyperliquid import signing; "
        f"w, _ = signing.load_wallet({{'private_key': '{SDK_KEY}'}}); "
        "signing.sign_l1_action(w, {'type': 'noop'}, 1, is_mainnet=False); print('eth_account' in sys.modules)"
    )
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
