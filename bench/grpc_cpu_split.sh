#!/usr/bin/env bash
# Where the CPU of a ModelInfer goes, gRPC vs HTTP binary, through perf_analyzer against one server: rows/s,
# p50, and per request the server's event-loop threads (the front end: sockets, HTTP/1.1 or HTTP/2, decoding,
# validation), its other threads (inference: ONNX Runtime's Run and the batch around it) and perf_analyzer's
# own CPU (it shares this machine's cores). Protocols alternate within each round, so they see the same machine.
# Usage: bench/grpc_cpu_split.sh [MODEL (default models/autoint)] [extra serve flags...]
# Env: BATCH (rows per request, default 100), CONCURRENCY (default 8), ROUNDS (default 2), INTERVAL_MS (default 4000),
# STABILITY (perf_analyzer's --stability-percentage, default 1000), STREAMING=1 adds gRPC's ModelStreamInfer
# (perf_analyzer --streaming: one long-lived stream per client context, no headers or trailers per request).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=${1:-models/autoint}; shift $(( $# > 0 ? 1 : 0 )) || true
BATCH=${BATCH:-100}; CONCURRENCY=${CONCURRENCY:-8}; ROUNDS=${ROUNDS:-2}
[ -x "$CLICKWISE" ] || die "build first: swift build -c release ($CLICKWISE)"
bundle=$(bundle_dir "$MODEL"); name=$(model_name "$bundle")
mkdir -p "$ROOT/bench/out"; rows="$ROOT/bench/out/perf-rows-$name.json"
"$ROOT/.venv/bin/python" "$BENCH_DIR/perf_input.py" --bundle "$bundle" --count 512 --out "$rows" > /dev/null

# thread_ticks PID -> "event-loop-ticks other-ticks" of PID's threads (NIO names its loop threads NIO-ELT-*).
thread_ticks() {
  local loop=0 other=0 t ticks
  for t in /proc/"$1"/task/*; do
    ticks=$(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')
    if [[ $(cat "$t/comm") == NIO-ELT* ]]; then loop=$((loop + ticks)); else other=$((other + ticks)); fi
  done
  echo "$loop $other"
}

split_row() {
  local label=$1; shift
  local csv="$ROOT/bench/out/split.csv" times="$ROOT/bench/out/split.time" n0 n1 before after
  n0=$(successes); before=$(thread_ticks "$SERVER_PID")
  /usr/bin/time -f "%U %S" -o "$times" "$ROOT/scripts/perf_analyzer" -m "$name" --input-data "$rows" -b "$BATCH" \
    --concurrency-range "$CONCURRENCY" --measurement-interval "${INTERVAL_MS:-4000}" --max-trials 3 \
    --stability-percentage "${STABILITY:-1000}" -f "$csv" "$@" > "$ROOT/bench/out/perf.log" 2>&1 \
    || { tail -3 "$ROOT/bench/out/perf.log" >&2; echo "| $label | (run failed) | | | | |"; return 0; }
  after=$(thread_ticks "$SERVER_PID"); n1=$(successes)
  python3 - "$csv" "$label" "$BATCH" "$before" "$after" "$CLK_TCK" $((n1 - n0)) "$(tail -1 "$times")" <<'PY'
import csv, sys
path, label, batch, before, after, hz, requests, client = sys.argv[1:]
row = next(csv.DictReader(open(path)))
(l0, o0), (l1, o1) = map(int, before.split()), map(int, after.split())
per = lambda ticks: ticks / int(hz) * 1e6 / max(1, int(requests))
client_us = sum(map(float, client.split())) * 1e6 / max(1, int(requests))
loop, other = per(l1 - l0), per(o1 - o0)
print(f"| {label} | {float(row['Inferences/Second']):,.0f} | {int(row['p50 latency'])/1000:.2f} | {loop:.0f} | {other:.0f} | {loop + other:.0f} | {client_us:.0f} |")
PY
}

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port)
export GRPC_PORT
start_clickwise "$HTTP_PORT" --model "$MODEL" "$@"
trap stop_server EXIT
echo "model $name, $(nproc) cores, $BATCH rows/request, perf_analyzer concurrency $CONCURRENCY, ${INTERVAL_MS:-4000} ms windows, server: $*"
echo
echo "| protocol | rows/s | p50 ms | server event loop µs/request | server other threads µs/request | server total | perf_analyzer µs/request |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for _ in $(seq 1 "$ROUNDS"); do
  split_row "gRPC" -i grpc -u "127.0.0.1:$GRPC_PORT"
  [ "${STREAMING:-0}" = 0 ] || split_row "gRPC streaming" -i grpc --streaming -u "127.0.0.1:$GRPC_PORT"
  split_row "HTTP binary" -i http -u "127.0.0.1:$HTTP_PORT"
done
