#!/bin/bash
# bench/shell.sh: what `labtape shell` costs (issue 4, "Speed"), next to
# `script -q` (util-linux) and `asciinema rec`, in one run. It prints
# figures and PASS/FAIL against the issue's targets; it is not a test
# (STYLE.md). Exit status 1 only when something could not be measured.
#
#	bench/shell.sh [--size MB] [--runs N] [--keys N] [--no-install]
#
#   --size MB    the output pushed through each recorder (default 1024 MiB)
#   --runs N     throughput runs per tool; the best counts (default 3)
#   --keys N     keystrokes timed for echo latency (default 2000)
#   --no-install do not apt-get install asciinema if it is missing
#
# Throughput: `cat FILE` of varied text (a generated training log, UTF-8,
# cached as $BENCH_DIR/text-SIZE.txt, default $TMPDIR/labtape-bench) run
# through each recorder with stdout to /dev/null; labtape records into a
# fresh vault (zstd, encrypted, synced each flush interval), script into
# its typescript file as `script -q` does (and once more into /dev/null,
# a relay that records nothing, the stricter peer), asciinema into a cast
# file; all files are in the scratch directory, on one disk. Each run
# starts after a sync(2), so that none pays for the disk writes of the
# run before it. RSS: peak resident size of the recorder (getrusage of
# the waited-for process).
# Echo latency: a Python pty harness types one key at a time into `cat`
# and times the echo, directly and through each recorder; the cost is the
# p99 difference. Then once more through labtape with every fsync made
# to take 200 ms (strace fault injection, a slow or busy disk), a key
# each 10 ms for 5 s, so that several commits fall among the keys. The
# throughput is measured with such a disk too (figure only, no target):
# a commit's sync must not stall a flood of output (tape.c note 11).
#
# The labtape binary is $LABTAPE (default build/labtape).
set -u

SIZE_MB=1024
RUNS=3
KEYS=2000
INSTALL=1
while test $# -gt 0; do
	case $1 in
	--size) SIZE_MB=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--keys) KEYS=$2; shift ;;
	--no-install) INSTALL= ;;
	-h|--help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/shell.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

HERE=$(cd "$(dirname "$0")" && pwd)
LABTAPE=${LABTAPE:-$HERE/../build/labtape}
LIB="python3 $HERE/shell-lib.py"
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/labtape-bench}
test -x "$LABTAPE" || { echo "bench/shell.sh: build first ($LABTAPE)" >&2; exit 2; }
command -v script >/dev/null || { echo "bench/shell.sh: script (util-linux) is missing" >&2; exit 2; }
if ! command -v asciinema >/dev/null && test -n "$INSTALL"; then
	SUDO=; test "$(id -u)" -eq 0 || SUDO=sudo
	$SUDO apt-get install -y -qq --no-install-recommends asciinema >/dev/null
fi
HAVE_ASCIINEMA=$(command -v asciinema >/dev/null && echo 1)

mkdir -p "$BENCH_DIR"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/labtape-bench-shell.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
BYTES=$((SIZE_MB * 1024 * 1024))
TEXT=$BENCH_DIR/text-$SIZE_MB.txt
echo "# generating $TEXT ($SIZE_MB MiB of varied text), once" >&2
$LIB text "$TEXT" "$BYTES" || exit 1

export LABTAPE_VAULT=$SCRATCH/vault LABTAPE_PASSPHRASE=bench LABTAPE_KDF=fast
export XDG_RUNTIME_DIR=$SCRATCH/run XDG_CONFIG_HOME=$SCRATCH/config
unset LABTAPE_SOCKET
"$LABTAPE" init >/dev/null 2>&1 || { echo "bench/shell.sh: labtape init failed" >&2; exit 1; }

fail=0
measure() {	# NAME ARGV...: "seconds rss_kib" of the best of $RUNS
	local name=$1 out
	shift
	echo "# $name: $RUNS x $*" >&2
	out=$($LIB run "$RUNS" "$@") || { echo "bench/shell.sh: $name failed" >&2; fail=1; echo "0 0"; return; }
	echo "$out"
}

read -r T_CAT R_CAT < <(measure cat cat "$TEXT")
read -r T_SCRIPT R_SCRIPT < <(measure script script -q -c "cat '$TEXT'" "$SCRATCH/typescript")
rm -f "$SCRATCH/typescript"
read -r T_RELAY R_RELAY < <(measure "script into /dev/null" script -q -c "cat '$TEXT'" /dev/null)
read -r T_LT R_LT < <(measure labtape "$LABTAPE" shell -q -- cat "$TEXT")
if test -n "$HAVE_ASCIINEMA"; then
	read -r T_AC R_AC < <(measure asciinema asciinema rec -q --overwrite -c "cat '$TEXT'" "$SCRATCH/out.cast")
fi
VAULT_MB=$(du -sm "$LABTAPE_VAULT" | cut -f1)

echo "# echo latency: $KEYS keystrokes each" >&2
read -r E50_D E99_D < <($LIB echo "$KEYS" cat)
read -r E50_S E99_S < <($LIB echo "$KEYS" script -q -c cat /dev/null)
read -r E50_L E99_L < <($LIB echo "$KEYS" "$LABTAPE" shell -q -- cat)
E99_SLOW= T_SLOW=
if command -v strace >/dev/null; then
	SLOW_DISK=(strace -f -qq --seccomp-bpf -o /dev/null
		-e trace=fsync,fdatasync -e inject=fsync:delay_exit=200000
		-e inject=fdatasync:delay_exit=200000)
	echo "# echo latency with every fsync taking 200 ms: 500 keystrokes" >&2
	read -r _ E99_SLOW < <($LIB echo 500 --pause 10 "${SLOW_DISK[@]}" \
		"$LABTAPE" shell -q -- cat)
	read -r T_SLOW _ < <(measure "labtape, each fsync taking 200 ms" \
		"${SLOW_DISK[@]}" "$LABTAPE" shell -q -- cat "$TEXT")
fi

awk -v size="$SIZE_MB" -v tcat="$T_CAT" -v ts="$T_SCRIPT" -v tl="$T_LT" \
    -v tr="$T_RELAY" -v e99slow="$E99_SLOW" -v runs="$RUNS" -v tslow="$T_SLOW" \
    -v ta="${T_AC:-}" -v rs="$R_SCRIPT" -v rl="$R_LT" -v ra="${R_AC:-}" \
    -v e50d="$E50_D" -v e99d="$E99_D" -v e50s="$E50_S" -v e99s="$E99_S" \
    -v e50l="$E50_L" -v e99l="$E99_L" -v vmb="$VAULT_MB" '
function mbs(t) { return t > 0 ? size / t : 0 }
function verdict(ok) { return ok ? "PASS" : "FAIL" }
BEGIN {
	printf "\nlabtape shell against script -q and asciinema rec: %d MiB of text\n\n", size
	printf "%-22s %10s %10s %10s %14s\n", "", "seconds", "MiB/s", "peak RSS", "echo p50/p99"
	printf "%-22s %10.2f %10.0f %10s %14s\n", "cat (no pty)", tcat, mbs(tcat), "-", sprintf("%.0f/%.0f us", e50d, e99d)
	printf "%-22s %10.2f %10.0f %8.1f M %14s\n", "script -q", ts, mbs(ts), rs / 1024, sprintf("%.0f/%.0f us", e50s, e99s)
	printf "%-22s %10.2f %10.0f %10s %14s\n", "script -q >/dev/null", tr, mbs(tr), "-", "-"
	if (ta != "")
		printf "%-22s %10.2f %10.0f %8.1f M %14s\n", "asciinema rec", ta, mbs(ta), ra / 1024, "-"
	printf "%-22s %10.2f %10.0f %8.1f M %14s\n", "labtape shell", tl, mbs(tl), rl / 1024, sprintf("%.0f/%.0f us", e50l, e99l)
	if (tslow > 0)
		printf "%-22s %10.2f %10.0f %10s %14s\n", "  fsync taking 200 ms", tslow, mbs(tslow), "-", "-"
	printf "\n(the echo figures of cat are its pty echoing by itself: no recorder)\n"
	printf "labtape vault after the runs: %d MiB for %d MiB recorded\n\n", vmb, size * runs
	r = ts > 0 ? ts / tl : 0
	printf "%-52s %6.2f  %s\n", "throughput vs script -q (>= 0.90)", r, verdict(r >= 0.9)
	r = tr > 0 ? tr / tl : 0
	printf "%-52s %6.2f  %s\n", "  vs script -q into /dev/null, recording nothing", r, verdict(r >= 0.9)
	if (ta != "") {
		r = ta / tl
		printf "%-52s %6.2f  %s\n", "throughput vs asciinema rec (>= 2)", r, verdict(r >= 2)
	} else
		printf "%-52s %6s  %s\n", "throughput vs asciinema rec (>= 2)", "-", "not measured"
	d = (e99l - e99d) / 1000
	printf "%-52s %6.3f  %s\n", "echo delay added, p99 ms (< 1)", d, verdict(d < 1)
	if (e99slow != "")
		printf "%-52s %6.3f\n", "  echo p99 ms, each fsync taking 200 ms", e99slow / 1000
	if (tslow > 0)
		printf "%-52s %6.2f\n", "  throughput vs script -q, each fsync taking 200 ms", ts / tslow
	printf "%-52s %6.1f  %s\n", "peak RSS, MiB (< 8)", rl / 1024, verdict(rl / 1024 < 8)
}'
exit $fail
