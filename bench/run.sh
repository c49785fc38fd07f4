#!/bin/sh
# run.sh - make bench: run every bench/bench_*.sh and bench/bench_*.py.
# Each prints its own figures and their ratio to a reference measured in the
# same run (absolute times drift from run to run).
cd "$(dirname "$0")/.." || exit 1
rc=0
for b in bench/bench_*; do
	[ -f "$b" ] || continue
	echo "== $b"
	case "$b" in
	*.py) python3 "$b" || rc=1 ;;
	*.sh) sh "$b" || rc=1 ;;
	esac
done
exit $rc
