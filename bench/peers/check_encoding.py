#!/usr/bin/env python3
"""Checks that the peer's encoding (bench/peers/encoding.py) equals the Swift encoder's, bit for bit.

    clickwise encode BUNDLE --data rows.csv --out /tmp/enc
    python3 bench/peers/check_encoding.py --features BUNDLE/features.json --data rows.csv --encoded /tmp/enc

Reads the CSV as features.json's dataLayout says (separator; a header row or the recorded column names),
passes every row to the peer's encoder as a request instance of CSV text (empty = missing, sequences
splitter-joined), and compares each model input with `clickwise encode`'s PREFIX.<input>.npy: ids exactly,
numbers as float32 bits. Exit status 0 when all agree. Run by Tests/ClickwiseTests (swift test).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from bench.peers.encoding import Encoder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", required=True)
    parser.add_argument("--data", required=True, help="the file `clickwise encode` read")
    parser.add_argument("--encoded", required=True, help="the --out prefix of `clickwise encode`")
    args = parser.parse_args()
    with open(args.features) as f:
        features = json.load(f)
    encoder = Encoder(features)
    layout = features.get("dataLayout", {"sep": ","})
    with open(args.data, newline="") as f:
        reader = csv.reader(f, delimiter=layout.get("sep", ","))
        names = layout.get("columnNames") or next(reader)
        instances = [dict(zip(names, values)) for values in reader if values]
    ours = encoder.encode(instances)
    failures = 0
    for name, array in ours.items():
        theirs = np.load(f"{args.encoded}.{name}.npy")
        if theirs.shape != array.shape or theirs.dtype != array.dtype:
            print(f"{name}: peer {array.dtype} {array.shape}, clickwise {theirs.dtype} {theirs.shape}")
            failures += 1
            continue
        same = (array.view(np.int32) == theirs.view(np.int32)) if array.dtype == np.float32 else (array == theirs)
        for r, c in list(zip(*np.nonzero(~same)))[:10]:
            print(f"{name}[{r}, {c}]: peer {array[r, c]!r}, clickwise {theirs[r, c]!r}; row {json.dumps(instances[r])[:300]}")
        failures += int((~same).sum())
    shapes = ", ".join(f"{name} {array.dtype} {list(array.shape)}" for name, array in ours.items())
    print(f"OK: peer encoding equals clickwise encode ({shapes})" if failures == 0 else f"MISMATCH: {failures} values differ")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
