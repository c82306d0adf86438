#!/usr/bin/env bash
# A/B of two clickwise binaries on the same load, alternating, in one run (hot-path changes).
# Usage: bench/ab.sh BINARY_A BINARY_B [MODEL] [DURATION] [ROUNDS] [serve flags...]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
a=$1; b=$2; model=${3:-$ROOT/models/deepfm}; duration=${4:-5s}; rounds=${5:-2}; shift $(( $# < 5 ? $# : 5 ))
bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
trap stop_server EXIT
table_header
for round in $(seq 1 "$rounds"); do
  for binary in "$a" "$b"; do
    CLICKWISE=$binary start_clickwise 18600 --model "$model" "$@"
    run_wrk "$(basename "$binary") round $round $*" 18600 4 100 "$duration" "$BENCH_DIR/wrk/predict_single.lua" "$rows" "$name"
    stop_server
  done
done
