#!/usr/bin/env bash
# The serving issue's budget: server CPU per single-row request, everything except ONNX Runtime's Run, <= 40 us.
# Measures, in one run with the same wrk load and the same body:
#   1. a bare SwiftNIO server answering a constant (clickwise bench http-baseline) with NIO's standard HTTP
#      pipeline (configureHTTPServerPipeline, what shared/reference/measured-costs.md measured), and with only
#      NIO's request decoder and the response written as bytes (the stack clickwise serve uses),
#   2. clickwise serve on a near no-op model (the tiny fixture bundle); its ORT Run time (from /metrics) is
#      subtracted to give the CPU spent on everything else.
# The fixture bundle is Criteo-shaped by nature (Tests/Fixtures/criteo_tiny.onnx takes 26 + 13 fields), and so
# is the fixed body. MODEL=<bundle or repository> measures any bundle instead, with the first row bench/gen_rows.py
# draws for it as the body (the same body for the baselines).
# Usage: [MODEL=...] bench/cpu_budget.sh [DURATION (default 10s)] [THREADS CONNECTIONS (default 2 64)] [extra serve flags...]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
duration=${1:-10s}; threads=${2:-2}; conns=${3:-64}; shift $(( $# < 3 ? $# : 3 ))
[ -x "$CLICKWISE" ] || (cd "$ROOT" && swift build -c release --product clickwise)
mkdir -p "$ROOT/bench/out"
work=$(mktemp -d); trap 'stop_server; rm -rf "$work"' EXIT
if [ -n "${MODEL:-}" ]; then
  model=$MODEL; bundle=$(bundle_dir "$MODEL"); name=$(model_name "$bundle")
  CLICKWISE_ROWS=$(rows_file "$bundle")
else
  (cd "$ROOT" && "$CLICKWISE" bench fixture-bundle --out "$work/tiny" > /dev/null)
  model=$work/tiny; name=tiny
fi
script="$BENCH_DIR/wrk/single_row_fixed.lua"

table_header
for pipeline in nio decoder; do
  port=$(free_port)
  "$CLICKWISE" bench http-baseline --port "$port" --pipeline "$pipeline" > "$work/baseline.log" 2>&1 & SERVER_PID=$!
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  run_wrk "bare SwiftNIO ($pipeline pipeline), constant answer" "$port" "$threads" "$conns" "$duration" "$script" "${CLICKWISE_ROWS:-}" ""
  stop_server
done

port=$(free_port)
start_clickwise "$port" --model "$model" "$@"
WRK_PATH=/v1/models/$name:predict run_wrk "clickwise serve, $name $*" "$port" "$threads" "$conns" "$duration" "$script" "${CLICKWISE_ROWS:-}" "$name"
curl -s "http://127.0.0.1:$port/metrics" | awk '/^clickwise_ort_run_seconds_sum/ {s=$2} /^clickwise_ort_run_seconds_count/ {c=$2}
  /^clickwise_requests_total\{protocol="http",route="predict",status="200"\}/ {r=$2}
  END {printf "ORT Run: %.1f us per run, %.1f us per request (subtract from CPU us/req for the budget)\n", s / c * 1e6, s / r * 1e6}'
stop_server
echo "($(date -u +%F), $(nproc) cores, wrk -t$threads -c$conns -d$duration)"
