#!/usr/bin/env python3
"""Clickwise's side of docs/QUALITY.md: train BARS experiments over several seeds and score the test split.

    scripts/quality_clickwise.py --clickwise .build/release/clickwise --data DIR --dataset-id ml100k_x1 \
        --model-config configs/movielens/model_config.yaml \
        --experiment DeepFM=DeepFM_frappe_x1_001 --experiment DCNv2=DCNv2_frappe_x1_001 \
        --seeds 2021 2022 2023 [--set batch-size=1024] --out results.json

DIR holds dataset_config.yaml and train/valid/test.csv (scripts/make_movielens.py). Each run is
`clickwise train --model-config ... --experiment ... --seed S` (extra `--set flag=value` pairs become flags, the
same for every run, e.g. the batch size the FuxiCTR reference used), then `clickwise evaluate` on test.csv.
Writes one record per run (model, experiment, seed, test AUC and logloss, best epoch, training seconds) and
prints a table of mean and min–max per model. Not run in CI: minutes per run.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-2000:]}{result.stdout[-2000:]}")
    return result.stdout + result.stderr


def metric(output, name):
    match = re.search(rf"^{name}:\s+([0-9.]+)", output, re.MULTILINE)
    return float(match.group(1)) if match else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clickwise", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--dataset-id", required=True)
    parser.add_argument("--model-config", required=True)
    parser.add_argument("--experiment", action="append", required=True, help="LABEL=EXPERIMENT_ID")
    parser.add_argument("--seeds", nargs="+", type=int, default=[2021, 2022, 2023])
    parser.add_argument("--set", action="append", default=[], help="FLAG=VALUE passed to every train run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    extra = []
    for pair in args.set:
        flag, _, value = pair.partition("=")
        extra += [f"--{flag}"] + ([value] if value else [])
    records = []
    work = tempfile.mkdtemp(prefix="clickwise-quality-")
    for pair in args.experiment:
        label, _, experiment = pair.partition("=")
        for seed in args.seeds:
            bundle = os.path.join(work, f"{label}-{seed}")
            start = time.time()
            log = run([args.clickwise, "train", "--dataset-config", os.path.join(args.data, "dataset_config.yaml"),
                       "--dataset-id", args.dataset_id, "--model-config", args.model_config, "--experiment", experiment,
                       "--seed", str(seed), "--threads", str(args.threads), "--out", bundle, "--no-progress"] + extra)
            seconds = time.time() - start
            card = json.load(open(os.path.join(bundle, "model.json")))
            evaluation = run([args.clickwise, "evaluate", bundle, "--data", os.path.join(args.data, "test.csv")])
            record = {"model": label, "experiment": experiment, "seed": seed, "flags": extra,
                      "test_auc": metric(evaluation, "AUC"), "test_logloss": metric(evaluation, "logloss"),
                      "valid_auc": card.get("validation_auc"), "best_epoch": card.get("best_epoch"),
                      "epochs_run": len(card.get("epochs", [])), "train_seconds": round(seconds, 1)}
            records.append(record)
            print(json.dumps(record), flush=True)
            del log
    with open(args.out, "w") as f:
        json.dump(records, f, indent=1)
    print(f"\n| model | test AUC mean (min–max) | test logloss mean (min–max) | seconds mean |")
    print("|---|---|---|---|")
    for label in dict.fromkeys(r["model"] for r in records):
        runs = [r for r in records if r["model"] == label]
        aucs = [r["test_auc"] for r in runs]
        losses = [r["test_logloss"] for r in runs]
        print(f"| {label} | {statistics.mean(aucs):.4f} ({min(aucs):.4f}–{max(aucs):.4f}) | "
              f"{statistics.mean(losses):.4f} ({min(losses):.4f}–{max(losses):.4f}) | "
              f"{statistics.mean(r['train_seconds'] for r in runs):.0f} |")


if __name__ == "__main__":
    main()
