"""The EHR analyzer: record in, findings out (conditions, medicines, allergies, labs, context).

Free text goes through the BERT NER model, then ConText (negated, historical, hypothetical,
family, uncertain) and section detection, plus the lab/vital extractor; FHIR bundles are read
resource by resource. Models load once (``warm_up``); many records are analysed in one batched
NER pass (``analyze_many``), which is what the clinic CLI and the throughput benchmark use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actions.ehr import labs as L
from actions.ehr.readers import RecordInput
from actions.ehr.types import Finding, LabValue, Patient, Section

if TYPE_CHECKING:
    from actions.ehr.context import ContextAnnotator
    from actions.ehr.ner import Mention, NerModel

SCHEMA = "healthbot.ehr.analysis/v1"
ADULT_AGE = 18
# Critical limits that hold for children too (heart rate, breathing rate and blood pressure don't).
AGE_INDEPENDENT_CRITICAL = frozenset(
    {"potassium", "sodium", "glucose", "spo2", "temperature", "haemoglobin"}
)
# Lab analytes and body substances BC5CDR tags as Chemical; in a note they are results, not
# medicines, and the lab extractor reports them with their values.
# fmt: off
NOT_MEDICINES = frozenset((
    "potassium", "sodium", "glucose", "cholesterol", "ldl", "hdl", "triglycerides",
    "triglyceride", "hemoglobin", "haemoglobin", "creatinine", "oxygen", "o2", "calcium",
    "chloride", "bicarbonate", "urea", "bun", "albumin", "bilirubin", "magnesium", "phosphorus",
    "iron", "ferritin", "lactate", "troponin", "a1c", "hba1c", "water", "alcohol", "nicotine",
    "tobacco", "urine", "blood",
))
# fmt: on
AGE = re.compile(r"\b(\d{1,3})[- ](years?|yrs?|months?|weeks?|days?)[- ]old\b", re.I)
DOCTOR = re.compile(r"\b(dr|doctor|prof)\.?\s*$", re.I)
HEADING_START = re.compile(r"(^|[\n.,;])[ \t]*$")
ALLERGY_CUE = re.compile(r"\b(allerg\w*|intoleran\w*|reaction to|nkda)\b[^.\n]{0,40}$", re.I)


@dataclass
class Analysis:
    """Everything found in one record; ``to_json`` is the clinic's view."""

    name: str
    source_kind: str
    patient: Patient | None = None
    findings: list[Finding] = field(default_factory=list)
    labs: list[LabValue] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def critical(self) -> list[LabValue]:
        return [lab for lab in self.labs if lab.critical]

    def of_kind(self, *kinds: str, asserted: bool = True) -> list[Finding]:
        """Findings of these kinds, current and about the patient unless ``asserted=False``."""
        return [
            f
            for f in self.findings
            if f.kind in kinds
            and (not asserted or (f.context.asserted and not f.context.historical))
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "record": self.name,
            "source": self.source_kind,
            "patient": None if self.patient is None else vars(self.patient),
            "findings": [f.to_json() for f in self.findings],
            "labs": [lab.to_json() for lab in self.labs],
            "critical": [lab.test for lab in self.critical],
            "sections": [vars(s) for s in self.sections],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


class EhrAnalyzer:
    """Loads the NER model and the ConText pipeline once; analyses many records."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        batch_size: int = 8,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self.backend = backend
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self._ner: NerModel | None = None
        self._context: ContextAnnotator | None = None

    @property
    def ner(self) -> NerModel:
        if self._ner is None:
            from actions.ehr.ner import NerModel

            self._ner = NerModel(
                self.model_dir, self.device, self.backend, cache_dir=self.cache_dir
            )
        return self._ner

    @property
    def context(self) -> ContextAnnotator:
        if self._context is None:
            from actions.ehr.context import ContextAnnotator

            self._context = ContextAnnotator()
        return self._context

    def warm_up(self) -> None:
        """Load both models and run a tiny note so the first patient does not wait."""
        self.analyze(RecordInput("text", "warm-up", text="Denies chest pain. K 4.1."))

    def analyze(self, record: RecordInput) -> Analysis:
        return self.analyze_many([record])[0]

    def analyze_many(self, records: Sequence[RecordInput]) -> list[Analysis]:
        """One NER pass over every text record (batched by length across records)."""
        started = time.perf_counter()
        texts = [r.text for r in records if r.kind == "text"]
        mentions = iter(self.ner.mentions(texts, self.batch_size) if texts else [])
        results = []
        for record in records:
            if record.kind == "fhir":
                results.append(self._fhir(record))
            else:
                results.append(self._text(record, next(mentions)))
        seconds = (time.perf_counter() - started) / max(1, len(records))
        for result in results:
            result.seconds = seconds
        return results

    def _text(self, record: RecordInput, mentions: list[Mention]) -> Analysis:
        text = record.text
        labs = L.extract_from_text(text)
        lab_spans = [(lab.start or 0, lab.end or 0) for lab in labs]
        kept = [m for m in mentions if _is_finding(m, text, lab_spans)]
        annotated = self.context.annotate(text, [(m.start, m.end, m.label) for m in kept])
        findings = [
            Finding(
                kind=_kind(mention, section, text),
                label=mention.text,
                source="text",
                start=mention.start,
                end=mention.end,
                confidence=mention.confidence,
                context=flags,
                section=section,
            )
            for mention, (flags, section) in zip(kept, annotated, strict=True)
        ]
        age, warnings = age_in_text(text), []
        return Analysis(
            record.name,
            "text",
            patient=None if age is None else Patient(age=age),
            findings=findings,
            labs=_for_age(labs, age, warnings),
            sections=self.context.sections(text),
            warnings=warnings,
        )

    def _fhir(self, record: RecordInput) -> Analysis:
        from actions.ehr.fhir import parse_bundle

        bundle = parse_bundle(record.bundle or {})
        sex = bundle.patient.sex
        labs = [
            lab
            for o in bundle.observations
            if (
                lab := L.from_observation(
                    o.code,
                    o.display,
                    o.value,
                    o.unit,
                    resource_id=o.resource_id,
                    effective=o.effective,
                    sex=sex,
                )
            )
            is not None
        ]
        warnings = list(bundle.warnings)
        labs = _for_age(labs, bundle.patient.age, warnings)
        findings = [
            *bundle.conditions,
            *bundle.medications,
            *bundle.allergies,
            *bundle.immunizations,
        ]
        return Analysis(
            record.name,
            "fhir",
            patient=bundle.patient,
            findings=findings,
            labs=labs,
            warnings=warnings,
        )


def age_in_text(text: str) -> int | None:
    """The patient's age as a note states it ("an 11-year-old male", "6-month-old"), if it does."""
    match = AGE.search(text[:3000])
    if match is None:
        return None
    return int(match.group(1)) if match.group(2).lower().startswith(("y", "yr")) else 0


def _for_age(labs: list[LabValue], age: int | None, warnings: list[str]) -> list[LabValue]:
    """The reference table holds adult ranges: a child's values are listed without a judgement,
    except dangerous values of tests whose critical limits do not depend on age."""
    if age is None or age >= ADULT_AGE or not labs:
        return labs
    warnings.append("The patient is under 18: results are listed without adult ranges.")
    return [
        lab
        if lab.critical and lab.test in AGE_INDEPENDENT_CRITICAL
        else replace(lab, status="unknown", reference=None)
        for lab in labs
    ]


def _is_finding(mention: Mention, text: str, lab_spans: list[tuple[int, int]]) -> bool:
    """Drops what the model tags that is not a finding: results, titles, names, stray letters."""
    if sum(ch.isalpha() for ch in mention.text) < 2:
        return False  # "Y" in "Dr. Y", "K" of a lab
    if DOCTOR.search(text[max(0, mention.start - 5) : mention.start]):
        return False  # "Dr. Parkinson" is a person
    return not _is_result(mention, lab_spans) and not _is_heading(mention, text)


def _is_result(mention: Mention, lab_spans: list[tuple[int, int]]) -> bool:
    """A Chemical that is a measured analyte ("potassium 6.8") rather than a medicine."""
    if mention.label != "Chemical":
        return False
    if mention.text.lower().strip(" +") in NOT_MEDICINES:
        return True
    return any(mention.start < end and start < mention.end for start, end in lab_spans)


def _is_heading(mention: Mention, text: str) -> bool:
    """A section title the model read as a finding ("ALLERGIES: penicillin")."""
    after = text[mention.end : mention.end + 3].lstrip(" \t")
    before = text[max(0, mention.start - 3) : mention.start]
    return after.startswith(":") and HEADING_START.search(before) is not None


def _kind(mention: Mention, section: str | None, text: str) -> str:
    if mention.label == "Disease":
        return "disease"
    before = text[max(0, mention.start - 60) : mention.start]
    if section == "allergies" or ALLERGY_CUE.search(before):
        return "allergy"
    return "chemical"
