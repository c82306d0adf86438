#!/usr/bin/env bash
# The Python peer (FastAPI + uvicorn, 2 workers, onnxruntime) under the same wrk scripts, then clickwise on
# the same bundle with the given flags, in the same run; checks first that both predict the same.
#
#   bench/run_peer.sh [MODEL_PATH] [DURATION] [CLICKWISE FLAGS...]
#   bench/run_peer.sh models/autoint 10s --pool-size 2 --max-batch-size 64 --max-queue-delay-us 500
#
# The peer's venv: python3 -m venv bench/peers/.venv && bench/peers/.venv/bin/pip install -r bench/peers/requirements.txt
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODEL=${1:-$ROOT/models/deepfm}; DURATION=${2:-10s}; shift 2 || true
FLAGS=("$@"); [ ${#FLAGS[@]} -gt 0 ] || FLAGS=(--pool-size 2)
PEER_PORT=${PEER_PORT:-18100}; PORT=${PORT:-18000}; LOADS=${LOADS:-4:100 2:64}
PY=${PEER_PYTHON:-$ROOT/bench/peers/.venv/bin/python}
[ -x "$PY" ] || die "no peer venv: python3 -m venv bench/peers/.venv && bench/peers/.venv/bin/pip install -r bench/peers/requirements.txt"
[ -x "$CLICKWISE" ] || die "$CLICKWISE missing: run swift build -c release"
BUNDLE=$(bundle_dir "$MODEL"); NAME=$(model_name "$BUNDLE"); ROWS=$(rows_file "$BUNDLE")
PEER_PID=""
cleanup() { stop_server; if [ -n "$PEER_PID" ]; then SERVER_PID=$PEER_PID; stop_server; fi; }
trap cleanup EXIT

(cd "$ROOT" && CLICKWISE_BUNDLE=$BUNDLE CLICKWISE_MODEL=$NAME exec "$PY" -m uvicorn bench.peers.fastapi_server:app \
   --host 127.0.0.1 --port "$PEER_PORT" --workers 2 --log-level warning --no-access-log) > "$ROOT/bench/out/peer.log" 2>&1 &
PEER_PID=$!
wait_ready "$PEER_PORT" 90 || { cat "$ROOT/bench/out/peer.log" >&2; die "peer did not start"; }
start_clickwise "$PORT" --model "$MODEL" "${FLAGS[@]}"
"$PY" "$BENCH_DIR/peers/check_peer.py" --clickwise "http://127.0.0.1:$PORT" --peer "http://127.0.0.1:$PEER_PORT" \
  --model "$NAME" --rows "$ROWS" --count 50 --bundle "$BUNDLE"
CLICKWISE_PID=$SERVER_PID

echo
echo "## $NAME: clickwise vs FastAPI + uvicorn (2 workers) + onnxruntime, $DURATION per run, $(date -u +%FT%TZ)"
echo
table_header
for load in $LOADS; do
  SERVER_PID=$PEER_PID
  run_wrk "FastAPI peer, single row" "$PEER_PORT" "${load%%:*}" "${load##*:}" "$DURATION" "$BENCH_DIR/wrk/predict_single.lua" "$ROWS" "$NAME"
  SERVER_PID=$CLICKWISE_PID
  run_wrk "clickwise ${FLAGS[*]}, single row" "$PORT" "${load%%:*}" "${load##*:}" "$DURATION" "$BENCH_DIR/wrk/predict_single.lua" "$ROWS" "$NAME"
done
SERVER_PID=$PEER_PID
run_wrk "FastAPI peer, rank100" "$PEER_PORT" 1 4 "$DURATION" "$BENCH_DIR/wrk/predict_rank100.lua" "$ROWS" "$NAME"
SERVER_PID=$CLICKWISE_PID
run_wrk "clickwise, rank100" "$PORT" 1 4 "$DURATION" "$BENCH_DIR/wrk/predict_rank100.lua" "$ROWS" "$NAME"
