#!/usr/bin/env bash
# Resident memory of `clickwise serve` after warm-up for pool sizes 1 and 12, with and without the
# prepacked-weights container, and for one shared session run by 12 threads.
# Usage: bench/pool_memory.sh [MODEL_DIR (default models/deepfm)]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
model=${1:-$ROOT/models/deepfm}
[ -x "$CLICKWISE" ] || (cd "$ROOT" && swift build -c release --product clickwise)
mkdir -p "$ROOT/bench/out"
trap stop_server EXIT
echo "| model | mode | RSS MiB after warm-up |"
echo "|---|---|---:|"
for config in "--pool-size 1" "--pool-size 12" "--pool-size 12 --no-share-weights" "--pool-size 12 --shared-session"; do
  port=$(free_port)
  # shellcheck disable=SC2086
  start_clickwise "$port" --model "$model" $config
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$SERVER_PID/status)
  echo "| $(basename "$model") | $config | $rss |"
  stop_server
done
