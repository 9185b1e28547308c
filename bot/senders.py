"""Stable, non-reversible sender ids: what Rasa and the upload store know a patient by.

``HMAC-SHA256(secret, "<channel>:<chat id>")``: the same chat always maps to the same
conversation, but a leaked tracker store or log reveals no Telegram chat id, and nobody without
the secret can compute an id from a chat id. The secret is generated once per installation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "sender.key"  # noqa: S105 (a file name, not a secret)


def sender_id(secret: bytes, channel: str, key: str) -> str:
    """``<channel>-<32 hex>``: short enough for Rasa, long enough never to collide."""
    digest = hmac.new(secret, f"{channel}:{key}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"


def short(sender: str) -> str:
    """The part of a sender id that is safe and sufficient for logs."""
    return sender[:11]


def load_secret(configured: str, state_dir: Path) -> bytes:
    """The configured secret, else the one in ``state_dir`` (created 0600 on first use)."""
    if configured:
        return configured.encode()
    path = Path(state_dir) / SECRET_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value
