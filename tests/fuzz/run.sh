#!/bin/sh
# run.sh - build the libFuzzer targets (clang, ASan+UBSan) into build/fuzz
# and run each for SECONDS seconds (default 20) over its seed corpus.
#
#   tests/fuzz/run.sh [SECONDS]
#
# make check runs it briefly (tests/run.sh: 20 s); `make fuzz` runs it for
# longer.  New inputs libFuzzer finds go to build/fuzz/corpus_* (the seeds
# in the tree stay as they are); a crash leaves its input in build/fuzz and
# makes this script exit non-zero.
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-20}
OUT=build/fuzz
mkdir -p "$OUT"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Icommon"

# Seeds: the checked-in ones, plus fresh snapshots made by mksnap when it
# is built (so that the corpus follows the format).
seed_snapshots() {
	d=$1
	[ -x build/tests/mksnap ] || return 0
	printf '%s\n' 'meta last_sync=1700000000 generation=3' \
	    'user alice 2000000001 2000000001 ACTIVE Alice%20Liddell /home/alice /bin/bash' \
	    'user bob 2000000002 2000000002 DEPROVISIONED - /home/bob /bin/sh' \
	    'group eng 2000000100 alice,bob' 'group ops 2000000101 bob' \
	    'group none 2000000102 -' | build/tests/mksnap "$d/gen-small.cdb"
}

rc=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	bin=$OUT/$name
	clang $CFLAGS -o "$bin" "$src" common/*.c -lcdb
	corpus=$OUT/corpus_$target
	mkdir -p "$corpus"
	seed_snapshots "$corpus"
	seeds=tests/fuzz/corpus_$target
	echo "fuzzing $name for ${SECS}s"
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$OUT/$name-" -print_final_stats=1 \
	    "$corpus" "$seeds" 2>"$OUT/$name.log"; then
		tail -n 40 "$OUT/$name.log"
		echo "fuzz $name: FAILED (see $OUT/$name.log)"
		rc=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$OUT/$name.log" || true
		echo "fuzz $name: clean"
	fi
done
exit $rc
