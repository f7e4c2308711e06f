# GoldTicket. `make run` starts it with demo data, `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
export GOLDTICKET_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint format bench install clean

install:
	@bash tools/venv.sh

# Demo credentials (documented in the README); set your own for anything real.
DEMO_ENV = GOLDTICKET_ENV="$${GOLDTICKET_ENV:-dev}" GOLDTICKET_OPERATOR_PASSWORD="$${GOLDTICKET_OPERATOR_PASSWORD:-demo operator password}" \
	GOLDTICKET_OPERATOR_PIN="$${GOLDTICKET_OPERATOR_PIN:-246810}"

run: install
	$(DEMO_ENV) $(BIN)/goldticket demo

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
	$(BIN)/python bench/gateway_signatures.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .benchmarks .mypy_cache .ruff_cache
