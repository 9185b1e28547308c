"""The real bot against the fake Bot API, with a scripted Rasa: consent, turns, taps, files."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.rasa_client import RasaClient
from bot.telegram import texts
from bot.telegram.replies import MAX_CALLBACK_BYTES
from tests.bot.support import FakeRasa, jpeg
from tests.fakes.telegram_api import free_port

from .conftest import CONFIRM_FORGET, FORGOTTEN, Harness, open_harness

SPECIAL = "Dose: 1.5-2 mg (max!) *twice* _daily_ [see] ~`>#+=|{}. C:\\path"
LONG_PAYLOAD = '/inform{"symptom": "a sharp pain in the lower right side of my belly", "days": 3}'
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# --- consent -------------------------------------------------------------------------------


def test_start_explains_the_assistant_and_asks_for_consent(bot: Harness) -> None:
    bot.api.push_text(1, "/start")
    call = bot.api.wait_for_text(1, "Do you agree?")
    for phrase in ("not a doctor", "can't diagnose", "emergency", "processed to answer you",
                   "conversation store", "30 days", "/forget"):  # fmt: skip
        assert phrase in call.text, phrase
    assert [b["callback_data"] for b in call.buttons] == ["consent:yes", "consent:no"]
    assert [b["text"] for b in call.buttons] == ["I agree", "No thanks"]


def test_nothing_reaches_rasa_or_the_store_before_consent(bot: Harness) -> None:
    bot.api.push_text(2, "i have chest pain")
    bot.api.push_photo(2, jpeg(), caption="look at this")
    bot.api.push_document(2, PDF, "report.pdf", "application/pdf")
    bot.api.push_text(2, "/human")
    bot.api.push_callback(2, "/affirm", message=_message(2))
    bot.api.wait_until(lambda: len(bot.api.texts(2)) >= 5)
    reminders = bot.api.texts(2)
    assert all("please agree" in text and "emergency" in text for text in reminders)
    assert all(
        [b["callback_data"] for b in call.buttons] == ["consent:yes", "consent:no"]
        for call in bot.api.calls_to("sendMessage", 2)
    )
    assert bot.rasa.turns == []
    assert bot.api.calls_to("getFile") == []
    assert bot.uploads() == []


def test_agreeing_lets_messages_through_with_a_hashed_sender(bot: Harness) -> None:
    bot.agree(3)
    assert bot.consent.has(bot.sender(3))
    assert bot.api.calls_to("editMessageReplyMarkup", 3)  # the consent buttons are gone
    since = bot.api.mark()
    bot.api.push_text(3, "hello")
    bot.api.wait_for_text(3, "echo: hello", since=since)
    assert bot.rasa.turns == [(bot.sender(3), "hello", None)]
    assert bot.sender(3).startswith("tg-") and len(bot.sender(3)) == 35  # HMAC, not the chat id


def test_declining_keeps_the_gate_closed(bot: Harness) -> None:
    bot.api.push_text(4, "/start")
    bot.api.wait_for_text(4, "Do you agree?")
    bot.api.push_callback(4, "consent:no")
    bot.api.wait_for_text(4, "won't read or keep anything")
    assert not bot.consent.has(bot.sender(4))
    since = bot.api.mark()
    bot.api.push_text(4, "hello")
    bot.api.wait_for_text(4, "please agree", since=since)
    assert bot.rasa.turns == []


def test_start_again_after_agreeing_shows_no_consent_buttons(bot: Harness) -> None:
    bot.agree(5)
    since = bot.api.mark()
    bot.api.push_text(5, "/start")
    bot.api.wait_for_text(5, "already agreed", since=since)
    notice, _ = bot.api.calls_to("sendMessage", 5, since)
    assert "not a doctor" in notice.text and "Do you agree?" not in notice.text
    assert all(not call.buttons for call in bot.api.calls_to("sendMessage", 5, since))


def test_consent_survives_a_restart(tmp_path: Path) -> None:
    with open_harness(tmp_path, FakeRasa()) as first:
        first.agree(6)
    rasa = FakeRasa()
    with open_harness(tmp_path, rasa) as second:
        second.api.push_text(6, "still there?")
        second.api.wait_for_text(6, "echo: still there?")
    assert rasa.texts() == ["still there?"]


# --- text and buttons ----------------------------------------------------------------------


def test_text_with_markdown_characters_arrives_intact_as_plain_text(bot: Harness) -> None:
    bot.agree(10)
    bot.rasa.answers["dose?"] = [{"text": SPECIAL}]
    since = bot.api.mark()
    bot.api.push_text(10, "dose?")
    call = bot.api.wait_for_text(10, "Dose:", since=since)
    assert call.text == SPECIAL
    assert "parse_mode" not in call.params
    # The typing indicator went out while Rasa was thinking.
    assert bot.api.calls_to("sendChatAction", 10, since)[0].params["action"] == "typing"


def test_long_replies_are_split_and_the_keyboard_goes_last(bot: Harness) -> None:
    bot.agree(11)
    long_text = "Read this carefully. " * 400  # ~8,400 characters
    ok = {"title": "OK", "payload": "/affirm"}
    bot.rasa.answers["long"] = [{"text": long_text, "buttons": [ok]}]
    since = bot.api.mark()
    bot.api.push_text(11, "long")
    bot.api.wait_for("sendMessage", lambda c: c.chat_id == 11 and c.buttons, since=since)
    calls = bot.api.calls_to("sendMessage", 11, since)
    assert len(calls) == 3
    assert [bool(call.buttons) for call in calls] == [False, False, True]
    assert " ".join(call.text for call in calls).split() == long_text.split()


def test_buttons_become_an_inline_keyboard_and_a_tap_is_the_next_turn(bot: Harness) -> None:
    bot.agree(12)
    bot.rasa.answers["how bad?"] = [
        {
            "text": "How bad is it?",
            "buttons": [
                {"title": "Mild", "payload": '/inform{"severity": "mild"}'},
                {"title": "Described at length", "payload": LONG_PAYLOAD},
            ],
        }
    ]
    since = bot.api.mark()
    bot.api.push_text(12, "how bad?")
    question = bot.api.wait_for_text(12, "How bad is it?", since=since)
    data = [button["callback_data"] for button in question.buttons]
    assert data[0] == '/inform{"severity": "mild"}'
    assert len(data[1].encode()) <= MAX_CALLBACK_BYTES  # the fake refuses longer ones, too

    since = bot.api.mark()
    bot.api.push_callback(12, data[1])
    bot.api.wait_for_text(12, f"echo: {LONG_PAYLOAD}", since=since)
    assert bot.rasa.texts()[-1] == LONG_PAYLOAD
    assert bot.api.calls_to("answerCallbackQuery", since=since)
    assert bot.api.texts(12, since)[0] == "You chose: Described at length"
    assert bot.api.calls_to("editMessageReplyMarkup", 12, since)  # no second tap


def test_a_forgotten_button_token_asks_to_type_instead(bot: Harness) -> None:
    bot.agree(13)
    since = bot.api.mark()
    bot.api.push_callback(13, "~p:expiredtoken", message=_message(13))
    bot.api.wait_for_text(13, "button has expired", since=since)
    assert bot.rasa.turns == []


def test_image_replies_from_the_store_and_from_urls(bot: Harness) -> None:
    bot.agree(14)
    mine = bot.store.save(bot.sender(14), jpeg(), None)
    theirs = bot.store.save(bot.sender(99), jpeg(), None)
    bot.rasa.answers["show"] = [
        {"text": "Here it is", "image": f"upload:{mine.id}"},
        {"image": f"upload:{theirs.id}"},  # someone else's: never sent
        {"image": "upload:doesnotexist00000000"},
        {"image": "https://example.org/chart.png"},
        {"text": "done"},
    ]
    since = bot.api.mark()
    bot.api.push_text(14, "show")
    bot.api.wait_for_text(14, "done", since=since)
    photos = bot.api.calls_to("sendPhoto", 14, since)
    assert len(photos) == 2
    assert photos[0].files["photo"] == bot.store.read(mine.id)
    assert photos[1].params["photo"] == "https://example.org/chart.png"


# --- commands -------------------------------------------------------------------------------


def test_help_human_and_unknown_commands(bot: Harness) -> None:
    bot.api.push_text(20, "/help")
    bot.api.wait_for_text(20, "/forget: delete")
    bot.agree(20)
    since = bot.api.mark()
    bot.api.push_text(20, "/human")
    bot.api.wait_for_text(20, "echo: /request_human", since=since)
    bot.api.push_text(20, "/weather")
    bot.api.wait_for_text(20, "I don't know that command", since=since)
    bot.api.push_sticker(20)
    bot.api.wait_for_text(20, "I can read text messages, photos and documents", since=since)
    assert bot.rasa.texts() == ["/request_human"]


def test_forget_runs_rasas_flow_then_revokes_consent_and_deletes_files(bot: Harness) -> None:
    bot.agree(21)
    sender = bot.sender(21)
    bot.store.save(sender, jpeg(), None)
    kept = bot.store.save(bot.sender(22), jpeg(), None)
    bot.rasa.answers["/forget_me"] = [CONFIRM_FORGET]
    bot.rasa.answers["/affirm"] = FORGOTTEN
    since = bot.api.mark()
    bot.api.push_text(21, "/forget")
    confirm = bot.api.wait_for_text(21, "delete this conversation?", since=since)
    assert [b["callback_data"] for b in confirm.buttons] == ["/affirm", "/deny"]
    bot.api.push_callback(21, "/affirm")
    bot.api.wait_for_text(21, "I've deleted this conversation", since=since)
    bot.api.wait_for("editMessageReplyMarkup", since=since)
    bot.api.wait_until(lambda: not bot.consent.has(sender))
    assert [path.stem for path in bot.uploads()] == [kept.id]
    bot.api.push_text(21, "hello again")
    bot.api.wait_for_text(21, "please agree", since=since)
    assert bot.rasa.texts() == ["/forget_me", "/affirm"]


# --- photos and documents ------------------------------------------------------------------


def test_photo_caption_first_then_the_largest_size_is_stored_and_sent_by_id(bot: Harness) -> None:
    bot.agree(30)
    since = bot.api.mark()
    update = bot.api.push_photo(30, jpeg(64, 48), caption="it started bleeding")
    bot.api.wait_for_text(30, "Received image ref", since=since)
    (stored,) = bot.uploads()
    info = bot.store.info(stored.stem)
    assert (info.owner, info.kind, info.width, info.height) == (bot.sender(30), "image", 64, 48)
    caption_turn, photo_turn = bot.rasa.turns
    assert caption_turn[1] == "it started bleeding"
    assert photo_turn[1:] == (
        "/check_photo",
        {"upload_id": info.id, "kind": "image", "channel": "telegram"},
    )
    largest = update["message"]["photo"][-1]["file_id"]
    assert [c.params["file_id"] for c in bot.api.calls_to("getFile", since=since)] == [largest]


def test_text_document_goes_to_the_record_analyzer(bot: Harness) -> None:
    bot.agree(31)
    since = bot.api.mark()
    bot.api.push_document(31, b"Hemoglobin 13.5 g/dL\n", "labs.txt", "text/plain")
    bot.api.wait_for_text(31, "Received text ref", since=since)
    (_, text, metadata) = bot.rasa.turns[-1]
    assert text == "/analyze_record"
    assert metadata["kind"] == "text" and bot.store.info(metadata["upload_id"]).size == 21


def test_image_documents_go_to_the_photo_checker(bot: Harness) -> None:
    bot.agree(32)
    since = bot.api.mark()
    bot.api.push_document(32, jpeg(), "wound.jpg", "image/jpeg")
    bot.api.wait_for_text(32, "Received image ref", since=since)
    assert bot.rasa.texts()[-1] == "/check_photo"


def test_refused_types_are_not_downloaded_but_the_caption_still_counts(bot: Harness) -> None:
    bot.agree(33)
    since = bot.api.mark()
    bot.api.push_document(
        33, b"MZ\x90\x00", "setup.exe", "application/x-msdownload", caption="is this ok"
    )
    bot.api.wait_for_text(33, "can't accept that type of file", since=since)
    assert bot.rasa.texts() == ["is this ok"]  # red flags in captions must still be seen
    assert bot.api.calls_to("getFile", since=since) == []
    assert bot.uploads() == []


def test_files_over_the_limit_are_refused_before_download(tmp_path: Path) -> None:
    with open_harness(tmp_path, FakeRasa(), upload_max_bytes=1_000_000) as bot:
        bot.agree(34)
        since = bot.api.mark()
        bot.api.push_document(34, PDF, "scan.pdf", "application/pdf", file_size=1_000_001)
        bot.api.wait_for_text(34, "too large (the limit is 1 MB)", since=since)
        bot.api.push_photo(34, jpeg(), file_size=25_000_000)
        bot.api.wait_until(lambda: len(bot.api.texts(34, since)) >= 2)
        assert all("too large" in text for text in bot.api.texts(34, since))
        assert bot.api.calls_to("getFile", since=since) == []
        assert bot.uploads() == [] and bot.rasa.turns == []


def test_the_store_checks_content_and_its_message_reaches_the_patient(bot: Harness) -> None:
    bot.agree(35)
    since = bot.api.mark()
    bot.api.push_document(35, b"just some text, not a PDF", "report.pdf", "application/pdf")
    bot.api.wait_for_text(35, "named like a PDF but it is a text file", since=since)
    assert bot.uploads() == [] and bot.rasa.turns == []


# --- failures ------------------------------------------------------------------------------


def test_rasa_unreachable_says_try_again_and_keeps_uploads(tmp_path: Path) -> None:
    closed = RasaClient(f"http://127.0.0.1:{free_port()}", retries=1, backoff_s=0.01)
    with open_harness(tmp_path, closed) as bot:
        bot.agree(40)
        since = bot.api.mark()
        bot.api.push_text(40, "hello?")
        call = bot.api.wait_for_text(40, "can't reach the assistant", since=since)
        assert call.text == texts.UNREACHABLE
        bot.api.push_photo(40, jpeg(), caption="see this")
        kept = bot.api.wait_for_text(40, "I've kept your file", since=since)
        (stored,) = bot.uploads()
        assert f"ref {stored.stem[:8]}" in kept.text
        assert len(bot.api.texts(40, since)) == 2  # one message each, no double apology
        # Rasa is back: the same bot answers normally.
        bot.channel.core.rasa = FakeRasa()
        bot.api.push_text(40, "hello again")
        bot.api.wait_for_text(40, "echo: hello again", since=since)
        bot.loop.run(closed.aclose())


def test_an_unexpected_error_gets_a_polite_answer_and_a_content_free_log(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRasa(FakeRasa):
        async def send(self, sender, text, metadata=None):  # type: ignore[override]
            raise KeyError("secret patient words")

    bot.agree(41)
    bot.channel.core.rasa = BrokenRasa()
    since = bot.api.mark()
    with caplog.at_level(logging.INFO):
        bot.api.push_text(41, "my private symptom")
        bot.api.wait_for_text(41, "something went wrong on my side", since=since)
    assert "KeyError" in caplog.text
    assert "secret patient words" not in caplog.text and "my private symptom" not in caplog.text
    bot.channel.core.rasa = FakeRasa()
    bot.api.push_text(41, "still working?")
    bot.api.wait_for_text(41, "echo: still working?", since=since)


def test_rate_limit_says_slow_down_once(tmp_path: Path) -> None:
    rasa = FakeRasa()
    with open_harness(tmp_path, rasa, telegram_rate_per_minute=6) as bot:  # a burst of 3
        for _ in range(6):
            bot.api.push_text(50, "/help")
        bot.api.wait_for_text(50, "very quickly")
        bot.api.wait_until(lambda: len(bot.api.texts(50)) >= 4)
        texts_sent = bot.api.texts(50)
        assert sum("very quickly" in text for text in texts_sent) == 1
        assert sum("/forget: delete" in text for text in texts_sent) == 3
        # Another chat is not affected.
        bot.api.push_text(51, "/help")
        bot.api.wait_for_text(51, "/forget: delete")


def test_logs_hold_no_content_chat_ids_or_token(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat_id = 4_815_162_342
    with caplog.at_level(logging.INFO):
        bot.agree(chat_id)
        since = bot.api.mark()
        bot.api.push_text(chat_id, "my rash is itchy")
        bot.api.push_photo(chat_id, jpeg(), caption="rash on my elbow")
        bot.api.push_document(chat_id, b"glucose 5.1\n", "bloodwork-jane.txt", "text/plain")
        bot.api.push_document(chat_id, b"x", "secret-plan.exe", "application/x-msdownload")
        bot.api.wait_for_text(chat_id, "can't accept that type", since=since)
    logged = caplog.text
    assert "stored upload" in logged  # the logs say what happened ...
    for secret in ("rash", "glucose", "bloodwork-jane", "secret-plan", str(chat_id), bot.api.token):
        assert secret not in logged, secret  # ... but never what was said, or by whom
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def _message(chat_id: int) -> dict:
    """A message the tap claims to come from (not one the bot sent in this test)."""
    return {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}}


def test_one_chat_is_served_in_order_while_other_chats_go_ahead(bot: Harness) -> None:
    class SlowRasa(FakeRasa):
        async def send(self, sender, text, metadata=None):  # type: ignore[override]
            if text == "slow":
                await asyncio.sleep(0.5)
            return await super().send(sender, text, metadata)

    bot.agree(60)
    bot.agree(61)
    rasa = bot.channel.core.rasa = SlowRasa()
    bot.api.push_text(60, "slow")
    bot.api.push_text(60, "fast")
    bot.api.push_text(61, "other chat")
    bot.api.wait_for_text(60, "echo: fast")
    # "slow" is recorded after its 0.5 s: the other chat didn't wait, the same chat did.
    assert rasa.texts() == ["other chat", "slow", "fast"]
    assert [t for t in bot.api.texts(60) if t.startswith("echo")] == ["echo: slow", "echo: fast"]
    # The chat's lock is released just after its reply is sent: no lock is left behind.
    bot.api.wait_until(lambda: bot.app.update_processor._locks == {}, timeout=5.0)
