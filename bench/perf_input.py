#!/usr/bin/env python3
"""Writes perf_analyzer's --input-data JSON for a bundle: real rows (bench/gen_rows.py), encoded as the server
encodes them (bench/peers/encoding.py), one row per entry as the model's v2 inputs without the batch dimension
(the config's max_batch_size > 0); perf_analyzer's `-b N` puts N rows in a request.

perf_analyzer's random bytes would be refused by the server's id-range checks, so id models are benchmarked
with real rows (see ../shared/reference/triton-compatibility.md).

    python3 bench/perf_input.py --bundle models/autoint/1 --count 256 --out bench/out/perf_rows.json
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_rows  # noqa: E402
from peers import encoding  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--count", type=int, default=256, help="distinct rows perf_analyzer cycles through")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(os.path.join(args.bundle, "features.json")) as f:
        features = json.load(f)
    fields = gen_rows.fields_of(features)
    encoder = encoding.Encoder(features)
    rng = random.Random(args.seed)
    data = []
    for _ in range(args.count):
        tensors = encoder.encode([gen_rows.row(rng, fields)])
        data.append({name: {"content": array.reshape(-1).tolist(), "shape": list(array.shape[1:])} for name, array in tensors.items()})
    with open(args.out, "w") as f:
        json.dump({"data": data}, f)
    print(f"{args.out}: {args.count} rows ({', '.join(data[0])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
