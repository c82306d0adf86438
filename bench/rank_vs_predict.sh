#!/usr/bin/env bash
# The same 100 rows sent to :predict (bench/wrk/predict_rank100.lua) and to :rank as a context and candidates
# (bench/wrk/rank100.lua), alternating on one server. Usage: bench/rank_vs_predict.sh [serve flags...]
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
model=$ROOT/models/deepfm
bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
trap stop_server EXIT
table_header
CLICKWISE=$ROOT/.build/release/clickwise start_clickwise 18600 --model "$model" "$@"
for round in 1 2; do
  run_wrk ":predict 100 rows round $round" 18600 2 4 8s "$BENCH_DIR/wrk/predict_rank100.lua" "$rows" "$name"
  run_wrk ":rank context + 100 candidates round $round" 18600 2 4 8s "$BENCH_DIR/wrk/rank100.lua" "$rows" "$name"
done
