#!/usr/bin/env python3
"""Generate the Rasa 3.6 NLU training data of the health assistant.

Deterministic (fixed seed). Inputs:
  scripts/nlu_data/lexicon.yml        entity lexicon (surface forms -> canonical values)
  scripts/nlu_data/seeds/<intent>.txt  hand-written examples, one per line (plain text)
  ../shared/data (read-only)            medical-speech-intent dev phrases, MTS-Dialog patient
                                       turns, symptom-disease vocabulary, MedQuAD focus terms
Outputs (overwritten):
  nlu/data/nlu/<intent>.yml            one file per intent
  nlu/data/synonyms.yml                from the lexicon (surface != canonical)
  nlu/data/regexes.yml                 duration and severity regexes
  nlu/data/lookups/<entity>.yml        symptom, body_part, condition, medication

Entity annotation is automatic: every surface form of the lexicon, every duration
expression and every "N/10" severity found in an example of an entity-bearing intent
is marked (longest match wins), so annotation is consistent by construction.

Safety split: examples of every intent other than `emergency` are checked against a
red-flag pattern list; generated items that hit it are dropped, hand-written ones make
the script fail (ask_health_info may hold a handful of hypothetical questions).

Usage (from the repository root):
  python3 scripts/nlu_data/generate_nlu.py [--shared ../shared/data]
(`--shared` defaults to the `shared/data` folder beside the repository checkout.)
"""

from __future__ import annotations

import argparse
import csv
import glob
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml

SEED = 20240606
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT_NLU = ROOT / "nlu" / "data" / "nlu"
OUT_DATA = ROOT / "nlu" / "data"
# read-only shared data sets, beside the repository checkout (../shared/data)
DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

T = TypeVar("T")
# entity -> canonical value -> surface forms (lexicon.yml)
Lexicon = dict[str, dict[str, list[str]]]
# surface form -> (entity, canonical value)
Surfaces = dict[str, tuple[str, str]]
# (start, end, entity) of an annotated span
Span = tuple[int, int, str]

INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "ask_capabilities",
    "report_symptom",
    "ask_health_info",
    "ask_medication_info",
    "emergency",
    "check_photo",
    "analyze_record",
    "request_human",
    "forget_me",
    "out_of_scope",
    "inform",
    "stop",
]
ENTITY_INTENTS = {
    "report_symptom",
    "inform",
    "emergency",
    "ask_health_info",
    "ask_medication_info",
    "check_photo",
    "analyze_record",
}
TARGETS = {
    "report_symptom": 520,
    "inform": 250,
    "emergency": 230,
    "ask_health_info": 210,
    "ask_medication_info": 190,
    "check_photo": 95,
    "analyze_record": 95,
    "request_human": 80,
    "forget_me": 72,
    "out_of_scope": 150,
    "bot_challenge": 70,
    "ask_capabilities": 75,
    "stop": 68,
    "greet": 40,
    "goodbye": 40,
    "thank": 40,
    "affirm": 50,
    "deny": 49,
}

# ---------------------------------------------------------------- durations / severity
NUMW = (
    r"(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|a couple of|a couple|couple of|a few|few|several|half an?)"
)
UNIT = r"(?:mins?|minutes?|hrs?|hours?|days?|nights?|wks?|weeks?|months?|yrs?|years?)"
DAYS = (
    r"(?:yesterday|last night|this morning|this afternoon|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|the weekend|last week|last month|last year|christmas|"
    r"friday night|saturday night|sunday night|i woke up|the start of the month|the morning)"
)
DURATION_RE = re.compile(
    rf"\b(?:{NUMW}(?:\s*(?:-|to|or)\s*{NUMW})?[\s-]*{UNIT}(?![\s-]*old)(?:\s+ago)?"
    rf"|a fortnight|since {DAYS})\b",
    re.I,
)
DURATION_BAD_BEFORE = re.compile(r"(?:twice|once|times|per|every|x|a)\s*$", re.I)
SEVERITY_NUM_RE = re.compile(r"\b(?:10|[0-9])\s*(?:/|out of)\s*10\b", re.I)

# regexes.yml (Python `re`, used by RegexFeaturizer / RegexEntityExtractor)
REGEX_YML = {
    "duration": [
        (
            r"\b\d+\s?(?:-|to|or)?\s?\d*\s?"
            r"(?:mins?|minutes?|hrs?|hours?|days?|nights?|wks?|weeks?|months?|yrs?|years?)"
            r"\b(?!\s?old)"
        ),
        (
            r"\b(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few|several)"
            r"\s(?:hours?|days?|nights?|weeks?|months?|years?)\b(?!\s?old)"
        ),
        r"\ba fortnight\b",
        (
            r"\bsince (?:yesterday|last night|this morning|monday|tuesday|wednesday|thursday|"
            r"friday|saturday|sunday|the weekend|last week|last month)\b"
        ),
    ],
    "severity": [
        r"\b(?:10|[0-9])\s?(?:/|out of)\s?10\b",
    ],
}

# ---------------------------------------------------------------- red flags
RF_CORE = [
    r"\bchest\b",
    r"breath",
    r"\bfaint",
    r"\bpass(?:ed|ing)? out\b",
    r"\bblack(?:ed)? out\b",
    r"unconscious",
    r"unresponsive",
    r"collaps",
    r"suicid",
    r"kill (?:my|him|her|them)sel",
    r"end (?:it all|my life)",
    r"self[- ]?harm",
    r"hurt(?:ing)? myself",
    r"want to die",
    r"\bstroke\b",
    r"droop",
    r"slur",
    r"\bnumb(?:ness)?\b",
    r"\bweak",
    r"paraly",
    r"seizure",
    r"convuls",
    r"\bfit\b",
    r"\bfitting\b",
    r"chok",
    r"poison",
    r"overdose",
    r"too many (?:pills|tablets)",
    r"swallowed",
    r"head injury",
    r"(?:hit|banged|bumped) (?:my|his|her) head",
    r"worst (?:headache|pain)",
    r"sudden",
    r"blue lips",
    r"lips.*blue",
    r"turning blue",
    r"\bjaw\b",
    r"confus",
    r"heart attack",
    r"\bheart (?:hurts|pain)",
    r"not breathing",
    r"(?:can't|cant|won't|wont) wake",
    r"ambulance",
    r"palpitation",
    r"heart (?:is )?racing",
    r"(?:can't|cant) stop (?:vomiting|throwing up|being sick)",
    r"\bcrash\b",
    r"\bburn(?:s|ed|t)?\b",
    r"disorient",
    r"\bbleeding\b(?! gums)",
    r"(?:cough|vomit|throw)\w* (?:up )?blood",
    r"can'?t (?:stand|walk)",
    r"\bfall(?:s|ing)? down\b",
    r"\bfell\b",
    r"out of sight",
    r"seeing objects",
    r"respirator",
    r"deeply",
    r"shard",
    r"tongue is swollen",
    r"swollen tongue",
    r"throat (?:is )?swelling",
    r"can'?t think",
]
# shared-data phrases left out by hand (off-topic, garbled, historic or not a symptom report)
SEED_DROP = {
    "is pimples a skin disease?",
    "what's the symptoms of appendicitis?",
    "there is an injured person",
    "laceration, rupture or opening in the skin",
    "chronic bone disease at the level of the doubles of the lower estremidades",
    "my grandmother last year went to hospital because she was having a hard time breathing",
    (
        "my husband left me for another woman, "
        "my heart hurts so badly to the point i can't eat or sleep"
    ),
    "yeah, i have chronic diarrhea, and c o p d",
    "man, what a night",
    "i've been coughing up a storm. it's gotten to be way too enlarged",
}
RF_STRICT = [
    *RF_CORE,
    r"\bblood\b(?! pressure| sugar| test)",
    r"\bbleed",
    r"emergency",
    r"accident",
    r"\bbroke",
    r"fracture",
]
RF_CORE_RE = re.compile("|".join(RF_CORE), re.I)
RF_STRICT_RE = re.compile("|".join(RF_STRICT), re.I)
STRICT_INTENTS = {"report_symptom", "inform", "check_photo"}
HEALTH_INFO_RF_ALLOWANCE = 10


def red_flag(intent: str, text: str) -> bool:
    if intent == "emergency":
        return False
    rx = RF_STRICT_RE if intent in STRICT_INTENTS else RF_CORE_RE
    return bool(rx.search(text))


# ---------------------------------------------------------------- lexicon + annotation
def load_lexicon() -> tuple[Lexicon, Surfaces, set[str]]:
    lex = yaml.safe_load((HERE / "lexicon.yml").read_text(encoding="utf-8"))
    train_only = set(lex.pop("train_only"))
    surfaces: Surfaces = {}  # surface -> (entity, canonical)
    for entity, values in lex.items():
        for canonical, forms in values.items():
            for form in [canonical, *forms]:
                form = str(form).lower()
                prev = surfaces.get(form)
                if prev and prev != (entity, canonical):
                    sys.exit(f"lexicon conflict: {form!r} -> {prev} and {(entity, canonical)}")
                surfaces[form] = (entity, str(canonical))
    return lex, surfaces, train_only


BACK_OK_BEFORE = re.compile(
    r"(?:my|me|his|her|their|the|your|whole|upper|lower|on my|in my|of my)\s+$", re.I
)


class Annotator:
    def __init__(self, surfaces: Surfaces) -> None:
        self.surfaces = surfaces
        forms = sorted(surfaces, key=len, reverse=True)
        self.rx = re.compile(
            r"(?<![\w'-])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w-])", re.I
        )

    def spans(self, text: str) -> list[Span]:
        cands: list[Span] = []
        for m in DURATION_RE.finditer(text):
            if DURATION_BAD_BEFORE.search(text[: m.start()]) and not m.group(0).lower().startswith(
                "since"
            ):
                continue
            cands.append((m.start(), m.end(), "duration"))
        for m in SEVERITY_NUM_RE.finditer(text):
            cands.append((m.start(), m.end(), "severity"))
        # overlapping lexicon search: try each start position
        pos = 0
        while pos < len(text):
            m = self.rx.search(text, pos)
            if not m:
                break
            surf = m.group(0).lower()
            ent = self.surfaces[surf][0]
            ok = True
            if surf == "back" and not BACK_OK_BEFORE.search(text[: m.start()]):
                ok = False
            if ok:
                cands.append((m.start(), m.end(), ent))
            pos = m.start() + 1
        cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        chosen: list[Span] = []
        for c in cands:
            if all(c[1] <= d[0] or c[0] >= d[1] for d in chosen):
                chosen.append(c)
        return sorted(chosen)

    def annotate(self, text: str) -> str:
        out, last = [], 0
        for s, e, ent in self.spans(text):
            out.append(text[last:s])
            out.append(f"[{text[s:e]}]({ent})")
            last = e
        out.append(text[last:])
        return "".join(out)


# ---------------------------------------------------------------- noise
TYPO = {
    "really": ["realy", "rly"],
    "because": ["cos", "becuase"],
    "please": ["pls", "plz"],
    "you": ["u"],
    "have": ["hav"],
    "since": ["sinse"],
    "morning": ["mornin"],
    "been": ["bin"],
    "think": ["thnk"],
    "about": ["abt"],
    "what": ["wat"],
    "with": ["wiht"],
    "tonight": ["tonite"],
    "and": ["n", "&"],
    "my": ["me"],
    "the": ["teh"],
    "just": ["jst"],
}


def noisy(rng: random.Random, text: str, p: float = 0.25) -> str:
    """Light, deterministic noise on template words (never inside slot values)."""
    if rng.random() > p:
        return text
    words = text.split(" ")
    for i, w in enumerate(words):
        if "{" in w:
            continue
        if w in TYPO and rng.random() < 0.35:
            words[i] = rng.choice(TYPO[w])
    t = " ".join(words)
    if rng.random() < 0.6:
        t = t.replace("'", "")
    return t


EMOJI = [" 😷", " 😩", " 🤒", " 😣", " 🤢", " 😢", " 🙁", " :(", " !!", "..."]


# ---------------------------------------------------------------- slot vocab
SYM = [  # (with article / as object of "i have", bare)
    ("a headache", "headache"),
    ("a sore throat", "sore throat"),
    ("a cough", "cough"),
    ("a dry cough", "dry cough"),
    ("a runny nose", "runny nose"),
    ("a blocked nose", "blocked nose"),
    ("a stuffy nose", "stuffy nose"),
    ("a fever", "fever"),
    ("a temperature", "temperature"),
    ("a high temperature", "high temperature"),
    ("a rash", "rash"),
    ("an itchy rash", "itchy rash"),
    ("back pain", "back pain"),
    ("lower back pain", "lower back pain"),
    ("a tummy ache", "tummy ache"),
    ("stomach ache", "stomach ache"),
    ("belly ache", "belly ache"),
    ("diarrhoea", "diarrhoea"),
    ("diarrhea", "diarrhea"),
    ("the runs", "the runs"),
    ("nausea", "nausea"),
    ("constipation", "constipation"),
    ("heartburn", "heartburn"),
    ("indigestion", "indigestion"),
    ("bloating", "bloating"),
    ("stomach cramps", "stomach cramps"),
    ("period pain", "period pain"),
    ("earache", "earache"),
    ("an ear ache", "ear ache"),
    ("itchy eyes", "itchy eyes"),
    ("watery eyes", "watery eyes"),
    ("red eyes", "red eyes"),
    ("toothache", "toothache"),
    ("a sprained ankle", "sprained ankle"),
    ("a twisted ankle", "twisted ankle"),
    ("knee pain", "knee pain"),
    ("a dodgy knee", "dodgy knee"),
    ("neck pain", "neck pain"),
    ("a stiff neck", "stiff neck"),
    ("shoulder pain", "shoulder pain"),
    ("joint pain", "joint pain"),
    ("achy joints", "achy joints"),
    ("muscle aches", "muscle aches"),
    ("body aches", "body aches"),
    ("pins and needles", "pins and needles"),
    ("tingling", "tingling"),
    ("dizziness", "dizziness"),
    ("insomnia", "insomnia"),
    ("anxiety", "anxiety"),
    ("hair loss", "hair loss"),
    ("acne", "acne"),
    ("spots", "spots"),
    ("dry skin", "dry skin"),
    ("itchy skin", "itchy skin"),
    ("blocked ears", "blocked ears"),
    ("tinnitus", "tinnitus"),
    ("a cold sore", "cold sore"),
    ("mouth ulcers", "mouth ulcers"),
    ("a blister", "blister"),
    ("swollen glands", "swollen glands"),
    ("the chills", "chills"),
    ("night sweats", "night sweats"),
    ("blurry vision", "blurry vision"),
    ("a hoarse voice", "hoarse voice"),
    ("loads of phlegm", "phlegm"),
    ("no appetite", "loss of appetite"),
    ("a lump", "lump"),
    ("an itchy throat", "itchy throat"),
    ("a nosebleed", "nosebleed"),
    ("an ingrown toenail", "ingrown toenail"),
    ("dandruff", "dandruff"),
    ("hives", "hives"),
    ("foot pain", "foot pain"),
    ("heel pain", "heel pain"),
    ("hip pain", "hip pain"),
    ("wrist pain", "wrist pain"),
    ("fatigue", "fatigue"),
    ("no energy", "no energy"),
    ("a scratchy throat", "scratchy throat"),
    ("a banging headache", "banging headache"),
    ("tummy pain", "tummy pain"),
    ("sore eyes", "sore eyes"),
    ("a sore ear", "sore ear"),
    ("the squits", "the squits"),
    ("sore muscles", "sore muscles"),
    ("a pulled muscle", "pulled muscle"),
    ("a headahce", "headahce"),
    ("diarhea", "diarhea"),
    ("a soar throat", "soar throat"),
    ("a bad back", "bad back"),
    ("trapped wind", "trapped wind"),
    ("dry flaky skin", "flaky skin"),
    ("aching muscles", "aching muscles"),
    ("a runy nose", "runy nose"),
    ("a cuogh", "cuogh"),
]
MULTI_EXCLUDE = {"stiff neck"}  # stiff neck + fever + rash would read as meningitis
FEEL = [
    "dizzy",
    "nauseous",
    "queasy",
    "exhausted",
    "tired",
    "anxious",
    "run down",
    "knackered",
    "shivery",
    "feverish",
    "bloated",
    "constipated",
    "itchy",
    "achy",
    "really low",
    "sick",
    "woozy",
    "shattered",
    "lethargic",
]
ING = [
    "throwing up",
    "vomiting",
    "being sick",
    "sneezing",
    "coughing",
    "shivering",
    "puking",
    "sneezing loads",
    "coughing all night",
]
BP = [
    "head",
    "neck",
    "throat",
    "ear",
    "ears",
    "eye",
    "eyes",
    "nose",
    "tooth",
    "teeth",
    "gums",
    "shoulder",
    "arm",
    "elbow",
    "wrist",
    "hand",
    "fingers",
    "thumb",
    "back",
    "lower back",
    "upper back",
    "tummy",
    "stomach",
    "belly",
    "hip",
    "groin",
    "leg",
    "knee",
    "knees",
    "shin",
    "calf",
    "ankle",
    "foot",
    "feet",
    "heel",
    "toe",
    "big toe",
    "scalp",
    "forehead",
    "thigh",
    "armpit",
    "lower bak",
    "tumy",
    "ancle",
    "kneecap",
    "calves",
    "toes",
    "hips",
]
SIDES = ["left", "right", "", "", ""]
DURS = [
    "3 days",
    "2 days",
    "a week",
    "2 weeks",
    "a couple of days",
    "a few days",
    "10 days",
    "a month",
    "5 days",
    "48 hours",
    "24 hours",
    "a few weeks",
    "three days",
    "two weeks",
    "4 days",
    "6 hours",
    "a couple of weeks",
    "a fortnight",
    "several days",
    "3 weeks",
    "about a week",
    "2-3 days",
    "a day or two",
    "6 months",
    "a year",
    "12 hrs",
    "2 hrs",
    "a few hours",
    "one week",
    "four days",
    "3 or 4 days",
    "over a week",
    "8 weeks",
]
SINCE = [
    "yesterday",
    "last night",
    "this morning",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "the weekend",
    "last week",
    "christmas",
    "last month",
]
SEV = [
    "mild",
    "really bad",
    "pretty bad",
    "terrible",
    "awful",
    "moderate",
    "severe",
    "slight",
    "quite bad",
    "horrible",
    "unbearable",
    "not too bad",
    "bearable",
    "excruciating",
    "niggly",
]
SEV_FOR_GI = ["mild", "pretty bad", "moderate", "slight", "quite bad", "not too bad"]
NUMS = [str(i) for i in range(1, 11)]
KIDS = [
    "my son",
    "my daughter",
    "my little boy",
    "my little girl",
    "my baby",
    "my toddler",
    "my 4 year old",
    "my 7 year old",
    "my kid",
    "my husband",
    "my wife",
    "my mum",
    "my dad",
    "my partner",
    "my 10 year old",
    "my teenager",
    "my 2 yr old",
    "my grandson",
]
ACTS = [
    "walk",
    "run",
    "bend down",
    "climb stairs",
    "lift things",
    "sit for a long time",
    "type",
    "go up stairs",
    "kneel",
    "turn my head",
    "swallow",
    "chew",
    "eat",
    "stand up",
    "lie down",
    "wake up",
    "play football",
    "go for a jog",
]
COND_REPORT = [
    "flu",
    "the flu",
    "a uti",
    "hay fever",
    "tonsillitis",
    "conjunctivitis",
    "thrush",
    "an ear infection",
    "a stomach bug",
    "a sinus infection",
    "shingles",
    "covid",
    "a water infection",
    "gastroenteritis",
    "sciatica",
    "gout",
    "tendonitis",
    "hayfever",
    "cystitis",
    "a tummy bug",
    "glandular fever",
    "piles",
    "athlete's foot",
    "impetigo",
]
COND_FLARE = [
    "eczema",
    "psoriasis",
    "ibs",
    "arthritis",
    "migraines",
    "hay fever",
    "gout",
    "sciatica",
    "acid reflux",
    "haemorrhoids",
    "rheumatoid arthritis",
    "exzema",
]
COND_INFO = [
    "diabetes",
    "type 2 diabetes",
    "type 1 diabetes",
    "asthma",
    "high blood pressure",
    "hypertension",
    "high cholesterol",
    "arthritis",
    "osteoarthritis",
    "migraine",
    "migraines",
    "eczema",
    "psoriasis",
    "anaemia",
    "anemia",
    "copd",
    "flu",
    "covid",
    "the common cold",
    "chickenpox",
    "measles",
    "shingles",
    "a uti",
    "ear infections",
    "tonsillitis",
    "sinusitis",
    "bronchitis",
    "pneumonia",
    "hay fever",
    "ibs",
    "irritable bowel syndrome",
    "gerd",
    "gout",
    "hypothyroidism",
    "an underactive thyroid",
    "depression",
    "dementia",
    "alzheimer's",
    "osteoporosis",
    "kidney stones",
    "gallstones",
    "gastroenteritis",
    "norovirus",
    "conjunctivitis",
    "thrush",
    "glandular fever",
    "lyme disease",
    "sciatica",
    "tendonitis",
    "breast cancer",
    "prostate cancer",
    "bowel cancer",
    "hiv",
    "hepatitis",
    "sleep apnoea",
    "sleep apnea",
    "endometriosis",
    "pcos",
    "menopause",
    "the menopause",
    "adhd",
    "coeliac disease",
    "celiac disease",
    "lactose intolerance",
    "impetigo",
    "scarlet fever",
    "hand foot and mouth",
    "whooping cough",
    "croup",
    "cellulitis",
    "obesity",
    "glaucoma",
    "cataracts",
    "lupus",
    "multiple sclerosis",
    "parkinson's",
    "haemorrhoids",
    "hemorrhoids",
    "athlete's foot",
    "ringworm",
    "head lice",
    "mumps",
    "rsv",
    "vitamin d deficiency",
    "rheumatoid arthritis",
    "diabetis",
    "asthama",
    "tinnitus",
    "acne",
    "insomnia",
    "anxiety",
    "allergies",
    "hayfever",
    "cystitis",
    "low blood pressure",
    "overactive thyroid",
    "covid-19",
    "influenza",
    "exzema",
]
MEDS = [
    "ibuprofen",
    "paracetamol",
    "acetaminophen",
    "tylenol",
    "advil",
    "nurofen",
    "calpol",
    "aspirin",
    "naproxen",
    "codeine",
    "co-codamol",
    "tramadol",
    "amoxicillin",
    "penicillin",
    "doxycycline",
    "ciprofloxacin",
    "nitrofurantoin",
    "metformin",
    "insulin",
    "ozempic",
    "omeprazole",
    "lansoprazole",
    "gaviscon",
    "sertraline",
    "citalopram",
    "fluoxetine",
    "prozac",
    "amitriptyline",
    "atorvastatin",
    "simvastatin",
    "statins",
    "lisinopril",
    "ramipril",
    "amlodipine",
    "bisoprolol",
    "propranolol",
    "losartan",
    "levothyroxine",
    "warfarin",
    "apixaban",
    "prednisolone",
    "prednisone",
    "salbutamol",
    "ventolin",
    "albuterol",
    "cetirizine",
    "loratadine",
    "zyrtec",
    "claritin",
    "antihistamines",
    "hydrocortisone cream",
    "diazepam",
    "melatonin",
    "gabapentin",
    "furosemide",
    "imodium",
    "loperamide",
    "sumatriptan",
    "viagra",
    "vitamin d",
    "iron tablets",
    "antibiotics",
    "ondansetron",
    "canesten",
    "fluconazole",
    "montelukast",
    "panadol",
    "motrin",
    "paracetemol",
    "ibuprofin",
    "amoxicilin",
    "asprin",
    "wegovy",
    "lipitor",
    "zoloft",
    "eliquis",
    "valium",
    "prilosec",
    "aleve",
]
MED_PAIRS_SAFEISH = MEDS
SIDE_SYMS = [
    "nausea",
    "headaches",
    "diarrhoea",
    "diarrhea",
    "tiredness",
    "dizziness",
    "hair loss",
    "insomnia",
    "a dry cough",
    "muscle aches",
    "stomach ache",
    "a rash",
    "bloating",
    "constipation",
    "itching",
    "joint pain",
    "drowsiness",
    "weight gain",
    "vivid dreams",
    "dry mouth",
    "heartburn",
]


# ---------------------------------------------------------------- generators
def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return rng.choice(seq)


def gen_report_symptom(rng: random.Random) -> list[str]:
    out = set()
    T1 = [
        "i have {sym}",
        "i've got {sym}",
        "ive had {sym} for {dur}",
        "i've had {sym} since {since}",
        "{symb} for {dur}",
        "{symb} since {since}",
        "got {sym} since {since}",
        "i have had {sym} for {dur} now",
        "woke up with {sym}",
        "been suffering with {symb} for {dur}",
        "having {symb} on and off for {dur}",
        "i keep getting {sym}",
        "{sym} that comes and goes",
        "still got {sym} after {dur}",
        "i've had {sev} {symb} for {dur}",
        "{sev} {symb} since {since}",
        "i have {sev} {symb}",
        "really {sev2} {symb} today",
        "had {sym} for {dur} and it's not getting better",
        "i think i have {sym}",
        "started with {sym} {dur} ago",
        "ive got {sym} again",
        "hi, i have {sym}",
        "hello i've had {sym} for {dur}",
        "{symb} is getting worse",
        "can't shake off this {symb}",
        "suffering from {symb}",
        "i'm struggling with {symb}",
        "i've been having {symb} for {dur}",
        "{symb} for the past {dur}",
        "dealing with {symb} for {dur} now",
    ]
    T_FEEL = [
        "i feel {feel}",
        "feeling {feel} since {since}",
        "i've been feeling {feel} for {dur}",
        "feel {feel} and have {sym}",
        "so {feel} today",
        "been feeling {feel} all week",
        "i feel {feel} all the time",
        "feeling {feel} and {feel2}",
    ]
    T_ING = [
        "i've been {ing} since {since}",
        "been {ing} all night",
        "my {kid} has been {ing} since {since}",
        "{ing} for {dur}",
        "i keep {ing}",
        "cant stop {ing2}",
    ]
    T_BP = [
        "my {bp} hurts",
        "my {bp} has been hurting for {dur}",
        "pain in my {bp}",
        "{sev} pain in my {side}{bp}",
        "my {side}{bp} is really sore",
        "my {bp} is sore and swollen",
        "{bp} pain when i {act}",
        "it hurts to {act}, my {bp} is sore",
        "my {side}{bp} aches",
        "aching {bp} for {dur}",
        "my {bp} has been aching since {since}",
        "sore {bp} since {since}",
        "my {bp} is killing me",
        "i hurt my {bp}",
        "my {side}{bp} feels swollen",
        "throbbing pain in my {bp}",
        "dull ache in my {side}{bp}",
        "my {bp} is itchy",
        "there's a rash on my {bp}",
        "i have a lump on my {bp}",
        "{bp} is stiff and sore",
        "{sev} pain in the {bp} for {dur}",
        "my {bp} hurts when i {act}",
        "pain in my {side}{bp} for {dur}",
    ]
    T_MULTI = [
        "{s1} and {s2}",
        "{s1}, {s2} and {s3}",
        "i have {s1} and {s2}",
        "got {s1}, {s2} and {s3}",
        "{s1} and {s2} for {dur}",
        "{s1} plus {s2} since {since}",
        "{s1} and {s2} and now {s3}",
        "symptoms are {s1}, {s2} and {s3}",
        "{s1} with {s2}",
        "i've got {s1} and a bit of {s2}",
    ]
    T_NEG = [
        "no {n1} but {s1}",
        "no {n1} but i have {sym}",
        "not {n1}, just {s1}",
        "no {n1} or {n2}, just {sym}",
        "i don't have {n1} but i do have {sym}",
        "no {n1}, but my {bp} is killing me",
        "no {n1} but my {bp} hurts",
        "not got {n1} but {s1} is {sev}",
        "{s1} but no {n1}",
        "{sym} but no {n1} or {n2}",
        "no {n1} thankfully, just {s1} and {s2}",
    ]
    T_KID = [
        "my {kid} has {sym}",
        "my {kid} has had {sym} for {dur}",
        "my {kid} is complaining of {symb}",
        "{kid} has {sym} and {s2}",
        "my {kid} says their {bp} hurts",
        "my {kid} has {sym} since {since}",
        "{kid} woke up with {sym}",
        "my {kid} keeps saying {kpro} {bp} hurts",
        "my {kid} has got {sym} again",
        "my {kid} has {s1} and {s2}, no {n1}",
    ]
    T_COND = [
        "i think i have {cr}",
        "i think i've got {cr}",
        "pretty sure i have {cr}",
        "might have {cr}, {symb} for {dur}",
        "i think i've got {cr}, i have {sym}",
        "my {cf} is playing up",
        "my {cf} is flaring up again",
        "{cf} flare up for {dur}",
        "my {cf} has been bad since {since}",
        "my {kid} might have {cr}",
    ]
    groups = [
        (T1, 120),
        (T_FEEL, 30),
        (T_ING, 25),
        (T_BP, 90),
        (T_MULTI, 60),
        (T_NEG, 50),
        (T_KID, 50),
        (T_COND, 30),
    ]
    multi_pool = [s for s in SYM if s[1] not in MULTI_EXCLUDE]
    for temps, n in groups:
        tries = 0
        made = 0
        while made < n and tries < n * 30:
            tries += 1
            t = noisy(rng, pick(rng, temps))
            s1, s2, s3 = rng.sample(multi_pool, 3)
            n1, n2 = rng.sample(
                [
                    "fever",
                    "temperature",
                    "cough",
                    "rash",
                    "sore throat",
                    "diarrhoea",
                    "vomiting",
                    "headache",
                    "runny nose",
                    "nausea",
                    "earache",
                    "temp",
                ],
                2,
            )
            sym = pick(rng, SYM)
            sev = pick(rng, SEV)
            if sym[1] in ("diarrhoea", "diarrhea", "the runs", "the squits", "diarhea", "nausea"):
                sev = pick(rng, SEV_FOR_GI)
            kid = pick(rng, KIDS)
            f1, f2 = rng.sample(FEEL, 2)
            ing = pick(rng, ING)
            side = pick(rng, SIDES)
            text = t.format(
                sym=sym[0],
                symb=sym[1],
                dur=pick(rng, DURS),
                since=pick(rng, SINCE),
                sev=sev,
                sev2=pick(rng, ["bad", "awful", "painful", "annoying", "uncomfortable"]),
                feel=f1,
                feel2=f2,
                ing=ing,
                ing2=pick(rng, ["sneezing", "coughing", "scratching"]),
                kid=kid,
                bp=pick(rng, BP),
                side=(side + " ") if side else "",
                act=pick(rng, ACTS),
                s1=s1[1],
                s2=s2[1],
                s3=s3[1],
                n1=n1,
                n2=n2,
                cr=pick(rng, COND_REPORT),
                cf=pick(rng, COND_FLARE),
                kpro=pick(rng, ["his", "her", "their"]),
            )
            if rng.random() < 0.06:
                text += pick(rng, EMOJI)
            if rng.random() < 0.05:
                text = text.capitalize()
            if text not in out:
                out.add(text)
                made += 1
    return sorted(out)


def gen_inform(rng: random.Random) -> list[str]:
    T = [
        "{dur}",
        "for {dur}",
        "about {dur}",
        "{dur} now",
        "its been {dur}",
        "it's been about {dur}",
        "since {since}",
        "{dur} ago",
        "started {dur} ago",
        "maybe {dur}",
        "roughly {dur}",
        "around {dur}",
        "just over {dur}",
        "nearly {dur}",
        "since {since} i think",
        "{dur} or so",
        "my {side}{bp}",
        "{bp}",
        "in my {bp}",
        "on my {side}{bp}",
        "its my {bp}",
        "mostly my {bp}",
        "the {bp}",
        "my {bp} and {bp2}",
        "{side}{bp}",
        "right in my {bp}",
        "around my {bp}",
        "{sev}",
        "its {sev}",
        "{n}/10",
        "{n} out of 10",
        "id say {n} out of 10",
        "{sev}, maybe {n}/10",
        "about {n}/10",
        "{sev} to be honest",
        "pretty much {n} out of 10",
        "{sev} at the moment",
        "{symb}",
        "{symb} mostly",
        "just {symb}",
        "{symb} and {symb2}",
        "mainly {symb}",
        "{symb} as well",
        "also {symb}",
        "only the {symb}",
        "{symb} and a bit of {symb2}",
        "{dur}, {sev}",
        "{bp}, for {dur}",
        "{sev}, since {since}",
        "{side}{bp}, {sev}",
        "{symb} for {dur}",
        "{sev} {symb}",
        "in my {bp}, {n}/10",
        "{n}/10 and its been {dur}",
    ]
    out = set()
    tries = 0
    while len(out) < 230 and tries < 20000:
        tries += 1
        t = noisy(rng, pick(rng, T), p=0.15)
        s1, s2 = rng.sample([s for s in SYM if s[1] not in MULTI_EXCLUDE], 2)
        side = pick(rng, SIDES)
        b1, b2 = rng.sample(BP, 2)
        text = t.format(
            dur=pick(rng, DURS),
            since=pick(rng, SINCE),
            side=(side + " ") if side else "",
            bp=b1,
            bp2=b2,
            sev=pick(rng, SEV),
            n=pick(rng, NUMS),
            symb=s1[1],
            symb2=s2[1],
        )
        out.add(text)
    return sorted(out)


def gen_health_info(rng: random.Random) -> list[str]:
    T = [
        "what causes {c}",
        "what is {c}",
        "how is {c} treated",
        "what are the symptoms of {c}",
        "is {c} contagious",
        "how do you prevent {c}",
        "can {c} be cured",
        "how long does {c} last",
        "is {c} hereditary",
        "what's the best treatment for {c}",
        "how is {c} diagnosed",
        "what are the early signs of {c}",
        "can kids get {c}",
        "what's the difference between {c} and {c2}",
        "tell me about {c}",
        "info on {c} please",
        "what should i eat if i have {c}",
        "can you exercise with {c}",
        "what are the complications of {c}",
        "how common is {c}",
        "what are the risk factors for {c}",
        "who gets {c}",
        "is {c} serious",
        "how do i know if i have {c}",
        "explain {c} in simple terms",
        "can {c} go away on its own",
        "what tests diagnose {c}",
        "is {c} the same as {c2}",
        "can adults get {c}",
        "how do you catch {c}",
        "what does {c} do to your body",
        "can you die from {c}"[:0] or "what's the outlook for {c}",
        "whats {c}",
        "how do people get {c}",
        "wat causes {c}",
        "is there a vaccine for {c}",
    ]
    TS = [
        "what causes {s}",
        "why do people get {s}",
        "how do you treat {s}",
        "when should i see a doctor about {s}",
        "home remedies for {s}",
        "what helps with {s}",
        "what are common causes of {s}",
        "is {s} a sign of something serious",
        "how long does {s} usually last",
        "what's the best way to get rid of {s}",
        "can stress cause {s}",
        "can dehydration cause {s}",
        "is {s} normal in kids",
        "why do babies get {s}",
        "natural remedies for {s}",
    ]
    TG = [
        "how much {x} should i {y}",
        "is {food} good for you",
        "how do i improve my {z}",
        "tips for better {z}",
        "how often should i get a {test}",
        "what does a {test} check for",
        "at what age should i get a {test}",
        "is it safe to {act2} during pregnancy",
    ]
    out = set()
    tries = 0
    while len(out) < 140 and tries < 20000:
        tries += 1
        r = rng.random()
        c1, c2 = rng.sample(COND_INFO, 2)
        s = pick(rng, [x[1] for x in SYM])
        if r < 0.62:
            t = pick(rng, T)
        elif r < 0.88:
            t = pick(rng, TS)
        else:
            t = pick(rng, TG)
        text = noisy(rng, t, p=0.15).format(
            c=c1,
            c2=c2,
            s=s,
            x=pick(rng, ["water", "exercise", "sleep", "fibre", "protein", "vitamin d"]),
            y=pick(rng, ["have a day", "get each day", "be getting"]),
            food=pick(
                rng,
                [
                    "coffee",
                    "red meat",
                    "dark chocolate",
                    "red wine",
                    "oat milk",
                    "sugar",
                    "intermittent fasting",
                ],
            ),
            z=pick(
                rng, ["sleep", "gut health", "immune system", "posture", "mental health", "fitness"]
            ),
            test=pick(
                rng,
                [
                    "smear test",
                    "blood test",
                    "cholesterol test",
                    "eye test",
                    "bowel screening",
                    "mammogram",
                    "psa test",
                    "hearing test",
                    "dexa scan",
                    "diabetes check",
                ],
            ),
            act2=pick(
                rng,
                ["fly", "exercise", "drink coffee", "eat cheese", "dye your hair", "have a bath"],
            ),
        )
        out.add(text)
    return sorted(out)


def gen_med_info(rng: random.Random) -> list[str]:
    T = [
        "side effects of {m}",
        "what are the side effects of {m}",
        "can i take {m} with {m2}",
        "can i take {m} and {m2} together",
        "is it safe to take {m} with {m2}",
        "how much {m} can i take",
        "what's the max dose of {m}",
        "what is {m} used for",
        "what's {m} for",
        "how long does {m} take to work",
        "can i drink alcohol with {m}",
        "can i drink on {m}",
        "is {m} safe in pregnancy",
        "is {m} safe while breastfeeding",
        "can i give {m} to my {age} year old",
        "{m} dose for a {age} year old",
        "should i take {m} with food",
        "when should i take {m}",
        "i missed a dose of {m}, what do i do",
        "does {m} make you drowsy",
        "does {m} interact with {m2}",
        "can i take {m} if i have {c}",
        "is {m} ok with {c}",
        "does {m} cause {ss}",
        "how long does {m} stay in your system",
        "can i stop taking {m}",
        "is {m} addictive",
        "what's the difference between {m} and {m2}",
        "can {m} give you {ss}",
        "is {ss} a side effect of {m}",
        "how many {m} can i take a day",
        "how often can i take {m}",
        "can i take {m} on an empty stomach",
        "whats the dosage for {m}",
        "is {m} an antibiotic",
        "is {m} a painkiller",
        "can i take {m} for {ss2}",
        "what can i take instead of {m}",
        "im on {m}, can i also take {m2}",
        "i take {m} for my {c}, can i take {m2} too",
        "does {m} affect the pill",
        "do i need a prescription for {m}",
        "can i buy {m} over the counter",
        "should i take {m} in the morning or at night",
        "how should i store {m}",
        "can i cut {m} tablets in half",
        "what happens if i stop {m} suddenly"[:0] or "what happens if i forget my {m}",
        "what medicine is best for {ss2}",
        "is {m} safe for kids",
        "can teenagers take {m}",
        "what's the usual dose of {m} for adults",
        "can you tell me about {m}",
    ]
    out = set()
    tries = 0
    while len(out) < 150 and tries < 20000:
        tries += 1
        m1, m2 = rng.sample(MEDS, 2)
        text = noisy(rng, pick(rng, T), p=0.15).format(
            m=m1,
            m2=m2,
            age=pick(rng, ["2", "3", "5", "8", "12", "one", "two", "6"]),
            c=pick(rng, COND_INFO),
            ss=pick(rng, SIDE_SYMS),
            ss2=pick(
                rng,
                [
                    "a headache",
                    "period pain",
                    "hay fever",
                    "a sore throat",
                    "back pain",
                    "toothache",
                    "heartburn",
                    "diarrhoea",
                    "a migraine",
                    "a cough",
                    "insomnia",
                    "muscle aches",
                ],
            ),
        )
        out.add(text)
    return sorted(out)


def gen_emergency(rng: random.Random) -> list[str]:
    P = [
        "my dad",
        "my mum",
        "my mom",
        "my wife",
        "my husband",
        "my son",
        "my daughter",
        "my baby",
        "my grandad",
        "my grandma",
        "my nan",
        "my friend",
        "my partner",
        "my boyfriend",
        "my girlfriend",
        "my brother",
        "my sister",
        "my neighbour",
        "my neighbor",
        "my flatmate",
        "my colleague",
        "my 2 year old",
        "my grandpa",
        "my uncle",
        "my aunt",
        "this man",
        "a woman here",
        "my toddler",
    ]
    EV = [
        "just collapsed",
        "collapsed and isn't responding",
        "has passed out",
        "is having a seizure",
        "is fitting",
        "can't breathe",
        "is struggling to breathe",
        "is choking",
        "has taken an overdose",
        "swallowed a bottle of pills",
        "drank bleach",
        "has crushing chest pain",
        "has chest pain going down the left arm",
        "is slurring words",
        "can't move one side of the body",
        "is bleeding heavily and it won't stop",
        "is coughing up blood",
        "is vomiting blood",
        "hit their head and is confused",
        "is unconscious",
        "is unresponsive",
        "isn't breathing",
        "suddenly can't speak",
        "has the worst headache of their life",
        "is talking about killing themselves",
        "has cut themselves badly",
        "fainted and won't wake up",
        "has blue lips",
        "is turning blue",
        "fell and hit their head",
        "took too many tablets",
        "is suddenly very confused",
        "has sudden weakness in one arm",
        "has a face that's drooping",
        "has gone floppy and unresponsive",
        "is having an allergic reaction and can't breathe",
        "swallowed some weed killer",
        "is having a fit",
        "keeps passing out",
        "is short of breath and sweating",
    ]
    FP = [
        "i have crushing chest pain",
        "i can't breathe",
        "i'm coughing up blood",
        "i think i'm having a stroke",
        "i've taken an overdose",
        "i want to kill myself",
        "i'm going to end it tonight",
        "i took all my tablets",
        "my chest is so tight i can't breathe",
        "i'm having chest pains",
        "i think i'm having a heart attack",
        "i suddenly can't feel my left arm",
        "i just passed out",
        "my face feels numb on one side",
        "i can't stop the bleeding",
        "i'm vomiting blood",
        "i swallowed something poisonous",
        "i'm having a seizure",
        "my lips have gone blue",
        "i hit my head and feel confused",
        "i keep fainting",
        "i've cut myself really deep",
        "i don't want to live anymore",
        "i've got sudden severe pain in my tummy",
        "i have a sudden severe headache",
        "i'm really short of breath",
        "i'm choking",
        "pain in my chest and left arm",
        "i feel like i'm dying",
    ]
    PRE = ["", "", "", "help ", "please help ", "urgent: ", "help!! ", "quick ", "omg "]
    SUF = [
        "",
        "",
        "",
        " what do i do",
        " call an ambulance",
        " help!!",
        " 😱",
        " please help",
        " right now",
        " what should i do",
        " hurry",
    ]
    out = set()
    tries = 0
    while len(out) < 110 and tries < 20000:
        tries += 1
        text = f"{pick(rng, P)} {pick(rng, EV)}" if rng.random() < 0.7 else pick(rng, FP)
        text = pick(rng, PRE) + text + pick(rng, SUF)
        out.add(noisy(rng, text, p=0.15))
    return sorted(out)


def gen_check_photo(rng: random.Random) -> list[str]:
    V = [
        "can you look at a {p} of my {t}",
        "can you check a {p} of my {t}",
        "i want to send a {p} of my {t}",
        "i'm sending a {p} of my {t}",
        "can i upload a {p} of my {t}",
        "i'd like to show you a {p} of my {t}",
        "here's a {p} of my {t}",
        "i've attached a {p} of my {t}",
        "have a look at this {p} of my {t}",
        "can you tell me what this is from a {p}, it's my {t}",
        "does my {t} look infected in this {p}",
        "{p} of my {t} attached",
        "sending you a {p} of my {kid}'s {t}",
        "can you check this {p} of my {kid}'s {t}",
        "is my {t} ok? sending a {p}",
    ]
    P = ["photo", "picture", "pic", "image", "snap", "photograph"]
    TH = [
        "rash",
        "wound",
        "mole",
        "spot",
        "bruise",
        "blister",
        "swollen ankle",
        "eczema",
        "insect bite",
        "toenail",
        "skin",
        "knee",
        "scar",
        "acne",
        "sunburn",
        "hives",
        "cold sore",
        "leg",
        "foot",
        "arm",
        "hand",
        "face",
        "itchy rash",
        "stitches",
        "graze",
        "ingrown toenail",
        "back",
        "scalp",
        "spots",
        "lump",
        "eye",
        "tongue",
        "throat",
    ]
    out = set()
    tries = 0
    while len(out) < 45 and tries < 5000:
        tries += 1
        out.add(
            noisy(rng, pick(rng, V), p=0.15).format(
                p=pick(rng, P), t=pick(rng, TH), kid=pick(rng, ["son", "daughter", "baby", "kid"])
            )
        )
    return sorted(out)


def gen_analyze_record(rng: random.Random) -> list[str]:
    V = [
        "can you explain my {r}",
        "what do my {r} mean",
        "here are my {r}",
        "i uploaded my {r}",
        "please analyse my {r}",
        "please analyze my {r}",
        "could you look at my {r}",
        "help me understand my {r}",
        "can you go through my {r}",
        "i got my {r} back, what do they say",
        "what does my {r} show",
        "can you summarise my {r}",
        "is there anything bad in my {r}",
        "i've sent you my {r}",
        "read my {r} please",
    ]
    R = [
        "blood test results",
        "blood results",
        "lab results",
        "test results",
        "discharge summary",
        "discharge letter",
        "medical records",
        "health record",
        "scan results",
        "mri report",
        "x-ray results",
        "ct report",
        "ecg results",
        "clinic letter",
        "hospital letter",
        "gp records",
        "cholesterol test",
        "thyroid results",
        "kidney function results",
        "liver function tests",
        "urine test",
        "hba1c result",
        "biopsy results",
        "allergy test results",
        "diabetes review results",
        "asthma review notes",
        "blood pressure readings",
        "patient summary",
        "echo report",
        "fbc results",
        "bloods",
        "pathology report",
        "covid test result",
        "vitamin d test",
    ]
    out = set()
    tries = 0
    while len(out) < 45 and tries < 5000:
        tries += 1
        out.add(noisy(rng, pick(rng, V), p=0.15).format(r=pick(rng, R)))
    return sorted(out)


def gen_small(rng: random.Random, intent: str) -> list[str]:
    combos = {
        "request_human": (
            ["{a} {who}", "{a} {who} please", "{a} {who} asap", "{a} {who} about my {topic}"],
            dict(
                a=[
                    "i want to speak to",
                    "can i talk to",
                    "put me through to",
                    "i need",
                    "connect me with",
                    "can i get",
                    "i'd like to chat with",
                ],
                who=[
                    "a doctor",
                    "a nurse",
                    "a real person",
                    "a human",
                    "a pharmacist",
                    "someone real",
                    "a gp",
                    "the clinic",
                    "a health advisor",
                ],
                topic=["results", "symptoms", "prescription", "appointment", "medication"],
            ),
        ),
        "forget_me": (
            ["{a} {what}", "please {a} {what}", "{a} {what} now", "can you {a} {what}"],
            dict(
                a=["delete", "erase", "remove", "wipe", "clear", "forget"],
                what=[
                    "my data",
                    "all my data",
                    "my details",
                    "my history",
                    "my messages",
                    "everything about me",
                    "my personal information",
                    "my uploads",
                    "our conversation",
                    "my chat history",
                    "my health data",
                ],
            ),
        ),
        "out_of_scope": (
            [
                "what's the weather in {city}",
                "will it rain in {city} tomorrow",
                "who won the {team} game",
                "order me a {food}",
                "write {code} in {lang}",
                "tell me a joke about {thing}",
                "how do i {diy}",
                "book a hotel in {city}",
                "flights to {city} next week",
                "is {team} playing tonight",
            ],
            dict(
                city=[
                    "london",
                    "manchester",
                    "new york",
                    "paris",
                    "leeds",
                    "chicago",
                    "glasgow",
                    "dublin",
                    "berlin",
                    "sydney",
                ],
                team=[
                    "liverpool",
                    "chelsea",
                    "man united",
                    "lakers",
                    "yankees",
                    "arsenal",
                    "spurs",
                    "celtic",
                ],
                food=["pizza", "burger", "curry", "sushi", "kebab", "chinese takeaway"],
                code=[
                    "a sorting function",
                    "a web scraper",
                    "a login page",
                    "a regex",
                    "unit tests",
                ],
                lang=["python", "java", "rust", "javascript", "c++"],
                thing=["cats", "dogs", "lawyers", "computers", "teachers", "pirates"],
                diy=[
                    "paint a wall",
                    "fix a leaky tap",
                    "bleed a radiator",
                    "change a fuse",
                    "hang a shelf",
                    "clean my oven",
                ],
            ),
        ),
        "bot_challenge": (
            ["{a}", "{a}?", "hey {a}"],
            dict(
                a=[
                    "are you a bot",
                    "am i talking to a robot",
                    "is this a real human",
                    "are you a machine",
                ]
            ),
        ),
        "ask_capabilities": (
            ["{a}", "{a}?"],
            dict(
                a=[
                    "what else can you do",
                    "what are you capable of",
                    "how can you help",
                    "what kind of help do you give",
                    "what do you help with",
                ]
            ),
        ),
        "stop": (
            ["{a}", "{a} please", "ok {a}"],
            dict(
                a=[
                    "stop",
                    "cancel",
                    "quit",
                    "exit",
                    "end it",
                    "cancel this",
                    "stop the form",
                    "forget it",
                ]
            ),
        ),
    }
    if intent not in combos:
        return []
    temps, slots = combos[intent]
    out = set()
    for _ in range(400):
        t = pick(rng, temps)
        out.add(t.format(**{k: pick(rng, v) for k, v in slots.items()}))
    return sorted(out)


# ---------------------------------------------------------------- shared-data seeds
def clean_phrase(s: str) -> str:
    s = s.strip().strip('"').strip()
    s = re.sub(r"\s+", " ", s)
    s = s.rstrip(".")
    return s.lower()


def speech_seeds(shared: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """~20% sample of the distinct medical-speech-intent dev phrases, routed by safety."""
    path = shared / "medical-speech-intent" / "medical_speech_intent_dev.csv"
    by_cls: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            by_cls.setdefault(r["prompt"], set()).add(clean_phrase(r["phrase"]))
    rep, emer = [], []
    for cls in sorted(by_cls):
        phrases = sorted(by_cls[cls])
        rng.shuffle(phrases)
        if cls in ("Hard to breath", "Heart hurts"):
            emer.extend([p for p in phrases if p not in SEED_DROP][:7])
            continue
        if cls == "Body feels weak":
            continue  # "weak" overlaps the stroke / heart-attack red flags
        taken = 0
        for p in phrases:
            if taken >= 5:
                break
            if len(p.split()) < 3:
                continue
            if p in SEED_DROP:
                continue
            if red_flag("report_symptom", p):
                if cls in ("Emotional pain", "Open wound") and re.search(
                    r"suicid|kill|bleed|die|deeply|shard", p
                ):
                    emer.append(p)
                continue
            rep.append(p)
            taken += 1
    return rep, emer


def mts_seeds(shared: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    files = sorted(glob.glob(str(shared / "mts-dialog" / "MTS-Dialog-*Set.csv")))
    turns = set()
    for fn in files:
        if "Augmented" in fn:
            continue
        with open(fn, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                for line in r["dialogue"].split("\n"):
                    if line.startswith("Patient:"):
                        turns.add(clean_phrase(line[8:]))
    rep, inf = [], []
    sym_rx = re.compile(
        r"\b(pain|hurt|hurts|ache|aching|sore|cough|coughing|rash|itch|itchy|nause\w*|"
        r"dizz\w*|tired|swell\w*|swollen|fever|vomit\w*|diarrh\w*|headache\w*)\b"
    )
    first = re.compile(
        r"^(?:i have|i've|i'm having|i am having|i had|i get|i feel|i've been|my \w+ "
        r"(?:hurts|is|has)|i hurt|i noticed|i do have|yes, i have|yeah, i have)"
    )
    for t in sorted(turns):
        t = t.replace("doctor", "").strip(" ,")
        if t in SEED_DROP:
            continue
        n = len(t.split())
        if (
            4 <= n <= 16
            and sym_rx.search(t)
            and first.search(t)
            and not red_flag("report_symptom", t)
            and not re.search(r"\bno\b|not|n't|surgery|doctor|hospital|medic|\?", t)
        ):
            rep.append(t)
        elif (
            2 <= n <= 7
            and DURATION_RE.search(t)
            and not red_flag("inform", t)
            and not re.search(r"\?|old|young|ago i|smoke|pack|take|times|a day|a week", t)
        ):
            inf.append(t)
    rng.shuffle(rep)
    rng.shuffle(inf)
    return rep[:45], inf[:20]


# ---------------------------------------------------------------- lookups
DRUG_SUFFIX = re.compile(
    r"\s+(?:injection|oral inhalation|nasal spray|topical|ophthalmic|oral|rectal|"
    r"transdermal patch|transdermal|inhalation|otic|vaginal|sublingual|extended-release|"
    r"buccal|implant|intravenous|and dextrose|injectable|solution|suspension|tablets?).*$",
    re.I,
)
GENERIC_EXCLUDE = {
    "pain",
    "iron",
    "cold",
    "gas",
    "stress",
    "it",
    "can",
    "zinc",
    "fever",
    "water",
    "sleep",
    "back",
    "head",
    "heat",
    "fat",
    "hearing",
    "vision",
    "salt",
    "sugar",
    "balance",
    "smell",
    "taste",
    "falls",
    "bites",
    "burns",
    "wounds",
    "injuries",
    "oxygen",
    "smoking",
    "alcohol",
    "caffeine",
    "exercise",
    "nutrition",
    "safety",
    "vaccines",
    "pregnancy",
    "aging",
    "sun exposure",
    "weight",
    "obesity in children",
    "genetic testing",
}


def medquad_focus(shared: Path, subdirs: list[str]) -> list[str]:
    terms = []
    for sd in subdirs:
        for fn in sorted(glob.glob(str(shared / "medquad" / sd / "*.xml"))):
            with open(fn, encoding="utf-8", errors="ignore") as f:
                m = re.search(r"<Focus>([^<]*)</Focus>", f.read())
            if m:
                terms.append(m.group(1).strip())
    return terms


def clean_lookup(term: str) -> str | None:
    t = term.lower().strip()
    t = re.sub(r"\s+", " ", t)
    if re.search(r"[^a-z0-9 '\-]", t):
        return None
    if len(t) < 3 or len(t.split()) > 4 or t in GENERIC_EXCLUDE:
        return None
    if re.search(r"\d{2,}|type [ivx]+\b|syndrome \d", t):
        return None
    return t


def build_lookups(shared: Path, lex: Lexicon, train_only: set[str]) -> dict[str, list[str]]:
    look = {}
    lex_terms = {
        e: {f for c, fs in lex[e].items() for f in [c, *fs]}
        for e in ("symptom", "body_part", "condition", "medication")
    }
    # symptom: lexicon + symptom-disease vocabulary
    sym = set(lex_terms["symptom"])
    with open(
        shared / "symptom-disease" / "MasterData" / "Symptom_severity.csv", encoding="utf-8"
    ) as f:
        for r in csv.reader(f):
            if r and r[0] and r[0] != "Symptom":
                t = clean_lookup(r[0].replace("_", " ").replace("  ", " "))
                if t and not re.search(
                    r"history|contacts|transfusion|injections|coma|failure|toxic|"
                    r"altered|sensorium|overload|dischromic|typhos|scurring|feets|ofurine",
                    t,
                ):
                    sym.add(t)
    look["symptom"] = sym
    look["body_part"] = set(lex_terms["body_part"])
    cond = set(lex_terms["condition"])
    for t in medquad_focus(
        shared,
        [
            "4_MPlus_Health_Topics_QA",
            "5_NIDDK_QA",
            "6_NINDS_QA",
            "7_SeniorHealth_QA",
            "8_NHLBI_QA_XML",
            "9_CDC_QA",
            "1_CancerGov_QA",
        ],
    ):
        t = re.sub(r"\s*\(.*?\)", "", t)
        c = clean_lookup(t)
        if c and not re.search(
            r"\b(?:what|how|research|information|trials?|treatment|prevention|"
            r"screening|testing|for|of the|program|health|care|your|you)\b",
            c,
        ):
            cond.add(c)
    look["condition"] = cond
    med = set(lex_terms["medication"])
    for t in medquad_focus(shared, ["11_MPlusDrugs_QA"]):
        base = DRUG_SUFFIX.sub("", t)
        if re.search(r",| and | with |/", base):
            continue
        c = clean_lookup(base)
        if c and len(c.split()) <= 2:
            med.add(c)
    look["medication"] = med
    for e in look:
        look[e] = sorted(
            t for t in look[e] if t not in train_only and len(t) >= 3 and t not in GENERIC_EXCLUDE
        )
    # a term must not sit in two lookup tables
    seen = {}
    for e in ("medication", "condition", "symptom", "body_part"):
        look[e] = [t for t in look[e] if seen.setdefault(t, e) == e]
    return look


# ---------------------------------------------------------------- output helpers
def yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_intent(intent: str, examples: list[str]) -> None:
    lines = [
        'version: "3.1"',
        "# GENERATED by scripts/nlu_data/generate_nlu.py - edit the seeds/lexicon, not this file",
        "nlu:",
        f"- intent: {intent}",
        "  examples: |",
    ]
    lines += [f"    - {e}" for e in examples]
    (OUT_NLU / f"{intent}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def norm(s: str) -> str:
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    return re.sub(r"\s+", " ", s.lower()).strip(" .!?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared",
        default=str(DEFAULT_SHARED),
        help="read-only shared data folder (default: ../shared/data beside the checkout)",
    )
    args = ap.parse_args()
    shared = Path(args.shared)
    rng = random.Random(SEED)
    lex, surfaces, train_only = load_lexicon()
    ann = Annotator(surfaces)

    hand = {}
    for intent in INTENTS:
        p = HERE / "seeds" / f"{intent}.txt"
        hand[intent] = [
            line.strip()
            for line in p.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    sp_rep, sp_emer = speech_seeds(shared, rng)
    mts_rep, mts_inf = mts_seeds(shared, rng)
    generated = {
        "report_symptom": gen_report_symptom(rng),
        "inform": gen_inform(rng),
        "ask_health_info": gen_health_info(rng),
        "ask_medication_info": gen_med_info(rng),
        "emergency": gen_emergency(rng),
        "check_photo": gen_check_photo(rng),
        "analyze_record": gen_analyze_record(rng),
    }
    for intent in (
        "request_human",
        "forget_me",
        "out_of_scope",
        "bot_challenge",
        "ask_capabilities",
        "stop",
    ):
        generated[intent] = gen_small(rng, intent)

    # priority: hand-written > shared-data seeds > generated
    sources = {i: [("hand", x) for x in hand[i]] for i in INTENTS}
    sources["report_symptom"] += [("seed", x) for x in sp_rep + mts_rep]
    sources["emergency"] += [("seed", x) for x in sp_emer]
    sources["inform"] += [("seed", x) for x in mts_inf]
    seen = {}
    final = {i: [] for i in INTENTS}
    errors = []
    rf_health = 0
    # first pass: hand + seeds for all intents, so generated items never shadow them
    for phase in ("fixed", "gen"):
        for intent in INTENTS:
            if phase == "fixed":
                items = sources[intent]
            else:
                pool = list(generated.get(intent, []))
                rng.shuffle(pool)
                items = [("gen", x) for x in pool]
            for kind, text in items:
                if phase == "gen" and len(final[intent]) >= TARGETS[intent]:
                    break
                key = norm(text)
                if not key:
                    continue
                if key in seen:
                    if kind == "hand" and seen[key] != intent:
                        errors.append(
                            f"duplicate across intents: {text!r} ({seen[key]} / {intent})"
                        )
                    continue
                if red_flag(intent, text):
                    if (
                        intent == "ask_health_info"
                        and rf_health < HEALTH_INFO_RF_ALLOWANCE
                        and kind == "hand"
                    ):
                        rf_health += 1
                    elif kind == "hand":
                        errors.append(f"red flag outside emergency ({intent}): {text!r}")
                        continue
                    else:
                        continue
                seen[key] = intent
                final[intent].append(ann.annotate(text) if intent in ENTITY_INTENTS else text)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)

    OUT_NLU.mkdir(parents=True, exist_ok=True)
    for intent in INTENTS:
        write_intent(intent, final[intent])

    # synonyms
    syn_lines = [
        'version: "3.1"',
        "# GENERATED by scripts/nlu_data/generate_nlu.py from scripts/nlu_data/lexicon.yml.",
        "# Lay words, typos, US spellings and brand names -> one canonical value per entity",
        "# (UK spelling canonical; brands -> generic: "
        "tylenol/acetaminophen/calpol -> paracetamol).",
        "nlu:",
    ]
    for entity in ("symptom", "body_part", "medication", "condition", "severity"):
        for canonical, forms in lex[entity].items():
            alts = [str(f).lower() for f in forms if str(f).lower() != str(canonical)]
            if alts:
                syn_lines.append(f"- synonym: {yaml_str(str(canonical))}")
                syn_lines.append("  examples: |")
                syn_lines += [f"    - {a}" for a in alts]
    (OUT_DATA / "synonyms.yml").write_text("\n".join(syn_lines) + "\n", encoding="utf-8")

    # regexes
    rx_lines = ['version: "3.1"', "# GENERATED by scripts/nlu_data/generate_nlu.py", "nlu:"]
    for name, pats in REGEX_YML.items():
        rx_lines += [f"- regex: {name}", "  examples: |"] + [f"    - {p}" for p in pats]
    (OUT_DATA / "regexes.yml").write_text("\n".join(rx_lines) + "\n", encoding="utf-8")

    # lookups
    look = build_lookups(shared, lex, train_only)
    (OUT_DATA / "lookups").mkdir(parents=True, exist_ok=True)
    for entity, terms in look.items():
        lines = [
            'version: "3.1"',
            "# GENERATED by scripts/nlu_data/generate_nlu.py",
            "nlu:",
            f"- lookup: {entity}",
            "  examples: |",
        ] + [f"    - {t}" for t in terms]
        (OUT_DATA / "lookups" / f"{entity}.yml").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )

    total = 0
    for intent in INTENTS:
        n = len(final[intent])
        total += n
        print(f"{intent:22s} {n}")
    print(f"{'TOTAL':22s} {total}")
    print("lookups: " + ", ".join(f"{e}={len(t)}" for e, t in look.items()))
    print(f"ask_health_info hypothetical red-flag questions kept: {rf_health}")


if __name__ == "__main__":
    main()
