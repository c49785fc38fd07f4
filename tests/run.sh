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
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
FILTER=${1:-}
LOG=$ROOT/build/test-logs
mkdir -p "$LOG"
passed=0 failed=0 skipped=0

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
	if "$@" >"$out" 2>&1; then echo "PASS: $name" >>"$out"; count "$out" 0 "$name"
	else local rc=$?; echo "FAIL: $name" >>"$out"; count "$out" "$rc" "$name"; fi
}

run_units() {	# run_units BUILD_DIR LABEL
	local t name out rc
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		name="$2$(basename "$t")"
		selected "$name" || continue
		out="$LOG/$(basename "$1")-$(basename "$t").log"
		( cd "$ROOT" && timeout 300 "$t" ) >"$out" 2>&1; rc=$?
		count "$out" "$rc" "$name"
	done
}

step "build with clang -Werror" make -s --no-print-directory CC=clang BUILD=build/clang all

run_units build ""

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if step "build with ASan+UBSan" make -s --no-print-directory SAN=1 BUILD=build/san programs tests \
	&& [ -d build/san/tests ]; then
	run_units build/san "asan: "
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ -x tests/fuzz/run.sh ]; then
	step "fuzz (bounded)" tests/fuzz/run.sh 20
fi

for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .py)
	selected "$name" || continue
	out="$LOG/$name.log"
	( OKTA_BUILD="$ROOT/build" timeout 900 python3 "$t" ) >"$out" 2>&1; rc=$?
	count "$out" "$rc" "$name"
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
