"""The names the channels, Rasa and the actions agree on, and the one rule for cleaning text.

The edge sends Rasa a turn (text or an intent payload, plus metadata); the actions answer with
text, buttons, images (``upload:<id>`` for a stored file) and custom JSON events. Renaming an
intent in ``domain.yml`` means changing it here, and a test checks the two agree.
"""

from __future__ import annotations

import unicodedata
from typing import Final, Literal

# Intent payloads the channels send on the patient's behalf (Rasa's "/intent" shorthand).
CHECK_PHOTO: Final = "/check_photo"
ANALYZE_RECORD: Final = "/analyze_record"
FORGET_ME: Final = "/forget_me"
REQUEST_HUMAN: Final = "/request_human"

UploadKind = Literal["image", "pdf", "text", "json"]
UPLOAD_INTENTS: Final[dict[str, str]] = {
    "image": CHECK_PHOTO,
    "pdf": ANALYZE_RECORD,
    "text": ANALYZE_RECORD,
    "json": ANALYZE_RECORD,
}

# Message metadata the edge attaches and the actions read.
META_UPLOAD_ID: Final = "upload_id"
META_KIND: Final = "kind"
META_CHANNEL: Final = "channel"
Channel = Literal["web", "api", "telegram"]

# Custom events in the actions' replies (``json_message={"event": ...}``).
EVENT_FORGOTTEN: Final = "forgotten"
EVENT_EHR_ANALYSIS: Final = "ehr_analysis"
ANALYSIS_ID: Final = "analysis_id"  # the stored analysis an ehr_analysis event names
EVENT_TRIAGE: Final = "triage"
TRIAGE_ID: Final = "triage_id"  # the stored triage record a triage event names

# Image replies naming a stored file rather than a URL.
UPLOAD_REF_PREFIX: Final = "upload:"

MAX_MESSAGE_CHARS: Final = 5000
_DROPPED = {"Cc", "Cs", "Co"}  # control, surrogate and private-use characters


def clean_text(text: str) -> str:
    """Drop control, surrogate and private-use characters (keep newlines and tabs), trim.

    The edge and Rasa's REST channel both apply it, so a message means the same on either side.
    """
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED)
    return "".join(kept).strip()


def upload_intent(kind: str) -> str:
    """The intent payload that announces an upload of this kind."""
    return UPLOAD_INTENTS[kind]
