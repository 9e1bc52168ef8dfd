#!/usr/bin/env python3
"""Writes data/fortune_pairs/: the small JSONL set of experiments/sft_then_reward.toml, made from
the embedded fortune corpus (Debian's `fortunes`) of the eight categories of the fortune task.

  sft_{train,val}.jsonl          {"prompt": "A fortune about work:\n", "completion": "<fortune>"}
  preferences_{train,val}.jsonl  {"prompt": ..., "chosen": "<a fortune of that category>",
                                  "rejected": "<a fortune of another category>"}

SFT teaches a model to write a fortune on a named topic; the reward model learns to prefer the
fortune that matches the topic. Deterministic (seeded); entries are split by a hash of their
text, so no fortune is in both a train and a validation file. Usage:
  python3 scripts/make_fortune_pairs.py [FORTUNE_DIR] [OUT_DIR]
"""
import hashlib
import json
import os
import random
import sys

CLASSES = ["computers", "definitions", "men-women", "people", "politics", "science",
           "songs-poems", "work"]
MAX_CHARS = 240       # short fortunes only: the models see 128 tokens
TRAIN, VAL = 1000, 100  # examples per file


def entries(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for entry in text.split("\n%\n"):
        entry = entry.strip("%\n ").strip()
        if entry and len(entry) <= MAX_CHARS:
            yield entry


def is_validation(text):
    return hashlib.sha256(text.encode()).digest()[0] < 26  # about 10%


def prompt(category):
    return "A fortune about " + category.replace("-", " and ") + ":\n"


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/games/fortunes"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "fortune_pairs")
    os.makedirs(out, exist_ok=True)
    by_split = {"train": {}, "val": {}}
    for category in CLASSES:
        for text in entries(os.path.join(source, category)):
            split = "val" if is_validation(text) else "train"
            by_split[split].setdefault(category, []).append(text)
    rng = random.Random(20261126)
    for split, count in (("train", TRAIN), ("val", VAL)):
        pool = by_split[split]
        with open(os.path.join(out, f"sft_{split}.jsonl"), "w", encoding="utf-8") as sft, \
             open(os.path.join(out, f"preferences_{split}.jsonl"), "w", encoding="utf-8") as prefs:
            for i in range(count):
                category = CLASSES[i % len(CLASSES)]
                other = rng.choice([c for c in CLASSES if c != category])
                chosen = rng.choice(pool[category])
                rejected = rng.choice(pool[other])
                sft.write(json.dumps({"prompt": prompt(category), "completion": chosen}) + "\n")
                prefs.write(json.dumps({"prompt": prompt(category), "chosen": chosen,
                                        "rejected": rejected}) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
