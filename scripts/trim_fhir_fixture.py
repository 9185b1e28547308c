"""Trim Synthea FHIR bundles into small test fixtures for ``actions/ehr/fhir.py``.

Why: whole Synthea bundles are 1-1.5 MB, mostly claims, encounters and reports the analyzer
never reads. A fixture keeps the Patient and the resource types the reader uses, unchanged and
in their original order, so the tests run on real Synthea data at a fraction of the size. A
re-run gives the same bytes.

Usage::

    python scripts/trim_fhir_fixture.py SOURCE.json [SOURCE.json ...] [--target DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from actions.ehr.fhir import USED_TYPES  # noqa: E402

DEFAULT_TARGET = ROOT / "tests" / "actions" / "ehr" / "data" / "fhir"
KEEP = USED_TYPES  # exactly what the reader validates and uses
MAX_BYTES = 300_000


def trim(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with only the entries whose resource type the reader uses."""
    entries = [
        entry
        for entry in bundle.get("entry", [])
        if isinstance(entry, dict) and entry.get("resource", {}).get("resourceType") in KEEP
    ]
    return {**{key: value for key, value in bundle.items() if key != "entry"}, "entry": entries}


def fixture_name(source: Path) -> str:
    """``Given_Family_<uuid>.json`` -> ``synthea_given_family.json`` (no ids in file names)."""
    parts = source.stem.split("_")
    return "synthea_" + "_".join(parts[:-1] if len(parts) > 1 else parts).lower() + ".json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    args = parser.parse_args(argv)
    args.target.mkdir(parents=True, exist_ok=True)
    for source in args.sources:
        trimmed = trim(json.loads(source.read_text(encoding="utf-8")))
        text = json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n"
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            print(
                f"{source.name}: {size} bytes after trimming (limit {MAX_BYTES})", file=sys.stderr
            )
            return 1
        target = args.target / fixture_name(source)
        target.write_text(text, encoding="utf-8")
        print(
            f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: {size} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
