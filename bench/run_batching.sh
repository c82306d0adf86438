#!/usr/bin/env bash
# Pool-only settings next to dynamic-batching settings in one run (issue 5's batching target), single-row
# requests at wrk -t4 -c100, then a 100-candidate ranking request at light load and under single-row load.
#
#   bench/run_batching.sh [MODEL_PATH] [DURATION]       (defaults: models/deepfm, 10s)
#
# Env: POOL_CONFIGS / BATCH_CONFIGS (";"-separated serve flag sets), CLICKWISE, PORT, LOAD (threads:conns).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODEL=${1:-$ROOT/models/deepfm}
DURATION=${2:-10s}
PORT=${PORT:-18000}
LOAD=${LOAD:-4:100}
POOL_CONFIGS=${POOL_CONFIGS:-"--pool-size 1 --max-batch-size 1;--pool-size 2 --max-batch-size 1;--pool-size 4 --max-batch-size 1;--pool-size 2 --shared-session --max-batch-size 1"}
BATCH_CONFIGS=${BATCH_CONFIGS:-"--pool-size 1 --max-batch-size 32 --max-queue-delay-us 0;--pool-size 1 --max-batch-size 64 --max-queue-delay-us 200;--pool-size 2 --max-batch-size 32 --max-queue-delay-us 0;--pool-size 2 --max-batch-size 64 --max-queue-delay-us 500"}

[ -x "$CLICKWISE" ] || die "$CLICKWISE missing: run swift build -c release"
BUNDLE=$(bundle_dir "$MODEL"); NAME=$(model_name "$BUNDLE"); ROWS=$(rows_file "$BUNDLE")
SINGLE=$BENCH_DIR/wrk/predict_single.lua; RANK=$BENCH_DIR/wrk/predict_rank100.lua
trap 'stop_server; [ -n "${BG:-}" ] && kill "$BG" 2>/dev/null; true' EXIT

echo "## $NAME: pool only vs dynamic batching, single-row requests, $DURATION per run, $(nproc) cores, $(date -u +%FT%TZ)"
echo
table_header
IFS=';' read -ra pools <<< "$POOL_CONFIGS"
IFS=';' read -ra batches <<< "$BATCH_CONFIGS"
for flags in "${pools[@]}" "${batches[@]}"; do
  # shellcheck disable=SC2086
  start_clickwise "$PORT" --model "$MODEL" $flags
  run_wrk "${flags//--/}" "$PORT" "${LOAD%%:*}" "${LOAD##*:}" "$DURATION" "$SINGLE" "$ROWS" "$NAME"
  stop_server
done

# Ranking: 100 candidates per request, with the last batching configuration.
echo
echo "### 100-candidate ranking request (${batches[-1]//--/})"
echo
table_header
# shellcheck disable=SC2086
start_clickwise "$PORT" --model "$MODEL" ${batches[-1]}
run_wrk "rank100 alone (one connection)" "$PORT" 1 1 "$DURATION" "$RANK" "$ROWS" "$NAME"
CLICKWISE_ROWS=$ROWS CLICKWISE_MODEL=$NAME CLICKWISE_BENCH_DIR=$BENCH_DIR \
  wrk -t3 -c96 -d"$(( ${DURATION%s} + 2 ))s" -s "$SINGLE" "http://127.0.0.1:$PORT" > /dev/null 2>&1 & BG=$!
sleep 1
run_wrk "rank100 (one connection) under single-row load -t3 -c96; CPU includes that load" "$PORT" 1 1 "$DURATION" "$RANK" "$ROWS" "$NAME"
wait "$BG" 2>/dev/null || true; BG=""
stop_server
