"""Which documents are refused before download (by type and size)."""

from __future__ import annotations

import pytest

from bot.telegram.files import TELEGRAM_DOWNLOAD_LIMIT, download_limit, refusal

MB = 1024 * 1024
LIMIT = 20_000_000


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("report.pdf", "application/pdf"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("labs.json", "application/json"),
        ("labs.json", "application/octet-stream"),  # clients that don't know JSON
        ("wound.JPG", "image/jpeg"),
        ("wound.png", "image/png"),
        ("IMG_0001.HEIC", "image/heic"),  # iPhone photos sent as files; stored as JPEG
        (None, "application/pdf"),
        ("scan.pdf", None),
    ],
)
def test_accepted_documents(name: str | None, mime: str | None) -> None:
    assert refusal(name, mime, 1000, LIMIT) is None


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("setup.exe", "application/x-msdownload"),
        ("archive.zip", "application/zip"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("page.html", "text/html"),
        ("notes.txt", "application/x-sh"),  # a name can't vouch for a forbidden type
        (None, None),
        ("README", "application/octet-stream"),
    ],
)
def test_refused_documents(name: str | None, mime: str | None) -> None:
    message = refusal(name, mime, 1000, LIMIT)
    assert message is not None and "can't accept that type" in message
    assert "PDF, TXT or JSON" in message


def test_too_large_files_are_refused_before_download() -> None:
    message = refusal("report.pdf", "application/pdf", LIMIT + 1, LIMIT)
    assert message is not None and "too large" in message and "20 MB" in message
    assert refusal("report.pdf", "application/pdf", LIMIT, LIMIT) is None


def test_the_download_limit_is_the_smaller_of_telegram_and_settings() -> None:
    assert download_limit(50 * MB) == TELEGRAM_DOWNLOAD_LIMIT == 20_000_000
    assert download_limit(5 * MB) == 5 * MB
