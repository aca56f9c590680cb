# ClickOS-rs — top-level targets. `make help` lists them.
#
#   make demo   installs what is needed, builds, and runs the demo
#   make test   installs what is needed (when missing) and runs every test

CARGO ?= cargo
CLI    := target/release/clickos-cli
# The guest as built (with line-level debug info, for symbolising crash addresses) and the image
# `xl create` loads: the same ELF without debug sections (7 MB -> ~1 MB: less for the domain
# builder to read; the loaded segments are identical).
IMAGE_DEBUG := target/x86_64-unknown-none/release/clickos-unikernel
IMAGE  := target/x86_64-unknown-none/release/clickos.elf

.PHONY: help deps build demo test test-unit test-nostd test-image test-sandbox test-cli bench bench-config bench-dataplane bench-ring fuzz \
        bench-xen bench-xen-short soak-xen \
        sandbox-run sandbox-shell sandbox-test image clean fmt bench-fig6

help:
	@echo "make demo          install dependencies, build, run the clickos-cli demo"
	@echo "make test          run all tests (unit, property, CLI, no_std build)"
	@echo "make bench         run the benchmarks under bench/ (results in bench/results/)"
	@echo "make bench-ring    shared-memory ring / switch vs Linux bridge benchmark (root for the bridge)"
	@echo "make bench-xen     boot benchmarks on Xen in the test host: Table 1, Figures 4-5, Linux baseline (FIG4_N=128; ~30 min)"
	@echo "make bench-xen-short  the same, CI-sized (8 VMs, ~4 min)"
	@echo "make soak-xen      create/destroy SOAK_N=200 VMs in the test host, compare dom0 resources"
	@echo "make bench-fig6    128 ClickOS VMs through clickos-switchd on the Xen test host (~20-40 min)"
	@echo "make fuzz          run the cargo-fuzz targets for a while (FUZZ_SECONDS=60)"
	@echo "make image         build the Xen PV guest image ($(IMAGE))"
	@echo "make sandbox-test  boot the Xen test host in QEMU and run its scenarios"
	@echo "make sandbox-run SCRIPT=x.sh   run one script inside the test host's dom0"
	@echo "make sandbox-shell interactive dom0 in the test host"

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --release --workspace

demo: build
	@scripts/demo.sh $(CLI)

# ---- tests -------------------------------------------------------------------------------
# The Xen scenarios run last: their summary line ("sandbox: N passed, M failed") closes the run.
test: deps test-unit test-nostd test-image test-sandbox

test-unit:
	$(CARGO) test --workspace --release
	$(CARGO) test --release -p clickos-vale --features netmap --lib ports::netmap

# What the guest links must stay no_std: build it for the bare-metal target the guest uses.
test-nostd:
	$(CARGO) build --release -p clickos-config -p clickos-elements -p clickos-xenstore --target x86_64-unknown-none
	$(CARGO) build --release -p clickos-vale --no-default-features --target x86_64-unknown-none

# Boots Xen + dom0 in QEMU once and runs images/scenarios/*.sh with the guest image and
# clickos-cli inside (see images/README.md). The whole suite takes about 7 minutes on a quiet
# 2-core machine; SANDBOX_TIMEOUT bounds it (QEMU is killed after that many seconds).
SANDBOX_TIMEOUT ?= 1800
test-sandbox: image
	$(CARGO) build --release -p clickos-cli -p clickos-vale
	@$(MAKE) --no-print-directory -C images deps
	@$(MAKE) --no-print-directory -C images sandbox-test TIMEOUT=$(SANDBOX_TIMEOUT)

# The guest kernel must keep building (it only runs on Xen: see images/scenarios/10-guest-boot.sh).
test-image: image

# ---- the guest image ------------------------------------------------------------------------
# An uncompressed ELF that `xl create` loads (kernel = ...). Linker script and flags come from
# unikernel/build.rs; the target is installed by scripts/install-deps.sh.
image: deps
	$(CARGO) build --release -p clickos-unikernel --target x86_64-unknown-none --features guest
	objcopy --strip-debug $(IMAGE_DEBUG) $(IMAGE)
	@scripts/image-info.sh $(IMAGE)

# ---- benchmarks and fuzzing ----------------------------------------------------------------
bench: bench-config bench-dataplane bench-ring

bench-config:
	$(CARGO) run --release -p clickos-bench --bin config-scaling

# Compares with Click's userlevel driver when a `click` binary is on PATH.
bench-dataplane:
	$(CARGO) run --release -p clickos-bench --bin dataplane

# Processes over memfd shared memory running the production ring and switch code, against a Linux
# bridge + veth pair measured in the same run (in a network namespace of its own; needs root).
# BENCH_RING_ARGS=--quick for a short run.
bench-ring:
	$(CARGO) run --release -p clickos-bench --bin ring -- $(BENCH_RING_ARGS)

# Xen boot benchmarks (bench/xen/README.md): run inside the test host, results in bench/results/xen-*.
# Knobs: FIG4_N (default 128; 400 for the long run), FIG5_K, FIG5_REPS, TABLE1_RUNS, LINUX_RUNS, MEM.
bench-xen: image
	$(CARGO) build --release -p clickos-cli
	bench/xen/run.sh bench

bench-xen-short: image
	$(CARGO) build --release -p clickos-cli
	FIG4_N=8 FIG5_K="0 4" TABLE1_RUNS=1 LINUX_RUNS=1 RESULTS_DIR=$(CURDIR)/target/bench-xen-short bench/xen/run.sh bench

soak-xen: image
	$(CARGO) build --release -p clickos-cli
	bench/xen/run.sh soak
# The ClickOS paper's Figure 6 on the Xen test host: VMS (128) VMs sending through the switch's
# fast path to a sink; CSV, SVG and summary in bench/results/fig6.*. Too long for CI (the 4-VM
# version, images/scenarios/51-fig6.sh, runs in `make test`).
bench-fig6: image
	$(CARGO) build --release -p clickos-cli -p clickos-vale
	@$(MAKE) --no-print-directory -C images deps
	bench/fig6/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	cd config-lang/fuzz && $(CARGO) +nightly fuzz run parse -- -max_total_time=$(FUZZ_SECONDS)
	cd config-lang/fuzz && $(CARGO) +nightly fuzz run args -- -max_total_time=$(FUZZ_SECONDS)
	cd elements/fuzz && $(CARGO) +nightly fuzz run headers -- -max_total_time=$(FUZZ_SECONDS)
	cd elements/fuzz && $(CARGO) +nightly fuzz run ipclassifier -- -max_total_time=$(FUZZ_SECONDS)

# ---- the Xen test host (see images/README.md) ------------------------------------------------
sandbox-run sandbox-shell sandbox-test:
	$(MAKE) -C images $@ SCRIPT="$(abspath $(SCRIPT))"

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
