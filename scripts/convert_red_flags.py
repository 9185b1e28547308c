"""Copy the red-flag list from ../shared into the repo, checked and normalised.

Why: the product must not read ``../shared`` at run time, so the detector ships its own copy
(``healthbot/safety/data/red_flags.csv``). This script is the only way that copy is made: it checks
the columns, the ids (``RF001``..), that no id repeats and that no required field is empty, and
writes the rows back with stripped whitespace and ``\\n`` line endings so a re-run gives the same
bytes.

Usage::

    python scripts/convert_red_flags.py [--source PATH] [--target PATH]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "red-flags" / "red_flags.csv"
DEFAULT_TARGET = ROOT / "actions" / "safety" / "data" / "red_flags.csv"

COLUMNS = (
    "id",
    "red_flag",
    "category",
    "population",
    "action",
    "source_org",
    "source_url",
    "note",
)
REQUIRED = ("id", "red_flag", "category", "population", "action", "source_org", "source_url")
ID_RE = re.compile(r"RF\d{3}")


class ConversionError(ValueError):
    """The source file is not what the detector expects; the message names the row and field."""


def read_rows(source: Path) -> list[dict[str, str]]:
    """Read and validate the source CSV, returning stripped rows in file order."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ConversionError(
                f"{source}: expected columns {', '.join(COLUMNS)}; got {reader.fieldnames}"
            )
        rows = [{key: (value or "").strip() for key, value in row.items()} for row in reader]
    _validate(source, rows)
    return rows


def _validate(source: Path, rows: list[dict[str, str]]) -> None:
    """Fail on a missing field, a malformed id or a repeated id, naming the CSV line."""
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        for field in REQUIRED:
            if not row[field]:
                raise ConversionError(f"{source}:{line}: field '{field}' is empty")
        if not ID_RE.fullmatch(row["id"]):
            raise ConversionError(f"{source}:{line}: id '{row['id']}' is not like RF001")
        if row["id"] in seen:
            raise ConversionError(f"{source}:{line}: id '{row['id']}' appears twice")
        seen.add(row["id"])
    if not rows:
        raise ConversionError(f"{source}: no rows")


def write_rows(rows: list[dict[str, str]], target: Path) -> None:
    """Write the rows with a fixed column order and line ending (reproducible bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Convert, print a one-line summary, return a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    args = parser.parse_args(argv)
    try:
        rows = read_rows(args.source)
    except (OSError, ConversionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_rows(rows, args.target)
    print(f"wrote {len(rows)} red flags ({rows[0]['id']}..{rows[-1]['id']}) to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
