#!/usr/bin/env bash
# The prediction log's cost on the hot path (issue 25): the same server flags without and with
# --prediction-log (sample rate $SAMPLE, default 1), alternating servers, single rows (-t4 -c100) and 100-row requests (-t2 -c4).
# Usage: bench/prediction_log.sh [MODEL] [DURATION] [ROUNDS]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
model=${1:-$ROOT/models/deepfm}; duration=${2:-6s}; rounds=${3:-2}
bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
log=$ROOT/bench/out/prediction-log
trap 'stop_server; rm -rf "$log"' EXIT
table_header
for round in $(seq 1 "$rounds"); do
  for mode in off on; do
    rm -rf "$log"
    flags=(); [ "$mode" = on ] && flags=(--prediction-log "$log" --prediction-log-sample "${SAMPLE:-1}")
    start_clickwise 18620 --model "$model" ${flags[@]+"${flags[@]}"}
    run_wrk "log $mode, single row, round $round" 18620 4 100 "$duration" "$BENCH_DIR/wrk/predict_single.lua" "$rows" "$name"
    run_wrk "log $mode, 100 rows, round $round" 18620 2 4 "$duration" "$BENCH_DIR/wrk/predict_rank100.lua" "$rows" "$name"
    if [ "$mode" = on ]; then
      echo "  records written $(curl -s http://127.0.0.1:18620/metrics | awk '/^clickwise_prediction_log_records_total/ {print $2}'), dropped $(curl -s http://127.0.0.1:18620/metrics | awk '/^clickwise_prediction_log_dropped_total/ {print $2}'), $(du -sh "$log" | cut -f1) on disk"
    fi
    stop_server
  done
done
