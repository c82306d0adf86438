#!/usr/bin/env bash
# Triton's perf_analyzer (KServe v2 over HTTP, binary tensors) next to wrk (the CTR API, raw rows) on one
# server, same run, at concurrency 1, 8 and 32, single rows: the "report" of issue 13. Then wrk's standard
# loads (-t4 -c100, -t2 -c64). Rounds alternate the two tools so drift on this shared machine hits both.
# Usage: bench/perf_vs_wrk.sh [MODEL (default models/autoint)] [extra serve flags...]
# Env: INTERVAL_MS (perf_analyzer window, default 5000), DURATION (wrk, default 10s), ROUNDS (default 2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=${1:-models/autoint}; shift $(( $# > 0 ? 1 : 0 )) || true
DURATION=${DURATION:-10s}; ROUNDS=${ROUNDS:-2}
[ -x "$CLICKWISE" ] || die "build first: swift build -c release ($CLICKWISE)"
bundle=$(bundle_dir "$MODEL"); name=$(model_name "$bundle")
rows="$ROOT/bench/out/perf-rows-$name.json"; raw_rows=$(rows_file "$bundle")
"$ROOT/.venv/bin/python" "$BENCH_DIR/perf_input.py" --bundle "$bundle" --count 512 --out "$rows" > /dev/null
HTTP_PORT=$(free_port)
trap stop_server EXIT
start_clickwise "$HTTP_PORT" --model "$MODEL" "$@"
echo "## $name, $(nproc) cores, $(date -u +%FT%TZ), server: ${*:-defaults}; perf_analyzer ${INTERVAL_MS:-5000} ms windows, wrk $DURATION"
echo
echo "perf_analyzer -i http (binary tensors), one row per request:"
echo
echo "| protocol | rows/request | concurrency | requests/s | rows/s | p50 ms | p99 ms | server CPU µs/request |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
perf_table=""; wrk_table=""
for round in $(seq 1 "$ROUNDS"); do
  for conc in 1 8 32; do
    perf_table+=$(perf_row "v2 HTTP binary (perf_analyzer)" 1 "$conc" -i http -u "127.0.0.1:$HTTP_PORT")$'\n'
    threads=$(( conc < 2 ? 1 : 2 ))
    wrk_table+=$(run_wrk "CTR API raw rows (wrk), round $round" "$HTTP_PORT" "$threads" "$conc" "$DURATION" \
      "$BENCH_DIR/wrk/predict_single.lua" "$raw_rows" "$name")$'\n'
  done
done
for load in 4:100 2:64; do
  wrk_table+=$(run_wrk "CTR API raw rows (wrk)" "$HTTP_PORT" "${load%%:*}" "${load##*:}" "$DURATION" \
    "$BENCH_DIR/wrk/predict_single.lua" "$raw_rows" "$name")$'\n'
done
printf '%s' "$perf_table"
echo
echo "wrk on the same server, in turn with the runs above:"
echo
table_header
printf '%s' "$wrk_table"
