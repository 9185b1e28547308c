"""What the patient reads: plain text, `[n]` markers, a Sources block and the notice."""

from __future__ import annotations

from actions.rag.render import NOTICE, SOURCES_HEADING, plain_text, render_answer
from actions.rag.types import GeneratedAnswer, Passage


def passage(doc_id: str, title: str, url: str = "") -> Passage:
    return Passage(
        qid=f"{doc_id}#s",
        doc_id=doc_id,
        title=title,
        heading="What is it?",
        text="…",
        url=url,
        source="Example",
        license="CC BY 4.0",
    )


def test_body_sources_and_notice_in_order() -> None:
    answer = GeneratedAnswer(
        "Gout is a form of arthritis [1]. Glaucoma damages the optic nerve [2].",
        (
            passage("gout", "Gout", "https://example.org/gout"),
            passage("g", "Glaucoma", "https://example.org/g"),
        ),
        "extractive",
    )
    assert render_answer(answer) == (
        "Gout is a form of arthritis [1]. Glaucoma damages the optic nerve [2].\n\n"
        "Sources:\n"
        "[1] Gout — https://example.org/gout\n"
        "[2] Glaucoma — https://example.org/g\n\n"
        f"{NOTICE}"
    )
    assert NOTICE == (
        "This is general information, not medical advice. "
        "For advice about your situation, ask a clinician."
    )


def test_markdown_symbols_are_flattened() -> None:
    text = "## Treatment\n**Rest** and *fluids* help [1].\n- drink `water` [1]\n* sleep [1]"
    rendered = plain_text(text)
    assert rendered == "Treatment\nRest and fluids help [1].\n• drink water [1]\n• sleep [1]"
    for symbol in ("**", "##", "`", "\n- ", "\n* "):
        assert symbol not in rendered


def test_markdown_links_keep_their_address() -> None:
    assert plain_text("See [the NIH page](https://nih.gov/x) [1].") == (
        "See the NIH page (https://nih.gov/x) [1]."
    )


def test_a_source_without_url_still_gets_a_line() -> None:
    answer = GeneratedAnswer("Call the clinic [1].", (passage("clinic", "Opening hours"),), "x")
    assert "[1] Opening hours\n" in render_answer(answer)


def test_an_empty_citation_list_has_no_sources_block() -> None:
    rendered = render_answer(GeneratedAnswer("Nothing to cite.", (), "x"))
    assert SOURCES_HEADING not in rendered and rendered.endswith(NOTICE)
