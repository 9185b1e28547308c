"""Shared value types of the EHR analyzer: what each stage hands to the next.

Offsets are character offsets into the text the finding came from; FHIR findings carry the
resource id instead (``source = "Condition/abc"``) and no offsets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FindingKind = Literal[
    "condition", "medication", "allergy", "immunization", "disease", "chemical", "problem"
]
LabStatus = Literal["low", "normal", "high", "critical_low", "critical_high", "unknown"]


class RecordError(ValueError):
    """A record the analyzer cannot read; the message is safe to show to the patient."""


@dataclass(frozen=True)
class ContextFlags:
    """ConText modifiers of a mention; all False means a plain, current, asserted mention."""

    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    uncertain: bool = False

    @property
    def asserted(self) -> bool:
        """A current finding about the patient (not negated/hypothetical/family/uncertain)."""
        return not (self.negated or self.hypothetical or self.family or self.uncertain)

    def names(self) -> list[str]:
        return [name for name, value in asdict(self).items() if value]


@dataclass(frozen=True)
class Finding:
    """One thing the record says: a condition, medicine, allergy, immunization or NER mention."""

    kind: FindingKind
    label: str
    source: str  # "text" or "<ResourceType>/<id>"
    start: int | None = None
    end: int | None = None
    confidence: float = 1.0
    context: ContextFlags = field(default_factory=ContextFlags)
    section: str | None = None
    code: str | None = None  # "system|code" for FHIR codings
    detail: str | None = None  # e.g. dosage text, allergy reaction, onset date

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["context"] = self.context.names()
        return data


@dataclass(frozen=True)
class Range:
    """An adult reference interval in the canonical unit, with the source that states it."""

    low: float | None
    high: float | None
    critical_low: float | None
    critical_high: float | None
    unit: str
    citation: str


@dataclass(frozen=True)
class LabValue:
    """A measured value normalised to the canonical unit and compared with its range."""

    test: str  # canonical key, e.g. "potassium", "systolic_bp"
    name: str  # plain-language name, e.g. "Potassium"
    value: float
    unit: str  # canonical unit
    raw: str  # as written in the record (text span or "7.1 mmol/L" from FHIR)
    status: LabStatus
    source: str  # "text" or "Observation/<id>"
    start: int | None = None
    end: int | None = None
    effective: str | None = None  # ISO date-time for FHIR observations
    reference: Range | None = None

    @property
    def critical(self) -> bool:
        return self.status in ("critical_low", "critical_high")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Patient:
    age: int | None = None
    sex: str | None = None  # FHIR administrative gender


@dataclass(frozen=True)
class Section:
    """A note section such as ``past_medical_history`` spanning [start, end) of the text."""

    name: str
    title: str
    start: int
    end: int
