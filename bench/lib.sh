# Helpers shared by the bench scripts (source it). Needs wrk, curl, python3.
# Results: one markdown row per wrk run, with the server's CPU from /proc (utime+stime of the server
# process and its children, e.g. --workers or uvicorn workers).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CLICKWISE=${CLICKWISE:-$ROOT/.build/release/clickwise}
CLK_TCK=$(getconf CLK_TCK)
SERVER_PID=""

die() { echo "bench: $*" >&2; exit 1; }

# rows_file BUNDLE -> path of a rows file for that bundle's schema and vocabularies (bench/gen_rows.py, generated
# once per features.json content, so a retrained bundle at the same path gets fresh rows).
rows_file() {
  local bundle=$1 out
  [ -f "$bundle/features.json" ] || die "no features.json in $bundle"
  out="$ROOT/bench/out/rows-$(md5sum < "$bundle/features.json" | cut -c1-8).jsonl"
  mkdir -p "$ROOT/bench/out"
  [ -s "$out" ] || python3 "$BENCH_DIR/gen_rows.py" --bundle "$bundle" --count 400 --out "$out"
  echo "$out"
}

# bundle_dir MODEL_PATH -> the newest <model>/<version>/ bundle under a bundle or repository path.
bundle_dir() {
  local path=$1
  if [ -f "$path/features.json" ]; then echo "$path"; return; fi
  local found
  found=$(find "$path" -name features.json -printf '%h\n' | sort -V | tail -1)
  [ -n "$found" ] || die "no features.json under $path"
  echo "$found"
}

# model_name BUNDLE_DIR -> the name the server gives it (<model> of <model>/<version>/, or the dir name).
model_name() {
  local dir; dir=$(cd "$1" && pwd)
  if [[ $(basename "$dir") =~ ^[0-9]+$ ]]; then basename "$(dirname "$dir")"; else basename "$dir"; fi
}

# free_port -> an unused TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready PORT [SECONDS]
wait_ready() {
  local port=$1 limit=${2:-60} i
  for ((i = 0; i < limit * 10; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && return 0
    sleep 0.1
  done
  return 1
}

# start_clickwise PORT FLAGS... -> SERVER_PID (logs in bench/out/server.log)
start_clickwise() {
  local port=$1; shift
  "$CLICKWISE" serve --port "$port" --grpc-port "${GRPC_PORT:-0}" "$@" > "$ROOT/bench/out/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$port" || { cat "$ROOT/bench/out/server.log" >&2; stop_server; die "server did not become ready: $*"; }
}

# stop_server: SIGTERM (graceful drain) to SERVER_PID, then wait for it.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# cpu_ticks PID -> utime+stime (clock ticks) of PID and its children (live ones).
cpu_ticks() {
  local total=0 p
  for p in $1 $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    [ -r /proc/$p/stat ] || continue
    total=$((total + $(sed 's/.*) //' /proc/$p/stat | awk '{print $12 + $13}')))
  done
  echo $total
}

# to_ms "1.23ms" -> 1.23
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f", v * 1000 }
    else printf "%s", v }'
}

table_header() {
  echo "| config | wrk | RPS | avg ms | p50 ms | p99 ms | errors | server CPU s/s | CPU µs/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
}

# run_wrk LABEL PORT THREADS CONNS DURATION SCRIPT ROWS MODEL -> prints one markdown row.
run_wrk() {
  local label=$1 port=$2 threads=$3 conns=$4 duration=$5 script=$6 rows=$7 model=$8
  local out="$ROOT/bench/out/wrk.txt" before after start end
  before=$(cpu_ticks "$SERVER_PID"); start=$(date +%s.%N)
  CLICKWISE_ROWS=$rows CLICKWISE_MODEL=$model CLICKWISE_BENCH_DIR=$BENCH_DIR \
    wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$script" "http://127.0.0.1:$port" > "$out" 2>&1
  end=$(date +%s.%N); after=$(cpu_ticks "$SERVER_PID")
  local rps avg p50 p99 requests errors
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out")
  avg=$(to_ms "$(awk '/^ *Latency / {print $2; exit}' "$out")")
  p50=$(to_ms "$(awk '/^ *50% / {print $2}' "$out")")
  p99=$(to_ms "$(awk '/^ *99% / {print $2}' "$out")")
  requests=$(awk '/requests in/ {print $1}' "$out")
  errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
  [ -n "$rps" ] || { cat "$out" >&2; rps=0; requests=0; }
  awk -v l="$label" -v w="-t$threads -c$conns" -v rps="$rps" -v avg="$avg" -v p50="$p50" -v p99="$p99" -v e="$errors" \
      -v ticks=$((after - before)) -v hz="$CLK_TCK" -v s="$start" -v t="$end" -v n="${requests:-0}" 'BEGIN {
    cpu = ticks / hz; secs = t - s
    printf "| %s | %s | %s | %s | %s | %s | %s | %.2f | %s |\n", l, w, rps, avg, p50, p99, e, cpu / secs, (n > 0 ? sprintf("%.1f", cpu * 1e6 / n) : "-") }'
}

# successes -> the success count of model $name in the server on $HTTP_PORT (Triton statistics extension).
successes() { curl -s "http://127.0.0.1:$HTTP_PORT/v2/models/$name/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_stats"][0]["inference_stats"]["success"]["count"])'; }

# perf_row LABEL BATCH CONCURRENCY PROTOCOL-ARGS... -> one markdown row of a bounded perf_analyzer run on model
# $name with the rows file $rows (bench/perf_input.py), INTERVAL_MS windows; server CPU from SERVER_PID.
perf_row() {
  local label=$1 batch=$2 conc=$3; shift 3
  local csv="$ROOT/bench/out/perf.csv" before after n0 n1 start end
  n0=$(successes); before=$(cpu_ticks "$SERVER_PID"); start=$(date +%s.%N)
  "$ROOT/scripts/perf_analyzer" -m "$name" --input-data "$rows" -b "$batch" --concurrency-range "$conc" --measurement-interval "${INTERVAL_MS:-5000}" \
    --max-trials 3 --stability-percentage "${STABILITY:-100}" -f "$csv" "$@" > "$ROOT/bench/out/perf.log" 2>&1 || { tail -5 "$ROOT/bench/out/perf.log" >&2; return 0; }
  end=$(date +%s.%N); after=$(cpu_ticks "$SERVER_PID"); n1=$(successes)
  python3 - "$csv" "$label" "$batch" "$conc" $((after - before)) "$CLK_TCK" $((n1 - n0)) "$start" "$end" <<'PY'
import csv, sys
path, label, batch, conc, ticks, hz, requests, start, end = sys.argv[1:]
row = next(csv.DictReader(open(path)))
rps = float(row["Inferences/Second"]) / int(batch)
cpu_us = int(ticks) / int(hz) * 1e6 / max(1, int(requests))
print(f"| {label} | {batch} | {conc} | {rps:,.0f} | {float(row['Inferences/Second']):,.0f} | {int(row['p50 latency'])/1000:.2f} | {int(row['p99 latency'])/1000:.2f} | {cpu_us:.0f} |")
PY
}

