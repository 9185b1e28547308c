"""Reads a FHIR R4 Bundle (Synthea, patient-portal exports) into findings and raw lab values.

Resources are validated one at a time with the R4B models of fhir.resources (8.x ships R5 as
its default, which rejects R4 MedicationRequest/AllergyIntolerance; R4B validates every
Synthea R4 bundle), so one bad resource is skipped with a warning and the rest is still read.
Only the resource types used here are validated; the rest (claims, encounters...) is never
looked at, which keeps multi-MB bundles fast. Warnings name the resource and the field path,
never a value: they reach logs and replies. fhir.resources is imported inside functions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from typing import TYPE_CHECKING, Any

from actions.ehr.types import Finding, Patient, RecordError
from healthbot import jsonsafe

if TYPE_CHECKING:
    from pydantic import ValidationError

USED_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "MedicationRequest",
        "MedicationStatement",
        "Medication",
        "AllergyIntolerance",
        "Observation",
        "Immunization",
    }
)
ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
NOT_TRUE = frozenset({"entered-in-error", "refuted"})
# Proposals and options are not something the patient has been told to take.
ORDER_INTENTS = frozenset(
    {"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"}
)
VOID_OBSERVATION = frozenset({"entered-in-error", "cancelled"})
LOINC = "http://loinc.org"
# Systolic / diastolic, flattened from any panel: Synthea uses 55284-4, newer data 85354-9.
BP_COMPONENTS = frozenset({"8480-6", "8462-4"})
MAX_LISTED = 5
MAX_AGE = 130
GENDERS = frozenset({"male", "female", "other", "unknown"})  # validation does not check codes
MAX_INT_DIGITS = 4000  # below Python's int/str limit, so a 5,000-digit number skips one resource
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
RESOURCE_TYPE = re.compile(r"[A-Za-z]{1,64}")
EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Observation:
    """A raw FHIR observation value, before lab normalisation."""

    resource_id: str  # "Observation/<id>"
    code: str | None  # LOINC code, e.g. "2823-3"
    display: str
    value: float
    unit: str
    effective: str | None  # ISO date-time
    category: str | None  # "laboratory", "vital-signs", ...


@dataclass(frozen=True)
class FhirRecord:
    patient: Patient
    conditions: list[Finding]
    medications: list[Finding]
    allergies: list[Finding]
    immunizations: list[Finding]
    observations: list[Observation]  # the latest value per LOINC code
    warnings: list[str]


@dataclass(frozen=True)
class _Item:
    """A validated resource with the names other resources may use to reference it."""

    ref: str  # "Type/id" or "Type in entry N"
    full_url: str | None
    model: Any


@dataclass
class _Problems:
    """Resources skipped (one sentence at the end) and other warnings (one sentence each)."""

    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        if not self.skipped:
            return list(self.notes)
        return [_skipped_sentence(self.skipped), *self.notes]


def looks_like_fhir(data: dict) -> bool:
    """Whether a parsed JSON object is a FHIR resource of some kind."""
    kind = data.get("resourceType") if isinstance(data, dict) else None
    return isinstance(kind, str) and bool(kind)


def parse_bundle(data: bytes | str | dict, as_of: date | None = None) -> FhirRecord:
    """The record in a FHIR Bundle; ages are at ``as_of`` (default today) or at death."""
    entries = _bundle_entries(_load(data))
    problems = _Problems()
    items, attempted = _validate_entries(entries, problems)
    if attempted and not items:
        raise RecordError(
            f"None of the {attempted} resources in this FHIR Bundle could be read "
            f"({'; '.join(problems.skipped[:MAX_LISTED])})."
        )
    medicines = _medication_index(items)
    record = FhirRecord(
        patient=_patient(_of_type(items, "Patient"), as_of or date.today(), problems),
        conditions=_collect(_of_type(items, "Condition"), _condition, problems),
        medications=_collect(
            _of_type(items, "MedicationRequest", "MedicationStatement"),
            lambda item: _medication(item, medicines),
            problems,
        ),
        allergies=_collect(_of_type(items, "AllergyIntolerance"), _allergy, problems),
        immunizations=_latest_immunizations(_of_type(items, "Immunization"), problems),
        observations=_latest_observations(_of_type(items, "Observation"), problems),
        warnings=[],
    )
    record.warnings.extend(problems.warnings())
    return record


# --- loading and validation -------------------------------------------------------------


def _load(data: bytes | str | dict) -> Any:
    """The parsed JSON; errors give line and column, because exports are edited by hand."""
    if not isinstance(data, (bytes, str)):
        return data  # already parsed
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return jsonsafe.loads(text.lstrip("\ufeff"), parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise RecordError(
            f"This file is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except UnicodeDecodeError:
        raise RecordError("This file is not UTF-8 text, so it cannot be a FHIR record.") from None
    except (RecursionError, jsonsafe.JsonTooDeep):
        raise RecordError("This JSON file is nested too deeply to read.") from None


def _parse_int(text: str) -> int | float:
    """An int; absurdly long digit strings become inf, which validation then rejects."""
    return int(text) if len(text) <= MAX_INT_DIGITS else math.inf


def _bundle_entries(data: Any) -> list[Any]:
    if not looks_like_fhir(data):
        raise RecordError("This JSON file is not a FHIR record (it has no resourceType).")
    kind = data["resourceType"]
    if kind != "Bundle":
        shown = f"'{kind}'" if RESOURCE_TYPE.fullmatch(kind) else "not 'Bundle'"
        raise RecordError(f"This JSON file is not a FHIR Bundle (resourceType is {shown}).")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise RecordError("This FHIR Bundle is damaged: its 'entry' field is not a list.")
    return entries


def _validate_entries(entries: list[Any], problems: _Problems) -> tuple[list[_Item], int]:
    """Validated resources of the used types, and how many entries were tried."""
    items: list[_Item] = []
    attempted = 0
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            attempted += 1
            problems.skipped.append(f"entry {number} (not an object)")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # e.g. a DELETE request entry: nothing to read
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if isinstance(kind, str) and kind not in USED_TYPES:
            continue
        attempted += 1
        ref = _reference_name(resource, number)
        if not isinstance(kind, str):
            problems.skipped.append(f"{ref} (not a FHIR resource)")
            continue
        model = _validate(kind, resource, ref, problems)
        if model is not None:
            full_url = entry.get("fullUrl")
            items.append(_Item(ref, full_url if isinstance(full_url, str) else None, model))
    return items, attempted


def _reference_name(resource: Any, number: int) -> str:
    """``Type/id`` when both look like FHIR names, else the entry number (ids can be junk)."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return f"entry {number}"
    kind, ident = resource["resourceType"], resource.get("id")
    if isinstance(ident, str) and FHIR_ID.fullmatch(ident):
        return f"{kind}/{ident}"
    return f"{kind} in entry {number}"


def _validate(kind: str, resource: dict, ref: str, problems: _Problems) -> Any | None:
    """The model, or None with the reason noted. Any error counts: fhir_core itself raises
    KeyError on some hostile input (a contained resource of an unknown type)."""
    from pydantic import ValidationError

    try:
        return _model_class(kind).model_validate(resource)
    except ValidationError as error:
        problems.skipped.append(f"{ref} ({_reason(error)})")
    except RecursionError:
        problems.skipped.append(f"{ref} (nested too deeply)")
    except Exception:
        problems.skipped.append(f"{ref} (not a valid {kind})")
    return None


@cache
def _model_class(kind: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(kind)


def _reason(error: ValidationError, limit: int = 3) -> str:
    """What is wrong, as field paths only: pydantic's own message would echo the value."""
    reasons: list[str] = []
    for detail in error.errors(include_input=False, include_url=False):
        path = ".".join(
            str(part)
            for part in detail["loc"]
            if isinstance(part, int) or FIELD_NAME.fullmatch(part)
        )
        reason = _reason_text(detail["type"], path)
        if reason not in reasons:
            reasons.append(reason)
    more = len(reasons) - limit
    return ", ".join(reasons[:limit]) + (f" and {more} more" if more > 0 else "")


def _reason_text(kind: str, path: str) -> str:
    if kind == "missing":
        return f"missing {path}".rstrip()
    if kind == "extra_forbidden":
        return f"unknown field {path}".rstrip()
    return f"invalid value for {path}" if path else "conflicting or invalid fields"


def _skipped_sentence(skipped: list[str]) -> str:
    count = len(skipped)
    listed = "; ".join(skipped[:MAX_LISTED])
    more = f"; and {count - MAX_LISTED} more" if count > MAX_LISTED else ""
    noun = "resource" if count == 1 else "resources"
    return f"{count} {noun} could not be read: {listed}{more}."


def _of_type(items: list[_Item], *kinds: str) -> list[_Item]:
    return [item for item in items if item.model.get_resource_type() in kinds]


def _collect(items: list[_Item], read: Any, problems: _Problems) -> list[Finding]:
    """Findings of ``read(item)``, which returns a Finding, None (not current) or a problem."""
    findings: list[Finding] = []
    for item in items:
        result = read(item)
        if isinstance(result, Finding):
            findings.append(result)
        elif isinstance(result, str):
            problems.skipped.append(f"{item.ref} ({result})")
    return findings


# --- codes, dates and statuses ---------------------------------------------------------


def _label(concept: Any) -> str | None:
    """``text``, else the first coding's display, else its code."""
    if concept is None:
        return None
    codings = concept.coding or []
    candidates = [concept.text, *(c.display for c in codings), *(c.code for c in codings)]
    return next((text for text in map(_clean, candidates) if text), None)


def _clean(text: str | None) -> str:
    """One-line text without zero-width spaces, which Synthea puts in LOINC names."""
    return " ".join(ZERO_WIDTH.sub("", text).split()) if text else ""


def _system_code(concept: Any) -> str | None:
    """``system|code`` of the first coding that has a code."""
    for coding in (concept.coding or []) if concept is not None else []:
        if coding.code:
            return f"{coding.system}|{coding.code}" if coding.system else coding.code
    return None


def _loinc(concept: Any) -> str | None:
    for coding in (concept.coding or []) if concept is not None else []:
        if coding.system == LOINC and coding.code:
            return coding.code
    return None


def _codes(concept: Any) -> set[str]:
    return {coding.code for coding in (concept.coding or []) if coding.code} if concept else set()


def _instant(value: Any) -> datetime | None:
    """A comparable UTC-aware moment for a FHIR date, dateTime or partial date ("2012-09")."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        parts = value.split("-")
        try:
            return datetime(
                int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, 1, tzinfo=timezone.utc
            )
        except (ValueError, IndexError):
            return None
    return None


def _iso(value: Any) -> str | None:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value if isinstance(value, str) else None


def _day(value: Any) -> str | None:
    """The date part: detail strings say "2012-09-10", not a time of day."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return _iso(value)


# --- patient ----------------------------------------------------------------------------


def _patient(items: list[_Item], as_of: date, problems: _Problems) -> Patient:
    if not items:
        return Patient()
    if len(items) > 1:  # mixing two people's findings into one summary would be unsafe
        raise RecordError(
            f"This FHIR Bundle holds records of {len(items)} patients. Please send one "
            "patient's record at a time."
        )
    model = items[0].model
    end = _death_date(model, as_of)
    born = _instant(model.birthDate)
    age = _age(born.date(), end) if born and end else None
    if age is not None and not 0 <= age <= MAX_AGE:
        problems.notes.append(
            f"{items[0].ref}: the birth date gives an impossible age; age left out."
        )
        age = None
    return Patient(age=age, sex=model.gender if model.gender in GENDERS else None)


def _death_date(model: Any, as_of: date) -> date | None:
    """Age is counted to death; a death with no date leaves the age unknown."""
    died = _instant(model.deceasedDateTime)
    if died is not None:
        return died.date()
    return None if model.deceasedBoolean else as_of


def _age(born: date, end: date) -> int:
    return end.year - born.year - ((end.month, end.day) < (born.month, born.day))


# --- conditions, medications, allergies, immunizations ---------------------------------


def _condition(item: _Item) -> Finding | str | None:
    model = item.model
    current = bool(_codes(model.clinicalStatus) & ACTIVE_CONDITION) and not _abated(model)
    onset = model.onsetDateTime or (model.onsetPeriod.start if model.onsetPeriod else None)
    return _coded_finding(item, "condition", current, _day(onset) or model.onsetString)


def _coded_finding(
    item: _Item, kind: str, current: bool, detail: str | None
) -> Finding | str | None:
    """A current, not refuted resource with a code as a finding; "missing code" if it has none."""
    model = item.model
    if not current or _codes(model.verificationStatus) & NOT_TRUE:
        return None
    label = _label(model.code)
    if label is None:
        return "missing code"
    return Finding(
        kind=kind,  # type: ignore[arg-type]
        label=label,
        source=item.ref,
        code=_system_code(model.code),
        detail=detail,
    )


def _abated(model: Any) -> bool:
    names = ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange")
    return any(getattr(model, name) is not None for name in (*names, "abatementString"))


def _medication_index(items: list[_Item]) -> dict[str, Any]:
    """Medication resources by every name a reference may use: Type/id and fullUrl."""
    index: dict[str, Any] = {}
    for item in _of_type(items, "Medication"):
        index[item.ref] = item.model
        if item.full_url:
            index[item.full_url] = item.model
    return index


def _medication(item: _Item, medicines: dict[str, Any]) -> Finding | str | None:
    model = item.model
    statement = model.get_resource_type() == "MedicationStatement"
    if model.status != "active" or (not statement and model.intent not in ORDER_INTENTS):
        return None
    concept = model.medicationCodeableConcept or _referenced_code(model, medicines)
    reference = model.medicationReference
    label = _label(concept) or _clean(reference.display if reference else None)
    if not label:
        return "medication not found in the bundle"
    dosages = model.dosage if statement else model.dosageInstruction
    texts = [_clean(dose.text) for dose in dosages or [] if _clean(dose.text)]
    return Finding(
        kind="medication",
        label=label,
        source=item.ref,
        code=_system_code(concept),
        detail="; ".join(texts) or None,
    )


def _referenced_code(model: Any, medicines: dict[str, Any]) -> Any:
    """The code of a contained (``#id``) or bundled Medication the order points at."""
    reference = model.medicationReference.reference if model.medicationReference else None
    if not reference:
        return None
    if reference.startswith("#"):
        contained = (r for r in model.contained or [] if r.get_resource_type() == "Medication")
        medicine = next((r for r in contained if r.id == reference[1:]), None)
    else:
        medicine = medicines.get(reference) or medicines.get(_tail(reference))
    return medicine.code if medicine is not None else None


def _tail(reference: str) -> str:
    """``Medication/123`` from an absolute ``https://server/fhir/Medication/123``."""
    return "/".join(reference.rstrip("/").split("/")[-2:])


def _allergy(item: _Item) -> Finding | str | None:
    model = item.model
    current = model.clinicalStatus is None or "active" in _codes(model.clinicalStatus)
    detail = ", ".join(_unique(_manifestations(model))) or None
    return _coded_finding(item, "allergy", current, detail)


def _manifestations(model: Any) -> Iterator[str]:
    for reaction in model.reaction or []:
        for concept in reaction.manifestation or []:
            label = _label(concept)
            if label:
                yield label


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _latest_immunizations(items: list[_Item], problems: _Problems) -> list[Finding]:
    """One finding per vaccine, the latest dose: what a reader asks is "when was my last"."""
    latest: dict[str, tuple[datetime, Finding]] = {}
    for item in items:
        model = item.model
        if model.status != "completed":
            continue
        label = _label(model.vaccineCode)
        if label is None:
            problems.skipped.append(f"{item.ref} (missing vaccineCode)")
            continue
        code = _system_code(model.vaccineCode)
        when = _instant(model.occurrenceDateTime) or EPOCH
        finding = Finding(
            kind="immunization",
            label=label,
            source=item.ref,
            code=code,
            detail=_day(model.occurrenceDateTime) or model.occurrenceString,
        )
        key = code or label
        if key not in latest or when >= latest[key][0]:
            latest[key] = (when, finding)
    return sorted((finding for _, finding in latest.values()), key=lambda f: f.label.lower())


# --- observations -----------------------------------------------------------------------


def _latest_observations(items: list[_Item], problems: _Problems) -> list[Observation]:
    """The latest numeric value per LOINC code (per name when there is no LOINC code)."""
    latest: dict[str, tuple[datetime, Observation]] = {}
    for item in items:
        if item.model.status in VOID_OBSERVATION:
            continue
        when = _instant(_effective(item.model)) or EPOCH
        for observation in _observation_values(item, problems):
            key = observation.code or f"name:{observation.display}"
            if key not in latest or when >= latest[key][0]:
                latest[key] = (when, observation)
    return [observation for _, observation in latest.values()]


def _effective(model: Any) -> Any:
    if model.effectiveDateTime is not None:
        return model.effectiveDateTime
    if model.effectiveInstant is not None:
        return model.effectiveInstant
    return model.effectivePeriod.start if model.effectivePeriod else None


def _observation_values(item: _Item, problems: _Problems) -> list[Observation]:
    """The observation's own quantity, plus blood-pressure components as their own values."""
    model = item.model
    parts: list[tuple[str, Any, Any]] = [("valueQuantity", model.code, model.valueQuantity)]
    for number, component in enumerate(model.component or []):
        if _loinc(component.code) in BP_COMPONENTS:
            path = f"component.{number}.valueQuantity"
            parts.append((path, component.code, component.valueQuantity))
    values: list[Observation] = []
    for path, concept, quantity in parts:
        if quantity is None or quantity.value is None:
            continue
        value = float(quantity.value)
        if not math.isfinite(value):
            problems.skipped.append(f"{item.ref} (invalid value for {path}.value)")
            continue
        values.append(_observation(item, concept, quantity, value))
    return values


def _observation(item: _Item, concept: Any, quantity: Any, value: float) -> Observation:
    model = item.model
    codings = (coding for concept in model.category or [] for coding in concept.coding or [])
    category = next((coding.code for coding in codings if coding.code), None)
    return Observation(
        resource_id=item.ref,
        code=_loinc(concept),
        display=_label(concept) or "Unnamed observation",
        value=value,
        unit=quantity.unit or quantity.code or "",
        effective=_iso(_effective(model)),
        category=category,
    )
