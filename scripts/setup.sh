#!/usr/bin/env bash
# Installs what Clickwise needs on a fresh Debian 12 machine; safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

# protobuf-compiler: protoc for scripts/gen_grpc.sh and its CI check; libb64-0d: perf_analyzer's one
# system library that Debian has (its libcudart comes from a wheel, below).
# chromium: the headless browser that renders evaluate's HTML report in a test.
debs=(pkg-config libopenblas-dev wrk nginx-light curl bc protobuf-compiler libb64-0d chromium)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python requirements into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
  echo "$want" > "$stamp"
fi

# perf_analyzer lives only in tritonclient 2.41.0's Linux wheel (later wheels are pure Python), whose
# Python side conflicts with the tritonclient pinned above: it gets its own virtualenv.
# scripts/perf_analyzer runs it.
if [ ! -x .venv-perf/bin/python ]; then
  echo "setup: creating .venv-perf"
  python3 -m venv .venv-perf
fi
stamp=.venv-perf/.requirements.sha
want=$(sha256sum scripts/requirements-perf.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing perf_analyzer into .venv-perf"
  .venv-perf/bin/pip install -q --disable-pip-version-check -r scripts/requirements-perf.txt
  echo "$want" > "$stamp"
fi
