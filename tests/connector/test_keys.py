"""Key files: permissions, clear errors, and a canary secret that must never show."""

from __future__ import annotations

import logging
import pickle

import pytest

from connector.errors import ConfigError
from connector.keys import (
    RedactingFilter,
    Secret,
    describe_keys,
    load_key_file,
    redact,
    register_secret,
    require,
)

CANARY = "CANARY-9f8e7d"


def key_file(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "hyperliquid.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_secret_never_shows_in_repr_str_or_format():
    secret = Secret(CANARY)
    old_style = "%s" % secret  # noqa: UP031 - the old formatting path must mask too
    rendered = [repr(secret), str(secret), f"{secret}", f"{secret!r}", old_style, f"{secret:>20}"]
    rendered.append(repr({"k": secret}))
    rendered.append(repr([secret]))
    assert all(CANARY not in text for text in rendered)
    assert secret.reveal() == CANARY


def test_secret_compares_by_value_and_cannot_be_pickled_or_changed():
    assert Secret(CANARY) == Secret(CANARY)
    assert Secret(CANARY) != Secret("other")
    assert Secret(CANARY) != CANARY  # a secret is not a str; comparing needs reveal()
    with pytest.raises(TypeError):
        pickle.dumps(Secret(CANARY))
    with pytest.raises(AttributeError):
        Secret(CANARY)._value = "x"


def test_load_key_file_wraps_secrets_and_keeps_public_fields_plain(tmp_path):
    path = key_file(
        tmp_path,
        f'private_key = "{CANARY}"\naccount_address = "0xabc"\napi_key_index = 3\naccount_index = 12\n'
        f'[testnet]\nprivate_key = "{CANARY}"\n',
    )
    keys = load_key_file(path)
    assert isinstance(keys["private_key"], Secret)
    assert keys["private_key"].reveal() == CANARY
    assert keys["account_address"] == "0xabc"
    assert keys["api_key_index"] == 3
    assert isinstance(keys["testnet"]["private_key"], Secret)
    assert CANARY not in repr(keys)
    described = describe_keys(keys)
    assert described["private_key"] == "***"
    assert described["testnet.private_key"] == "***"
    assert described["account_address"] == "0xabc"


def test_unknown_field_names_are_treated_as_secret(tmp_path):
    keys = load_key_file(key_file(tmp_path, f'mnemonic_words = "{CANARY}"\nsomething = 12345\n'))
    assert isinstance(keys["mnemonic_words"], Secret)
    assert isinstance(keys["something"], Secret)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_readable_by_group_or_others_is_refused_with_chmod_hint(tmp_path, mode):
    path = key_file(tmp_path, f'private_key = "{CANARY}"\n', mode)
    with pytest.raises(ConfigError) as caught:
        load_key_file(path)
    assert str(caught.value) == f"key file {path} is readable by group or others: run chmod 600 {path}"


def test_key_file_writable_by_others_is_refused(tmp_path):
    path = key_file(tmp_path, 'private_key = "x"\n', 0o602)
    with pytest.raises(ConfigError, match="writable by group or others: run chmod 600"):
        load_key_file(path)


def test_owner_only_key_file_is_accepted(tmp_path):
    assert load_key_file(key_file(tmp_path, 'private_key = "abcd"\n', 0o400))["private_key"].reveal() == "abcd"


def test_missing_key_file_names_it_and_the_env_variable(tmp_path):
    with pytest.raises(
        ConfigError, match=r"hyperliquid key file .*nope.toml does not exist.*PERPDESK_HYPERLIQUID_KEY_FILE"
    ):
        load_key_file(tmp_path / "nope.toml", venue="hyperliquid")


def test_key_file_that_is_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a regular file"):
        load_key_file(tmp_path)


def test_malformed_key_file_error_gives_position_but_no_content(tmp_path):
    path = key_file(tmp_path, f'private_key = "{CANARY}"\nprivate_key = "{CANARY}"\nbroken {CANARY}\n')
    with pytest.raises(ConfigError) as caught:
        load_key_file(path)
    message = str(caught.value)
    assert message.startswith(f"key file {path} is not valid TOML")
    assert "line" in message
    assert CANARY not in message
    assert CANARY not in repr(caught.value)


def test_require_names_the_missing_field():
    with pytest.raises(ConfigError, match="lighter key file has no 'api_private_key'"):
        require({"account_index": 1}, "api_private_key", venue="lighter")


def test_registered_secret_is_masked_in_logs_even_when_revealed(tmp_path, caplog):
    keys = load_key_file(key_file(tmp_path, f'private_key = "{CANARY}"\n'))
    log = logging.getLogger("perpdesk.test.keys")
    with caplog.at_level(logging.DEBUG):
        log.info("keys %r", keys)
        log.info("signing with %s", keys["private_key"])
        log.warning("library echoed %s back", keys["private_key"].reveal())
        log.warning("f-string " + keys["private_key"].reveal())
        try:
            raise RuntimeError(f"venue said bad key {keys['private_key'].reveal()}")
        except RuntimeError:
            log.exception("request failed")
    assert len(caplog.records) == 5
    assert CANARY not in caplog.text
    assert all(CANARY not in record.getMessage() for record in caplog.records)
    assert "***" in caplog.text


def test_redacting_filter_masks_records_on_a_handler():
    register_secret(CANARY)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s", (CANARY,), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "token=***"


def test_redact_masks_text_for_exception_messages():
    register_secret(CANARY)
    assert redact(f"venue error: key {CANARY} invalid") == "venue error: key *** invalid"
    assert redact("nothing to hide") == "nothing to hide"
