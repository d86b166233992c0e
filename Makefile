# auto-session-manager. `make install` builds and installs the skill; `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
E2E_TOOLS ?= $(CURDIR)/target/e2e-tools

.PHONY: all build test toolchain fmt lint unit install uninstall install-service bench quality stress e2e clean

all: build

# The five tools the skill ships (make bench builds its own binary as well).
TOOLS := -p monitor -p session_manager -p memory_manager -p gateway_monitor -p health_check

build:
	$(CARGO) build --release $(TOOLS)

# rustfmt and clippy come from rustup; a clean machine may lack them.
toolchain:
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

fmt: toolchain
	$(CARGO) fmt --all -- --check

# clippy checks incompatible_msrv against the workspace's rust-version; module_cycles.py that
# no asm-core module imports one that imports it back.
lint: toolchain
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 tests/lint/module_cycles.py

# The binaries first: integration tests run the tools of other crates too (the monitor's
# children, the install test).
unit:
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

test: fmt lint unit

install: build
	scripts/install.sh --bin-dir target/release

uninstall:
	scripts/install.sh --uninstall

# A systemd user unit that keeps the monitor running in the foreground mode systemd prefers.
install-service: install
	scripts/install-service.sh

bench:
	$(CARGO) build --release --workspace --bins
	target/release/asm_bench

# The handoff quality probe alone (also part of make bench): generated sessions in the three
# formats with their truth, scored per category against the handoff and the memory file.
quality:
	$(CARGO) build --release -p asm-bench -p memory_manager
	ASM_BENCH_ONLY=quality target/release/asm_bench

# The long fault runs: kill loops, planted links, special files, a full disk (summary table),
# then every fuzz target with 50,000 cases. ASM_STRESS_KILLS and PROPTEST_CASES scale them.
stress:
	$(CARGO) build --release --workspace --bins
	target/release/asm_stress
	PROPTEST_CASES=$${PROPTEST_CASES:-50000} $(CARGO) test --release -p asm-core --test fuzz

# End-to-end suite against the real openclaw, claude and opencode (installed from npm).
# The binaries first: the monitor's e2e test runs its sibling tools.
e2e:
	bin=$$(ASM_E2E_TOOLS=$(E2E_TOOLS) tests/e2e/install-tools.sh | tail -n 1) && \
	$(CARGO) build --workspace --bins && \
	PATH="$$bin:$$PATH" ASM_E2E_TOOLS_BIN="$$bin" $(CARGO) test --workspace -- --ignored --test-threads=1

clean:
	$(CARGO) clean
