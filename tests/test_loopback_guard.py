import httpx
import pytest


async def test_a_name_beyond_loopback_cannot_be_reached_from_tests():
    # the venues' connectors default to their public addresses; conftest makes sure no test can get there
    with pytest.raises((httpx.ConnectError, OSError), match=r"127\.0\.0\.1"):
        async with httpx.AsyncClient() as client:
            await client.get("http://api.example.invalid/info")


async def test_loopback_still_resolves():
    import socket

    assert socket.getaddrinfo("127.0.0.1", 80)
