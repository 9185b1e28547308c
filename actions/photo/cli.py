"""`healthbot photo check IMAGE… [--json] [--overlay-dir DIR]`: the photo checker on files.

For clinics and for checking the model on their own photos. A bad file is reported and skipped;
the others are still checked. Exit code 1 if any file could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _check(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from actions.photo.service import PhotoChecker

    checker = PhotoChecker(args.model_dir, args.device)
    if args.overlay_dir:
        args.overlay_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    rows = []
    for path in tqdm(args.images, desc="photos", unit="photo", disable=len(args.images) < 3):
        try:
            data = path.read_bytes()
        except OSError as error:
            print(f"{path}: error: cannot read ({error.strerror})", file=sys.stderr)
            failed += 1
            continue
        result = checker.check(data)
        row = {"file": str(path), **result.to_dict()}
        if args.overlay_dir and result.wound_found:
            overlay = args.overlay_dir / f"{path.stem}.overlay.jpg"
            overlay.write_bytes(checker.overlay(result))
            row["overlay"] = str(overlay)
        rows.append(row)
        if not args.json:
            print(_line(row, result.problems))
    if args.json:
        print(json.dumps(rows, indent=2))
    return 1 if failed else 0


def _line(row: dict[str, Any], problems: list[Any]) -> str:
    if not row["usable"]:
        return f"{row['file']}: not usable: " + "; ".join(p.message for p in problems)
    if not row["wound_found"]:
        return f"{row['file']}: no wound found (p={row['wound_probability']:.2f})"
    return (
        f"{row['file']}: wound (p={row['wound_probability']:.2f}), "
        f"{row['wound_area_fraction'] * 100:.1f} % of the photo"
    )


def add_photo_commands(commands: Any) -> None:
    """Registers `healthbot photo …` on the main parser's subcommands."""
    photo = commands.add_parser("photo", help="check wound photos (quality gate + CNN)")
    sub = photo.add_subparsers(dest="photo_command", required=True)
    check = sub.add_parser(
        "check",
        help="check one or more photos",
        description="Runs the quality gate and the wound CNN the assistant runs on uploads.",
    )
    check.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, WebP)")
    check.add_argument(
        "--json",
        action="store_true",
        help="print {file, usable, problems, wound_probability, wound_area_fraction} per image",
    )
    check.add_argument("--overlay-dir", type=Path, help="write the outlined photos here")
    check.add_argument("--model-dir", type=Path, default=Path("models/photo-cnn"))
    check.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    check.set_defaults(handler=_check)
