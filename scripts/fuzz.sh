#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (Swift's -sanitize=fuzzer with AddressSanitizer and its leak checker)
# and runs each for SECONDS (default 60); fails if any target crashes, leaks, times out or runs out of memory.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 300 FuzzHTTPHandler
#
# The build goes to .build-fuzz (never mixed with `make test`'s .build). Inputs libFuzzer finds go to a temporary
# working corpus, read beside the committed seeds in Fuzz/corpus/<target>/ (which it never writes); crash inputs
# are kept in .build-fuzz/artifacts/. A crash becomes a regression test in Tests/CTRServerTests and a seed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJSONScanner FuzzPredictDecoder FuzzInferJSON FuzzInferBinary FuzzGRPCInfer FuzzHTTPHandler
                                 FuzzCSVReader FuzzCriteoReader FuzzEncoder)

scripts/setup.sh   # the HTTP target serves models/deepfm with the .venv's ONNX Runtime

scratch=.build-fuzz
mkdir -p "$scratch"
start=$(date +%s)
for target in "${targets[@]}"; do
  echo "fuzz: building $target"
  # swiftc keeps only the last -sanitize flag, and SwiftPM's `--sanitize=fuzzer --sanitize=address` come out in
  # either order (coverage, hence the fuzzing, silently went missing in half the builds). So: `--sanitize=fuzzer`
  # (SwiftPM then links libFuzzer's main instead of the target's), then one flag with both, which comes last.
  # Swift code only: the C in our dependencies (BoringSSL, libyaml) is not ours to fuzz. The linker (gold)
  # warns once per ASan helper symbol; nothing from our code, so only errors are shown.
  if ! CLICKWISE_FUZZ=1 swift build --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "$target" \
      >"$scratch/build.log" 2>&1; then
    grep -v "ld.gold: warning: Cannot export local symbol" "$scratch/build.log" | tail -40
    exit 1
  fi
  grep -E "warning:" "$scratch/build.log" | grep -v "ld.gold: warning: Cannot export local symbol" | sort -u || true
done
echo "fuzz: build took $(( $(date +%s) - start )) s"
bin=$(CLICKWISE_FUZZ=1 swift build --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --show-bin-path)

work=$(mktemp -d /tmp/clickwise-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=$scratch/artifacts
mkdir -p "$artifacts"
failed=()
for target in "${targets[@]}"; do
  dict=Fuzz/json.dict
  [ "$target" = FuzzHTTPHandler ] && dict=Fuzz/http.dict
  [ "$target" = FuzzGRPCInfer ] && dict=Fuzz/grpc.dict
  case "$target" in FuzzCSVReader|FuzzCriteoReader|FuzzEncoder) dict=Fuzz/csv.dict ;; esac
  mkdir -p "$work/$target"
  echo "fuzz: $target for ${seconds} s"
  # -timeout: one input may wait for ONNX Runtime, never for seconds; -rss_limit_mb: leave room for the other jobs.
  if "$bin/$target" "$work/$target" "Fuzz/corpus/$target" -dict="$dict" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
      >"$work/$target.log" 2>&1 && grep -Eq "INITED cov: [1-9]" "$work/$target.log"; then
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$work/$target.log"
  else
    tail -60 "$work/$target.log"
    grep -Eq "INITED cov: [1-9]" "$work/$target.log" || echo "fuzz: $target reports no coverage: not built with -sanitize=fuzzer"
    echo "fuzz: $target FAILED; the input is in $artifacts/ (reproduce: $bin/$target FILE)"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a crash, leak or timeout"
