#!/usr/bin/env bash
# Issue 25 item 3's proof: after a day of drift, does a model warm-started from yesterday's reach a model
# trained from scratch on today's data, in a fraction of the time? (docs/LOOP.md has the results.)
#
# Per seed S: day 1 is `data synth --seed S` (DAY1 training rows + a tenth as validation); day 2 is the same
# world with `--drift DRIFT --drift-seed 2` (new ads, changed tastes), split into DAY2 training rows, DAY2/5
# validation rows and DAY2 test rows. Then:
#   stale   = train on day 1 (default epochs, early stopping)
#   warmN   = train --warm-start stale on day 2 for N epochs, for each N in WARM_EPOCHS
#   scratch = train on day 2 from scratch (default epochs, early stopping)
# and all three are evaluated on day 2's test rows (AUC, logloss, the oracle AUC of the true probabilities).
#
# Usage: bench/drift_experiment.sh [SEED...]   (default seeds: 1)
# Env: ARCH (deepfm), DAY1 (200000), DAY2 (50000), DRIFT (0.3), WARM_EPOCHS ("1 2"), CONFIG (configs/tiny),
#      CLICKWISE (.build/release/clickwise: `swift build -c release --product clickwise`), OUT (bench/out/drift-ARCH).
# Prints one line per model and seed, then the mean and spread (min–max) over the seeds; OUT/results.tsv keeps them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${ARCH:-deepfm}; DAY1=${DAY1:-200000}; DAY2=${DAY2:-50000}; DRIFT=${DRIFT:-0.3}; WARM_EPOCHS=${WARM_EPOCHS:-1 2}
CONFIG=${CONFIG:-$ROOT/configs/tiny/dataset_config.yaml}
BIN=${CLICKWISE:-$ROOT/.build/release/clickwise}
OUT=${OUT:-$ROOT/bench/out/drift-$ARCH}
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(1)
[ -x "$BIN" ] || { echo "drift_experiment: no $BIN (swift build -c release --product clickwise)" >&2; exit 1; }
mkdir -p "$OUT"
results=$OUT/results.tsv
printf 'seed\tarch\tmodel\tauc\tlogloss\toracle_auc\ttrain_seconds\tepochs\n' > "$results"

# split FILE FIRST COUNT OUT: the header and data rows FIRST..FIRST+COUNT-1 (1-based) of FILE, and their truth lines.
split() {
  # sed, not tail | head: head's early exit would fail the pipe under pipefail.
  sed -n "1p; $(( $2 + 1 )),$(( $2 + $3 ))p" "$1" > "$4"
  sed -n "$2,$(( $2 + $3 - 1 ))p" "$1.truth" > "$4.truth"
}

# timed LOG CMD...: runs CMD with its output in LOG; prints the wall-clock seconds.
timed() {
  local log=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$log" 2>&1 || { echo "drift_experiment: failed: $* (see $log)" >&2; tail -5 "$log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

# metric LOG NAME: the number after "NAME:" in evaluate's output.
metric() { awk -v name="$2:" 'index($0, name) == 1 { sub(name, ""); print $1; exit }' "$1"; }

for seed in "${seeds[@]}"; do
  work=$OUT/seed$seed-$ARCH
  mkdir -p "$work"
  echo "== seed $seed ($ARCH): synthesizing" >&2
  "$BIN" data synth --dataset-config "$CONFIG" --seed "$seed" --rows $(( DAY1 + DAY1 / 10 )) --out "$work/day1-all.csv" >&2
  split "$work/day1-all.csv" 1 "$DAY1" "$work/day1-train.csv"
  split "$work/day1-all.csv" $(( DAY1 + 1 )) $(( DAY1 / 10 )) "$work/day1-valid.csv"
  "$BIN" data synth --dataset-config "$CONFIG" --seed "$seed" --drift "$DRIFT" --drift-seed 2 \
    --rows $(( 2 * DAY2 + DAY2 / 5 )) --out "$work/day2-all.csv" >&2
  split "$work/day2-all.csv" 1 "$DAY2" "$work/day2-train.csv"
  split "$work/day2-all.csv" $(( DAY2 + 1 )) $(( DAY2 / 5 )) "$work/day2-valid.csv"
  split "$work/day2-all.csv" $(( DAY2 + DAY2 / 5 + 1 )) "$DAY2" "$work/day2-test.csv"
  rm -f "$work/day1-all.csv" "$work/day1-all.csv.truth" "$work/day2-all.csv" "$work/day2-all.csv.truth"
  rm -rf "$work/stale" "$work"/warm* "$work/scratch"

  echo "== seed $seed: training stale (day 1), warm (from stale on day 2: $WARM_EPOCHS epochs), scratch (day 2)" >&2
  declare -A seconds=()
  seconds[stale]=$(timed "$work/stale.log" "$BIN" train --dataset-config "$CONFIG" --model "$ARCH" --no-progress \
    --train "$work/day1-train.csv" --valid "$work/day1-valid.csv" --out "$work/stale")
  for epochs in $WARM_EPOCHS; do
    seconds[warm$epochs]=$(timed "$work/warm$epochs.log" "$BIN" train --warm-start "$work/stale" --epochs "$epochs" --no-progress \
      --train "$work/day2-train.csv" --valid "$work/day2-valid.csv" --out "$work/warm$epochs")
  done
  seconds[scratch]=$(timed "$work/scratch.log" "$BIN" train --dataset-config "$CONFIG" --model "$ARCH" --no-progress \
    --train "$work/day2-train.csv" --valid "$work/day2-valid.csv" --out "$work/scratch")

  # The loop's last step on the same rows: each model is a "version" of one model in a prediction log whose
  # every test row is a request, clicked (the label) a second after it was served.
  rm -rf "$work/log"; mkdir -p "$work/log/drift"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "clk") c = i; print "request_id,index,timestamp_ms"; next }
           $c == 1 { print "r" NR - 1 ",0,2000" }' "$work/day2-test.csv" > "$work/clicks.csv"
  echo "request_id,timestamp_ms,model,version,index,prediction" > "$work/log/drift/predictions-1.csv"
  for model in "${!seconds[@]}"; do
    "$BIN" evaluate "$work/$model" --data "$work/day2-test.csv" --predictions "$work/$model.predictions" > "$work/$model-eval.log" 2>&1
    awk -v m="$model" '{ print "r" NR ",1000,drift," m ",0," $1 }' "$work/$model.predictions" >> "$work/log/drift/predictions-1.csv"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n' "$seed" "$ARCH" "$model" "$(metric "$work/$model-eval.log" AUC)" \
      "$(metric "$work/$model-eval.log" logloss)" "$(metric "$work/$model-eval.log" "oracle AUC")" "${seconds[$model]}" \
      "$(grep -c '^epoch [0-9]*:' "$work/$model.log")" >> "$results"
  done
  grep -P "^$seed\t" "$results" >&2
  "$BIN" evaluate --predictions "$work/log" --clicks "$work/clicks.csv" > "$work/compare.txt"
  sed -n '/^AUC differences/,$p' "$work/compare.txt" >&2
  unset seconds
done

# Mean and spread (min–max) per model over the seeds.
echo
echo "| model ($ARCH) | test AUC | test logloss | oracle AUC | training time (s) | epochs |"
echo "|---|---|---|---|---|---|"
for model in stale $(for e in $WARM_EPOCHS; do echo "warm$e"; done) scratch; do
  awk -F'\t' -v m="$model" '
    $3 == m { n++; for (i = 4; i <= 8; i++) { v = $i + 0; s[i] += v; if (n == 1 || v < lo[i]) lo[i] = v; if (n == 1 || v > hi[i]) hi[i] = v } }
    END {
      printf "| %s |", m
      for (i = 4; i <= 8; i++) {
        f = (i == 7) ? "%.1f" : (i == 8) ? "%.1f" : "%.4f"
        if (n > 1) printf " " f " (" f "–" f ") |", s[i] / n, lo[i], hi[i]; else printf " " f " |", s[i] / n
      }
      printf "\n"
    }' "$results"
done

# Validation AUC after each epoch (day 2's validation rows), mean over the seeds: what each epoch buys.
echo
echo "validation AUC by epoch (mean over seeds ${seeds[*]}):"
for model in $(for e in $WARM_EPOCHS; do echo "warm$e"; done | tail -n 1) scratch; do
  for seed in "${seeds[@]}"; do cat "$OUT/seed$seed-$ARCH/$model.log"; done |
    awk -v m="$model" '/^epoch [0-9]+:/ { e = $2 + 0; for (i = 1; i <= NF; i++) if ($i == "AUC") { s[e] += $(i + 1); n[e]++ } ; if (e > last) last = e }
      END { printf "  %-8s", m; for (e = 1; e <= last; e++) printf "  epoch %d %.4f", e, s[e] / n[e]; printf "\n" }'
done
