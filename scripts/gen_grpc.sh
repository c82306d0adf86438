#!/usr/bin/env bash
# Regenerates Sources/CTRGRPCProtocol from Protos/ (the one command; commit what it writes).
#
#   scripts/gen_grpc.sh            write into Sources/CTRGRPCProtocol (replacing what is there)
#   scripts/gen_grpc.sh --out DIR  write into DIR instead (scripts/check_grpc_generated.sh uses it)
#
# The protoc plugins are built from the package copies this package resolves (protoc-gen-swift from
# swift-protobuf, protoc-gen-grpc-swift-2 from grpc-swift-protobuf, so the generator is never newer
# than the runtime we link), in release mode in the scratch path .build-protoc; a later run reuses
# that build (SwiftPM rebuilds only what changed). protoc is Debian's (protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."

out=Sources/CTRGRPCProtocol
if [ "${1:-}" = "--out" ]; then
  out="${2:?gen_grpc.sh: --out needs a directory}"
elif [ $# -gt 0 ]; then
  echo "gen_grpc.sh: unknown argument '$1' (usage: scripts/gen_grpc.sh [--out DIR])" >&2
  exit 2
fi

if ! command -v protoc >/dev/null; then
  echo "gen_grpc.sh: protoc not found; run scripts/setup.sh (Debian's protobuf-compiler)" >&2
  exit 1
fi

scratch=.build-protoc
mkdir -p "$scratch"
# The versions the plugins were built from; a rebuild happens only when they change (running
# `swift build` for both products each time costs ~30 s: the two builds invalidate each other).
pins() {
  [ -f Package.resolved ] || return 0
  python3 -c 'import json,sys
pins = json.load(open("Package.resolved"))["pins"]
print(" ".join(p["identity"] + "@" + p["state"].get("version", p["state"].get("revision", "?"))
               for p in pins if p["identity"] in ("swift-protobuf", "grpc-swift-protobuf", "grpc-swift-2")))'
}
stamp="$scratch/gen_grpc.plugins"
bin="$PWD/$scratch/release"
if [ ! -x "$bin/protoc-gen-swift" ] || [ ! -x "$bin/protoc-gen-grpc-swift-2" ] \
   || [ -z "$(pins)" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$(pins)" ]; then
  for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
    echo "gen_grpc.sh: building $product (release, $scratch; the first build takes minutes)" >&2
    if ! swift build -c release --scratch-path "$scratch" --product "$product" >"$scratch/gen_grpc-$product.log" 2>&1; then
      cat "$scratch/gen_grpc-$product.log" >&2
      echo "gen_grpc.sh: building $product failed (log above)" >&2
      exit 1
    fi
    rm -f "$scratch/gen_grpc-$product.log"
  done
  pins > "$stamp"
fi
echo "gen_grpc.sh: plugins from $(cat "$stamp")" >&2

# Generate into a fresh directory first, so a failure leaves the committed code untouched and a
# removed .proto leaves no stale file behind.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mapfile -t protos < <(cd Protos && find . -name '*.proto' | sed 's#^\./##' | LC_ALL=C sort)
# Service code only for the files that declare a service (the plugin writes an empty file otherwise).
mapfile -t services < <(cd Protos && grep -l '^service ' "${protos[@]}")
(
  cd Protos
  protoc \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="$tmp" \
    --swift_opt=Visibility=Public,FileNaming=FullPath \
    "${protos[@]}"
  protoc \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out="$tmp" \
    --grpc-swift-2_opt=Visibility=Public,Server=true,Client=true,FileNaming=FullPath \
    "${services[@]}"
)

mkdir -p "$out"
find "$out" -mindepth 1 -delete
cp -R "$tmp"/. "$out"/
echo "gen_grpc.sh: generated $(find "$out" -name '*.swift' | wc -l) files from ${#protos[@]} protos into $out"
