"""What the Telegram channel says on its own (everything else comes from Rasa's domain)."""

from __future__ import annotations

from bot.conversation import UNAVAILABLE
from healthbot.settings import get_settings
from healthbot.stores.uploads.checks import TIP


def emergency() -> str:
    """The emergency number as the clinic configured it (the action server's variable)."""
    return f"your local emergency number, {get_settings().emergency_number},"


def welcome(retention_days: float, ask: bool = True) -> str:
    """The /start notice: what the assistant is, what it is not, how data is used."""
    notice = (
        "Hello! I'm the clinic's health assistant, an automated program.\n\n"
        "What I can do: help you describe a symptom and suggest safe next steps, answer general "
        "health questions from trusted sources, pass you to the clinic team, and take a photo or "
        "a document (PDF, TXT or JSON) from you.\n\n"
        "What I am not: I'm not a doctor and I can't diagnose. I'm not for emergencies: "
        f"if you think it's an emergency, call {emergency()} now.\n\n"
        "How your data is used: what you send me is processed to answer you and stored in the "
        "clinic's conversation store. Photos and documents are kept for up to "
        f"{_days(retention_days)}. You can delete everything at any time with /forget."
    )
    return notice + "\n\nDo you agree?" if ask else notice


def consent_reminder(retention_days: float) -> str:
    """What a patient who has not agreed yet gets instead of an answer."""
    return (
        "Before I can read your messages, please agree to how I use your data: I'm an automated "
        "assistant, not a doctor. What you send is processed to answer you and stored by the "
        f"clinic; files are kept for up to {_days(retention_days)}; /forget deletes everything. "
        "Send /start for the full notice.\n\n"
        f"If this is an emergency, call {emergency()} now."
    )


ALREADY_AGREED = (
    "You've already agreed, so just tell me what's going on. "
    "To stop and delete everything, send /forget."
)
CONSENT_THANKS = (
    "Thank you. How can I help? You can describe a symptom, ask a health question, "
    "or send a photo or a document."
)
CONSENT_DECLINED = (
    "OK. I won't read or keep anything you send. If you change your mind, send /start."
)
CONSENT_WITHDRAWN = (
    "OK, I've stopped reading your messages. What you shared before is still stored: "
    "to delete it, send /start, agree, then send /forget."
)
AGREE, DECLINE = "I agree", "No thanks"


def help_text() -> str:
    """/help."""
    return (
        "I'm the clinic's health assistant. Just write to me in your own words.\n\n"
        "/start: what I am and how I use your data\n"
        "/help: this message\n"
        "/human: ask for a person from the clinic team\n"
        "/forget: delete this conversation and everything you sent me\n\n"
        f"I can't diagnose. In an emergency, call {emergency()[:-1]}."
    )


UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."
UNSUPPORTED = "I can read text messages, photos and documents. " + TIP
PRIVATE_ONLY = "Please message me in a private chat: I don't take part in groups."

SLOW_DOWN = "You're sending messages very quickly. Please wait a few seconds, then try again."
UNREACHABLE = UNAVAILABLE  # the web gateway's 503 says the same


def something_wrong() -> str:
    """The global error handler's apology."""
    return (
        "Sorry, something went wrong on my side. Please try again in a moment. "
        f"In an emergency, call {emergency()[:-1]}."
    )


BUTTON_EXPIRED = "That button has expired. Please type your answer instead."
DOWNLOAD_FAILED = "I couldn't download that file from Telegram. Please send it again."
CHOSE = "You chose: {title}"
CHOOSE = "Please choose:"


def file_kept(upload_id: str) -> str:
    """Rasa was down after the file was stored: it stays, the patient tries again."""
    return (
        f"I've kept your file safely (ref {upload_id[:8]}), but I can't reach the assistant "
        "right now. Please try again in a minute."
    )


def refused_type() -> str:
    return "Sorry, I can't accept that type of file. " + TIP


def too_large(limit_bytes: int) -> str:
    limit = (
        f"{limit_bytes // 1_000_000} MB"
        if limit_bytes >= 1_000_000
        else f"{limit_bytes // 1000} KB"
    )
    return f"That file is too large (the limit is {limit}). " + TIP


def _days(days: float) -> str:
    whole = round(days)
    return "1 day" if whole == 1 else f"{whole} days"
