#!/usr/bin/env bash
# gRPC's server CPU per ModelInfer (single rows unless BATCH) against HTTP binary's, for several server variants run in turn
# (A B A B ...), so each ratio is taken within one server's run and the variants see the same machine.
# Each variant: 'LABEL|BINARY|SERVE FLAGS' (BINARY empty = .build/release/clickwise).
# Usage: bench/grpc_ab.sh 'old|/tmp/clickwise-old|' 'new||'
# Env: MODEL (default models/autoint), CONCURRENCY (default 8), ROUNDS (default 3), INTERVAL_MS (default 4000),
# BATCH (rows per request, default 1).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
MODEL=${MODEL:-models/autoint}; CONCURRENCY=${CONCURRENCY:-8}; ROUNDS=${ROUNDS:-3}; INTERVAL_MS=${INTERVAL_MS:-4000}; BATCH=${BATCH:-1}
[ $# -ge 1 ] || { echo "usage: $0 'LABEL|BINARY|FLAGS'..." >&2; exit 2; }
echo "| variant | round | gRPC requests/s | gRPC p50 ms | gRPC CPU µs/request | HTTP binary requests/s | HTTP binary CPU µs/request | CPU ratio gRPC/HTTP |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
  for variant in "$@"; do
    IFS='|' read -r label binary flags <<< "$variant"
    # shellcheck disable=SC2086 # the flags are words
    out=$(CLICKWISE=${binary:-$BENCH_DIR/../.build/release/clickwise} ROUNDS=1 BATCHES=$BATCH JSON=0 COALESCING=0 INTERVAL_MS=$INTERVAL_MS \
      "$BENCH_DIR/grpc_vs_http.sh" "$MODEL" "$CONCURRENCY" $flags)
    python3 - "$label" "$round" "$BATCH" <<PY
import sys
label, round_, batch = sys.argv[1:]
rows = {}
for line in """$out""".splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if len(cells) == 8 and cells[1] == batch:
        rows[cells[0]] = cells
g, h = rows.get("gRPC (raw)"), rows.get("HTTP binary")
if not g or not h:
    print(f"| {label} | {round_} | (run failed) | | | | | |")
else:
    ratio = float(g[7]) / float(h[7])
    print(f"| {label} | {round_} | {g[3]} | {g[5]} | {g[7]} | {h[3]} | {h[7]} | {ratio:.2f} |")
PY
  done
done
