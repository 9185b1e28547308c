"""Consent records: keyed by sender id, persistent, private, tied to the notice version."""

from __future__ import annotations

import stat
from pathlib import Path

from healthbot.stores.consent import CONSENT_FILE, ConsentStore


def test_grant_has_revoke(tmp_path: Path) -> None:
    store = ConsentStore.in_state_dir(tmp_path)
    assert not store.has("tg-a")
    store.grant("tg-a")
    store.grant("tg-a")  # twice is fine
    assert store.has("tg-a") and not store.has("tg-b")
    assert store.revoke("tg-a")
    assert not store.revoke("tg-a")
    assert not store.has("tg-a")


def test_consent_survives_a_restart(tmp_path: Path) -> None:
    ConsentStore.in_state_dir(tmp_path).grant("tg-a")
    assert ConsentStore.in_state_dir(tmp_path).has("tg-a")


def test_a_new_notice_version_needs_a_new_agreement(tmp_path: Path) -> None:
    ConsentStore(tmp_path / CONSENT_FILE, notice_version=1).grant("tg-a")
    assert not ConsentStore(tmp_path / CONSENT_FILE, notice_version=2).has("tg-a")


def test_the_file_is_private(tmp_path: Path) -> None:
    store = ConsentStore.in_state_dir(tmp_path / "state")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
