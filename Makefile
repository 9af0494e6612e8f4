# zoned-qcow2: a QEMU patch series (patches/) and the tooling around it.
# Every target is a script in scripts/; "make help" lists them.
#
# Variables passed on to the scripts through the environment:
#   QEMU_SRC=/path      your own QEMU 10.0.x tree or tarball as the base
#   ZQ_TREE=/path       work in another tree than build/qemu
#   JOBS=N              parallel build jobs (default: all cores)

SHELL := /bin/bash
S := scripts

.PHONY: help demo test tree tree-force build export check-series regress \
	regress-base powercut zbd bench fuzz deps clean

help:
	@echo "make demo          build the patched QEMU and show a zoned qcow2 disk in a guest"
	@echo "make test          everything CI runs: build, iotests, regression, guest, series"
	@echo "make tree          build/qemu = base + patches/series (if not there yet)"
	@echo "make tree-force    make build/qemu again from patches/ (drops unexported work)"
	@echo "make build         configure once and build QEMU in build/qemu/build"
	@echo "make export        commits above 'base' in build/qemu -> patches/"
	@echo "make check-series  checkpatch, sign-off, git am, build and iotests of each patch"
	@echo "make regress       QEMU's qcow2 iotests on build/qemu vs the base's results"
	@echo "make regress-base  rerun them on the unpatched base: tests/regress-expected.txt"
	@echo "make powercut      the power-loss replay with many more states than make test"
	@echo "make zbd           fio's zoned test suite t/zbd in full, qcow2 vs null_blk"
	@echo "make bench         benchmarks: host and guest ratios (bench/README.md)"
	@echo "make fuzz          AFL++ on hostile zoned images, ASan/UBSan (fuzz/README.md)"
	@echo "make deps          install the build dependencies (Debian packages)"
	@echo "make clean         remove build/ except build/qemu (your work tree)"

demo:
	$(S)/demo.sh

test:
	$(S)/test.sh

tree:
	$(S)/tree.sh

tree-force:
	$(S)/tree.sh --force

build:
	$(S)/build.sh

export:
	$(S)/export.sh

check-series:
	$(S)/check-series.sh

regress:
	$(S)/regress.sh

regress-base:
	$(S)/regress.sh --record

powercut:
	$(S)/powercut.sh

zbd:
	$(S)/zbd.sh

bench:
	bench/run.sh

fuzz:
	fuzz/build.sh && fuzz/run.sh

deps:
	$(S)/deps.sh

clean:
	rm -rf build/base build/series-check build/demo build/logs
