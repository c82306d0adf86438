#!/usr/bin/env bash
# Reproduces the previous system's tables on this machine: intra:inter threads × pool size, plus the
# shared-session mode, single-row raw-feature requests, at wrk -t4 -c100 and -t2 -c64.
#
#   bench/run_matrix.sh [MODEL_PATH] [DURATION]        (defaults: models/deepfm, 10s)
#   POOLS="1 4" THREADS="1:1 2:1" LOADS="4:100" bench/run_matrix.sh models/autoint 5s
#
# Env: CLICKWISE (default .build/release/clickwise — build with `swift build -c release`), POOLS,
# THREADS (intra:inter pairs), LOADS (wrk threads:connections), SHARED=0 to skip shared-session rows,
# SCRIPT (default bench/wrk/predict_single.lua), PORT (default 18000), EXTRA (more serve flags).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODEL=${1:-$ROOT/models/deepfm}
DURATION=${2:-10s}
POOLS=${POOLS:-1 4 8 12 16}
THREADS=${THREADS:-1:1 2:1 4:1 2:2}
LOADS=${LOADS:-4:100 2:64}
SHARED=${SHARED:-1}
SCRIPT=${SCRIPT:-$BENCH_DIR/wrk/predict_single.lua}
PORT=${PORT:-18000}
EXTRA=${EXTRA:-}

[ -x "$CLICKWISE" ] || die "$CLICKWISE missing: run swift build -c release"
BUNDLE=$(bundle_dir "$MODEL"); NAME=$(model_name "$BUNDLE"); ROWS=$(rows_file "$BUNDLE")
trap stop_server EXIT

echo "## $NAME ($BUNDLE), $(basename "$SCRIPT"), $DURATION per run, $(nproc) cores, $(date -u +%FT%TZ)"
echo
table_header
run_config() {  # LABEL FLAGS...
  local label=$1; shift
  start_clickwise "$PORT" --model "$MODEL" --max-batch-size 1 "$@" $EXTRA
  for load in $LOADS; do
    run_wrk "$label" "$PORT" "${load%%:*}" "${load##*:}" "$DURATION" "$SCRIPT" "$ROWS" "$NAME"
  done
  stop_server
}
for threads in $THREADS; do
  intra=${threads%%:*}; inter=${threads##*:}
  for pool in $POOLS; do
    run_config "intra $intra inter $inter pool $pool" --intra-threads "$intra" --inter-threads "$inter" --pool-size "$pool"
  done
done
if [ "$SHARED" = 1 ]; then
  for pool in $POOLS; do
    run_config "shared session, $pool threads" --shared-session --pool-size "$pool"
  done
fi
