"""HTTP to a venue: timeouts, bounded retries with backoff, 429 as ``RateLimited``, a rate budget.

Only requests that are safe to repeat are retried after the venue may have seen them: reads
(GET/HEAD/OPTIONS/PUT/DELETE, or anything marked ``idempotent=True``).  A POST that placed an
order and then timed out is not sent again; the caller gets a ``VenueError`` and the order's
fate is settled by the reconciler.  A request that never left (connection refused) and a 429
(the venue did not act on it) are safe to retry for every method.

A read (GET/HEAD/OPTIONS, or a POST marked ``idempotent=True`` such as a venue's info query)
waits out one 429 and asks again (``read_429_retries``), for every venue; a write is never
re-sent after a 429 unless the venue's client opts in with ``max_429_retries``.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
from typing import Any

import httpx

from connector.clock import Clock, RealClock
from connector.errors import RateLimited, VenueError
from connector.keys import redact
from connector.transport import tap
from connector.transport.ratelimit import Backoff, RateLimiter

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors that mean the request never reached the venue."""


class HttpClient:
    """One venue's REST endpoint over a shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        base_url: str,
        *,
        venue: str = "venue",
        timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_base_s: float = 0.25,
        backoff_max_s: float = 5.0,
        max_429_retries: int = 0,
        read_429_retries: int = 1,
        max_retry_after_s: float = 10.0,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.venue = venue
        self.clock: Clock = clock or RealClock()
        self.max_retries = max_retries
        self.max_429_retries = max_429_retries
        self.read_429_retries = read_429_retries
        """429 waits a read gets at least (a write gets only ``max_429_retries``)."""
        self.max_retry_after_s = max_retry_after_s
        self.rate_limiter = rate_limiter
        self._backoff_args = (backoff_base_s, backoff_max_s)
        self.rng = rng or random.Random()
        self.retries = 0
        """Retries made so far (5xx, transport errors, 429s), for the status bar and tests."""
        if (recorder := tap.current()) is not None:  # a recorder sees every request and answer
            transport = recorder.wrap_http(venue, base_url, transport)
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(timeout_s), headers=headers, transport=transport
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        cost: float = 1,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request; returns the response for any status below 500 except 429.

        ``cost`` is taken from the rate limiter first; 0 when the caller already took it (a
        signed request whose nonce must not go stale while it queues).

        Raises ``RateLimited`` on a 429 (after ``max_429_retries`` waits of at most
        ``max_retry_after_s``) and ``VenueError`` when retries are exhausted or not allowed.
        """
        method = method.upper()
        repeatable = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        read = idempotent is True or (idempotent is None and method in READ_METHODS)
        max_429 = max(self.max_429_retries, self.read_429_retries) if read else self.max_429_retries
        backoff = Backoff(*self._backoff_args, rng=self.rng)
        limited = 0
        failures = 0
        while True:
            if self.rate_limiter is not None and cost:
                await self.rate_limiter.acquire(cost)
            try:
                response = await self._client.request(
                    method, path, params=params, json=json, content=content, headers=headers
                )
            except _NOT_SENT as exc:
                failure, info = f"could not reach the venue ({type(exc).__name__})", {}
                retry = failures < self.max_retries
            except httpx.TransportError as exc:
                failure, info = f"no answer from the venue ({type(exc).__name__})", {}
                retry = repeatable and failures < self.max_retries
            else:
                if response.status_code == 429:
                    retry_after = _retry_after_s(response, self.clock)
                    if self.rate_limiter is not None:
                        self.rate_limiter.penalize(retry_after)
                    if limited < max_429 and retry_after <= self.max_retry_after_s:
                        limited += 1
                        self.retries += 1
                        log.info("%s %s %s: rate limited, retrying in %.2fs", self.venue, method, path, retry_after)
                        await self.clock.sleep(retry_after)
                        continue
                    raise RateLimited(
                        redact(f"{self.venue}: rate limited on {method} {path}: retry in {retry_after:g}s"),
                        retry_after_s=retry_after,
                        info=_info(response),
                    )
                if response.status_code < 500:
                    return response
                failure, info = f"HTTP {response.status_code}", _info(response)
                retry = repeatable and failures < self.max_retries
            if not retry:
                attempts = failures + 1
                raise VenueError(
                    redact(
                        f"{self.venue}: {method} {path} failed: {failure}"
                        + (f" after {attempts} attempts" if attempts > 1 else "")
                    ),
                    info=info,
                )
            failures += 1
            self.retries += 1
            delay = backoff.next_delay()
            log.warning("%s %s %s: %s; retry %d in %.2fs", self.venue, method, path, failure, failures, delay)
            await self.clock.sleep(delay)

    async def get_json(self, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self._json(await self.request("GET", path, params=params, **kwargs))

    async def post_json(self, path: str, payload: Any, **kwargs: Any) -> Any:
        """POST a JSON body; not retried after it may have arrived unless ``idempotent=True``."""
        return self._json(await self.request("POST", path, json=payload, **kwargs))

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise VenueError(
                f"{self.venue}: {response.request.method} {response.request.url.path} answered HTTP "
                f"{response.status_code}: {_excerpt(response.text)}",
                info=_info(response),
            )
        try:
            return response.json()
        except ValueError:
            raise VenueError(
                f"{self.venue}: {response.request.url.path} answered with malformed JSON: {_excerpt(response.text)}",
                info=_info(response),
            ) from None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<HttpClient {self.venue} {self.base_url}>"


def _retry_after_s(response: httpx.Response, clock: Clock) -> float:
    """Seconds from ``Retry-After`` (seconds or an HTTP date); 1 s when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, when - clock.now_ms() / 1000)


def _excerpt(text: str, limit: int = 200) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "..."


def _info(response: httpx.Response) -> dict[str, Any]:
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = _excerpt(response.text, 1000)
    else:
        try:
            body = jsonlib.loads(redact(jsonlib.dumps(body)))
        except ValueError:
            body = _excerpt(response.text, 1000)
    return {"status": response.status_code, "body": body}
