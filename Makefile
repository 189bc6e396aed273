# Cacheable stage-2 PFNMAP: kernel series, conformance suite and rig.
# `make help` lists the targets; README.md explains them.

BUILD    ?= build
RESULTS  ?= results
VARIANT  ?= release
PAGES    ?= 4k
KERNELS  ?= baseline patched
CELLS    ?=
TESTS    ?= *
# Cells `make check` boots for each kernel: cap = 1 (FWB) and cap = 0 (no
# FWB) on QEMU 7.2, and FWB without DIC on QEMU 10 (where this series'
# rule and upstream's differ), within CI's budget.
CHECK_CELLS ?= max-vhe n1-vhe a710-vhe

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help deps conformance check unit-tests lint checkpatch selftest-patches selftests-6.18 kunit mutation parse bench bench-s2 lava-validate lava-smoke clean

help:
	@echo "make conformance  build both kernels, boot the QEMU matrix, write results/"
	@echo "                  (VARIANT=debug, CELLS=\"max-vhe n1-vhe\", KERNELS=patched, TESTS='kvm:pfnmap_*',"
	@echo "                  SUITE_TREE=<6.14+ tree>: the selftests built there from kernel-patch/selftests-6.18)"
	@echo "make check        the project's own tests: unit tests, checkpatch, one real cell per kernel"
	@echo "make kunit        the series' KUnit tests (KU-1) with the patched tree's kunit.py"
	@echo "make mutation     build one deliberate bug at a time, run the cells that show it, kill table"
	@echo "make selftest-patches  remake kernel-patch/'s selftest patches from tools/ (KSRC_618=<tree>: the 6.18 set too)"
	@echo "make selftests-6.18 KSRC_618=<tree>  apply kernel-patch/selftests-6.18 to a 6.18 tree and build the suite there"
	@echo "make parse LOG=f  parse a saved TAP/results log offline"
	@echo "make lava-smoke   run patched/max-vhe through LAVA's lava-run, compare with the rig (after conformance)"
	@echo "make bench        time incremental rig runs, BENCH_COLD=1 a cold one too ($(BUILD)/bench.txt)"
	@echo "make bench-s2     stage-2 fault sweep, 4 GiB PFNMAP vs hugetlb, per kernel (after conformance)"
	@echo "make deps         install the Debian packages the rig needs"
	@echo "make clean        remove $(BUILD)/ (results/ is kept)"

deps:
	scripts/install-deps.sh --build "$(BUILD)"

conformance:
	scripts/conformance.sh --kernels "$(KERNELS)" --cells "$(CELLS)" \
		--variant "$(VARIANT)" --pages "$(PAGES)" --tests '$(TESTS)' --build "$(BUILD)" --results "$(RESULTS)" \
		$(if $(SUITE_TREE),--suite-tree "$(SUITE_TREE)")

unit-tests: deps
	/usr/bin/python3 -m pytest -q rig/tests  # Debian's python3-pytest

lint: deps
	@for f in scripts/*.sh rig/guest/init rig/guest/*.sh .ci/run; do \
		[ -f "$$f" ] || continue; bash -n "$$f" || exit 1; done; echo "lint: shell syntax ok"
	scripts/check-host.sh

checkpatch: deps
	scripts/rig-lock.sh "$(BUILD)" scripts/prepare-source.sh "$(BUILD)" -
	scripts/selftest-patches.sh --check --tree "$(BUILD)/src/baseline"
	scripts/rig-lock.sh "$(BUILD)" scripts/prepare-source.sh "$(BUILD)" kernel-patch
	scripts/checkpatch-series.sh "$(BUILD)/src/baseline" kernel-patch

# The series' last patches carry the selftests: remake them from tools/.
selftest-patches:
	scripts/rig-lock.sh "$(BUILD)" scripts/prepare-source.sh "$(BUILD)" -
	scripts/selftest-patches.sh --tree "$(BUILD)/src/baseline"
	@if [ -n "$(KSRC_618)" ]; then \
		scripts/selftest-patches.sh --tree "$(KSRC_618)" --patches kernel-patch/selftests-6.18; \
	else echo "selftest-patches: kernel-patch/selftests-6.18 not remade: give KSRC_618=<6.18 tree>"; fi

# The same tests for an upstream (6.14+) tree: kernel-patch/selftests-6.18
# apply to KSRC_618 and build there. CI has no such tree (it cannot fetch).
selftests-6.18: deps
	@if [ -n "$(KSRC_618)" ]; then \
		scripts/rig-lock.sh "$(BUILD)" scripts/check-selftests-6.18.sh "$(KSRC_618)" "$(BUILD)"; \
	else echo "selftests-6.18: not checked: no 6.18 tree given (KSRC_618=<tree>)"; fi

check: unit-tests lint checkpatch lava-validate selftests-6.18
	scripts/conformance.sh --no-deps --cells "$(CHECK_CELLS)" --build "$(BUILD)" --results "$(RESULTS)"

kunit: deps
	scripts/rig-lock.sh "$(BUILD)" scripts/prepare-source.sh "$(BUILD)" kernel-patch
	scripts/rig-lock.sh "$(BUILD)" scripts/kunit.sh $(if $(wildcard $(BUILD)/src/patched/out-release/vmlinux),--seed "$(BUILD)/src/patched/out-release") \
		"$(BUILD)/src/patched" "$(BUILD)/src/patched/out-kunit"

mutation:
	scripts/mutation.sh --build "$(BUILD)" --results "$(RESULTS)"

parse:
	@test -n "$(LOG)" || { echo "usage: make parse LOG=path/to/results.tap" >&2; exit 2; }
	python3 rig/report.py parse $(LOG)

lava-validate: deps
	scripts/lava-validate.sh --out "$(BUILD)/lava/validate"

lava-smoke: deps
	scripts/rig-lock.sh "$(BUILD)" scripts/lava-smoke.sh --build "$(BUILD)" --out "$(BUILD)/lava/smoke"

bench:
	scripts/bench-rig.sh "$(BUILD)"

bench-s2:
	scripts/bench-s2.sh "$(BUILD)" "$(BUILD)/bench-s2"

clean:
	rm -rf "$(BUILD)"
