#!/usr/bin/env bash
# Serves a model over ONNX's 2 GB protobuf limit (external data) next to the bundle it was made from, and
# checks both give the same predictions for the same raw rows; prints start-up time, RSS and RPS of each.
# Usage: bench/over_2gb.sh SRC_BUNDLE [OVER_2GB_BUNDLE (made by scripts/make_over_2gb_bundle.py if missing)]
#   e.g. scripts/make_big_bundle.sh && bench/over_2gb.sh .build/big-bundle/deepfm-big/1
# Env: DURATION (wrk, default 10s).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SRC=${1:?usage: bench/over_2gb.sh SRC_BUNDLE [OUT_BUNDLE]}
OUT=${2:-$ROOT/.build/big-bundle/over-2gb/1}
DURATION=${DURATION:-10s}
[ -x "$CLICKWISE" ] || die "build first: swift build -c release ($CLICKWISE)"
[ -f "$OUT/model.onnx.data" ] || "$ROOT/.venv/bin/python" "$ROOT/scripts/make_over_2gb_bundle.py" "$SRC" "$OUT"
rows=$(rows_file "$SRC")
trap stop_server EXIT
body="$ROOT/bench/out/over2gb-body.json"
python3 - "$rows" > "$body" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()][:100]
print(json.dumps({"instances": rows}))
PY
echo "| bundle | model files | start-up s | RSS MiB after warm-up | RSS MiB after wrk | wrk -t2 -c16 RPS | p99 ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for bundle in "$SRC" "$OUT"; do
  port=$(free_port); name=$(model_name "$bundle")
  started=$(date +%s.%N)
  start_clickwise "$port" --model "$bundle" --pool-size 4
  ready=$(date +%s.%N)
  rss0=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$SERVER_PID/status)
  curl -sf -H 'Content-Type: application/json' --data-binary @"$body" "http://127.0.0.1:$port/v1/models/$name:predict" \
    > "$ROOT/bench/out/over2gb-$(basename "$(dirname "$bundle")").json"
  out="$ROOT/bench/out/over2gb-wrk.txt"
  CLICKWISE_ROWS=$rows CLICKWISE_MODEL=$name CLICKWISE_BENCH_DIR=$BENCH_DIR \
    wrk -t2 -c16 -d"$DURATION" --latency -s "$BENCH_DIR/wrk/predict_single.lua" "http://127.0.0.1:$port" > "$out" 2>&1
  rss1=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$SERVER_PID/status)
  files=$(du -cb "$bundle"/model.onnx* | tail -1 | awk '{printf "%.2f GB", $1 / 1e9}')
  printf '| %s | %s | %.1f | %s | %s | %s | %s |\n' "$bundle" "$files" "$(echo "$ready - $started" | bc)" "$rss0" "$rss1" \
    "$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out")" "$(to_ms "$(awk '/^ *99% / {print $2}' "$out")")"
  stop_server
done
python3 - "$ROOT/bench/out/over2gb-$(basename "$(dirname "$SRC")").json" "$ROOT/bench/out/over2gb-$(basename "$(dirname "$OUT")").json" <<'PY'
import json, sys
a, b = (json.load(open(p))["predictions"] for p in sys.argv[1:])
worst = max(abs(x - y) for x, y in zip(a, b))
print(f"\npredictions for 100 raw rows: {len(a)} vs {len(b)}, largest difference {worst:.3g}")
sys.exit(0 if len(a) == len(b) == 100 and worst == 0 else 1)
PY
