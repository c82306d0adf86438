#!/usr/bin/env bash
# Fails when Sources/CTRGRPCProtocol is not exactly what scripts/gen_grpc.sh makes of Protos/,
# naming each stale, missing or extra file. CI runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

committed=Sources/CTRGRPCProtocol
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
scripts/gen_grpc.sh --out "$tmp/gen" >/dev/null

status=0
while IFS= read -r f; do
  if [ ! -f "$committed/$f" ]; then
    echo "check_grpc_generated: missing $committed/$f (generated from Protos/ but not committed)" >&2
    status=1
  elif ! cmp -s "$tmp/gen/$f" "$committed/$f"; then
    echo "check_grpc_generated: stale $committed/$f (differs from what Protos/ generates):" >&2
    diff -u "$committed/$f" "$tmp/gen/$f" | head -20 >&2 || true
    status=1
  fi
done < <(cd "$tmp/gen" && find . -type f | sed 's#^\./##' | LC_ALL=C sort)
while IFS= read -r f; do
  if [ ! -f "$tmp/gen/$f" ]; then
    echo "check_grpc_generated: extra $committed/$f (no .proto in Protos/ generates it)" >&2
    status=1
  fi
done < <(cd "$committed" && find . -type f | sed 's#^\./##' | LC_ALL=C sort)

if [ $status -ne 0 ]; then
  echo "check_grpc_generated: FAILED: run scripts/gen_grpc.sh and commit Sources/CTRGRPCProtocol" >&2
  exit 1
fi
echo "check_grpc_generated: Sources/CTRGRPCProtocol matches Protos/"
