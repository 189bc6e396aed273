# Cacheable stage-2 PFNMAP: kernel series, conformance suite and rig.
# `make help` lists the targets; README.md explains them.

BUILD    ?= build
RESULTS  ?= results
VARIANT  ?= release
KERNELS  ?= baseline patched
CELLS    ?=
TESTS    ?= *
# Cells `make check` boots: one per kernel keeps CI short.
CHECK_CELLS ?= max-vhe

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help deps conformance check unit-tests lint checkpatch parse bench bench-s2 clean

help:
	@echo "make conformance  build both kernels, boot the QEMU matrix, write results/"
	@echo "                  (VARIANT=debug, CELLS=\"max-vhe n1-vhe\", KERNELS=patched, TESTS='kvm:pfnmap_*')"
	@echo "make check        the project's own tests: unit tests, checkpatch, one real cell per kernel"
	@echo "make parse LOG=f  parse a saved TAP/results log offline"
	@echo "make bench        time incremental rig runs, BENCH_COLD=1 a cold one too ($(BUILD)/bench.txt)"
	@echo "make bench-s2     stage-2 fault sweep, 4 GiB PFNMAP vs hugetlb, per kernel (after conformance)"
	@echo "make deps         install the Debian packages the rig needs"
	@echo "make clean        remove $(BUILD)/ (results/ is kept)"

deps:
	scripts/install-deps.sh --build "$(BUILD)"

conformance:
	scripts/conformance.sh --kernels "$(KERNELS)" --cells "$(CELLS)" \
		--variant "$(VARIANT)" --tests '$(TESTS)' --build "$(BUILD)" --results "$(RESULTS)"

unit-tests: deps
	/usr/bin/python3 -m pytest -q rig/tests  # Debian's python3-pytest

lint: deps
	@for f in scripts/*.sh rig/guest/init rig/guest/*.sh .ci/run; do \
		[ -f "$$f" ] || continue; bash -n "$$f" || exit 1; done; echo "lint: shell syntax ok"
	scripts/check-host.sh

checkpatch: deps
	scripts/prepare-source.sh "$(BUILD)" kernel-patch
	scripts/checkpatch-series.sh "$(BUILD)/src/baseline" kernel-patch

check: unit-tests lint checkpatch
	scripts/conformance.sh --no-deps --cells "$(CHECK_CELLS)" --build "$(BUILD)" --results "$(RESULTS)"

parse:
	@test -n "$(LOG)" || { echo "usage: make parse LOG=path/to/results.tap" >&2; exit 2; }
	python3 rig/report.py parse $(LOG)

bench:
	scripts/bench-rig.sh "$(BUILD)"

bench-s2:
	scripts/bench-s2.sh "$(BUILD)" "$(BUILD)/bench-s2"

clean:
	rm -rf "$(BUILD)"
