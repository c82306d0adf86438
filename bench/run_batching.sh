#!/usr/bin/env bash
# Pool-only settings next to dynamic-batching settings in one run (issue 5's batching target), single-row
# requests at wrk -t4 -c100, then a 100-candidate ranking request at light load and under single-row load.
#
#   bench/run_batching.sh [MODEL_PATH] [DURATION]       (defaults: models/deepfm, 10s)
#
# Env: POOL_CONFIGS / BATCH_CONFIGS (";"-separated serve flag sets), CLICKWISE, PORT, LOAD (threads:conns),
#      REPEAT (rounds over all configurations, interleaved; >1 adds a table of medians, since single runs on
#      this 2-core machine vary by +-15%), RANK_FLAGS (serve flags for the ranking runs; default: the first
#      batching configuration).
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
REPEAT=${REPEAT:-1}
results="$ROOT/bench/out/batching-rows.md"; : > "$results"
for ((round = 1; round <= REPEAT; round++)); do
  for flags in "${pools[@]}" "${batches[@]}"; do
    kind=batch; for pool in "${pools[@]}"; do [[ "$pool" == "$flags" ]] && kind=pool; done
    # shellcheck disable=SC2086
    start_clickwise "$PORT" --model "$MODEL" $flags
    run_wrk "${flags//--/}" "$PORT" "${LOAD%%:*}" "${LOAD##*:}" "$DURATION" "$SINGLE" "$ROWS" "$NAME" | tee -a "$results"
    echo "$kind" >> "$results"
    stop_server
  done
done
if (( REPEAT > 1 )); then
  echo
  echo "Medians over $REPEAT interleaved rounds:"
  echo
  echo "| config | kind | median RPS | median avg ms | median p99 ms | runs |"
  echo "|---|---|---:|---:|---:|---:|"
  # Row lines and their kind alternate in $results; fields: 2 config, 4 RPS, 5 avg, 7 p99.
  awk -F'|' 'NR % 2 == 1 {row = $0; next} {
      split(row, f, "|"); key = f[2]; gsub(/^ +| +$/, "", key)
      if (!(key in kind)) order[++n] = key
      kind[key] = $0; c = ++count[key]; rps[key, c] = f[4]; avg[key, c] = f[5]; p99[key, c] = f[7] }
    function median(arr, key, k,   i, j, t, v) {
      for (i = 1; i <= k; i++) v[i] = arr[key, i] + 0
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2 }
    END {
      for (i = 1; i <= n; i++) {
        key = order[i]; k = count[key]; r = median(rps, key, k)
        printf "| %s | %s | %.0f | %.2f | %.2f | %d |\n", key, kind[key], r, median(avg, key, k), median(p99, key, k), k
        if (kind[key] == "pool" && r > bestPool) { bestPool = r; poolKey = key }
        if (kind[key] == "batch" && r > bestBatch) { bestBatch = r; batchKey = key }
      }
      printf "\nBest batching / best pool-only (medians): %.0f / %.0f = %.2fx (%s vs %s)\n", bestBatch, bestPool, bestBatch / bestPool, batchKey, poolKey
    }' "$results"
fi

# Ranking: 100 candidates per request.
RANK_FLAGS=${RANK_FLAGS:-${batches[0]}}
echo
echo "### 100-candidate ranking request (${RANK_FLAGS//--/})"
echo
table_header
# shellcheck disable=SC2086
start_clickwise "$PORT" --model "$MODEL" $RANK_FLAGS
run_wrk "rank100 alone (one connection)" "$PORT" 1 1 "$DURATION" "$RANK" "$ROWS" "$NAME"
CLICKWISE_ROWS=$ROWS CLICKWISE_MODEL=$NAME CLICKWISE_BENCH_DIR=$BENCH_DIR \
  wrk -t3 -c96 -d"$(( ${DURATION%s} + 2 ))s" -s "$SINGLE" "http://127.0.0.1:$PORT" > /dev/null 2>&1 & BG=$!
sleep 1
run_wrk "rank100 (one connection) under single-row load -t3 -c96; CPU includes that load" "$PORT" 1 1 "$DURATION" "$RANK" "$ROWS" "$NAME"
wait "$BG" 2>/dev/null || true; BG=""
stop_server
