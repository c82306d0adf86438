# The two commands a fresh machine needs: `make serve` and `make test` (see README.md).
SWIFT ?= swift
PY := .venv/bin/python
FIXTURES := Tests/Fixtures

.PHONY: setup fixtures build release test serve inspect clean-fixtures

setup:
	@scripts/setup.sh

fixtures: setup
	@$(PY) scripts/make_fixtures.py --out $(FIXTURES)

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

test: fixtures
	$(SWIFT) build --build-tests
	$(SWIFT) test

inspect: release fixtures
	.build/release/clickwise inspect $(FIXTURES)/criteo_tiny.onnx

serve: inspect
