#!/usr/bin/env bash
# The serving issue's budget: server CPU per single-row request, everything except ONNX Runtime's Run, <= 40 us.
# Measures, in one run and with the same wrk load and body:
#   1. a bare SwiftNIO server answering a constant (clickwise bench http-baseline),
#   2. clickwise serve on a near no-op model (the tiny fixture bundle), CPU per request minus its ORT Run time.
# Usage: bench/cpu_budget.sh [DURATION_SECONDS] [WRK_ARGS...]   (default 10 s, -t2 -c64)
cd "$(dirname "$0")/.."
source bench/lib.sh
duration=${1:-10}; shift || true
wrk_args=("$@"); [ ${#wrk_args[@]} -gt 0 ] || wrk_args=(-t2 -c64)
bin=.build/release/clickwise
[ -x "$bin" ] || swift build -c release --product clickwise
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" bench fixture-bundle --out "$work/tiny" >/dev/null

port=$(free_port)
"$bin" bench http-baseline --port "$port" > "$work/baseline.log" 2>&1 & base_pid=$!
sleep 1
base=$(measure $base_pid "http://127.0.0.1:$port/" bench/wrk/single_row_fixed.lua -d"${duration}s" "${wrk_args[@]}")
kill $base_pid; wait $base_pid 2>/dev/null || true

port=$(free_port)
"$bin" serve --model "$work/tiny" --port "$port" > "$work/serve.log" 2>&1 & serve_pid=$!
wait_ready "http://127.0.0.1:$port/v2/health/ready"
ours=$(measure $serve_pid "http://127.0.0.1:$port/v1/models/tiny:predict" bench/wrk/single_row_fixed.lua -d"${duration}s" "${wrk_args[@]}")
run=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^clickwise_ort_run_seconds_sum/ {s=$2} /^clickwise_ort_run_seconds_count/ {c=$2} END {printf "%.1f", s / c * 1e6}')
kill -TERM $serve_pid; wait $serve_pid 2>/dev/null || true

read -r b_rps b_avg b_p50 b_p99 b_cores b_us b_err <<<"$base"
read -r o_rps o_avg o_p50 o_p99 o_cores o_us o_err <<<"$ours"
echo "| server | RPS | avg ms | p50 ms | p99 ms | server cores | server CPU us/req | ORT Run us/req | CPU us/req excl. Run | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| bare SwiftNIO, constant answer | $b_rps | $b_avg | $b_p50 | $b_p99 | $b_cores | $b_us | - | $b_us | $b_err |"
echo "| clickwise serve, fixture model | $o_rps | $o_avg | $o_p50 | $o_p99 | $o_cores | $o_us | $run | $(echo "$o_us - $run" | bc) | $o_err |"
echo "wrk ${wrk_args[*]} -d${duration}s, $(date -u +%F), $(nproc) cores"
