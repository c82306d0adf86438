#!/usr/bin/env bash
# Slowloris and descriptor exhaustion against `clickwise serve` (the issue-12 cases), one line of JSON each.
#
#   bench/slowloris.sh                                   # 3,000 partial connections held 65 s, default limits
#   FDS=512 CONNECTIONS=700 HOLD=40 bench/slowloris.sh   # the process limited to 512 descriptors
#   CLICKWISE=/path/to/old/clickwise GRPC_FLAGS= bench/slowloris.sh   # a build before gRPC (FLAGS: extra serve flags)
#
# The server runs under `prlimit --nofile=$FDS` when FDS is set. bench/slowloris.py opens the connections
# (half a partial head, half a body shorter than its Content-Length), probes /v2/health/ready and /metrics
# from fresh connections every second, and counts the partial connections still open after HOLD seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL_PATH=${MODEL_PATH:-$ROOT/models/deepfm}
CONNECTIONS=${CONNECTIONS:-3000}
HOLD=${HOLD:-65}
FLAGS=${FLAGS:-}
GRPC_FLAGS=${GRPC_FLAGS---grpc-port 0}
PORT=$(free_port)
mkdir -p "$ROOT/bench/out"
LIMIT=()
[ -n "${FDS:-}" ] && LIMIT=(prlimit --nofile="$FDS")
# shellcheck disable=SC2086
"${LIMIT[@]}" "$CLICKWISE" serve --model "$MODEL_PATH" --port "$PORT" $GRPC_FLAGS $FLAGS > "$ROOT/bench/out/slowloris-server.log" 2>&1 &
SERVER_PID=$!
trap 'stop_server' EXIT
wait_ready "$PORT" 120 || { cat "$ROOT/bench/out/slowloris-server.log" >&2; die "server not ready"; }
before=$(cpu_ticks "$SERVER_PID")
python3 "$BENCH_DIR/slowloris.py" --port "$PORT" --connections "$CONNECTIONS" --hold "$HOLD"
after=$(cpu_ticks "$SERVER_PID")
echo "server CPU during the run: $(awk -v t=$((after - before)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}') s; $(grep -c . "$ROOT/bench/out/slowloris-server.log") log lines"
kill -0 "$SERVER_PID" 2> /dev/null && echo "server still running" || echo "server DIED"
