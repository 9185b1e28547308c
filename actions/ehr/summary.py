"""What the patient reads: a short plain-words summary of an analysis, never a diagnosis.

Conditions, medicines and allergies are listed in full (a patient checks their record against
it); results outside the usual range come with the range and its source; critical results come
first, as emergency advice. Each condition can be linked to a knowledge-base page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from actions.ehr.analyzer import Analysis
from actions.ehr.types import Finding, LabValue

SEMANTIC_TAG = re.compile(r"\s*\((disorder|finding|situation|procedure|morphologic abnormality)\)$")
STATUS_WORDS = {
    "low": "low",
    "high": "high",
    "critical_low": "dangerously low",
    "critical_high": "dangerously high",
}
NOTICE = (
    "This explains what the record says; it isn't a diagnosis. Your doctor or nurse knows the "
    "full picture, so please check anything that worries you with them."
)


@dataclass(frozen=True)
class KbLink:
    title: str
    url: str


class ConditionLinker(Protocol):
    """Finds a knowledge-base page that explains a condition, or None."""

    def link(self, condition: str) -> KbLink | None: ...


@dataclass
class PatientSummary:
    """The lists the patient sees; tests compare them with the record independently."""

    conditions: list[str] = field(default_factory=list)
    past_conditions: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    immunizations: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    out_of_range: list[LabValue] = field(default_factory=list)
    critical: list[LabValue] = field(default_factory=list)
    links: dict[str, KbLink] = field(default_factory=dict)


def clean_label(label: str) -> str:
    """ "Hypertension (disorder)" → "Hypertension"; whitespace folded."""
    return SEMANTIC_TAG.sub("", " ".join(label.split()))


def _unique(labels: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for label in labels:
        cleaned = clean_label(label)
        if cleaned and cleaned.lower() not in seen:
            seen[cleaned.lower()] = cleaned
    return list(seen.values())


def _labels(findings: Iterable[Finding]) -> list[str]:
    return _unique(f.label for f in findings)


def summarise(analysis: Analysis, linker: ConditionLinker | None = None) -> PatientSummary:
    """Sort findings into what the patient needs to see."""
    findings = analysis.findings
    current = [f for f in findings if f.context.asserted and not f.context.historical]
    summary = PatientSummary(
        conditions=_labels(f for f in current if f.kind in ("condition", "disease")),
        past_conditions=_labels(
            f
            for f in findings
            if f.kind == "disease" and f.context.historical and f.context.asserted
        ),
        medications=_labels(f for f in current if f.kind in ("medication", "chemical")),
        allergies=_labels(f for f in findings if f.kind == "allergy" and not f.context.negated),
        immunizations=_labels(f for f in findings if f.kind == "immunization"),
        absent=_labels(f for f in findings if f.kind == "disease" and f.context.negated),
        family=_labels(f for f in findings if f.context.family and not f.context.negated),
        out_of_range=[lab for lab in analysis.labs if lab.status not in ("normal", "unknown")],
        critical=analysis.critical,
    )
    # A condition both in the history and current is listed once, as current.
    current_keys = {label.lower() for label in summary.conditions}
    summary.past_conditions = [
        label for label in summary.past_conditions if label.lower() not in current_keys
    ]
    if linker is not None:
        for condition in summary.conditions:
            link = linker.link(condition)
            if link is not None:
                summary.links[condition] = link
    return summary


def _range_text(lab: LabValue) -> str:
    ref = lab.reference
    if ref is None:
        return ""
    if ref.low is not None and ref.high is not None:
        return f" (usual {ref.low:g}–{ref.high:g} {lab.unit})"
    if ref.high is not None:
        return f" (usual below {ref.high:g} {lab.unit})"
    if ref.low is not None:
        return f" (usual above {ref.low:g} {lab.unit})"
    return ""


def lab_line(lab: LabValue) -> str:
    when = f", {lab.effective[:10]}" if lab.effective else ""
    word = STATUS_WORDS.get(lab.status, lab.status)
    return f"• {lab.name} {lab.value:g} {lab.unit}: {word}{_range_text(lab)}{when}"


def emergency_text(critical: list[LabValue], emergency_number: str) -> str:
    """Critical results first: what to do now, in the emergency reply's words."""
    lines = "\n".join(lab_line(lab) for lab in critical)
    return (
        "⚠️ This record has a result in the danger range:\n"
        f"{lines}\n"
        "If this is a recent result and you haven't already been told what to do, get medical "
        f"help now: call {emergency_number}, or go to the nearest emergency department. If you "
        "feel unwell (chest pain, fainting, trouble breathing, confusion), don't wait."
    )


def _section(title: str, items: list[str]) -> str:
    return f"{title}: " + "; ".join(items) if items else ""


def questions(summary: PatientSummary) -> list[str]:
    """A few concrete questions for the next appointment."""
    asked = [
        f"• What does my {lab.name.lower()} result mean for me, and should it be re-tested?"
        for lab in summary.out_of_range[:3]
    ]
    if summary.medications:
        asked.append("• Are all my medicines still right for me, and how should I take them?")
    if summary.conditions:
        asked.append(
            f"• What should I watch for with {summary.conditions[0].lower()}, "
            "and when should I get help?"
        )
    if not asked:
        asked.append("• Is there anything in this record I should do something about?")
    return asked


def render(summary: PatientSummary, name: str, emergency_number: str) -> list[str]:
    """Chat messages: emergency advice (if any), the summary, the questions and links."""
    messages: list[str] = []
    if summary.critical:
        messages.append(emergency_text(summary.critical, emergency_number))
    body = [
        f"Here's what your record ({name}) says, in plain words.",
        _section("Conditions", summary.conditions),
        _section("Past conditions", summary.past_conditions),
        _section("Medicines", summary.medications),
        _section("Allergies", summary.allergies),
        _section("Vaccinations", summary.immunizations),
        _section("The notes say you don't have", summary.absent),
        _section("Family history", summary.family),
    ]
    if summary.out_of_range:
        body.append(
            "Results outside the usual range:\n" + "\n".join(map(lab_line, summary.out_of_range))
        )
    if len([line for line in body if line]) == 1:
        body.append(
            "I couldn't find conditions, medicines, allergies or test results in it. If it's "
            "a scan or handwriting, please send the text or a FHIR file instead."
        )
    messages.append("\n".join(line for line in body if line))
    tail = ["To ask your doctor:", *questions(summary)]
    for condition, link in summary.links.items():
        tail.append(f"About {condition.lower()}: {link.title} — {link.url}")
    tail.append(NOTICE)
    messages.append("\n".join(tail))
    return messages
