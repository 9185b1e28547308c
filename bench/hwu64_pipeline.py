"""Choose the Rasa NLU pipeline by measurement on the HWU64 benchmark.

Why this exists: the assistant's pipeline (config.yml) must train in minutes on a 2-core CPU and
still reach HWU64 intent accuracy >= 88 % and entity micro-F1 >= 80 %. Rasa's default DIET pipeline
needs hours here, so candidate pipelines are trained and tested with Rasa's own CLI (`rasa train
nlu`, `rasa test nlu`) and compared on the numbers Rasa itself reports.

Usage (from the repository root)::

    .venv/bin/python bench/hwu64_pipeline.py --list
    .venv/bin/python bench/hwu64_pipeline.py svm_dense svm_dense_crf
    .venv/bin/python bench/hwu64_pipeline.py --table          # print the table of stored results

Each run merges its configs into `bench/results/hwu64.json` (keyed by config name) and prints a
Markdown table of everything stored. Any Python can run this file: Rasa runs as a subprocess from
`.venv-rasa`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
DATA_DIR = REPO.parent / "shared" / "data" / "hwu64" / "rasa_kfold1"  # ../shared
RESULTS_DIR = REPO / "bench" / "results"
RESULTS_FILE = RESULTS_DIR / "hwu64.json"

# Published DIET numbers (Bunk et al. 2020, Table: HWU64, sparse features only) to report next to
# ours.
DIET_PAPER_SPARSE = {"intent_f1": 88.19, "entity_f1": 85.12}

_SPARSE_FEATURIZERS: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
]
_MINILM = {"name": "nlu.components.minilm_featurizer.MiniLMFeaturizer"}
_CRF = {
    "name": "CRFEntityExtractor",
    # Rasa's default CRF features without `text_dense_features`: 384 dense values per token would
    # multiply crfsuite's training time (already 10 min on HWU64's 54 entity types).
    "features": [
        ["low", "title", "upper"],
        [
            "low",
            "bias",
            "prefix5",
            "prefix2",
            "suffix5",
            "suffix3",
            "suffix2",
            "upper",
            "title",
            "digit",
            "pattern",
        ],
        ["low", "title", "upper"],
    ],
}


def _diet(layers: int, epochs: int, **extra: Any) -> dict[str, Any]:
    """A DIETClassifier sized for a 2-core CPU: few (or no) transformer layers, few epochs."""
    return {
        "name": "DIETClassifier",
        "epochs": epochs,
        "number_of_transformer_layers": layers,
        "constrain_similarities": True,
        "evaluate_on_number_of_examples": 0,
        "random_seed": 42,
        **extra,
    }


# Candidate pipelines, by name. Keep this short: a few meaningful points, not a grid.
CANDIDATES: dict[str, list[dict[str, Any]]] = {
    # Cheapest: sparse features, linear intent classifier, CRF for entities.
    "lr_crf": [
        *_SPARSE_FEATURIZERS,
        {"name": "LogisticRegressionClassifier", "max_iter": 200},
        _CRF,
    ],
    # DIET on sparse features only, no transformer (the DIET paper's "sparse" setting is with 2
    # layers).
    "diet_sparse_t0": [*_SPARSE_FEATURIZERS, _diet(0, 50)],
    # Sparse + MiniLM sentence/token features: linear intent classifier + CRF with dense token
    # features.
    "lr_dense_crf": [
        *_SPARSE_FEATURIZERS,
        _MINILM,
        {"name": "LogisticRegressionClassifier", "max_iter": 200},
        _CRF,
    ],
    # Intent part of lr_dense_crf alone: the CRF does not see the classifier, so its entity scores
    # are those of lr_crf (same features, deterministic crfsuite); this saves a 10-minute CRF run.
    "lr_dense": [
        *_SPARSE_FEATURIZERS,
        _MINILM,
        {"name": "LogisticRegressionClassifier", "max_iter": 200},
    ],
    # MiniLM sentence vector alone into Rasa's SVM (linear, class-balanced), one C value and two CV
    # folds to keep its grid search (and Platt scaling) cheap.
    "svm_dense": [
        {"name": "WhitespaceTokenizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
    ],
    # The proposal in bench/PIPELINE.md without its assistant-only parts (not run yet: its CRF alone
    # takes about 9 min to train and 9 min to test on HWU64's 54 entity types).
    "svm_dense_crf": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        _CRF,
    ],
    # DIET for entities only, IO tags (BILOU_flag off: 55 instead of 217 tags), no char n-grams,
    # beside the SVM for intents. Measured by hand: 77.1 entity micro-F1 after 30 epochs.
    "svm_dense_diet_entities": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        _diet(0, 30, intent_classification=False, BILOU_flag=False),
    ],
    # CRF with IO tags (55 instead of 217 labels: ~4x cheaper per iteration), which pays for
    # MiniLM's contextual token vectors as CRF features and a wider lexical window.
    "svm_dense_crf_io_dense": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        {
            "name": "CRFEntityExtractor",
            "BILOU_flag": False,
            "features": [
                ["low", "suffix3"],
                ["low", "title", "upper", "suffix3"],
                [
                    "low",
                    "bias",
                    "prefix5",
                    "prefix2",
                    "suffix5",
                    "suffix3",
                    "suffix2",
                    "upper",
                    "title",
                    "digit",
                    "pattern",
                    "text_dense_features",
                ],
                ["low", "title", "upper", "suffix3"],
                ["low", "suffix3"],
            ],
        },
    ],
    # DIET entities only with two small transformer layers (attention over the utterance).
    "svm_dense_diet_entities_t2": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        _diet(2, 40, intent_classification=False, BILOU_flag=False, transformer_size=128),
    ],
    # The SVM for intents; entities from MiniLM's upper transformer layers fine-tuned as a token
    # tagger (nlu/components/minilm_entity_extractor.py), 8 epochs. Token micro-F1 on a 1,000-
    # example dev split of the training set by frozen lower layers: 0: 82.9, 2: 82.0, 3: 81.2,
    # 4: 80.5. The tagger reuses the featurizer's frozen layers, so each trained layer costs a
    # sixth of a MiniLM pass per parse (bench/PIPELINE.md).
    "svm_dense_minilm_ner_all": [
        {"name": "WhitespaceTokenizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        {
            "name": "nlu.components.minilm_entity_extractor.MiniLMEntityExtractor",
            "frozen_layers": 0,
            "epochs": 8,
        },
    ],
    "svm_dense_minilm_ner": [
        {"name": "WhitespaceTokenizer"},
        _MINILM,
        {"name": "SklearnIntentClassifier", "C": [10], "max_cross_validation_folds": 2},
        {
            "name": "nlu.components.minilm_entity_extractor.MiniLMEntityExtractor",
            "frozen_layers": 3,
            "epochs": 8,
        },
    ],
    # As svm_dense_minilm_ner, with a character n-gram TF-IDF sentence vector next to MiniLM's
    # for the SVM (nlu/components/char_ngram_featurizer.py): misspelt and slang short turns.
    "svm_dense_chars_minilm_ner": [
        {"name": "WhitespaceTokenizer"},
        _MINILM,
        {"name": "nlu.components.char_ngram_featurizer.CharNgramFeaturizer"},
        {
            "name": "nlu.components.linear_svm_intent_classifier.LinearSVMIntentClassifier",
            "C": [10],
            "max_cross_validation_folds": 2,
        },
        {
            "name": "nlu.components.minilm_entity_extractor.MiniLMEntityExtractor",
            "frozen_layers": 3,
            "epochs": 8,
        },
    ],
    # DIET on sparse + MiniLM features, no transformer layer.
    "diet_dense_t0": [*_SPARSE_FEATURIZERS, _MINILM, _diet(0, 50)],
    # Same with one small transformer layer (slower; does attention over tokens help entities?).
    "diet_dense_t1": [*_SPARSE_FEATURIZERS, _MINILM, _diet(1, 40, transformer_size=128)],
}
# The pipeline in config.yml, without its assistant-only parts (synonyms, fallback, red flags).
CANDIDATES["chosen"] = CANDIDATES["svm_dense_chars_minilm_ner"]


def _rasa(args: list[str], log: Path) -> float:
    """Run a Rasa CLI command, repo on PYTHONPATH (custom components); return seconds taken."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    # No training cache: restoring cached featurizers is slower than fitting them here, and a cache
    # hit would make train times depend on what ran before.
    env["RASA_MAX_CACHE_SIZE"] = "0"
    start = time.perf_counter()
    with log.open("a") as out:
        proc = subprocess.run(
            [str(RASA), *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"`rasa {' '.join(args[:2])}` failed (exit {proc.returncode}); see {log}"
        )
    return elapsed


def convert_data(work: Path, log: Path) -> tuple[Path, Path]:
    """Convert the legacy Rasa JSON fold to Rasa YAML (once per work dir)."""
    out = []
    for split in ("train", "test"):
        target = work / f"{split}.yml"
        if not target.exists():
            _rasa(
                [
                    "data",
                    "convert",
                    "nlu",
                    "-f",
                    "yaml",
                    "--data",
                    str(DATA_DIR / f"{split}_kfold1.json"),
                    "--out",
                    str(target),
                ],
                log,
            )
        out.append(target)
    return out[0], out[1]


def _write_config(pipeline: list[dict[str, Any]], path: Path) -> None:
    """Write a config.yml; JSON is valid YAML, so no YAML library is needed here."""
    config = {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "hwu64-bench",
        "pipeline": pipeline,
        "policies": [],
    }
    path.write_text(json.dumps(config, indent=2))


def _entity_report(report_dir: Path) -> tuple[str, dict[str, Any]] | None:
    """Find the entity report of whichever extractor ran (DIET, CRF or the MiniLM tagger)."""
    for name in (
        "DIETClassifier_report.json",
        "CRFEntityExtractor_report.json",
        "MiniLMEntityExtractor_report.json",
    ):
        path = report_dir / name
        if path.exists():
            return name.removesuffix("_report.json"), json.loads(path.read_text())
    return None


def _confidences(report_dir: Path) -> dict[str, list[float]]:
    """Intent confidences of correct and wrong test predictions (for the fallback threshold)."""
    result: dict[str, list[float]] = {"correct": [], "wrong": []}
    for key, name in (("correct", "intent_successes.json"), ("wrong", "intent_errors.json")):
        path = report_dir / name
        if path.exists():
            result[key] = [
                round(e["intent_prediction"]["confidence"], 5) for e in json.loads(path.read_text())
            ]
    return result


def run_candidate(name: str, work: Path, train: Path, test: Path) -> dict[str, Any]:
    """Train and test one candidate; return its measured metrics."""
    cand_dir = work / name
    shutil.rmtree(cand_dir, ignore_errors=True)
    cand_dir.mkdir(parents=True)
    log = cand_dir / "rasa.log"
    config = cand_dir / "config.yml"
    _write_config(CANDIDATES[name], config)
    print(f"[{name}] training ... (log: {log})", flush=True)
    train_s = _rasa(
        [
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            str(train),
            "--out",
            str(cand_dir / "models"),
            "--fixed-model-name",
            name,
        ],
        log,
    )
    print(f"[{name}] trained in {train_s:.0f} s; testing ...", flush=True)
    report_dir = cand_dir / "report"
    test_s = _rasa(
        [
            "test",
            "nlu",
            "--model",
            str(cand_dir / "models" / f"{name}.tar.gz"),
            "--nlu",
            str(test),
            "--out",
            str(report_dir),
            "--successes",
            "--no-plot",  # plots of 64 intents take minutes on this CPU
        ],
        log,
    )
    intent = json.loads((report_dir / "intent_report.json").read_text())
    result: dict[str, Any] = {
        "pipeline": CANDIDATES[name],
        "train_seconds": round(train_s, 1),
        "test_seconds": round(test_s, 1),
        "intent_accuracy": round(100 * intent["accuracy"], 2),
        "intent_macro_f1": round(100 * intent["macro avg"]["f1-score"], 2),
        "intent_weighted_f1": round(100 * intent["weighted avg"]["f1-score"], 2),
        "confidences": _confidences(report_dir),
    }
    entity = _entity_report(report_dir)
    if entity:
        extractor, report = entity
        result.update(
            entity_extractor=extractor,
            entity_micro_f1=round(100 * report["micro avg"]["f1-score"], 2),
            entity_macro_f1=round(100 * report["macro avg"]["f1-score"], 2),
        )
    keep = RESULTS_DIR / "reports" / name
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir(parents=True)
    for file in ("intent_report.json", f"{result.get('entity_extractor', '-')}_report.json"):
        if (report_dir / file).exists():
            shutil.copy(report_dir / file, keep / file)
    return result


def fallback_threshold(confidences: dict[str, list[float]], keep: float) -> dict[str, float]:
    """The highest FallbackClassifier threshold that still keeps `keep` of the correct predictions.

    Why: a fallback that fires on correct answers annoys users; one that never fires lets wrong
    intents through. We fix the cost side (share of correct predictions lost) and report the benefit
    (share of wrong predictions caught, i.e. below the threshold).
    """
    correct = sorted(confidences["correct"])
    wrong = confidences["wrong"]
    if not correct:
        return {"threshold": 0.0, "correct_kept": 0.0, "errors_caught": 0.0}
    threshold = correct[int((1.0 - keep) * len(correct))]
    threshold = float(int(threshold * 100) / 100)  # round down to 2 decimals for config.yml
    return {
        "threshold": threshold,
        "correct_kept": round(100 * sum(c >= threshold for c in correct) / len(correct), 2),
        "errors_caught": round(100 * sum(c < threshold for c in wrong) / max(len(wrong), 1), 2),
    }


def measure_latency(model: Path, texts: list[str], runs: int = 100) -> dict[str, float]:
    """Per-message parse latency (ms) of a trained model, loaded as the Rasa server loads it.

    Needs Rasa, so it runs in .venv-rasa (`main` re-executes this file there when needed).
    """
    import asyncio
    import statistics

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def timed() -> list[float]:
        for text in texts[:5]:  # warm-up: first calls build TF functions
            await agent.parse_message(text)
        times = []
        for i in range(runs):
            start = time.perf_counter()
            await agent.parse_message(texts[i % len(texts)])
            times.append(1000 * (time.perf_counter() - start))
        return times

    times = sorted(asyncio.run(timed()))
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
        "mean_ms": round(statistics.fmean(times), 2),
    }


def _latency_cli(name: str, work: Path) -> None:
    """Measure latency for a trained candidate in `work` and store it with its results."""
    try:
        import rasa  # noqa: F401
    except ImportError:
        cmd = [str(RASA_PYTHON), __file__, "--latency", name, "--work-dir", str(work)]
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
        subprocess.run(cmd, cwd=REPO, env=env, check=True)
        return
    texts = [
        line.strip()[2:].replace("[", "").split("](")[0]
        for line in (work / "test.yml").read_text().splitlines()
        if line.strip().startswith("- ")
    ]
    latency = measure_latency(work / name / "models" / f"{name}.tar.gz", texts)
    results = load_results()
    results.setdefault(name, {})["parse_latency"] = latency
    RESULTS_FILE.write_text(json.dumps(results, indent=1))
    print(f"[{name}] parse latency {latency}")


def load_results() -> dict[str, Any]:
    """Stored results, keyed by config name."""
    return json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {}


def markdown_table(results: dict[str, Any]) -> str:
    """The comparison table, with the DIET paper's sparse numbers as the reference row."""
    rows = [
        "| config | intent acc. | intent macro-F1 | intent weighted-F1 | entity micro-F1 "
        "| train time |",
        "|---|---|---|---|---|---|",
        f"| DIET paper, sparse (reference) | – | – | {DIET_PAPER_SPARSE['intent_f1']} | "
        f"{DIET_PAPER_SPARSE['entity_f1']} | – |",
    ]
    for name, r in results.items():
        if "intent_accuracy" not in r:  # an aborted run, kept for its note
            rows.append(f"| `{name}` | aborted: {r.get('note', '')} | | | | |")
            continue
        rows.append(
            f"| `{name}` | {r['intent_accuracy']:.2f} | {r['intent_macro_f1']:.2f} | "
            f"{r['intent_weighted_f1']:.2f} | {r.get('entity_micro_f1', '–')} | "
            f"{r['train_seconds'] / 60:.1f} min |"
        )
    rows += [
        "",
        "| config | fallback threshold (keeps 99 % / 98 % of correct) | errors caught |",
        "|---|---|---|",
    ]
    for name, r in results.items():
        if "confidences" not in r:
            continue
        t99 = fallback_threshold(r["confidences"], 0.99)
        t98 = fallback_threshold(r["confidences"], 0.98)
        rows.append(
            f"| `{name}` | {t99['threshold']:.2f} / {t98['threshold']:.2f} | "
            f"{t99['errors_caught']:.1f} % / {t98['errors_caught']:.1f} % |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help=f"candidate names: {', '.join(CANDIDATES)}")
    parser.add_argument("--list", action="store_true", help="list candidate names and exit")
    parser.add_argument("--latency", metavar="NAME", help="time 100 parses of a trained config")
    parser.add_argument(
        "--table", action="store_true", help="print the stored results table and exit"
    )
    parser.add_argument(
        "--work-dir", type=Path, help="keep data, models and logs here (default: temp dir)"
    )
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CANDIDATES))
        return 0
    if args.latency:
        if not args.work_dir:
            parser.error("--latency needs the --work-dir the config was trained in")
        _latency_cli(args.latency, args.work_dir)
        return 0
    if args.table or not args.configs:
        print(markdown_table(load_results()))
        return 0
    unknown = [c for c in args.configs if c not in CANDIDATES]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; choose from {list(CANDIDATES)}")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="hwu64-"))
    work.mkdir(parents=True, exist_ok=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    train, test = convert_data(work, work / "convert.log")
    for name in args.configs:
        result = run_candidate(name, work, train, test)
        results = load_results()  # re-read: another run may have stored results meanwhile
        results[name] = result
        RESULTS_FILE.write_text(json.dumps(results, indent=1))
        print(
            f"[{name}] intent acc {result['intent_accuracy']} | entity F1 "
            f"{result.get('entity_micro_f1')} | train {result['train_seconds']} s",
            flush=True,
        )
    print(markdown_table(load_results()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
