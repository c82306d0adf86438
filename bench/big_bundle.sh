#!/usr/bin/env bash
# Throughput and memory of a Criteo-scale bundle (scripts/make_big_bundle.sh) against the shipped small one,
# alternating in one run so the machine's drift hits both: wrk single-row CTR requests (rows drawn from each
# bundle's own vocabulary), then the server's VmRSS after the load (the table's touched pages included).
# Usage: bench/big_bundle.sh [BIG_MODEL_DIR (default .build/big-bundle/deepfm-big)] [SMALL (default models/deepfm)]
#   DURATION=10s ROUNDS=2, extra serve flags in SERVE_FLAGS (e.g. "--pool-size 2").
set -uo pipefail
source "$(dirname "$0")/lib.sh"
big=${1:-$ROOT/.build/big-bundle/deepfm-big}; small=${2:-$ROOT/models/deepfm}
duration=${DURATION:-10s}; rounds=${ROUNDS:-2}
[ -x "$CLICKWISE" ] || (cd "$ROOT" && swift build -c release --product clickwise)
mkdir -p "$ROOT/bench/out"
trap stop_server EXIT
table_header | sed 's/ |$/ | RSS MiB after |/; 2s/$/---:|/'
for round in $(seq 1 "$rounds"); do
  for model in "$small" "$big"; do
    bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
    port=$(free_port)
    # shellcheck disable=SC2086
    start_clickwise "$port" --model "$model" ${SERVE_FLAGS:-}
    row=$(run_wrk "$name round $round ${SERVE_FLAGS:-}" "$port" 2 64 "$duration" "$BENCH_DIR/wrk/predict_single.lua" "$rows" "$name")
    rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$SERVER_PID/status)
    echo "$row $rss |"
    stop_server
  done
done
