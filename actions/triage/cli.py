"""`healthbot triage …`: check the protocols, triage a text, score a vignette file.

    healthbot triage validate [--dir DIR]
    healthbot triage "my 4 month old has a temperature of 38.5" [--age N --sex F|M]
                     [--answers yes,no,…] [--json]
    healthbot triage eval FILE [FILE …] [--held-out FILE] [--json] [--plot DIR]

With no ``--answers`` the text alone decides (open questions count as "not sure", the safer way);
``--answers`` answers the questions the assistant would ask, in the order it asks them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ANSWER_WORDS = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "unsure": "unsure",
                "not sure": "unsure", "?": "unsure"}  # fmt: skip


def _validate(folder: Path) -> int:
    from actions.triage.protocols import validate_dir

    protocols, problems = validate_dir(folder)
    for problem in problems:
        print(problem, file=sys.stderr)
    rules = sum(len(p.rules) for p in protocols)
    questions = sum(len(p.questions) for p in protocols)
    print(f"{len(protocols)} protocols, {questions} questions, {rules} rules, "
          f"{len(problems)} errors")  # fmt: skip
    return 1 if problems else 0


def _text(args: argparse.Namespace, words: list[str]) -> int:
    from actions.triage.engine import TriageEngine
    from actions.triage.protocols import ProtocolError

    try:
        engine = TriageEngine.load(args.dir)
    except ProtocolError as error:
        print(error, file=sys.stderr)
        return 2
    text = " ".join(words)
    prefix = [f"I am {args.age} years old." if args.age is not None else "",
              {"F": "I'm a woman.", "M": "I'm a man."}.get(args.sex or "", "")]  # fmt: skip
    messages = [" ".join(p for p in prefix if p), text]
    answers = [ANSWER_WORDS.get(a.strip().lower()) for a in (args.answers or "").split(",") if a]
    if None in answers:
        print("error: --answers takes yes, no or unsure, comma-separated", file=sys.stderr)
        return 2
    given: dict[str, Any] = {}
    asked: list[str] = []
    result = engine.assess(messages)
    for answer in answers:
        if result.next_question is None:
            break
        question_id = result.next_question[1].id
        given[question_id], asked = answer, [*asked, question_id]
        result = engine.assess(messages, given, asked)
    _print(result, args.json)
    return 0


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        out = result.to_json()
        out["next_question"] = result.next_question[1].ask if result.next_question else None
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    from actions.triage.levels import level_texts

    print(f"level: {result.level} ({level_texts()[result.level].name})")
    print(f"protocols: {', '.join(result.protocols) or 'none'}")
    for fired in result.fired:
        print(f"  {fired.rule} {fired.level}: {fired.reason}  [{fired.source}]")
    if result.red_flags:
        print(f"red flags: {', '.join(result.red_flags)}")
    if result.next_question:
        print(f"would ask next: {result.next_question[1].ask}")


def _eval(args: argparse.Namespace, paths: list[Path]) -> int:
    from actions.triage.engine import TriageEngine
    from actions.triage.evaluation import evaluate, load_vignettes, plot_confusion

    try:
        vignettes = [v for path in paths for v in load_vignettes(path)]
        held = load_vignettes(args.held_out) if args.held_out else []
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = evaluate(TriageEngine.load(args.dir), vignettes, held)
    sets = {"": report, "held_out_": report.get("held_out")}
    if args.plot:
        for prefix, part in sets.items():
            for mode in ("text_alone", "with_answers") if part else ():
                name = f"{prefix}{mode}"
                title = f"Triage, {part['vignettes']} vignettes, {name.replace('_', ' ')}"
                plot_confusion(part[mode]["confusion"], title, args.plot / f"triage_{name}.png")
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for prefix, part in sets.items():
        for mode in ("text_alone", "with_answers") if part else ():
            print(_line(f"{prefix}{mode}", part[mode]))
    return 0


def _line(name: str, s: dict[str, Any]) -> str:
    return (f"{name} (n={s['n']}): exact {s['exact']:.3f}, safe {s['safe']:.3f}, over-triage "
            f"{s['over_triage']:.3f}, emergency recall {s['emergency_recall']:.3f}, "
            f"self-care→emergency {s['self_care_to_emergency']:.3f}, "
            f"questions {s['mean_questions']:.2f}")  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[:1] == ["validate"]:
        return _validate(args.dir)
    if words[:1] == ["eval"]:
        if len(words) < 2:
            print("usage: healthbot triage eval FILE [FILE …] [--held-out FILE]", file=sys.stderr)
            return 2
        return _eval(args, [Path(word) for word in words[1:]])
    return _text(args, words)


def add_triage_commands(commands: Any) -> None:
    """Adds ``healthbot triage`` to the CLI."""
    from actions.triage.protocols import PROTOCOL_DIR

    triage = commands.add_parser(
        "triage",
        help="triage a text, validate the protocols, or score vignettes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    triage.add_argument("words", nargs="+", help='"free text", or: validate | eval FILE…')
    triage.add_argument("--age", type=float, help="the patient's age in years")
    triage.add_argument("--sex", choices=["F", "M"], help="the patient's sex")
    triage.add_argument("--answers", help="answers to the questions, e.g. yes,no,unsure")
    triage.add_argument("--json", action="store_true", help="print the triage record as JSON")
    triage.add_argument("--dir", type=Path, default=PROTOCOL_DIR, help="the protocols folder")
    triage.add_argument("--plot", type=Path, help="eval: write confusion matrices here")
    triage.add_argument("--held-out", type=Path, help="eval: a held-out vignette file too")
    triage.set_defaults(handler=_run)
