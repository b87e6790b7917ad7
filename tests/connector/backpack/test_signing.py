"""Backpack's ED25519 signing: the vectors in the protocol notes, batch strings, key formats, no leaks."""

from __future__ import annotations

import base64

import nacl.signing
import pytest

from connector.backpack.signing import Signer, batch_signing_string, signer_from_keys, signing_string
from connector.errors import ConfigError
from connector.keys import Secret

SEED = base64.b64encode(bytes(range(32))).decode()
PUBLIC = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
CANCEL = "instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000"
CANCEL_SIG = "80cYcHmUHbvcO3IonY2y+nObqUTRkZrNbRsPB30r+NjqgKfP5DIFKryC0ea11fMcweyoymFT+S2cGbPACyinDw=="
SUBSCRIBE_SIG = "Uf+mBpqN/y/EzT77rzrj7ga4mdvZmzq4XW+Lh+9B0K0wLMFJrInMKcACIpSpVaPNzrFEpPhINxEP2rNI3E92CA=="


def test_the_documented_cancel_is_signed_as_the_notes_say():
    assert signing_string("orderCancel", {"orderId": 28, "symbol": "BTC_USDT"}, 1614550000000, 5000) == CANCEL
    assert Signer(PUBLIC, SEED).sign(CANCEL) == CANCEL_SIG


def test_the_subscribe_vector_reproduces():
    signer = Signer(PUBLIC, SEED)
    assert (
        signing_string("subscribe", None, 1614550000000, 5000)
        == "instruction=subscribe&timestamp=1614550000000&window=5000"
    )
    assert signer.ws_signature(1614550000000, 5000) == [PUBLIC, SUBSCRIBE_SIG, "1614550000000", "5000"]


def test_an_order_body_signs_sorted_with_json_scalars_unquoted():
    body = {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Limit", "price": "141.5", "quantity": "0.5",
            "timeInForce": "GTC", "postOnly": True, "clientId": 42}  # fmt: skip
    assert signing_string("orderExecute", body, 7, 5000) == (
        "instruction=orderExecute&clientId=42&orderType=Limit&postOnly=true&price=141.5&quantity=0.5&side=Bid"
        "&symbol=SOL_USDC_PERP&timeInForce=GTC&timestamp=7&window=5000"
    )


def test_a_batch_signs_one_chunk_per_order_then_one_timestamp():
    orders = [
        {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Limit", "price": "141", "quantity": "12"},
        {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Limit", "price": "140", "quantity": "11"},
    ]
    assert batch_signing_string("orderExecute", orders, 1750793021519, 5000) == (
        "instruction=orderExecute&orderType=Limit&price=141&quantity=12&side=Bid&symbol=SOL_USDC_PERP"
        "&instruction=orderExecute&orderType=Limit&price=140&quantity=11&side=Bid&symbol=SOL_USDC_PERP"
        "&timestamp=1750793021519&window=5000"
    )


def test_headers_carry_a_signature_the_public_key_verifies():
    signer = Signer(Secret(PUBLIC), Secret(SEED))
    headers = signer.headers("orderQueryAll", {"symbol": "BTC_USDC_PERP"}, 1700000000000, 10_000)
    assert (headers["X-API-Key"], headers["X-Timestamp"], headers["X-Window"]) == (PUBLIC, "1700000000000", "10000")
    message = "instruction=orderQueryAll&symbol=BTC_USDC_PERP&timestamp=1700000000000&window=10000"
    nacl.signing.VerifyKey(base64.b64decode(PUBLIC)).verify(message.encode(), base64.b64decode(headers["X-Signature"]))


def test_the_64_byte_seed_and_public_form_is_accepted():
    long_form = base64.b64encode(bytes(range(32)) + base64.b64decode(PUBLIC)).decode()
    assert Signer(PUBLIC, long_form).sign(CANCEL) == CANCEL_SIG


@pytest.mark.parametrize(
    ("public", "secret", "message"),
    [
        (PUBLIC, "not base64!", "api_secret is not valid base64"),
        (PUBLIC, base64.b64encode(b"x" * 16).decode(), "32-byte"),
        (base64.b64encode(b"y" * 32).decode(), SEED, "not the public key of api_secret"),
        ("AAAA", SEED, "api_key must be the base64 32-byte"),
    ],
)
def test_a_bad_key_file_says_what_to_fix_and_never_echoes_the_secret(public, secret, message):
    with pytest.raises(ConfigError, match=message) as err:
        Signer(public, secret)
    assert SEED not in str(err.value) and secret not in str(err.value)


def test_missing_fields_are_named():
    with pytest.raises(ConfigError, match="api_secret"):
        signer_from_keys({"api_key": PUBLIC})


def test_the_signer_never_shows_its_secret():
    signer = Signer(PUBLIC, SEED)
    assert SEED not in repr(signer) and PUBLIC not in repr(signer)
    with pytest.raises(AttributeError):
        signer.__dict__  # noqa: B018  (slotted: nothing to dump)
