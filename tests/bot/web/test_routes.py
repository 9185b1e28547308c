"""The gateway's routes through ``create_app`` with a scripted Rasa and real stores on disk."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.ratelimit import RateLimiter
from bot.web.app import Gateway, create_app
from bot.web.clinics import load_clinics
from healthbot.contract import ANALYZE_RECORD, CHECK_PHOTO
from healthbot.stores.analyses import LocalAnalysisStore
from healthbot.stores.uploads import LocalUploadStore
from tests.bot.support import PDF, FakeRasa, edge_settings, jpeg, png

NORTH, SOUTH = "https://north.example.org", "https://south.example.org"
NORTH_KEY, SOUTH_KEY = "north-secret-key", "south-secret-key"
MAX_UPLOAD = 200_000
CLINICS = f"""
clinics:
  north:
    name: North Clinic
    origins: [{NORTH}]
    api_key_sha256: {hashlib.sha256(NORTH_KEY.encode()).hexdigest()}
    theme: {{color: "#123456", title: North nurse line}}
  south:
    name: South Clinic
    origins: [{SOUTH}]
    api_key_sha256: {hashlib.sha256(SOUTH_KEY.encode()).hexdigest()}
"""
TURN_KEYS = {"replies", "forgotten", "analyses", "triage"}


class ActionsRasa(FakeRasa):
    """Rasa plus the actions, as far as the gateway can tell: the photo check answers with an
    ``upload:`` image, the record analyzer stores the clinic's JSON and names it in an event."""

    def __init__(self, analyses: LocalAnalysisStore, triage: LocalAnalysisStore) -> None:
        super().__init__()
        self.analyses, self.triage = analyses, triage

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        replies = await super().send(sender, text, metadata)
        if text == CHECK_PHOTO and metadata and text not in self.answers:
            replies = [*replies, {"image": f"upload:{metadata['upload_id']}"}]
        if text == ANALYZE_RECORD and metadata and text not in self.answers:
            found = self.analyses.save(sender, {"findings": [{"label": "anemia"}]})
            replies = [*replies, {"custom": {"event": "ehr_analysis", "analysis_id": found}}]
        if text.startswith("my knee is sore") and text not in self.answers:
            record = self.triage.save(sender, {"level": "routine", "protocols": ["joint_pain"]})
            event = {"event": "triage", "triage_id": record, "level": "routine"}
            replies = [*replies, {"text": "My advice: book an appointment"}, {"custom": event}]
        return replies


@dataclass
class Edge:
    client: TestClient
    rasa: ActionsRasa
    store: LocalUploadStore
    analyses: LocalAnalysisStore
    triage: LocalAnalysisStore

    def session(self, origin: str = NORTH, clinic: str = "north") -> str:
        response = self.client.post(
            "/api/v1/widget/session",
            json={"clinic": clinic, "consent": True},
            headers={"Origin": origin},
        )
        assert response.status_code == 200, response.text
        return response.json()["session"]

    def say(self, session: str, text: object, origin: str = NORTH) -> Any:
        body = {"clinic": "north", "session": session, "text": text}
        return self.client.post("/api/v1/widget/messages", json=body, headers={"Origin": origin})

    def upload(self, session: str, name: str, data: bytes, **form: str) -> Any:
        return self.client.post(
            "/api/v1/widget/uploads",
            data={"clinic": "north", "session": session, **form},
            files={"file": (name, data)},
            headers={"Origin": NORTH},
        )

    def api(self, path: str, key: str = NORTH_KEY, method: str = "POST", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        return self.client.request(method, f"/api/v1/{path}", headers=headers, **kwargs)

    def stored(self) -> list[Path]:
        return sorted(self.store.root.glob("*.data")) if self.store.root.is_dir() else []


@pytest.fixture
def make_edge(tmp_path: Path) -> Iterator[Callable[..., Edge]]:
    """Builds the gateway as ``build_gateway`` does, from parts a test can replace."""
    clinics_file = tmp_path / "clinics.yml"
    clinics_file.write_text(CLINICS)
    clients: list[TestClient] = []

    def make(limiter: RateLimiter | None = None, **settings: Any) -> Edge:
        config = edge_settings(
            uploads_dir=tmp_path / "uploads", upload_max_bytes=MAX_UPLOAD,
            state_dir=tmp_path / "state", ehr_store_dir=tmp_path / "ehr", **settings,
        )  # fmt: skip
        uploads = config.uploads
        store = LocalUploadStore(uploads.dir, uploads.max_bytes, uploads.max_pixels, 30)
        analyses = LocalAnalysisStore(config.ehr.store_dir)
        triage = LocalAnalysisStore(tmp_path / "triage")
        rasa = ActionsRasa(analyses, triage)
        gateway = Gateway(
            settings=config, rasa=rasa, store=store, clinics=load_clinics(clinics_file),
            secret=b"route-test-secret", limiter=limiter or RateLimiter(6000),
            analyses=analyses, triage=triage,
        )  # fmt: skip
        client = TestClient(create_app(gateway))
        clients.append(client.__enter__())
        return Edge(client, rasa, store, analyses, triage)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def edge(make_edge: Callable[..., Edge]) -> Edge:
    return make_edge()


def texts(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [reply["text"] for reply in response.json()["replies"]]


# --- widget: config, session, origins ------------------------------------------------------


def test_widget_config_names_the_clinic_and_its_theme(edge: Edge) -> None:
    config = edge.client.get("/api/v1/widget/config", params={"clinic": "north"})
    assert config.status_code == 200
    assert config.json()["name"] == "North Clinic"
    assert config.json()["theme"]["title"] == "North nurse line"
    unknown = edge.client.get("/api/v1/widget/config", params={"clinic": "nope"})
    assert unknown.status_code == 404 and unknown.json()["detail"]
    foreign = edge.client.get(
        "/api/v1/widget/config", params={"clinic": "north"}, headers={"Origin": SOUTH}
    )
    assert foreign.status_code == 403 and foreign.json()["error"] == "origin_not_allowed"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"clinic": "north"}, {"Origin": NORTH}, 400, "consent_required"),
        ({"clinic": "north", "consent": "yes"}, {"Origin": NORTH}, 400, "consent_required"),
        ({"clinic": "nope", "consent": True}, {"Origin": NORTH}, 404, "unknown_clinic"),
        ({"clinic": "north", "consent": True}, {}, 403, "origin_required"),
        ({"clinic": "north", "consent": True}, {"Origin": SOUTH}, 403, "origin_not_allowed"),
    ],
)
def test_a_session_needs_consent_a_clinic_and_its_origin(
    edge: Edge, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    response = edge.client.post("/api/v1/widget/session", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == code and response.json()["detail"].endswith(".")


def test_a_session_is_a_fresh_random_token(edge: Edge) -> None:
    first, second = edge.session(), edge.session()
    assert len(first) == 43 and first != second


def test_the_gateways_own_page_may_use_any_clinic(edge: Edge) -> None:
    assert edge.session(origin="http://testserver", clinic="south")


def test_cors_answers_only_known_origins(edge: Edge) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = edge.client.options("/api/v1/widget/messages", headers={"Origin": NORTH, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == NORTH
    refused = edge.client.options(
        "/api/v1/widget/messages", headers={"Origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    answer = edge.say(edge.session(), "hello")
    assert answer.headers["access-control-allow-origin"] == NORTH


# --- widget: messages ----------------------------------------------------------------------


def test_widget_message_relays_cleaned_text_for_a_hashed_conversation(edge: Edge) -> None:
    session = edge.session()
    response = edge.say(session, "  my knee\x00 hurts \x1b")
    assert response.json() == {
        "replies": [{"text": "echo: my knee hurts", "buttons": [], "image": None}],
        "forgotten": False,
        "analyses": [],
        "triage": [],
    }
    ((sender, text, metadata),) = edge.rasa.turns
    assert text == "my knee hurts" and metadata is None
    assert sender.startswith("web-") and session not in sender
    edge.say(session, "again")
    assert edge.rasa.turns[1][0] == sender  # the same session is the same conversation
    edge.say(edge.session(), "new session")
    assert edge.rasa.turns[2][0] != sender


def test_buttons_come_with_their_payloads(edge: Edge) -> None:
    edge.rasa.answers["/forget_me"] = [
        {"text": "Delete everything?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}
    ]
    (reply,) = edge.say(edge.session(), "/forget_me").json()["replies"]
    assert reply["buttons"] == [{"title": "Yes", "payload": "/affirm"}]


@pytest.mark.parametrize("session", ["", "not-a-session", "x" * 43 + "!", None, 42])
def test_a_bad_session_is_401(edge: Edge, session: object) -> None:
    response = edge.say(session, "hello")
    assert response.status_code == 401 and response.json()["error"] == "invalid_session"
    assert edge.rasa.turns == []


def test_another_sites_page_is_refused(edge: Edge) -> None:
    response = edge.say(edge.session(), "hello", origin=SOUTH)
    assert response.status_code == 403 and edge.rasa.turns == []


def test_forget_me_says_forgotten_so_the_widget_clears_its_copy(edge: Edge) -> None:
    edge.rasa.answers["/affirm"] = [
        {"text": "Done. I've deleted this conversation."},
        {"custom": {"event": "forgotten"}},
    ]
    body = edge.say(edge.session(), "/affirm").json()
    assert body["forgotten"] is True
    assert [reply["text"] for reply in body["replies"]] == ["Done. I've deleted this conversation."]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "invalid_json"),
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00\x01binary", 400, "invalid_json"),
        (b"[1, 2, 3]", 400, "invalid_json"),
        (b'{"clinic": "north", "session": "%s", "text": "hi", "x": ' + b"[" * 5000
         + b"]" * 5000 + b"}", 400, "invalid_json"),
        (b'{"clinic": "north", "session": "%s", "text": ""}', 400, "empty_text"),
        (b'{"clinic": "north", "session": "%s", "text": "\\u0000\\u0001 "}', 400, "empty_text"),
        (b'{"clinic": "north", "session": "%s", "text": 42}', 400, "invalid_text"),
        (b'{"clinic": "north", "session": "%s", "text": ["a"]}', 400, "invalid_text"),
        (b'{"clinic": "north", "session": "%s", "text": "' + b"a" * 5001 + b'"}', 413,
         "text_too_long"),
        (b'{"clinic": "north", "session": "%s", "text": "' + b"b" * 70_000 + b'"}', 413,
         "too_large"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_4xx_with_a_sentence_and_the_conversation_goes_on(
    edge: Edge, body: bytes, status: int, code: str
) -> None:
    session = edge.session()
    response = edge.client.post(
        "/api/v1/widget/messages",
        content=body.replace(b"%s", session.encode()),
        headers={"Origin": NORTH, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["detail"].endswith(".")
    assert edge.rasa.turns == []
    assert texts(edge.say(session, "hello")) == ["echo: hello"]


def test_the_message_limit_is_the_one_setting(make_edge: Callable[..., Edge]) -> None:
    edge = make_edge(max_message_chars=200)
    session = edge.session()
    assert edge.say(session, "x" * 200).status_code == 200
    refused = edge.say(session, "x" * 201)
    assert refused.status_code == 413 and "200 characters" in refused.json()["detail"]


# --- widget: uploads and files -------------------------------------------------------------


def test_widget_upload_is_stored_checked_and_announced(edge: Edge) -> None:
    session = edge.session()
    response = edge.upload(session, "IMG_2041.jpg", jpeg(64, 48))
    assert response.status_code == 200, response.text
    body = response.json()
    upload = body["upload"]
    assert (upload["kind"], upload["width"], upload["height"]) == ("image", 64, 48)
    assert body.keys() >= TURN_KEYS and body["forgotten"] is False
    (_, text, metadata) = edge.rasa.turns[-1]
    assert (text, metadata) == (
        CHECK_PHOTO, {"upload_id": upload["id"], "kind": "image", "channel": "web"}
    )  # fmt: skip
    assert [path.stem for path in edge.stored()] == [upload["id"]]


def test_a_caption_is_answered_first(edge: Edge) -> None:
    edge.rasa.answers["he collapsed and isn't breathing"] = [{"text": "Call 112 now."}]
    response = edge.upload(
        edge.session(), "letter.pdf", PDF, caption="he collapsed and isn't breathing"
    )
    said = texts(response)
    assert said[0] == "Call 112 now." and said[1].startswith("Received pdf ref")
    assert edge.rasa.texts() == ["he collapsed and isn't breathing", ANALYZE_RECORD]


def test_forgotten_is_reported_on_an_upload_turn(edge: Edge) -> None:
    edge.rasa.answers["/affirm"] = [{"text": "Deleted."}, {"custom": {"event": "forgotten"}}]
    widget = edge.upload(edge.session(), "note.txt", b"Pt has a sore toe.", caption="/affirm")
    assert widget.json()["forgotten"] is True
    api = edge.api(
        "uploads", data={"user": "p-1", "caption": "/affirm"}, files={"file": ("n.txt", b"ok")}
    )
    assert api.json()["forgotten"] is True


def test_an_upload_image_reply_becomes_an_access_checked_url(edge: Edge) -> None:
    session = edge.session()
    replies = edge.upload(session, "wound.jpg", jpeg()).json()["replies"]
    url = replies[-1]["image"]
    assert url.startswith("/api/v1/widget/files/")
    own = edge.client.get(url, headers={"Origin": NORTH})
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
    assert own.headers["cache-control"] == "private, no-store"
    assert own.content == edge.store.read(edge.stored()[0].stem)
    stranger = url.replace(session, edge.session())
    assert edge.client.get(stranger).status_code == 404
    assert edge.client.get(url.replace(session, "bad")).status_code == 401
    assert edge.client.get(url, headers={"Origin": SOUTH}).status_code == 403


def test_an_image_reply_naming_someone_elses_file_is_dropped(edge: Edge) -> None:
    theirs = edge.upload(edge.session(), "theirs.jpg", jpeg()).json()["upload"]["id"]
    edge.rasa.answers["show"] = [
        {"text": "Here:", "image": f"upload:{theirs}"},
        {"image": f"upload:{theirs}"},
        {"image": "javascript:alert(1)"},
    ]
    body = edge.say(edge.session(), "show").json()
    assert body["replies"] == [{"text": "Here:", "buttons": [], "image": None}]


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("scan.pdf", png(), 415, "type_mismatch"),
        ("photo.jpg", PDF, 415, "type_mismatch"),
        ("page.html", b"<!doctype html><html><script>x()</script></html>", 415, None),
        ("empty.txt", b"", 415, "empty"),
        ("cut.jpg", jpeg()[:300], 415, None),
        ("big.jpg", b"\xff\xd8\xff" + b"\0" * (MAX_UPLOAD + 10), 413, "too_large"),
    ],
)
def test_refused_files_store_nothing_and_reach_no_one(
    edge: Edge, name: str, data: bytes, status: int, code: str | None
) -> None:
    session = edge.session()
    response = edge.upload(session, name, data, caption="what is this?")
    assert response.status_code == status, response.text
    assert code is None or response.json()["error"] == code
    assert len(response.json()["detail"]) > 20
    assert edge.stored() == [] and edge.rasa.turns == []
    assert texts(edge.say(session, "hello")) == ["echo: hello"]


def test_an_upload_body_over_the_limit_is_413_before_it_is_read(edge: Edge) -> None:
    response = edge.upload(edge.session(), "huge.jpg", b"\xff\xd8\xff" + b"\0" * 400_000)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert response.json()["detail"] and edge.stored() == []


def test_an_upload_without_a_file_or_as_json_is_400(edge: Edge) -> None:
    form = {"clinic": "north", "session": edge.session()}
    headers = {"Origin": NORTH}
    no_file = edge.client.post(
        "/api/v1/widget/uploads", data=form, files={"other": ("a.txt", b"x")}, headers=headers
    )
    assert no_file.status_code == 400 and no_file.json()["error"] == "missing_file"
    not_multipart = edge.client.post("/api/v1/widget/uploads", data=form, headers=headers)
    assert not_multipart.status_code == 400 and not_multipart.json()["error"] == "invalid_form"
    as_json = edge.client.post("/api/v1/widget/uploads", json=form, headers=headers)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_form"
    assert edge.rasa.turns == []


def test_an_upload_with_a_bad_session_is_401_and_not_stored(edge: Edge) -> None:
    response = edge.upload("not-a-session", "a.jpg", jpeg())
    assert response.status_code == 401 and edge.stored() == []


# --- integrator API ------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["", "Bearer nope", f"Basic {NORTH_KEY}", NORTH_KEY])
def test_the_integrator_api_needs_the_key(edge: Edge, authorization: str) -> None:
    response = edge.client.post(
        "/api/v1/messages",
        json={"user": "p-1", "text": "hello"},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"].endswith(".") and edge.rasa.turns == []


@pytest.mark.parametrize("user", ["../x", "", "a b", "x" * 129, None, 7])
def test_a_bad_user_is_400(edge: Edge, user: object) -> None:
    response = edge.api("messages", json={"user": user, "text": "hi"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_user"
    assert edge.rasa.turns == []


def test_integrator_messages_have_one_conversation_per_clinic_and_user(edge: Edge) -> None:
    assert texts(edge.api("messages", json={"user": "p-1", "text": "hi"})) == ["echo: hi"]
    edge.api("messages", json={"user": "p-1", "text": "again"})
    edge.api("messages", key=SOUTH_KEY, json={"user": "p-1", "text": "hi"})
    edge.api("messages", json={"user": "p-2", "text": "hi"})
    senders = [sender for sender, _, _ in edge.rasa.turns]
    assert senders[0] == senders[1] and len(set(senders)) == 3
    assert all(sender.startswith("api-") and "p-1" not in sender for sender in senders)


def test_integrator_uploads_and_files(edge: Edge) -> None:
    response = edge.api("uploads", data={"user": "p-1"}, files={"file": ("w.jpg", jpeg())})
    assert response.status_code == 200, response.text
    body = response.json()
    upload_id = body["upload"]["id"]
    assert edge.rasa.turns[-1][2] == {"upload_id": upload_id, "kind": "image", "channel": "api"}
    url = body["replies"][-1]["image"]
    assert url == f"/api/v1/files/{upload_id}?user=p-1"
    own = edge.client.get(url, headers={"Authorization": f"Bearer {NORTH_KEY}"})
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
    other_user = edge.api(f"files/{upload_id}", method="GET", params={"user": "p-2"})
    other_clinic = edge.api(
        f"files/{upload_id}", key=SOUTH_KEY, method="GET", params={"user": "p-1"}
    )
    assert other_user.status_code == other_clinic.status_code == 404
    assert edge.api(f"files/{upload_id}", key="nope", method="GET").status_code == 401
    assert edge.api("files/nosuchfile", method="GET", params={"user": "p-1"}).status_code == 404


def test_integrator_uploads_need_the_key_and_a_user(edge: Edge) -> None:
    files = {"file": ("w.jpg", jpeg())}
    assert edge.api("uploads", key="nope", data={"user": "p-1"}, files=files).status_code == 401
    assert edge.api("uploads", data={"user": "../x"}, files=files).status_code == 400
    assert edge.stored() == []


def test_a_record_analysis_is_served_only_to_its_conversation(edge: Edge) -> None:
    labs = {"file": ("labs.txt", b"Hemoglobin 9.1 g/dL\n")}
    body = edge.api("uploads", data={"user": "p-1"}, files=labs).json()
    (analysis_id,) = body["analyses"]
    found = edge.api(f"analyses/{analysis_id}", method="GET", params={"user": "p-1"})
    assert found.status_code == 200 and found.json() == {"findings": [{"label": "anemia"}]}
    assert found.headers["cache-control"] == "private, no-store"
    for key, user in ((NORTH_KEY, "p-2"), (SOUTH_KEY, "p-1")):
        other = edge.api(f"analyses/{analysis_id}", key=key, method="GET", params={"user": user})
        assert other.status_code == 404 and other.json()["detail"]
    missing = edge.api("analyses/AAAAAAAAAAAAAAAAAAAAAA", method="GET", params={"user": "p-1"})
    assert missing.status_code == 404
    assert edge.api(f"analyses/{analysis_id}", key="nope", method="GET").status_code == 401
    bad_user = edge.api(f"analyses/{analysis_id}", method="GET", params={"user": "../p"})
    assert bad_user.status_code == 400


def test_a_triage_record_is_named_in_the_turn_and_served_only_to_its_conversation(
    edge: Edge,
) -> None:
    body = edge.api("messages", json={"user": "p-1", "text": "my knee is sore"}).json()
    (triage_id,) = body["triage"]
    found = edge.api(f"triage/{triage_id}", method="GET", params={"user": "p-1"})
    assert found.status_code == 200 and found.json()["level"] == "routine"
    assert found.headers["cache-control"] == "private, no-store"
    for key, user in ((NORTH_KEY, "p-2"), (SOUTH_KEY, "p-1")):
        other = edge.api(f"triage/{triage_id}", key=key, method="GET", params={"user": user})
        assert other.status_code == 404 and other.json()["detail"]
    assert edge.api(f"triage/{triage_id}", key="nope", method="GET").status_code == 401
    widget = edge.say(edge.session(), "my knee is sore").json()
    assert len(widget["triage"]) == 1


def test_the_widget_also_hears_about_analyses(edge: Edge) -> None:
    body = edge.upload(edge.session(), "labs.txt", b"Ferritin 8 ng/mL\n").json()
    assert len(body["analyses"]) == 1


# --- the same answer everywhere ------------------------------------------------------------


def _four_turns(edge: Edge) -> dict[str, Any]:
    session = edge.session()
    return {
        "widget message": edge.say(session, "hello"),
        "widget upload": edge.upload(session, "w.jpg", jpeg(), caption="look"),
        "api message": edge.api("messages", json={"user": "p-1", "text": "hello"}),
        "api upload": edge.api(
            "uploads", data={"user": "p-1", "caption": "look"}, files={"file": ("w.jpg", jpeg())}
        ),
    }


def test_all_four_turn_routes_answer_in_one_shape(edge: Edge) -> None:
    for route, response in _four_turns(edge).items():
        assert response.status_code == 200, route
        body = response.json()
        assert body.keys() >= TURN_KEYS, route
        assert ("upload" in body) == route.endswith("upload"), route
        assert isinstance(body["forgotten"], bool) and isinstance(body["analyses"], list)
        for reply in body["replies"]:
            assert reply.keys() == {"text", "buttons", "image"}, route
        assert response.headers["server-timing"].startswith("rasa;dur="), route
        assert "edge;dur=" in response.headers["server-timing"], route


def test_rate_limit_is_429_with_retry_after_per_conversation(
    make_edge: Callable[..., Edge],
) -> None:
    edge = make_edge(limiter=RateLimiter(60, burst=1))
    session = edge.session()
    assert edge.say(session, "one").status_code == 200
    limited = edge.say(session, "two")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json()["error"] == "rate_limited" and limited.json()["detail"].endswith(".")
    upload = edge.upload(session, "w.jpg", jpeg())
    assert upload.status_code == 429 and edge.stored() == []  # no file kept for a refused turn
    assert edge.say(edge.session(), "another conversation").status_code == 200
    assert edge.rasa.texts() == ["one", "another conversation"]


def test_rasa_down_is_503_with_a_sentence(edge: Edge) -> None:
    edge.rasa.down = True
    for route, response in _four_turns(edge).items():
        assert response.status_code == 503, route
        assert response.headers["retry-after"] == "10"
        assert response.json()["error"] == "unavailable"
        assert "can't reach the assistant" in response.json()["detail"]
    health = edge.client.get("/healthz").json()
    assert health == {"status": "ok", "rasa": False}


def test_demo_page_assets_and_health(edge: Edge) -> None:
    page = edge.client.get("/")
    assert page.status_code == 200 and 'data-clinic="north"' in page.text
    assert "http://testserver/widget.js" in page.text
    assert "javascript" in edge.client.get("/widget.js").headers["content-type"]
    assert edge.client.get("/healthz").json() == {"status": "ok", "rasa": True}
    missing = edge.client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_logs_hold_no_message_text_or_file_names(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        session = edge.session()
        edge.say(session, "my private rash")
        edge.upload(session, "jane-doe-bloodwork.txt", b"glucose 5.1\n", caption="rash again")
        edge.rasa.down = True
        edge.say(session, "my private rash")
    assert "stored upload" in caplog.text
    for secret in ("rash", "glucose", "jane-doe"):
        assert secret not in caplog.text, secret
