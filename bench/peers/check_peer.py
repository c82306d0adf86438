#!/usr/bin/env python3
"""Checks that the FastAPI peer and `clickwise serve` give the same predictions for the same raw rows.

    python3 bench/peers/check_peer.py --clickwise http://127.0.0.1:8000 --peer http://127.0.0.1:8100 \
        --model deepfm --rows bench/out/rows.jsonl --count 50 --bundle models/deepfm/1

Also sends edge cases built from the bundle's schema (absent fields, null, "", unseen values, numbers as
strings, -5, huge values; sequences as joined strings, [], null tokens, too long), plus the fixed Criteo
cases for Criteo bundles. Exit status 0 when every prediction agrees within 1e-6 (float32 rounding of the
same graph).
"""
import argparse
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from bench.peers.encoding import load  # noqa: E402


CRITEO_EDGE_ROWS = [
    {},
    {"I1": None, "C1": None, "C2": "", "I2": ""},
    {"I1": -5, "I2": 0, "I3": 1, "I4": 2, "I5": 3, "I6": 1000000, "I7": "17", "C3": "definitely-unseen"},
    {"C5": 12345, "C6": 0, "I13": 2147483647},
]


def edge_rows(bundle: str) -> list:
    """Edge cases for any schema: every field null, every field "", unseen values, numbers as text, sequences in every form."""
    encoder = load(os.path.join(bundle, "features.json"))
    categorical = [name for name, _, _ in encoder.categorical]
    numeric = [(entry[0], entry[5]) for entry in encoder.numeric]
    sequences = encoder.sequences
    rows = [{}, {name: None for name in categorical + [n for n, _ in numeric] + [s[0] for s in sequences]}]
    rows.append({name: "" for name in categorical + [n for n, _ in numeric] + [s[0] for s in sequences]})
    odd = {}
    for i, name in enumerate(categorical):
        odd[name] = ["definitely-unseen", 12345, 0][i % 3]
    for i, (name, integral) in enumerate(numeric):
        odd[name] = [-5, 0, 1, 2, 3, 1000000, "17", 2147483647][i % 8] if integral else [-5.5, 0.0, "2.25", 1e6, 3][i % 5]
    for name, block, length, _, _, splitter, _ in sequences:
        known = [v for v, _ in sorted(encoder.lookups[block].items(), key=lambda kv: kv[1])][:3] or ["x"]
        odd[name] = splitter.join(known + ["unseen-token", ""] + known * length)
    rows.append(odd)
    for name, block, length, _, _, _, _ in sequences:
        known = list(encoder.lookups[block])[:2] or ["x"]
        rows += [{name: []}, {name: [None, known[0], "", 7]}, {name: known * (length + 3)}, {name: known[:1]}]
    # The fixed Criteo cases, when this schema has their fields.
    if all(set(row) <= encoder.known for row in CRITEO_EDGE_ROWS):
        rows += CRITEO_EDGE_ROWS
    return rows


def local_predictor(bundle: str):
    """The peer's encoding and onnxruntime in this process (`--peer local`: no FastAPI needed)."""
    import numpy as np
    import onnxruntime as ort
    encoder = load(os.path.join(bundle, "features.json"))
    session = ort.InferenceSession(os.path.join(bundle, "model.onnx"), providers=["CPUExecutionProvider"])
    return lambda rows: np.asarray(session.run([encoder.output], encoder.encode(rows))[0], dtype=np.float32).reshape(-1).tolist()


def predict(base: str, model: str, rows: list) -> list:
    body = json.dumps({"instances": rows}).encode()
    request = urllib.request.Request(f"{base}/v1/models/{model}:predict", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["predictions"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clickwise", default="http://127.0.0.1:8000")
    parser.add_argument("--peer", default="http://127.0.0.1:8100",
                        help="the peer's URL, or `local`: its encoding and onnxruntime in this process")
    parser.add_argument("--model", default="deepfm")
    parser.add_argument("--rows", default="bench/out/rows.jsonl")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--bundle", required=True, help="the bundle both servers serve (for schema edge cases)")
    args = parser.parse_args()
    with open(args.rows) as f:
        rows = [json.loads(line) for line, _ in zip(f, range(args.count))]
    rows += edge_rows(args.bundle)
    if args.peer == "local":
        peer = local_predictor(args.bundle)
    else:
        peer = lambda batch: predict(args.peer, args.model, batch)  # noqa: E731
    ours = predict(args.clickwise, args.model, rows)
    theirs = peer(rows)
    # One row at a time too (batch 1 vs batch N must not matter beyond float rounding).
    single = [peer([row])[0] for row in rows[:5]]
    worst = max(abs(a - b) for a, b in zip(ours, theirs))
    worst_single = max(abs(a - b) for a, b in zip(ours[:5], single))
    print(f"rows {len(rows)}  max |clickwise - peer| = {worst:.3g}  (single-row peer requests: {worst_single:.3g})")
    ok = len(ours) == len(theirs) == len(rows) and worst < 1e-6 and worst_single < 1e-6
    if not ok:
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if abs(a - b) >= 1e-6:
                print(f"  row {i}: clickwise {a} peer {b}  {json.dumps(rows[i])[:200]}")
    print("OK: predictions agree" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
