#!/bin/bash
# run.sh - run every test of okta-sync and print "N passed, N failed".
#
#   tests/run.sh [FILTER]      FILTER: run only steps/tests whose name has it
#
# Each test prints "PASS: ...", "FAIL: ..." or "SKIP: ..." lines; this script
# adds them up.  A test program that exits non-zero without printing a FAIL
# line (a crash, say) counts as one failure.  The steps:
#   1. the build with clang -Werror (the default build is gcc's, by make check)
#   2. the C unit tests (build/tests/test_*)
#   3. the same unit tests built with ASan+UBSan (build/san)
#   4. the fuzz targets, for a bounded time
#   5. the integration tests (tests/integration/test_*.py): the emulator,
#      okta-sync, real glibc NSS in a namespace, real PAM, sshd
#   6. a reduced set of them again against the ASan+UBSan build: the sync,
#      the daemon, and libnss_okta / pam_okta loaded into getent, id and
#      pamtester with the ASan runtime preloaded
# Before all that: every command the tests call comes from a package that
# scripts/install-deps installs (scripts/test-commands).
# Under CI=true a skipped test fails the run: CI has root and every tool.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
FILTER=${1:-}
LOG=$ROOT/build/test-logs
mkdir -p "$LOG"
passed=0 failed=0 skipped=0
# Each step's and test's wall-clock and CPU seconds, slowest first at the end
# of the run: "wall user sys NAME" (the bash time keyword; children included).
TIMES=$LOG/times
: >"$TIMES"
# Each integration test case's wall-clock seconds (tests/lib/oktatest.py).
export OKTA_TEST_TIMES=$LOG/case-times
: >"$OKTA_TEST_TIMES"
# The builds use every core.  (A fresh make: the jobserver of the make that
# runs `make check` is not passed down to this script.)
JOBS=$(nproc 2>/dev/null || echo 2)
build() { MAKEFLAGS= MAKELEVEL= make -s --no-print-directory -j"$JOBS" "$@"; }

# timed NAME OUT COMMAND...: run COMMAND, its output to OUT and its times,
# as "wall user sys NAME", to $TIMES; COMMAND's status.  (COMMAND is timed
# as a simple command: bash reports a timed subshell through the
# subshell's own redirections.)
timed() {
	local TIMEFORMAT="%R %U %S $1" out=$2
	shift 2
	{ time "$@" >"$out" 2>&1; } 2>>"$TIMES"
}

# count OUTFILE STATUS NAME: add up the PASS/FAIL/SKIP lines of one test.
count() {
	local out=$1 rc=$2 name=$3 p f s
	p=$(grep -c '^PASS: ' "$out")
	f=$(grep -c '^FAIL: ' "$out")
	s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name (exit status $rc)"
		f=1
	fi
	grep -E '^(PASS|FAIL|SKIP): ' "$out"
	if [ "$f" -ne 0 ]; then
		echo "---- output of $name (also in $out) ----"
		grep -vE '^(PASS|SKIP): ' "$out" | tail -n 60
		echo "----"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

selected() { [ -z "$FILTER" ] || [[ "$1" == *"$FILTER"* ]]; }

step() {	# step NAME COMMAND...: one pass/fail for a whole command
	local name=$1; shift
	selected "$name" || return 0
	local out="$LOG/$(echo "$name" | tr -c 'a-zA-Z0-9_.-' _).log"
	if timed "$name" "$out" "$@"; then
		echo "PASS: $name" >>"$out"; count "$out" 0 "$name"
	else local rc=$?; echo "FAIL: $name" >>"$out"; count "$out" "$rc" "$name"; fi
}

run_units() {	# run_units BUILD_DIR LABEL
	local t name out rc
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		name="$2$(basename "$t")"
		selected "$name" || continue
		out="$LOG/$(basename "$1")-$(basename "$t").log"
		timed "$name" "$out" timeout 300 "$t"; rc=$?
		count "$out" "$rc" "$name"
	done
}

step "test commands come from packages install-deps installs" scripts/test-commands --quiet
step "every #include points down the layers" scripts/check-layers

step "build with clang -Werror" build CC=clang BUILD=build/clang all
step "build with test hooks (kill points)" build TEST_HOOKS=1 BUILD=build/hooks programs

run_units build ""

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if step "build with ASan+UBSan" build SAN=1 BUILD=build/san all \
	&& [ -d build/san/tests ]; then
	run_units build/san "asan: "
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ -x tests/fuzz/run.sh ]; then
	# 3 s for each target (tests/fuzz/fuzz_*.c; 13 of them, and make check
	# stays under 15 minutes; `make fuzz` runs them for long); each prints
	# its own PASS/FAIL line.
	step "fuzz (bounded)" tests/fuzz/run.sh 3
fi

run_integration() {	# run_integration BUILD_DIR LABEL TEST.py...
	local build=$1 label=$2 t name out rc
	shift 2
	for t in "$@"; do
		[ -f "$t" ] || continue
		name="$label$(basename "$t" .py)"
		selected "$name" || continue
		out="$LOG/$(echo "$name" | tr -c 'a-zA-Z0-9_.-' _).log"
		timed "$name" "$out" env OKTA_BUILD="$build" \
		    OKTA_SAN_BUILD="$ROOT/build/san" OKTA_HOOKS_BUILD="$ROOT/build/hooks" \
		    timeout 900 python3 "$t"; rc=$?
		count "$out" "$rc" "$name"
	done
}

run_integration "$ROOT/build" "" tests/integration/test_*.py

# The sanitizer build's programs against the emulator (the modules are in
# test_sanitized_modules, which the loop above ran).  Leaks are checked.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_integration "$ROOT/build/san" "asan: " tests/integration/test_sync_faults.py \
	tests/integration/test_sync_links.py tests/integration/test_incremental.py \
	tests/integration/test_daemon.py tests/integration/test_auth_broker.py \
	tests/integration/test_auth_module.py
unset ASAN_OPTIONS UBSAN_OPTIONS

# A skip is only ever a missing environment (not root); CI has all of it,
# so there a skip means a test did not run and the run fails.
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "FAIL: $skipped test(s) skipped under CI=true (a skip hides a test that did not run)"
	failed=$((failed + 1))
fi
echo
echo "slowest steps (wall, user, sys seconds; all in $TIMES):"
sort -rn "$TIMES" | head -n 8 | sed 's/^/  /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
