#!/usr/bin/env python3
"""Writes realistic raw Criteo-style rows for a model bundle, one JSON object per line.

Categorical values come from the bundle's features.json vocabularies (skewed toward the first, most
frequent ids), with ~4% unseen values (OOV) and ~4% absent fields (missing); integer fields follow a
heavy-tailed distribution like Criteo's, ~15% absent. Deterministic for a given --seed.

    python3 bench/gen_rows.py --bundle models/deepfm/1 --count 500 --out bench/out/rows.jsonl
"""
import argparse
import json
import random
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True, help="bundle directory holding features.json")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()

    with open(f"{args.bundle}/features.json") as f:
        features = json.load(f)
    rng = random.Random(args.seed)
    dense_names = [d["name"] for d in features["denseFields"]]
    categorical = [(c["name"], c["vocabulary"]) for c in features["categoricalFields"]]

    out = sys.stdout if args.out == "-" else open(args.out, "w")
    for _ in range(args.count):
        row = {}
        for name in dense_names:
            if rng.random() < 0.15:
                continue
            # Criteo's integer features: mostly small counts, a long tail, the odd -1.
            value = int(rng.paretovariate(0.8)) - 1
            if rng.random() < 0.02:
                value = -1
            row[name] = value
        for name, vocabulary in categorical:
            u = rng.random()
            if u < 0.04 or not vocabulary:
                continue  # missing
            if u < 0.08:
                row[name] = "%08x" % rng.getrandbits(32)  # almost surely out of vocabulary
                continue
            # Skewed toward frequent values (vocabularies are stored most frequent first).
            index = min(int(len(vocabulary) * rng.random() ** 3), len(vocabulary) - 1)
            row[name] = vocabulary[index]
        out.write(json.dumps(row, separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
