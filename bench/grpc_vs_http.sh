#!/usr/bin/env bash
# KServe v2 ModelInfer over gRPC vs HTTP binary vs HTTP JSON, through Triton's perf_analyzer, in one run
# against one server: single-row and 100-candidate requests, with the server's CPU µs per request (from
# /proc, over the same window as perf_analyzer's measurement, divided by the requests the server's
# statistics counted).
# Usage: bench/grpc_vs_http.sh [MODEL (default models/autoint)] [CONCURRENCY (default 8)] [extra serve flags...]
# Env: INTERVAL_MS (perf_analyzer's measurement window, default 5000), ROUNDS (default 2), BATCHES (rows per
# request, default "1 100"), JSON=0 skips HTTP JSON, STABILITY
# (perf_analyzer's --stability-percentage, default 100; raise it on a loaded machine).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=${1:-models/autoint}; CONCURRENCY=${2:-8}; shift $(( $# > 2 ? 2 : $# )) || true
INTERVAL_MS=${INTERVAL_MS:-5000}; ROUNDS=${ROUNDS:-2}; BATCHES=${BATCHES:-1 100}; JSON=${JSON:-1}
[ -x "$CLICKWISE" ] || die "build first: swift build -c release ($CLICKWISE)"
bundle=$(bundle_dir "$MODEL"); name=$(model_name "$bundle")
mkdir -p "$ROOT/bench/out"; rows="$ROOT/bench/out/perf-rows-$name.json"
"$ROOT/.venv/bin/python" "$BENCH_DIR/perf_input.py" --bundle "$bundle" --count 512 --out "$rows" > /dev/null

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port)
export GRPC_PORT
start_clickwise "$HTTP_PORT" --model "$MODEL" "$@"
echo "model $name, $(nproc) cores, perf_analyzer concurrency $CONCURRENCY, ${INTERVAL_MS} ms windows, server: $*"
echo
echo "| protocol | rows/request | concurrency | requests/s | rows/s | p50 ms | p99 ms | server CPU µs/request |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
  for batch in $BATCHES; do
    perf_row "gRPC (raw)" "$batch" "$CONCURRENCY" -i grpc -u "127.0.0.1:$GRPC_PORT"
    perf_row "HTTP binary" "$batch" "$CONCURRENCY" -i http -u "127.0.0.1:$HTTP_PORT"
    [ "$JSON" = 0 ] || perf_row "HTTP JSON" "$batch" "$CONCURRENCY" -i http -u "127.0.0.1:$HTTP_PORT" --input-tensor-format json --output-tensor-format json
  done
done
stop_server
