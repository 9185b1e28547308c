"""The local store: random ids, private files, owner deletion, retention, no path tricks."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import pytest

from healthbot.stores.uploads import LocalUploadStore, UploadNotFound, UploadStore

from .conftest import PDF, jpeg


def test_local_store_speaks_the_protocol(store: LocalUploadStore) -> None:
    assert isinstance(store, UploadStore)


def test_save_read_info_roundtrip(store: LocalUploadStore, tmp_path: Path) -> None:
    info = store.save("web-abc", jpeg(), "photo.jpg")
    assert len(info.id) == 22 and info.owner == "web-abc" and info.kind == "image"
    assert store.info(info.id) == info
    data = store.read(info.id)
    assert data[:3] == b"\xff\xd8\xff" and len(data) == info.size
    files = sorted(p.name for p in (tmp_path / "uploads").iterdir())
    assert files == sorted([f"{info.id}.data", f"{info.id}.json"])  # no original name anywhere
    mode = stat.S_IMODE((tmp_path / "uploads" / f"{info.id}.data").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700


def test_ids_are_random(store: LocalUploadStore) -> None:
    ids = {store.save("o", PDF, None).id for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    "bad_id", ["../../etc/passwd", "", "a" * 21, "a" * 200, "abc/def/ghi/jklmnopqrst", "..", None]
)
def test_malformed_ids_open_nothing(store: LocalUploadStore, bad_id: object) -> None:
    with pytest.raises(UploadNotFound):
        store.read(bad_id)  # type: ignore[arg-type]
    assert store.delete(bad_id) is False  # type: ignore[arg-type]


def test_delete_owner_removes_only_that_senders_files(store: LocalUploadStore) -> None:
    mine = [store.save("tg-me", jpeg(), None) for _ in range(3)]
    theirs = store.save("tg-them", PDF, "x.pdf")
    assert store.delete_owner("tg-me") == 3
    for info in mine:
        with pytest.raises(UploadNotFound):
            store.info(info.id)
    assert store.read(theirs.id) == PDF
    assert store.delete_owner("tg-me") == 0


def test_retention_purges_old_files_and_hides_them(tmp_path: Path) -> None:
    store = LocalUploadStore(tmp_path, 10**6, 10**6, retention_days=1)
    old = store.save("o", PDF, None)
    new = store.save("o", PDF, None)
    assert store.purge_expired(now=time.time() + 0.5 * 86_400) == 0
    assert store.purge_expired(now=old.created + 1.5 * 86_400) == 2
    with pytest.raises(UploadNotFound):
        store.read(new.id)


def test_expired_upload_is_not_served_before_the_purge(tmp_path: Path) -> None:
    store = LocalUploadStore(tmp_path, 10**6, 10**6, retention_days=1 / 86_400)  # one second
    info = store.save("o", PDF, None)
    time.sleep(1.1)
    with pytest.raises(UploadNotFound):
        store.read(info.id)
    assert not list(tmp_path.glob(f"{info.id}*"))


def test_content_and_names_never_reach_the_log(
    store: LocalUploadStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store.save("tg-secret-owner", b"Patient has HIV, CD4 200", "hiv-results.txt")
    store.delete_owner("tg-secret-owner")
    logged = caplog.text
    assert "HIV" not in logged and "hiv-results" not in logged and "secret-owner" not in logged
    assert "stored upload" in logged  # it does log that something happened


def test_a_corrupt_metadata_file_is_skipped(store: LocalUploadStore) -> None:
    info = store.save("o", PDF, None)
    (store.root / "garbage.json").write_text("{not json")
    assert store.delete_owner("o") == 1
    with pytest.raises(UploadNotFound):
        store.info(info.id)
