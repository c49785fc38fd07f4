#!/bin/sh
# run.sh - build the libFuzzer targets (clang, ASan+UBSan) and run each for
# SECONDS seconds (default 8) over its seed corpus.
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]      TARGET: snapshot, ingest, ...
#
# The targets are tests/fuzz/fuzz_*.c (each file's header says what it
# feeds and what it checks).  The product's code they call is built by the
# Makefile, instrumented, into $FUZZ_BUILD/lib (default build/fuzz/lib;
# incremental); tests/fuzz/configs.c is a helper some of them link, and
# tests/fuzz/TARGET.dict, when there is one, is that target's dictionary.
#
# make check runs this briefly (tests/run.sh: 3 s a target); `make fuzz`
# runs it for longer (FUZZ_SECONDS).  FUZZ_JOBS targets run at once
# (default 2, one a core).  Each target prints one line:
#   PASS: fuzz TARGET (N runs, N exec/s, cov: N, ft: N)
#   FAIL: fuzz TARGET ...          (the crash report is printed above it)
# New inputs libFuzzer finds go to $FUZZ_BUILD/corpus_TARGET (the seeds in
# tests/fuzz/corpus_TARGET stay as they are); a crash leaves its input in
# $FUZZ_BUILD/fuzz_TARGET-crash-* and makes this script exit non-zero.
# Reproduce with: $FUZZ_BUILD/fuzz_TARGET FILE
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-8}
[ $# -gt 0 ] && shift
OUT=${FUZZ_BUILD:-build/fuzz}
LIB=$OUT/lib
# The libraries the product links, as the Makefile names them.
PKGS=$(sed -n 's/^PKGS := //p' Makefile)
mkdir -p "$OUT"

# The product's code, instrumented for coverage, ASan and UBSan.  (A fresh
# make: the jobserver of a calling make is not ours.)
if ! MAKEFLAGS= MAKELEVEL= make -s --no-print-directory -j2 CC=clang SAN=1 \
    BUILD="$LIB" CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" \
    "$LIB/libokta_common.a" "$LIB/libokta_syncd.a"; then
	echo "FAIL: fuzz: the instrumented build of the product failed"
	exit 1
fi
# syncd's include directories, as the Makefile lists its layers.
SYNCD_INC=$(sed -n 's/^SYNCD_LAYERS := //p' Makefile | sed 's/[^ ]*/-I&/g')
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fno-omit-frame-pointer \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -Icommon $SYNCD_INC -Itests/fuzz $(pkg-config --cflags $PKGS)"
LIBS="$LIB/libokta_syncd.a $LIB/libokta_common.a $(pkg-config --libs $PKGS) -lcdb -lm -lresolv"
clang $CFLAGS -fsanitize=fuzzer-no-link -c -o "$OUT/configs.o" tests/fuzz/configs.c
rm -f "$OUT/libfuzzhelp.a"
ar rcs "$OUT/libfuzzhelp.a" "$OUT/configs.o"

# Seeds for the snapshot reader: fresh snapshots made by mksnap when it is
# built (so that the corpus follows the format), besides the checked-in ones.
seed_snapshots() {
	d=$1
	[ -x build/tests/mksnap ] || return 0
	printf '%s\n' 'meta last_sync=1700000000 generation=3' \
	    'user alice 2000000001 2000000001 ACTIVE Alice%20Liddell /home/alice /bin/bash' \
	    'user bob 2000000002 2000000002 DEPROVISIONED - /home/bob /bin/sh' \
	    'group eng 2000000100 alice,bob' 'group ops 2000000101 bob' \
	    'tombstone carol 2000000003 2 1699990000 out%20of%20scope' \
	    'group none 2000000102 -' | build/tests/mksnap "$d/gen-small.cdb" || true
	# With SSH keys ('k' records), one of them forged with a LF.
	printf '%s\n' 'user alice 2000000001 2000000001 ACTIVE - /home/alice /bin/bash' \
	    'user bob 2000000002 2000000002 ACTIVE - /home/bob /bin/bash' \
	    'key alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k alice@laptop' \
	    'key alice from="10.0.0.0/8",no-pty ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHo=' \
	    'rawkey bob ssh-ed25519 AAAA%0Acommand="x" ssh-ed25519 AAAA' \
	    'group eng 2000000100 alice,bob' | build/tests/mksnap "$d/gen-keys.cdb" || true
}

# ASan keeps freed memory in quarantine to catch use-after-free; the
# default 256 MB makes the SQLite-heavy ingest target fault in fresh pages
# on every run (20 runs/s instead of 60+).  16 MB still covers every
# buffer of one run.
export ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# run_one TARGET: fuzz one target; its PASS/FAIL line goes to
# $OUT/fuzz_TARGET.result, the report of a failure before it.
run_one() {
	target=$1 name=fuzz_$1
	corpus=$OUT/corpus_$target
	mkdir -p "$corpus"
	[ "$target" = snapshot ] && seed_snapshots "$corpus"
	dict=
	[ -f "tests/fuzz/$target.dict" ] && dict=-dict=tests/fuzz/$target.dict
	if "$OUT/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$OUT/$name-" -print_final_stats=1 $dict \
	    "$corpus" "tests/fuzz/corpus_$target" >"$OUT/$name.log" 2>&1; then
		stats=$(awk '
		    /^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
			}
		    }
		    /stat::number_of_executed_units/ { runs = $2 }
		    /stat::average_exec_per_sec/ { eps = $2 }
		    END { printf "%s runs, %s exec/s, cov: %s, ft: %s",
			runs, eps, cov, ft }' "$OUT/$name.log")
		echo "PASS: fuzz $target ($stats in ${SECS}s)"
	else
		grep -v '^#[0-9]' "$OUT/$name.log" | tail -n 50
		echo "FAIL: fuzz $target: a crash, leak or check failed; input in" \
		    "$OUT/$name-crash-* (or -leak-*, -timeout-*, -oom-*)," \
		    "log in $OUT/$name.log"
	fi >"$OUT/$name.result"
}

# build_one TARGET: build one target; its log goes to $OUT/fuzz_TARGET.build.log
# and a failure leaves no $OUT/fuzz_TARGET.
build_one() {
	# fuzz_ingest.c defines the Okta client's listing functions itself
	# (the network, answered from the input); its definitions come first
	# and win, whatever else of okta.c the sync comes to need.
	extra=
	[ "$1" = ingest ] && extra=-Wl,--allow-multiple-definition
	rm -f "$OUT/fuzz_$1"
	clang $CFLAGS $extra -o "$OUT/fuzz_$1" "tests/fuzz/fuzz_$1.c" \
	    "$OUT/libfuzzhelp.a" $LIBS >"$OUT/fuzz_$1.build.log" 2>&1
}

# pool COMMAND TARGET...: COMMAND TARGET for each target, FUZZ_JOBS at a
# time (default 2: one a core).
pool() {
	cmd=$1 jobs=${FUZZ_JOBS:-2} running=0 pids=
	shift
	for target in "$@"; do
		if [ "$running" -ge "$jobs" ]; then
			set -- $pids
			wait "$1" || true
			shift
			pids=$*
			running=$((running - 1))
		fi
		"$cmd" "$target" &
		pids="$pids $!"
		running=$((running + 1))
	done
	wait
}

# Build every target first, then run them, each for SECS seconds.
rc=0 wanted= targets=
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	if [ $# -gt 0 ]; then
		case " $* " in *" $target "*) ;; *) continue ;; esac
	fi
	wanted="$wanted $target"
done
pool build_one $wanted
for target in $wanted; do
	if [ ! -x "$OUT/fuzz_$target" ]; then
		cat "$OUT/fuzz_$target.build.log"
		echo "FAIL: fuzz $target (does not build)"
		rc=1
		continue
	fi
	targets="$targets $target"
done
pool run_one $targets
for target in $targets; do
	cat "$OUT/fuzz_$target.result"
	grep -q '^PASS: ' "$OUT/fuzz_$target.result" || rc=1
done
exit $rc
