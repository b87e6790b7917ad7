"""Lighter signing: key-file values, the install hint, transactions and auth tokens from the SDK's signer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector.errors import ConfigError, InvalidOrder
from connector.lighter import signing, wire


class Secret:
    def __init__(self, value: str) -> None:
        self._v = value

    def reveal(self) -> str:
        return self._v

    def __repr__(self) -> str:
        return "Secret('***')"


def test_key_file_values_are_checked_and_the_secret_revealed_only_to_the_signer():
    assert signing.parse_keys({"api_private_key": Secret("0xab"), "account_index": "7", "api_key_index": 4}) == (
        7,
        4,
        "0xab",
    )
    with pytest.raises(ConfigError, match="api_key_index"):
        signing.parse_keys({"api_private_key": "x", "account_index": 1})
    with pytest.raises(ConfigError, match=r"0\.\.254"):
        signing.parse_keys({"api_private_key": "x", "account_index": 1, "api_key_index": 255})


def test_missing_sdk_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "lighter", None)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[lighter\]'"):
        signing.load_sdk()


async def test_signer_makes_tx_info_with_our_nonce_and_key_and_checks_ranges():
    lighter = pytest.importorskip("lighter")
    priv, _pub, _err = lighter.signer_client.create_api_key()
    signer = signing.LighterSigner("http://127.0.0.1:9", 123, 4, priv, signing.TESTNET_CHAIN_ID)
    try:
        tx = signer.create_order(
            market_id=0,
            client_order_index=42,
            base_amount=1000,
            price=300000,
            is_ask=False,
            order_type=wire.ORDER_LIMIT,
            time_in_force=wire.TIF_POST_ONLY,
            reduce_only=False,
            order_expiry=wire.EXPIRY_28_DAYS,
            nonce=7,
        )
        info = json.loads(tx.tx_info)
        assert tx.tx_type == wire.TX_CREATE_ORDER
        assert (info["Nonce"], info["ApiKeyIndex"], info["AccountIndex"]) == (7, 4, 123)
        assert (info["ClientOrderIndex"], info["TimeInForce"], info["IsAsk"]) == (42, 2, 0)
        with pytest.raises(InvalidOrder, match="client_order_index"):
            signer.create_order(
                market_id=0,
                client_order_index=2**48,
                base_amount=1,
                price=1,
                is_ask=False,
                order_type=0,
                time_in_force=1,
                reduce_only=False,
                order_expiry=-1,
                nonce=8,
            )
        with pytest.raises(InvalidOrder, match="price"):
            signer.modify_order(market_id=0, order_index=42, base_amount=1, price=2**32, nonce=8)
        token = signer.auth_token(now_s=1_700_000_000, ttl_s=600)
        assert token.startswith("1700000600:123:4:")
        assert priv[2:] not in repr(signer)
    finally:
        await signer.close()


def test_importing_the_venue_leaves_the_sdk_unloaded_until_it_signs():
    code = "import sys, connector.lighter; print(sorted(m for m in ('lighter',) if m in sys.modules))"
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_signing_runs_on_one_thread_of_its_own_per_key_one_at_a_time():
    import threading

    lighter = pytest.importorskip("lighter")
    priv, _pub, _err = lighter.signer_client.create_api_key()
    signer = signing.LighterSigner("http://127.0.0.1:9", 123, 4, priv, signing.TESTNET_CHAIN_ID)
    other = signing.LighterSigner("http://127.0.0.1:9", 123, 5, priv, signing.TESTNET_CHAIN_ID)
    seen: list[tuple[int, int]] = []

    def build(nonce: int) -> signing.SignedTx:
        seen.append((threading.get_ident(), nonce))
        return signer.cancel_order(market_id=0, order_index=7, nonce=nonce)

    try:
        txs = [await signer.sign(build, nonce) for nonce in range(5)]
        other_thread = await other.sign(lambda n: threading.get_ident(), 0)
    finally:
        await signer.close()
        await other.close()
    threads = {t for t, _ in seen}
    assert len(threads) == 1 and threading.get_ident() not in threads and other_thread not in threads
    assert [n for _, n in seen] == list(range(5))
    assert [json.loads(tx.tx_info)["Nonce"] for tx in txs] == list(range(5))
