#!/usr/bin/env bash
# The same 100 rows sent to :predict (bench/wrk/predict_rank100.lua) and to :rank as a context and candidates
# (bench/wrk/rank100.lua), and to :rank with candidates by id only (CLICKWISE_BY_ID=C14, the server filling the
# item fields from --item-table), alternating on one server. Usage: bench/rank_vs_predict.sh [serve flags...]
# MODEL=path picks another bundle (default models/deepfm).
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
model=${MODEL:-$ROOT/models/deepfm}
bundle=$(bundle_dir "$model"); name=$(model_name "$bundle"); rows=$(rows_file "$bundle")
trap stop_server EXIT
table_header
items=$ROOT/bench/out/items.csv
python3 "$BENCH_DIR/make_item_table.py" --rows "$rows" --key C14 --out "$items" >&2
CLICKWISE=$ROOT/.build/release/clickwise start_clickwise 18600 --model "$model" --item-table "$items" "$@"
for round in 1 2; do
  run_wrk ":predict 100 rows round $round" 18600 2 4 8s "$BENCH_DIR/wrk/predict_rank100.lua" "$rows" "$name"
  run_wrk ":rank context + 100 candidates round $round" 18600 2 4 8s "$BENCH_DIR/wrk/rank100.lua" "$rows" "$name"
  CLICKWISE_BY_ID=C14 run_wrk ":rank context + 100 ids round $round" 18600 2 4 8s "$BENCH_DIR/wrk/rank100.lua" "$rows" "$name"
done
