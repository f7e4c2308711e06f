# GoldTicket. `make run` starts it with demo data, `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
export GOLDTICKET_DATA_DIR ?= $(CURDIR)/var

.PHONY: run fonts test test-fabric schemathesis mutants lint format bench install clean network-up network-down network-clean network-status

install:
	@bash tools/venv.sh

# Demo credentials (documented in the README); set your own for anything real.
DEMO_ENV = GOLDTICKET_ENV="$${GOLDTICKET_ENV:-dev}" GOLDTICKET_OPERATOR_PASSWORD="$${GOLDTICKET_OPERATOR_PASSWORD:-demo operator password}" \
	GOLDTICKET_OPERATOR_PIN="$${GOLDTICKET_OPERATOR_PIN:-246810}"

run: install fonts
	$(DEMO_ENV) $(BIN)/goldticket demo
	$(DEMO_ENV) $(BIN)/goldticket serve --host "$${GOLDTICKET_HOST:-127.0.0.1}" --port "$${GOLDTICKET_PORT:-8000}"

# A CJK font so the portal's Chinese pages (and their screenshots) render on a bare machine.
fonts:
	@fc-list :lang=zh family 2>/dev/null | grep -q . || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null; \
	  else echo "note: no CJK font; sudo apt-get install fonts-wqy-microhei" >&2; fi; }

test: install
	$(BIN)/python -m pytest -q

# The scenario and integration tests on a real Fabric network: the one GOLDTICKET_TEST_NETWORK
# names (a data directory after `make network-up`), else one the test session brings up itself.
test-fabric: install
	$(BIN)/python -m pytest -q --ledger fabric tests/scenario tests/integration

lint: install
	$(BIN)/ruff check goldticket chaincode web tests bench fabric-network
	$(BIN)/ruff format --check goldticket chaincode web tests bench fabric-network
	$(BIN)/mypy goldticket chaincode web fabric-network/fabnet
	PYTHONPATH=fabric-network $(BIN)/lint-imports --no-logo --no-cache

format: install
	$(BIN)/ruff format goldticket chaincode web tests bench fabric-network
	$(BIN)/ruff check --fix goldticket chaincode web tests bench fabric-network

# Schemathesis over the OpenAPI document of a real server, as each role, deeper than `make test`
# (100 examples per operation instead of 10; GOLDTICKET_ST_SEED picks another seed).
schemathesis: install
	GOLDTICKET_ST_EXAMPLES="$${GOLDTICKET_ST_EXAMPLES:-100}" $(BIN)/python -m pytest -q tests/functional/web/test_schemathesis.py

# Targeted mutation testing of authorization, intent and validation checks (tools/mutants.py);
# long (each mutant runs its tests), so not part of `make test`.
mutants: install
	$(BIN)/python tools/mutants.py --jobs 2

bench: install
	$(BIN)/python bench/transfer_throughput.py
	$(BIN)/python bench/gateway_signatures.py
	$(BIN)/python bench/portal_pages.py
	$(BIN)/python bench/certificates.py

# A Fabric network of native processes on 127.0.0.1 (fabric-network/network.py): ORDERERS=3 for
# a raft cluster; FABRIC_BIN for your own Fabric 3.1.x binaries.
network-up: install
	GOLDTICKET_ENV="$${GOLDTICKET_ENV:-dev}" $(BIN)/python fabric-network/network.py up

network-down: install
	$(BIN)/python fabric-network/network.py down

network-clean: install
	$(BIN)/python fabric-network/network.py clean

network-status: install
	$(BIN)/python fabric-network/network.py status

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .benchmarks .mypy_cache .ruff_cache
