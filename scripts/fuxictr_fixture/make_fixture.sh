#!/usr/bin/env bash
# Rebuilds Tests/Fixtures/fuxictr/ with FuxiCTR's own pip package (outside CI: torch + fuxictr are ~5.6 GB).
# Usage: scripts/fuxictr_fixture/make_fixture.sh [--out DIR] [--rows N] [--epochs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-fuxictr
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# polars 2 renamed an argument FuxiCTR 2.3.10 passes to scan_csv, hence the pin.
"$venv/bin/pip" install -q --disable-pip-version-check torch 'fuxictr==2.3.10' 'polars<2' pyyaml \
  onnx==1.23.2 onnxruntime==1.31.1
exec "$venv/bin/python" scripts/fuxictr_fixture/make_fixture.py "$@"
