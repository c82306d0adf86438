#!/usr/bin/env python3
"""Writes realistic raw request rows for any model bundle, one JSON object per line (the CTR API's instances).

Fields, kinds and vocabularies come from the bundle's features.json (version 2: any schema; version 1:
Criteo's I1..I13, C1..C26), in the schema's declaration order:
  - categorical: a vocabulary value skewed toward the first (most frequent) entries, ~4% an unseen value
    (OOV), ~4% absent (missing);
  - numeric, ~15% absent: convert_to_bucket fields (Criteo's integers) and integer fields without a
    normalizer get heavy-tailed counts (the odd -1); StandardScaler fields mean + std * N(0, 1);
    MinMaxScaler fields min + range * U(0, 1); other floats U(0, 1); dtype int fields are rounded;
  - sequence, ~5% absent: a JSON array of 1 to length + 2 tokens (so some are truncated) drawn from the
    field's vocabulary block like categorical values.
Deterministic for a given --seed; for a Criteo bundle the rows are the same as before schemas existed.
`clickwise tune` draws its rows the same way (Sources/clickwise/SampleRowGenerator.swift).

    python3 bench/gen_rows.py --bundle models/deepfm/1 --count 500 --out bench/out/rows.jsonl
"""
import argparse
import json
import random
import sys


def fields_of(features: dict) -> list:
    """[(name, kind, draw settings)] in declaration order, for a version-1 or version-2 features.json."""
    blocks = {c["name"]: c["vocabulary"] for c in features["categoricalFields"]}
    if int(features.get("formatVersion", 1)) == 1:
        return ([(d["name"], "counts", None) for d in features["denseFields"]]
                + [(c["name"], "categorical", c["vocabulary"]) for c in features["categoricalFields"]])
    numeric = {n["name"]: n for n in features["numericFields"]}
    sequences = {s["name"]: s for s in features["sequenceFields"]}
    out = []
    for field in features["schema"]["fields"]:
        name, kind = field["name"], field["kind"]
        if kind == "categorical":
            out.append((name, "categorical", blocks[name]))
        elif kind == "sequence":
            entry = sequences[name]
            out.append((name, "sequence", (blocks[entry["vocabulary"]], int(entry["length"]))))
        else:
            entry, integral = numeric[name], field.get("dtype") == "int"
            normalizer = field.get("normalizer", "none")
            if field.get("preprocess") == "convert_to_bucket" or (normalizer == "none" and integral):
                out.append((name, "counts", None))
            elif normalizer == "StandardScaler":
                out.append((name, "normal", (entry["shift"], entry["scale"], integral)))
            elif normalizer == "MinMaxScaler":
                out.append((name, "uniform", (entry["shift"], entry["scale"], integral)))
            else:
                out.append((name, "uniform", (0.0, 1.0, integral)))
    return out


def token(rng: random.Random, vocabulary: list, missing_rate: float):
    """A vocabulary value (skewed to frequent ones), an unseen value, or None (missing)."""
    u = rng.random()
    if u < missing_rate or not vocabulary:
        return None
    if u < missing_rate + 0.04:
        return "%08x" % rng.getrandbits(32)  # almost surely out of vocabulary
    # Skewed toward frequent values (vocabularies are stored most frequent first).
    return vocabulary[min(int(len(vocabulary) * rng.random() ** 3), len(vocabulary) - 1)]


def row(rng: random.Random, fields: list) -> dict:
    out = {}
    for name, kind, settings in fields:
        if kind == "categorical":
            value = token(rng, settings, 0.04)
            if value is not None:
                out[name] = value
        elif kind == "sequence":
            if rng.random() < 0.05:
                continue
            vocabulary, length = settings
            out[name] = [token(rng, vocabulary, 0.0) or "" for _ in range(rng.randint(1, length + 2))]
        else:
            if rng.random() < 0.15:
                continue
            if kind == "counts":
                # Criteo's integer features: mostly small counts, a long tail, the odd -1.
                value = int(rng.paretovariate(0.8)) - 1
                if rng.random() < 0.02:
                    value = -1
            else:
                shift, scale, integral = settings
                draw = rng.gauss(0.0, 1.0) if kind == "normal" else rng.random()
                value = shift + scale * draw
                if integral:
                    value = int(round(value))
            out[name] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True, help="bundle directory holding features.json")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()

    with open(f"{args.bundle}/features.json") as f:
        fields = fields_of(json.load(f))
    rng = random.Random(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w")
    for _ in range(args.count):
        out.write(json.dumps(row(rng, fields), separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
