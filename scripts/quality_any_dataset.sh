#!/usr/bin/env bash
# Issue 10's quality report (docs/BENCHMARKS.md, "Any dataset"): DeepFM, AutoInt+ and LR on a non-Criteo schema
# with a shared sequence field (configs/tiny), 3M synthetic training rows, against the oracle's test AUC.
# About 25 minutes on one thread per model. Usage: scripts/quality_any_dataset.sh [WORK_DIR (default /tmp/clickwise-quality)]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.build/release/clickwise"
[ -x "$bin" ] || swift build -c release --product clickwise
config="$PWD/configs/tiny/dataset_config.yaml"
work=${1:-/tmp/clickwise-quality}
mkdir -p "$work" && cd "$work"
"$bin" data synth --dataset-config "$config" --rows 3200000 --seed 42 --out all.csv
(head -1 all.csv; sed -n 2,3000001p all.csv) > train.csv
(head -1 all.csv; sed -n 3000002,3100001p all.csv) > valid.csv
(head -1 all.csv; sed -n 3100002,3200001p all.csv) > test.csv
sed -n 3100001,3200000p all.csv.truth > test.csv.truth
rm all.csv all.csv.truth
for model in deepfm autoint lr; do
  case $model in
    deepfm) extra=(--epochs 4) ;;
    autoint) extra=(--epochs 2 --attention-layers 2 --attention-dim 32 --autoint-hidden-units 400,400,400) ;;
    lr) extra=(--epochs 4) ;;
  esac
  "$bin" train --dataset-config "$config" --train train.csv --valid valid.csv --model "$model" --out "bundle-$model" \
    --batch-size 512 --min-count 500 --patience 1 --blas-threads 1 --no-progress "${extra[@]}"
  "$bin" evaluate "bundle-$model" --data test.csv | tee "evaluation-$model.txt"
done
