#!/usr/bin/env bash
# Default serve flags vs --split-threads 0, alternating servers, on four loads: single rows (-c100 and -c8), 100 rows to
# :predict and to :rank (bench/wrk/rank100.lua). Usage: bench/split_threads.sh [MODEL (default models/deepfm)]
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
model=${1:-$ROOT/models/deepfm}
bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
trap stop_server EXIT
table_header
for round in 1 2; do
  for split in 0 1; do
    CLICKWISE=$ROOT/.build/release/clickwise start_clickwise 18600 --model "$model" --split-threads $split
    run_wrk "single row c100, split $split, r$round" 18600 4 100 6s "$BENCH_DIR/wrk/predict_single.lua" "$rows" "$name"
    run_wrk "single row c8, split $split, r$round" 18600 2 8 6s "$BENCH_DIR/wrk/predict_single.lua" "$rows" "$name"
    run_wrk ":predict 100 rows, split $split, r$round" 18600 2 4 6s "$BENCH_DIR/wrk/predict_rank100.lua" "$rows" "$name"
    run_wrk ":rank 100, split $split, r$round" 18600 2 4 6s "$BENCH_DIR/wrk/rank100.lua" "$rows" "$name"
    stop_server
  done
done
