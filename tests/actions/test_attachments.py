"""Actions read uploads by id through the store the edge wrote them with, and forget them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.action_forget import ActionForgetMe
from actions.action_record import ActionAnalyzeRecord
from actions.attachments import describe, latest_upload
from actions.services import Services, get_services
from healthbot.stores.uploads import UploadInfo

from .conftest import make_tracker, run_action


@pytest.fixture
def uploads(services: Services, tmp_path: Path) -> Iterator[Path]:
    """The action server's store, pointed at a temporary folder through the environment."""
    yield tmp_path / "uploads"


def photo(owner: str) -> UploadInfo:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 100, 90)).save(out, format="JPEG")
    return get_services().uploads.save(owner, out.getvalue(), "wound.jpg")


def tracker_with(upload_id: object, sender: str = "tg-patient", intent: str = "check_photo"):
    return make_tracker(
        f"/{intent}", intent, sender_id=sender, extra_parse={"metadata": {"upload_id": upload_id}}
    )


def test_a_photo_is_described_by_id(uploads: Path) -> None:
    info = photo("tg-patient")
    assert describe(info) == f"photo (120×80, ref {info.id[:8]})"


def test_a_document_is_described_without_its_content(uploads: Path, domain) -> None:
    info = get_services().uploads.save("tg-patient", b"Potassium 6.9 mmol/L", "labs.txt")
    tracker = tracker_with(info.id, intent="analyze_record")
    dispatcher, _ = run_action(ActionAnalyzeRecord(), tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "text document" in text and "Potassium" not in text


@pytest.mark.parametrize("upload_id", [None, 42, "../../etc/passwd", "A" * 22])
def test_missing_or_malformed_ids_are_ignored(uploads: Path, domain, upload_id: object) -> None:
    tracker = tracker_with(upload_id, intent="analyze_record")
    dispatcher, events = run_action(ActionAnalyzeRecord(), tracker, domain)
    assert dispatcher.messages == []  # no record: the form asks for one
    assert {"record_requested": True}.items() <= {e["name"]: e["value"] for e in events}.items()


def test_another_conversations_upload_is_not_opened(uploads: Path) -> None:
    info = photo("tg-someone-else")
    assert latest_upload(tracker_with(info.id, sender="tg-patient"), get_services().uploads) is None
    assert (
        latest_upload(tracker_with(info.id, sender="tg-someone-else"), get_services().uploads)
        == info
    )


def test_forget_me_deletes_the_senders_uploads(uploads: Path, domain) -> None:
    mine, theirs = photo("tg-patient"), photo("tg-other")
    run_action(ActionForgetMe(), make_tracker("yes", "affirm", sender_id="tg-patient"), domain)
    assert not (uploads / f"{mine.id}.data").exists()
    assert (uploads / f"{theirs.id}.data").exists()
