"""The edge's one way into Rasa: its REST channel on loopback, with metadata for uploads.

A Rasa that is restarting or down must never cost the patient their message silently: the client
retries connection failures briefly, then raises RasaUnavailable so the channel can say
"try again shortly" (the conversation itself lives in Rasa's tracker store and survives).

aiohttp, not httpx: with 50 conversations at once, httpx's connection pool made some requests wait
seconds for a connection while others flew (bench/gateway_bench.py; bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import aiohttp

logger = logging.getLogger(__name__)

Reply = dict[str, Any]
REFUSED = "Sorry, I couldn't read that message. Could you send it again?"


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, restarting, overloaded, or replied with an error)."""


class Rasa(Protocol):
    """What the channels need of Rasa (``RasaClient``; tests pass a fake)."""

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]: ...

    async def healthy(self) -> bool: ...

    async def aclose(self) -> None: ...


class RasaClient:
    """Sends one user turn to ``/webhooks/rest/webhook`` and returns Rasa's replies."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        max_connections: int = 200,
    ) -> None:
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.status_url = base_url.rstrip("/") + "/status"
        self.retries, self.backoff_s = retries, backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """One pooled session, created in the loop that uses it (aiohttp binds it to a loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        """Rasa's replies to ``text``; raises RasaUnavailable (never logs the text)."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        for attempt in range(self.retries + 1):
            try:
                async with self._client().post(self.url, json=body) as response:
                    return self._replies(response.status, await response.read())
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
                if isinstance(error, aiohttp.ServerTimeoutError):
                    raise RasaUnavailable("timeout") from None
                if attempt == self.retries:
                    raise RasaUnavailable(type(error).__name__) from None
                await asyncio.sleep(self.backoff_s * (attempt + 1))
            except asyncio.TimeoutError:
                raise RasaUnavailable("timeout") from None
        raise RasaUnavailable("unreachable")  # pragma: no cover (the loop returns or raises)

    @staticmethod
    def _replies(status: int, raw: bytes) -> list[Reply]:
        if status >= 500:
            logger.warning("Rasa answered %d", status)
            raise RasaUnavailable(f"status {status}")
        if status >= 400:
            logger.warning("Rasa refused a turn (%d)", status)
            return [{"text": REFUSED}]
        try:
            replies = json.loads(raw)
        except ValueError:
            raise RasaUnavailable("invalid JSON") from None
        if not isinstance(replies, list):
            return []
        return [reply for reply in replies if isinstance(reply, dict)]

    async def healthy(self) -> bool:
        """Whether Rasa answers its status endpoint (model loaded)."""
        try:
            timeout = aiohttp.ClientTimeout(total=3)
            async with self._client().get(self.status_url, timeout=timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
