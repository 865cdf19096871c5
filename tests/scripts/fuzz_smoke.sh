#!/usr/bin/env bash
# The libFuzzer harnesses (fuzz/, docs/FUZZING.md) still build and run:
# `make fuzz-build`, then each harness for FUZZ_SMOKE_RUNS inputs (5000) on
# a fresh copy of its seed corpus, the seeds included. Fails when one does
# not build or crashes (the input is kept in build/fuzz/crashes/). Takes a
# few seconds once built. Exit: 0 ok, 77 skipped (no clang or no libFuzzer
# runtime: make deps installs both), 1 otherwise.
set -uo pipefail
# The repository root, wherever this script sits below it.
cd "$(dirname "$0")"
while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done

FUZZ_SMOKE_RUNS=${FUZZ_SMOKE_RUNS:-5000}
FUZZ_CC=${FUZZ_CC:-clang}

if ! command -v "$FUZZ_CC" >/dev/null; then
    echo "fuzz smoke: SKIPPED ($FUZZ_CC not installed; make deps)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n & 0; }' \
    >"$tmp/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" \
    >"$tmp/probe.log" 2>&1; then
    echo "fuzz smoke: SKIPPED (no libFuzzer runtime for $FUZZ_CC, libclang-rt-14-dev; make deps)"
    exit 77
fi

if ! make -s -j"$(nproc)" FUZZ_CC="$FUZZ_CC" fuzz-build; then
    echo "fuzz smoke: FAILED (make fuzz-build)"
    exit 1
fi
if ! fuzz/run.sh -r "$FUZZ_SMOKE_RUNS" -c "$tmp/corpus"; then
    echo "fuzz smoke: FAILED (a harness crashed; build/fuzz/crashes/ has the input)"
    exit 1
fi
echo "fuzz smoke: every harness ran $FUZZ_SMOKE_RUNS inputs without a crash"
