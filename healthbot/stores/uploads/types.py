"""What every upload store speaks: the interface, the record it keeps, the refusal it raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Kind = Literal["image", "pdf", "text", "json"]


@dataclass(frozen=True)
class UploadInfo:
    """Metadata of a stored upload; never the content, so it is safe to log."""

    id: str
    owner: str
    kind: Kind
    mime: str
    size: int
    created: float
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UploadRejected(ValueError):
    """A file the store refuses; ``message`` is written for the patient, ``code`` for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class UploadNotFound(KeyError):
    """No upload with that id (never existed, deleted, or past retention)."""


@runtime_checkable
class UploadStore(Protocol):
    """Stores patients' files under random ids; the edge writes, the action server reads."""

    def save(self, owner: str, data: bytes, filename: str | None = None) -> UploadInfo:
        """Check ``data`` by content and store it for ``owner``; raises UploadRejected."""

    def info(self, upload_id: str) -> UploadInfo:
        """Metadata of an upload; raises UploadNotFound."""

    def read(self, upload_id: str) -> bytes:
        """The stored (cleaned) bytes; raises UploadNotFound."""

    def delete(self, upload_id: str) -> bool:
        """Delete one upload; False when there was none."""

    def delete_owner(self, owner: str) -> int:
        """Delete everything ``owner`` uploaded ("forget me"); returns how many."""

    def purge_expired(self, now: float | None = None) -> int:
        """Delete uploads older than the retention period; returns how many."""
