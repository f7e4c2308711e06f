# GoldTicket. `make run` starts it with demo data, `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
export GOLDTICKET_DATA_DIR ?= $(CURDIR)/var

.PHONY: run install-run fonts test test-fabric schemathesis mutants lint format bench install clean network-up network-down network-clean network-status

# `make install`: GoldTicket with the tests' and linters' packages (the dev extra), for test,
# lint, bench...; `make install-run`: only what running needs, for `make run`.
install:
	@bash tools/venv.sh dev

install-run:
	@bash tools/venv.sh run

# Demo credentials (documented in the README); set your own for anything real.
DEMO_ENV = GOLDTICKET_ENV="$${GOLDTICKET_ENV:-dev}" GOLDTICKET_OPERATOR_PASSWORD="$${GOLDTICKET_OPERATOR_PASSWORD:-demo operator password}" \
	GOLDTICKET_OPERATOR_PIN="$${GOLDTICKET_OPERATOR_PIN:-246810}"

# The demo is made once per data directory (a second `make run` reuses it); `goldticket serve`
# reads GOLDTICKET_HOST and GOLDTICKET_PORT and says where the portal is once it answers.
run: install-run fonts
	@$(DEMO_ENV) $(BIN)/goldticket demo
	@$(DEMO_ENV) $(BIN)/goldticket serve

# A CJK font so the portal's Chinese pages (and their screenshots) render on a bare machine.
fonts:
	@fc-list :lang=zh family 2>/dev/null | grep -q . || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null; \
	  else echo "note: no CJK font; sudo apt-get install fonts-wqy-microhei" >&2; fi; }

test: install
	$(BIN)/python -m pytest -q

# The scenario and integration tests (the demo among them) and the HTTP life cycle on a real
# Fabric network: the one GOLDTICKET_TEST_NETWORK
# names (a data directory after `make network-up`), else one the test session brings up itself.
test-fabric: install
	$(BIN)/python -m pytest -q --ledger fabric tests/scenario tests/integration tests/functional/web/test_web_life_cycle.py

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

# `make bench`: every script with its table printed and its figures into $(BENCH_OUT)/*.json, then
# bench/report.py writes the generated section of docs/benchmarks.md (each figure beside its
# goal) and the charts in docs/bench/. The sizes below are the real ones; smaller for a quick look,
# e.g. `make bench BENCH_TRANSFER="--operations 400 --keys"`. Fabric only with
# BENCH_NETWORK=<data directory of a network that is up> (`make network-up`).
BENCH_OUT ?= build/bench
BENCH_TRANSFER ?= --operations 2000 --threads 1 2 --processes 2 --keys
BENCH_GATEWAY ?= --signatures 2000 --clients 4
BENCH_API ?= --tickets 100000 --writes 40 --reads 300
BENCH_PORTAL ?= --tickets 10000 --requests 100
BENCH_CERTIFICATES ?= --runs 31
BENCH_SEARCH ?= --tickets 100000 --requests 50
BENCH_FABRIC ?= --clients 50 --seconds 30 --rounds 2
BENCH_NETWORK ?=
BENCH_NOTE ?=
BENCH_SIZES = Sizes: transfer $(BENCH_TRANSFER); gateway $(BENCH_GATEWAY); API $(BENCH_API); \
	portal $(BENCH_PORTAL); certificates $(BENCH_CERTIFICATES); search $(BENCH_SEARCH)$(if $(BENCH_NETWORK),; Fabric $(BENCH_FABRIC),).
bench: install
	rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	$(BIN)/python bench/transfer_throughput.py $(BENCH_TRANSFER) --json $(BENCH_OUT)/transfer_throughput.json
	$(BIN)/python bench/gateway_signatures.py $(BENCH_GATEWAY) --json $(BENCH_OUT)/gateway_signatures.json
	$(BIN)/python bench/api_latency.py $(BENCH_API) --json $(BENCH_OUT)/api_latency.json
	$(BIN)/python bench/portal_pages.py $(BENCH_PORTAL) --json $(BENCH_OUT)/portal_pages.json
	$(BIN)/python bench/certificates.py $(BENCH_CERTIFICATES) --json $(BENCH_OUT)/certificates.json
	$(BIN)/python bench/ticket_search.py $(BENCH_SEARCH) --json $(BENCH_OUT)/ticket_search.json
	if [ -n "$(BENCH_NETWORK)" ]; then $(BIN)/python bench/fabric_throughput.py $(BENCH_FABRIC) \
		--network "$(BENCH_NETWORK)" --json $(BENCH_OUT)/fabric_throughput.json; fi
	$(BIN)/python bench/report.py $(BENCH_OUT) --note "$(BENCH_SIZES) $(BENCH_NOTE)"

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
	rm -rf $(VENV) var var-orgs .pytest_cache .hypothesis .benchmarks .mypy_cache .ruff_cache
