#!/bin/bash
# bench/redact.sh: how fast `labtape redact` is (issue 5, "Speed"), beside
# `grep -E` running the same candidate patterns. It prints figures and
# PASS/FAIL against the target (100 MB/s on one core); it is not a test
# (STYLE.md). Exit status 1 only when something could not be measured.
#
#	bench/redact.sh [--size MB] [--runs N]
#
#   --size MB   the mixed text redacted (default 1024 MiB)
#   --runs N    runs per tool; the best counts (default 3)
#
# The text: bench/redact-corpus.py writes a 32 MiB pool of prose, code,
# logs and JSON (ordinary lines with a planted document of personal data
# and secrets every 40 lines or so, look-alikes included), repeated up to
# the size; cached as $BENCH_DIR/redact-SIZE.txt (default
# $TMPDIR/labtape-bench). Both tools read the file from the page cache,
# pinned to one core with taskset, labtape's output to /dev/null. MB/s counts the
# input bytes over the elapsed time; CPU MB/s over user+system time,
# which says more on a machine that other jobs share.
#
# grep gets the patterns of `labtape redact --print-patterns` (the
# Hyperscan anchors, which grep -E takes as they are) with -c; it only
# finds lines, where labtape also validates, numbers and rewrites.
#
# The labtape binary is $LABTAPE (default build/labtape).
set -u

SIZE_MB=1024
RUNS=3
while test $# -gt 0; do
	case $1 in
	--size) SIZE_MB=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	-h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/redact.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

SRC=$(cd "$(dirname "$0")/.." && pwd)
LABTAPE=${LABTAPE:-$SRC/build/labtape}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/labtape-bench}
mkdir -p "$BENCH_DIR" || exit 1
TEXT=$BENCH_DIR/redact-$SIZE_MB.txt
PATS=$BENCH_DIR/redact-patterns.txt

if ! test -s "$TEXT"; then
	echo "generating $SIZE_MB MiB of mixed text in $TEXT" >&2
	pool=$BENCH_DIR/redact-pool.txt
	python3 "$SRC/bench/redact-corpus.py" gen --seed 11 --filler 40 \
		--size $((32 << 20)) --out "$pool" || exit 1
	want=$((SIZE_MB << 20))
	: >"$TEXT.tmp"
	while test "$(stat -c %s "$TEXT.tmp")" -lt "$want"; do
		cat "$pool" >>"$TEXT.tmp"
	done
	head -c "$want" "$TEXT.tmp" >"$TEXT" && rm -f "$TEXT.tmp"
fi
"$LABTAPE" redact --config /dev/null --print-patterns >"$PATS" || exit 1
bytes=$(stat -c %s "$TEXT")
cat "$TEXT" >/dev/null	# into the page cache

PIN=
command -v taskset >/dev/null && PIN="taskset -c 0"

# best_of OUT CMD...: runs CMD $RUNS times with stdout to OUT; prints
# "elapsed cpu" (seconds) of the fastest run.
best_of() {
	best=
	dest=$1
	shift
	for _ in $(seq "$RUNS"); do
		out=$( { /usr/bin/time -f '%e %U %S' $PIN "$@" <"$TEXT" >"$dest"; } 2>&1 | tail -n 1)
		e=${out%% *}
		rest=${out#* }
		cpu=$(echo "$rest" | awk '{print $1 + $2}')
		if test -z "$best" || awk "BEGIN {exit !($e < ${best%% *})}"; then
			best="$e $cpu"
		fi
	done
	echo "$best"
}

rate() {
	awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'
}

echo "redacting $((bytes >> 20)) MiB ($RUNS runs each, best shown)"
lt=$(best_of /dev/null "$LABTAPE" redact --config /dev/null)
# Not to /dev/null: GNU grep notices it and stops at the first match.
gr=$(best_of "$BENCH_DIR/grep-count" env LC_ALL=C grep -E -c -f "$PATS")
test -n "$lt" && test -n "$gr" || exit 1
lt_rate=$(rate "${lt%% *}")
lt_cpu=$(rate "${lt#* }")
gr_rate=$(rate "${gr%% *}")
gr_cpu=$(rate "${gr#* }")
printf '%-28s %10s %10s\n' "" "MB/s" "CPU MB/s"
printf '%-28s %10s %10s\n' "labtape redact" "$lt_rate" "$lt_cpu"
printf '%-28s %10s %10s\n' "grep -E (same patterns)" "$gr_rate" "$gr_cpu"
awk -v a="$lt_rate" -v b="$gr_rate" 'BEGIN { if (b > 0) printf "labtape redact / grep -E: %.1fx\n", a / b }'
if awk -v a="$lt_cpu" 'BEGIN { exit !(a >= 100) }'; then
	echo "PASS: labtape redact at ${lt_cpu} MB/s of CPU (target 100 MB/s on one core)"
else
	echo "FAIL: labtape redact at ${lt_cpu} MB/s of CPU (target 100 MB/s on one core)"
fi
