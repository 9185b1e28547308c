"""The edge's one way into Rasa: its REST channel on loopback, with metadata for uploads.

A Rasa that is restarting or down must never cost the patient their message silently: the client
retries connection failures briefly, then raises RasaUnavailable so the channel can say
"try again shortly" (the conversation itself lives in Rasa's tracker store and survives).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)

Reply = dict[str, Any]


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, restarting, overloaded, or replied with an error)."""


class RasaClient:
    """Sends one user turn to ``/webhooks/rest/webhook`` and returns Rasa's replies."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.status_url = base_url.rstrip("/") + "/status"
        self.retries, self.backoff_s = retries, backoff_s
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._client = client or httpx.AsyncClient(timeout=timeout_s, limits=limits)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        """Rasa's replies to ``text``; raises RasaUnavailable (never logs the text)."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        for attempt in range(self.retries + 1):
            try:
                response = await self._client.post(self.url, json=body)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as error:
                if attempt == self.retries:
                    raise RasaUnavailable(type(error).__name__) from None
                await asyncio.sleep(self.backoff_s * (attempt + 1))
                continue
            except httpx.TimeoutException:
                raise RasaUnavailable("timeout") from None
            return self._replies(response)
        raise RasaUnavailable("unreachable")  # pragma: no cover (the loop always returns/raises)

    @staticmethod
    def _replies(response: httpx.Response) -> list[Reply]:
        if response.status_code >= 500:
            logger.warning("Rasa answered %d", response.status_code)
            raise RasaUnavailable(f"status {response.status_code}")
        if response.status_code >= 400:
            logger.warning("Rasa refused a turn (%d)", response.status_code)
            return [{"text": "Sorry, I couldn't read that message. Could you send it again?"}]
        try:
            replies = response.json()
        except ValueError:
            raise RasaUnavailable("invalid JSON") from None
        return (
            [reply for reply in replies if isinstance(reply, dict)]
            if isinstance(replies, list)
            else []
        )

    async def healthy(self) -> bool:
        """Whether Rasa answers its status endpoint (model loaded)."""
        try:
            return (await self._client.get(self.status_url, timeout=3)).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self._client.aclose()
