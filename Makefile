# The two commands a fresh machine needs: `make serve` and `make test` (see README.md).
SWIFT ?= swift
PY := .venv/bin/python
FIXTURES := Tests/Fixtures

.PHONY: setup fixtures build release test serve inspect bench-micro

setup:
	@scripts/setup.sh

fixtures: setup
	@$(PY) scripts/make_fixtures.py --out $(FIXTURES)
	@$(PY) scripts/make_tensor_fixtures.py --out $(FIXTURES)/tensor
	@$(PY) scripts/make_movielens.py --out $(FIXTURES)/movielens --wheel-cache .venv/wheels

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

test: fixtures
	$(SWIFT) build --build-tests
	$(SWIFT) test

inspect: release fixtures
	.build/release/clickwise inspect $(FIXTURES)/criteo_tiny.onnx

# Serves the bundled default model; override with `make serve MODEL=models/autoint ARGS="--pool-size 2"`.
MODEL ?= models/deepfm
ARGS ?=
serve: release
	.build/release/clickwise serve --model $(MODEL) $(ARGS)

# Micro-benchmarks (ordo-one/benchmark) and the Python peer, same run.
bench-micro: release fixtures
	cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --format markdown
	$(PY) bench/ort_python_run.py Tests/Fixtures/criteo_tiny.onnx 3
