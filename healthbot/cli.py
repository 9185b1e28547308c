"""`healthbot`: command-line tools for the people who run the assistant.

Commands stay small and scriptable (JSON with --json). The core owns the entry point; each
service's command group lives beside the service and is imported by name, only when the
command line is built (``GROUPS``), so this package imports nothing heavy and nothing from the
processes' packages at import time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

# "module:function" that adds a group of subcommands to the parser.
GROUPS = (
    "actions.rag.cli:add_kb_commands",
    "actions.photo.cli:add_photo_commands",
    "actions.ehr.cli:add_ehr_commands",
    "actions.triage.cli:add_triage_commands",
)


def _red_flags(args: argparse.Namespace) -> int:
    from healthbot.safety.red_flags import default_detector

    text = " ".join(args.text) if args.text else sys.stdin.read()
    flags = [flag.to_dict() for flag in default_detector().detect(text)]
    if args.json:
        print(json.dumps(flags, ensure_ascii=False, indent=2))
    elif not flags:
        print("no red flags")
    else:
        for flag in flags:
            print(f"{flag['id']}  {flag['category']:<28} {flag['text']!r}  ({flag['label']})")
    return 1 if flags else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthbot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    flags = commands.add_parser(
        "red-flags",
        help="check text for emergency red flags (exit code 1 if any)",
        description="Runs the red-flag detector the assistant runs on every message.",
    )
    flags.add_argument("text", nargs="*", help="the message (read from stdin if omitted)")
    flags.add_argument("--json", action="store_true", help="print the flags as JSON")
    flags.set_defaults(handler=_red_flags)

    for group in GROUPS:
        module, _, function = group.partition(":")
        getattr(importlib.import_module(module), function)(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
