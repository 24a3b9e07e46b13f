#!/bin/bash
# bench/import-git.sh: how fast `labtape import git` is (issue 7, "Speed"),
# beside `git log -p --first-parent` over the same history, in the same
# run. It prints figures and PASS/FAIL against the target (labtape at
# least as fast); it is not a test (STYLE.md). Exit status 1 only when
# something could not be measured.
#
#	bench/import-git.sh [--commits N] [--files N] [--days N] [--runs N]
#
#   --commits N  commits in the history (default 10000)
#   --files N    text files the first commit adds (default 300)
#   --days N     days the commits spread over (default 365)
#   --runs N     runs per tool; the best counts (default 3)
#
# The repository: bench/git-history.py writes a `git fast-import` stream
# of small, realistic changes (a word, a few lines, now and then a new,
# renamed or deleted file) to a few hundred text files, cached as
# $BENCH_DIR/git-C-F-D (default $TMPDIR/labtape-bench). Both tools read
# it from the page cache. labtape imports into a fresh vault each run,
# beside the repository (on disk), and, where /dev/shm is a tmpfs, into
# one there too: the difference is what syncing costs. A vault keeps one
# segment per stream and day, and an import commits every segment it
# wrote (synced) as one transaction, so a history over D days makes D
# segments to sync; the figures say how many.
#
# CPU is user+system time, which says more on a machine that other jobs
# share. The labtape binary is $LABTAPE (default build/labtape).
set -u

COMMITS=10000
FILES=300
DAYS=365
RUNS=3
while test $# -gt 0; do
	case $1 in
	--commits) COMMITS=$2; shift ;;
	--files) FILES=$2; shift ;;
	--days) DAYS=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	-h|--help) sed -n '2,29s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/import-git.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

SRC=$(cd "$(dirname "$0")/.." && pwd)
LABTAPE=${LABTAPE:-$SRC/build/labtape}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/labtape-bench}
mkdir -p "$BENCH_DIR" || exit 1
REPO=$BENCH_DIR/git-$COMMITS-$FILES-$DAYS
export LABTAPE_PASSPHRASE=bench LABTAPE_KDF=fast
unset LABTAPE_VAULT

if ! git -C "$REPO" rev-parse -q --verify main >/dev/null 2>&1; then
	echo "making a history of $COMMITS commits in $REPO" >&2
	rm -rf "$REPO"
	git init -q -b main "$REPO" || exit 1
	python3 "$SRC/bench/git-history.py" --commits "$COMMITS" \
		--files "$FILES" --days "$DAYS" |
		git -C "$REPO" fast-import --quiet || exit 1
	git -C "$REPO" reset -q --hard main || exit 1
fi
# Into the page cache.
cat "$REPO"/.git/objects/pack/* >/dev/null

# run_best CMD...: runs CMD $RUNS times (prep first, if set) and prints
# "elapsed cpu" (seconds) of the fastest run.
prep=
run_best() {
	best=
	for _ in $(seq "$RUNS"); do
		test -n "$prep" && eval "$prep"
		if ! /usr/bin/time -o "$BENCH_DIR/import-git.time" -f '%e %U %S' \
			"$@" >/dev/null 2>"$BENCH_DIR/import-git.err"; then
			cat "$BENCH_DIR/import-git.err" >&2
			return 1
		fi
		out=$(tail -n 1 "$BENCH_DIR/import-git.time")
		e=${out%% *}
		cpu=$(echo "${out#* }" | awk '{print $1 + $2}')
		if test -z "$best" || awk "BEGIN {exit !($e < ${best%% *})}"; then
			best="$e $cpu"
		fi
	done
	echo "$best"
}

echo "history: $COMMITS commits, $FILES files to start, over $DAYS days ($RUNS runs each, best shown)"
prep=
gl=$(run_best git -C "$REPO" log -p --first-parent) || exit 1
# Each run imports into a vault of its own, and all are removed at the
# end: removing thousands of files just before a run would make that
# run's file creations slow (ext4 passes over recently freed inodes for a
# while), which is the harness's doing, not the import's.
VAULTS=$BENCH_DIR/import-git-vaults
rm -rf "$VAULTS" && mkdir -p "$VAULTS" || exit 1
prep='VAULT=$(mktemp -d "$VAULTS/v.XXXXXX") && rmdir "$VAULT" && export VAULT &&
	"$LABTAPE" init --vault "$VAULT" >/dev/null 2>&1'
lt=$(run_best sh -c 'exec "$0" import git "$1" --vault "$VAULT"' \
	"$LABTAPE" "$REPO") || exit 1
segs=$(find "$(ls -d "$VAULTS"/v.* | head -n 1)/segments" -type f | wc -l)
syncs=
if command -v strace >/dev/null; then
	eval "$prep"
	syncs=$(strace -f -c -e trace=fsync,fdatasync,syncfs -o "$BENCH_DIR/import-git.strace" \
		"$LABTAPE" import git "$REPO" --vault "$VAULT" >/dev/null 2>&1 &&
		awk '$NF ~ /sync/ { n += $4 } END { print n }' "$BENCH_DIR/import-git.strace")
fi
rm -rf "$VAULTS"
shm=
if test -d /dev/shm && test "$(stat -f -c %T /dev/shm)" = tmpfs; then
	VAULT=/dev/shm/labtape-bench-import-git.$$
	prep='rm -rf "$VAULT" && "$LABTAPE" init --vault "$VAULT" >/dev/null 2>&1'
	shm=$(run_best "$LABTAPE" import git "$REPO" --vault "$VAULT")
	rm -rf "$VAULT"
fi

printf '%-44s %10s %10s\n' "" "seconds" "CPU s"
printf '%-44s %10s %10s\n' "git log -p --first-parent" ${gl}
printf '%-44s %10s %10s\n' "labtape import git (vault on disk)" ${lt}
test -n "$shm" &&
	printf '%-44s %10s %10s\n' "labtape import git (vault on tmpfs)" ${shm}
echo "segments written: $segs (one per day of history)${syncs:+; fsync, fdatasync and syncfs calls: $syncs}"
awk -v a="${lt%% *}" -v b="${gl%% *}" 'BEGIN { if (b > 0) printf "labtape import / git log -p, elapsed: %.2fx\n", a / b }'
awk -v a="${lt#* }" -v b="${gl#* }" 'BEGIN { if (b > 0) printf "labtape import / git log -p, CPU: %.2fx\n", a / b }'
test -n "$shm" &&
	awk -v a="${shm%% *}" -v b="${gl%% *}" 'BEGIN { if (b > 0) printf "labtape import on tmpfs / git log -p, elapsed: %.2fx\n", a / b }'
if awk -v a="${lt%% *}" -v b="${gl%% *}" 'BEGIN { exit !(a <= b) }'; then
	echo "PASS: labtape import git at least as fast as git log -p"
else
	echo "FAIL: labtape import git slower than git log -p"
fi
