#!/usr/bin/env bash
# Resident memory of `clickwise serve` after warm-up, pool of 1 vs pool of 12, for each memory setting, plus
# one shared session run by 12 threads. Prints one markdown row per setting: both RSS figures, their ratio
# and the cost of each extra session.
# Usage: [REPEATS=3] bench/pool_memory.sh [MODEL_DIR (default models/deepfm)] [EXTRA SERVE FLAGS...]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
model=${1:-$ROOT/models/deepfm}; shift $(( $# > 0 ? 1 : 0 ))
[ -x "$CLICKWISE" ] || (cd "$ROOT" && swift build -c release --product clickwise)
mkdir -p "$ROOT/bench/out"
trap stop_server EXIT

repeats=${REPEATS:-3}
# rss_after_ready FLAGS... -> the median over $REPEATS starts of VmRSS in MiB once the server answers ready
# (warm-up done); single starts vary by ~10 MiB with thread timing.
rss_after_ready() {
  local port values=()
  for _ in $(seq 1 "$repeats"); do
    port=$(free_port)
    start_clickwise "$port" --model "$model" "$@"
    values+=("$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$SERVER_PID/status)")
    stop_server
  done
  printf '%s\n' "${values[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

settings=(
  ""                                   # the defaults
  "--no-share-weights"                 # every session its own copy (Triton's way)
  "--shared-weight-min-bytes 1048576"  # share only initializers of 1 MiB and more
  "--no-cpu-arena"
  "--no-memory-pattern"
  "--no-cpu-arena --no-memory-pattern"
  "--env-allocator"
  "--env-allocator --no-memory-pattern"
)
echo "| model | setting | pool 1 MiB | pool 12 MiB | ratio | MiB per extra session |"
echo "|---|---|---:|---:|---:|---:|"
for setting in "${settings[@]}"; do
  # shellcheck disable=SC2086
  one=$(rss_after_ready --pool-size 1 $setting "$@")
  # shellcheck disable=SC2086
  twelve=$(rss_after_ready --pool-size 12 $setting "$@")
  echo "| $(basename "$model") | ${setting:-defaults} $* | $one | $twelve | $(echo "scale=2; $twelve / $one" | bc) | $(echo "scale=1; ($twelve - $one) / 11" | bc) |"
done
shared=$(rss_after_ready --pool-size 12 --shared-session "$@")
echo "| $(basename "$model") | --pool-size 12 --shared-session $* | | $shared | | |"
