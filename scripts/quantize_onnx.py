#!/usr/bin/env python3
"""INT8 versions of a Clickwise model bundle with ONNX Runtime's own quantization tool.

Writes two bundles next to the input (features.json and model.json copied, model.onnx replaced):
  BUNDLE-int8-dynamic  quantize_dynamic: int8 weights, activations quantized at run time
  BUNDLE-int8-static   quantize_static (QDQ): int8 weights and activations, calibrated on training rows
Calibration and evaluation rows are encoded by Clickwise itself (`clickwise encode`), so Python never
re-implements the feature map. Prints size and AUC/logloss of each variant against the float model.

Usage (from the repository root, after scripts/setup.sh and a release build):
  .venv/bin/python scripts/quantize_onnx.py BUNDLE --calibration-data TRAIN.tsv --eval-data TEST.tsv
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process


def encode(clickwise, bundle, data, rows, prefix):
    subprocess.run([clickwise, "encode", bundle, "--data", data, "--out", prefix, "--max-rows", str(rows)],
                   check=True, stdout=subprocess.DEVNULL)
    return (np.load(prefix + ".sparse_ids.npy"), np.load(prefix + ".dense.npy"), np.load(prefix + ".labels.npy"))


class RowsReader(CalibrationDataReader):
    """Feeds calibration rows in batches under the model's input names."""

    def __init__(self, ids, dense, batch=256):
        self.batches = [{"sparse_ids": ids[i:i + batch], "dense": dense[i:i + batch]} for i in range(0, len(ids), batch)]
        self.position = 0

    def get_next(self):
        if self.position >= len(self.batches):
            return None
        self.position += 1
        return self.batches[self.position - 1]

    def rewind(self):
        self.position = 0


def auc(labels, scores):
    """Exact AUC with average ranks for ties (same definition as BinaryMetrics.auc)."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    start = 0
    while start < len(scores):
        end = start + 1
        while end < len(scores) and sorted_scores[end] == sorted_scores[start]:
            end += 1
        ranks[order[start:end]] = (start + 1 + end) / 2
        start = end
    positives = labels > 0.5
    p, n = positives.sum(), (~positives).sum()
    return (ranks[positives].sum() - p * (p + 1) / 2) / (p * n)


def evaluate(path, ids, dense, labels):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    probabilities = np.concatenate([
        session.run(None, {"sparse_ids": ids[i:i + 4096], "dense": dense[i:i + 4096]})[0].ravel()
        for i in range(0, len(ids), 4096)])
    clipped = np.clip(probabilities.astype(np.float64), 1e-7, 1 - 1e-7)
    logloss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
    return auc(labels, probabilities), logloss


def copy_bundle(bundle, suffix):
    out = bundle.rstrip("/") + suffix
    os.makedirs(out, exist_ok=True)
    for name in ("features.json", "model.json"):
        shutil.copy(os.path.join(bundle, name), os.path.join(out, name))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle")
    parser.add_argument("--calibration-data", required=True, help="training TSV to draw calibration rows from")
    parser.add_argument("--calibration-rows", type=int, default=2048)
    parser.add_argument("--eval-data", required=True, help="labelled TSV to compare AUC and logloss on")
    parser.add_argument("--eval-rows", type=int, default=100000)
    parser.add_argument("--clickwise", default=".build/release/clickwise")
    parser.add_argument("--work-dir", default=".build/quantize")
    args = parser.parse_args()

    model = os.path.join(args.bundle, "model.onnx")
    if not os.path.exists(model):
        sys.exit(f"quantize_onnx: {model}: no such file")
    os.makedirs(args.work_dir, exist_ok=True)
    calibration = encode(args.clickwise, args.bundle, args.calibration_data, args.calibration_rows,
                         os.path.join(args.work_dir, "calibration"))
    ids, dense, labels = encode(args.clickwise, args.bundle, args.eval_data, args.eval_rows,
                                os.path.join(args.work_dir, "eval"))

    dynamic_dir = copy_bundle(args.bundle, "-int8-dynamic")
    quantize_dynamic(model, os.path.join(dynamic_dir, "model.onnx"), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gemm", "Gather"])

    static_dir = copy_bundle(args.bundle, "-int8-static")
    prepared = os.path.join(args.work_dir, "prepared.onnx")
    quant_pre_process(model, prepared, skip_symbolic_shape=True)
    quantize_static(prepared, os.path.join(static_dir, "model.onnx"), RowsReader(calibration[0], calibration[1]),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul", "Gemm", "Gather"], per_channel=False)

    print(f"{'variant':<14} {'size MB':>8} {'AUC':>9} {'logloss':>9} {'ΔAUC':>9}")
    base_auc = None
    for name, path in (("float32", model), ("int8-dynamic", os.path.join(dynamic_dir, "model.onnx")),
                       ("int8-static", os.path.join(static_dir, "model.onnx"))):
        value, logloss = evaluate(path, ids, dense, labels)
        base_auc = value if base_auc is None else base_auc
        print(f"{name:<14} {os.path.getsize(path) / 1048576:>8.2f} {value:>9.5f} {logloss:>9.5f} {value - base_auc:>+9.5f}")


if __name__ == "__main__":
    main()
