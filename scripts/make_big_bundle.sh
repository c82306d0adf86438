#!/usr/bin/env bash
# Makes a Criteo-scale DeepFM bundle for memory and throughput measurements: synthetic Criteo rows (the
# hidden click model, seed 11), every categorical value that occurs at least once gets its own embedding row
# (--min-count 1), one epoch. About 3.6M rows give ≥ 2M embedding rows (a 128+ MB table of 16 floats per row);
# the architecture is the shipped DeepFM's ([400,400,400], embedding 16), so only the table size differs from
# models/deepfm. The output is big and lives under .build/ (not committed).
# Usage: scripts/make_big_bundle.sh [OUT_DIR (default .build/big-bundle/deepfm-big/1)]
#   ROWS=N (default 3600000), CLICKWISE=path to use a given binary (default: build release).
# Took 12 min on the shared 2-core VM (synthesis ~1 min, feature map 38 s, one epoch 687 s at 4.7k rows/s).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-3600000}
out=${1:-.build/big-bundle/deepfm-big/1}
data=${DATA_DIR:-.build/big-bundle}
bin=${CLICKWISE:-.build/release/clickwise}
[ -n "${CLICKWISE:-}" ] || swift build -c release --product clickwise
mkdir -p "$data"
train="$data/train-$rows.tsv"
[ -s "$train" ] || "$bin" data synth --rows "$rows" --seed 11 --out "$train"
"$bin" train --model deepfm --train "$train" --min-count 1 --epochs 1 --batch-size 4096 --blas-threads 2 \
  --max-validation-rows 20000 --no-progress --out "$out"
vocabulary=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["vocabulary_size"])' "$out/model.json")
echo "make_big_bundle: $out has $vocabulary embedding rows ($(du -h "$out/model.onnx" | cut -f1) model.onnx)"
[ "$vocabulary" -ge 2000000 ] || { echo "make_big_bundle: fewer than 2M rows; raise ROWS" >&2; exit 1; }
