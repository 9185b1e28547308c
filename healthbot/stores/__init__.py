"""Stores that keep something per conversation: uploads, record analyses, photo history, consent.

Each has a zero-config local implementation (a folder or an SQLite file) behind a small
protocol. Every store holding a patient's data implements ``OwnedStore`` so that "forget me"
(``actions.services.Services.forget``) reaches all of them through one call.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class OwnedStore(Protocol):
    """Data kept per conversation (sender id); ``delete_owner`` erases all of one sender's."""

    def delete_owner(self, owner: str) -> int: ...
