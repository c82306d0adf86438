#!/usr/bin/env bash
# Ranking with and without the ranking graph (issue 24 items 3-4), one server, alternating: a shipped bundle copied
# twice into one repository, "flat" as shipped and "graph" with `clickwise export ranking` (context: the Criteo
# integers and C1-C13; the candidates' C14-C26), both with an item table keyed by C14 (bench/make_item_table.py).
# Per candidate count: 100 full rows to :predict, :rank with a context on the flat graph, on the ranking graph,
# and by id (only C14 per candidate) on the ranking graph. Prints one markdown row per run plus the body bytes.
# Usage: bench/ranking_graph.sh [deepfm|autoint] [serve flags...]   (CANDIDATES="100 500", DURATION=8s, ROUNDS=2)
# Another bundle: BUNDLE=DIR (its own ranking.onnx is used when it has one) CONTEXT=a,b,... (its context fields)
# KEY=field (the item id field, first of the item table); e.g. a configs/tiny bundle: CONTEXT=userid,pid,... KEY=adgroup_id.
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
which=${1:-deepfm}; shift || true
work=$ROOT/bench/out/ranking-repo
rm -rf "$work"; mkdir -p "$work/flat" "$work/graph"
source_bundle=${BUNDLE:-$ROOT/models/$which/1}
cp -r "$source_bundle" "$work/flat/1"
rm -f "$work/flat/1/ranking.onnx" "$work/flat/1/ranking.onnx.data"
cp -r "$source_bundle" "$work/graph/1"
context=${CONTEXT:-$(python3 -c "print(','.join([f'I{i}' for i in range(1,14)]+[f'C{i}' for i in range(1,14)]))")}
key=${KEY:-C14}
export CLICKWISE_CONTEXT_FIELDS=$context
[ -f "$work/graph/1/ranking.onnx" ] || "$CLICKWISE" export ranking "$work/graph/1" --context-fields "$context" >&2 || die "export ranking failed"
rows=$(rows_file "$work/flat/1")
items=$ROOT/bench/out/items.csv
python3 "$BENCH_DIR/make_item_table.py" --rows "$rows" --key "$key" --context-fields "$context" --out "$items" >&2
trap stop_server EXIT
start_clickwise 18610 --model "$work" --item-table "$items" --max-rows-per-request 1000 "$@"
table_header
bytes() { awk '/^body bytes/ {print $3; exit}' "$ROOT/bench/out/wrk.txt"; }
for candidates in ${CANDIDATES:-100 500}; do
  export CLICKWISE_CANDIDATES=$candidates
  for round in $(seq 1 "${ROUNDS:-2}"); do
    d=${DURATION:-8s}
    run_wrk "$candidates :predict flat round $round" 18610 2 4 "$d" "$BENCH_DIR/wrk/predict_rank100.lua" "$rows" flat; echo "  body $(bytes)"
    run_wrk "$candidates :rank context, flat graph round $round" 18610 2 4 "$d" "$BENCH_DIR/wrk/rank100.lua" "$rows" flat; echo "  body $(bytes)"
    run_wrk "$candidates :rank context, ranking graph round $round" 18610 2 4 "$d" "$BENCH_DIR/wrk/rank100.lua" "$rows" graph; echo "  body $(bytes)"
    CLICKWISE_BY_ID=$key run_wrk "$candidates :rank ids, ranking graph round $round" 18610 2 4 "$d" "$BENCH_DIR/wrk/rank100.lua" "$rows" graph; echo "  body $(bytes)"
  done
done
