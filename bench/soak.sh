#!/usr/bin/env bash
# Soak: SOAK_SECS (default 600) of mixed load against a release build with --workers 2, every answer checked.
#
#   swift build -c release && bench/soak.sh                 # 10 minutes on models/deepfm
#   SOAK_SECS=120 KILL_EVERY=40 bench/soak.sh models/deepfm   # a short run
#
# Load: wrk sends single rows and 100-candidate requests (volume; its non-2xx count is reported), while
# bench/soak_client.py sends single rows, 100-candidate requests and v2 binary tensors of a fixed row set and
# checks every prediction against the value the server gave for that row at start, sends bad requests
# (must get their 4xx + JSON error), keeps slow clients coming (partial heads and short bodies: must get 408
# + close), SIGKILLs worker 1 every KILL_EVERY s (the supervisor restarts it) and samples RSS every 5 s.
# At SWAP_AT s (default half-way; 0 = no swap) the model version is swapped once: the server serves a copy of
# the bundle as <model>/1 in bench/out/soak/repository with --repository-poll-secs 1, and the client copies it
# to <model>/2 (same weights, so every expected value holds across the swap).
# Pass: zero wrong answers, zero 5xx but 503, every killed worker restarted, the new version READY and
# answering, and worker 0's RSS growth after WARMUP_SECS at most 5%. Criteo-shaped bundles only (rows come
# from `clickwise data synth`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODEL_PATH=${1:-$ROOT/models/deepfm}
SOAK_SECS=${SOAK_SECS:-600}
KILL_EVERY=${KILL_EVERY:-120}
WARMUP_SECS=${WARMUP_SECS:-60}
SLOW_TIMEOUT=${SLOW_TIMEOUT:-5}
SWAP_AT=${SWAP_AT:-$((SOAK_SECS / 2))}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$CLICKWISE" ] || die "no $CLICKWISE (swift build -c release)"
command -v wrk > /dev/null || die "wrk is missing (scripts/setup.sh)"

BUNDLE=$(bundle_dir "$MODEL_PATH")
MODEL=$(model_name "$BUNDLE")
OUT=$ROOT/bench/out/soak
mkdir -p "$OUT"
"$CLICKWISE" data synth --rows 400 --seed 11 --out "$OUT/rows.tsv" > /dev/null
"$CLICKWISE" encode "$BUNDLE" --data "$OUT/rows.tsv" --out "$OUT/encoded" > /dev/null
ROWS=$(rows_file "$BUNDLE")
PORT=$(free_port)
SERVE_PATH=$MODEL_PATH
SWAP_ARGS=()
if [ "$SWAP_AT" != 0 ]; then
  # A repository of its own, so the swap never writes into the one given.
  SERVE_PATH=$OUT/repository
  rm -rf "$SERVE_PATH" && mkdir -p "$SERVE_PATH/$MODEL"
  cp -r "$BUNDLE" "$SERVE_PATH/$MODEL/1"
  SWAP_ARGS=(--swap-at "$SWAP_AT" --repository "$SERVE_PATH")
fi

"$CLICKWISE" serve --model "$SERVE_PATH" --port "$PORT" --grpc-port 0 --workers 2 --repository-poll-secs 1 \
  --request-header-timeout-secs "$SLOW_TIMEOUT" --request-body-timeout-secs "$SLOW_TIMEOUT" > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'stop_server' EXIT
wait_ready "$PORT" 120 || { cat "$OUT/server.log" >&2; die "server not ready"; }
sleep 2  # both workers warm (each joins the port once warm; one answering is enough for wait_ready)

echo "soak: $SOAK_SECS s on $MODEL (port $PORT, supervisor pid $SERVER_PID), worker 1 killed every $KILL_EVERY s, version swap at ${SWAP_AT}s"
CLICKWISE_ROWS=$ROWS CLICKWISE_MODEL=$MODEL CLICKWISE_BENCH_DIR=$BENCH_DIR \
  wrk -t1 -c8 -d"${SOAK_SECS}s" --latency -s "$BENCH_DIR/wrk/predict_single.lua" "http://127.0.0.1:$PORT" > "$OUT/wrk_single.txt" 2>&1 &
WRK1=$!
CLICKWISE_ROWS=$ROWS CLICKWISE_MODEL=$MODEL CLICKWISE_BENCH_DIR=$BENCH_DIR \
  wrk -t1 -c2 -d"${SOAK_SECS}s" --latency -s "$BENCH_DIR/wrk/predict_rank100.lua" "http://127.0.0.1:$PORT" > "$OUT/wrk_rank100.txt" 2>&1 &
WRK2=$!
status=0
"$PYTHON" "$BENCH_DIR/soak_client.py" --port "$PORT" --model "$MODEL" --tsv "$OUT/rows.tsv" --npy-prefix "$OUT/encoded" \
  --supervisor "$SERVER_PID" --secs "$SOAK_SECS" --kill-every "$KILL_EVERY" --warmup "$WARMUP_SECS" \
  --slow-timeout "$SLOW_TIMEOUT" --rss-out "$OUT/rss.jsonl" "${SWAP_ARGS[@]}" > "$OUT/summary.json" || status=$?
wait "$WRK1" "$WRK2" || true

summary=$(cat "$OUT/summary.json")
echo "$summary"
for kind in single rank100; do
  f=$OUT/wrk_$kind.txt
  echo "wrk $kind: $(awk '/requests in/ {print $1, "requests"} /Requests\/sec/ {print $2, "req/s"} /Non-2xx/ {print $NF, "non-2xx"} /Socket errors/ {print}' "$f" | paste -sd' ')"
done
growth=$(echo "$summary" | "$PYTHON" -c 'import json,sys; g=json.load(sys.stdin)["rss_worker0_never_killed"]; print(g["growth_pct"] if g else "n/a")')
echo "worker 0 RSS growth after ${WARMUP_SECS}s warm-up: ${growth}%"
if [ "$growth" != "n/a" ] && awk -v g="$growth" 'BEGIN {exit !(g > 5)}'; then
  echo "soak: RSS grew more than 5%"; status=1
fi
[ "$status" = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit "$status"
