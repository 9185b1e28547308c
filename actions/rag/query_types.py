"""What kind of answer a question asks for, matched against section headings.

MedQuAD (and most patient leaflets) organise a condition's page by question type: symptoms,
causes, treatment, inheritance, how common it is… Patients rarely use those words ("could I have
got it from my mum", "which gene"), so the lay patterns below map a question to the types, and
the retriever prefers sections whose heading has that type. `bench/kb_eval.py` measures it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_QUESTION_PATTERNS: dict[str, str] = {
    "genetic changes": r"\bgenes?\b|\bgenetic\b|\bmutations?\b|\bdna\b|\bchromosom",
    "inheritance": (
        r"\binherit|\bpass(ed)? (it )?(on|down)\b|\bruns? in (the )?famil|\b(get|got) it from\b"
        r"|\bfrom (my|her|his) (mom|mum|mother|dad|father|parents?)\b|\bhereditary\b"
    ),
    "frequency": r"\bhow (common|rare|many people|often)\b|\bhow many (people|kids|children)\b"
    r"|\bprevalen",
    "symptoms": r"\bsymptoms?\b|\bsigns?\b|\bwhat happens\b|\bhow does it affect\b"
    r"|\bwhat (should|to) (we|i) expect\b",
    "treatment": r"\btreat|\bcure\b|\btherap|\bmedicines? for\b|\bwhat (can|should) i do\b"
    r"|\bmanag(e|ing)\b",
    "causes": r"\bcaus|\bwhy (do|does|did)\b|\bwhat makes\b",
    "exams and tests": r"\btests?\b|\bdiagnos|\bcheck (for|if)\b|\bscreen",
    "outlook": r"\boutlook\b|\bprognos|\bchances\b|\blife expectancy\b"
    r"|\bwill i (die|get better|recover)\b",
    "prevention": r"\bprevent|\bavoid\b|\breduce (my|the) risk\b",
    "susceptibility": r"\bwho (gets|is at risk)\b|\brisk factors?\b|\bat risk\b",
}
_HEADING_PATTERNS: dict[str, str] = {
    "genetic changes": r"genetic changes",
    "inheritance": r"\binherited\b",
    "frequency": r"how many people are affected",
    "symptoms": r"symptoms",
    "treatment": r"treatments?\b",
    "causes": r"what causes|\bcauses\b",
    "exams and tests": r"diagnos|exams and tests|tests? for",
    "outlook": r"outlook",
    "prevention": r"prevent",
    "susceptibility": r"who is at risk|at risk",
}
_QUESTION = {kind: re.compile(p, re.IGNORECASE) for kind, p in _QUESTION_PATTERNS.items()}
_HEADING = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _HEADING_PATTERNS.items()]


def question_types(question: str) -> frozenset[str]:
    """Every type the question's wording points at (often none)."""
    return frozenset(kind for kind, pattern in _QUESTION.items() if pattern.search(question))


@lru_cache(maxsize=65536)
def heading_type(heading: str) -> str | None:
    """The first type a section heading names, or None (e.g. a clinic's own headings)."""
    return next((kind for kind, pattern in _HEADING if pattern.search(heading)), None)
