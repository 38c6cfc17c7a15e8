# Small named entry points for the dev loop. The README's first command is what `make serve` runs,
# its second is `make test`; CI (.ci/run) calls `make test`.

PYTHON ?= python3
CARGO ?= cargo

.PHONY: install serve test test-rust test-python lint fmt bench

## Build the wheel (release) and install it with its test dependencies.
install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check '.[test]'

## Install, then start the server on 127.0.0.1:6379.
serve:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check .
	fastkv-server

## The whole suite: formatting and lints, Rust unit/property/socket tests, then the Python suite (embedded, server,
## differential against redis-server), then the stub check.
test: install lint test-rust test-python

test-rust:
	$(CARGO) test --workspace --quiet

test-python:
	$(PYTHON) -m pytest
	$(PYTHON) -m mypy.stubtest fastkv._fastkv

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(PYTHON) -m ruff check python tests bench
	$(PYTHON) -m mypy python/fastkv bench

fmt:
	$(CARGO) fmt --all
	$(PYTHON) -m ruff format python tests bench

bench:
	$(PYTHON) bench/run.py
