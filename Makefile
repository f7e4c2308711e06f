# GoldTicket. `make run` starts it with demo data, `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
export GOLDTICKET_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint format bench install clean

install:
	@bash tools/venv.sh

run: install
	$(BIN)/goldticket demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check goldticket chaincode tests bench
	$(BIN)/ruff format --check goldticket chaincode tests bench
	$(BIN)/mypy goldticket chaincode

format: install
	$(BIN)/ruff format goldticket chaincode tests bench
	$(BIN)/ruff check --fix goldticket chaincode tests bench

bench: install
	$(BIN)/python bench/transfer_throughput.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .benchmarks .mypy_cache .ruff_cache
