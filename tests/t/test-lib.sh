# Shared by the end-to-end tests in tests/t (git's t/test-lib.sh, smaller).
# Each test sources it first:
#
#	. "$(dirname "$0")/test-lib.sh"
#
# and then runs in a fresh scratch folder (its working directory), with
#
#	$LABTAPE            the binary under test (CTest sets it; by hand it
#	                    defaults to the repository's build/labtape)
#	$LABTAPE_VAULT      $TRASH/vault (not created yet: run 'labtape init')
#	$LABTAPE_PASSPHRASE "$TEST_PASS"
#	$LABTAPE_KDF        fast
#	$TRASH              the scratch folder; removed when every assertion
#	                    passed, kept (and its path printed) otherwise
#	$TEST_SEED          seed for anything random (set it to replay a run)
#
# Assertions (each counts once, prints "ok N - ..." or "not ok N - ..."):
#
#	expect_success CMD...      CMD exits 0
#	expect_failure CMD...      CMD exits 1..125 (an error, not a crash)
#	expect_code N CMD...       CMD exits N
#	test_cmp EXPECTED ACTUAL   files are byte-identical (diff shown if not)
#	check DESC CMD...          CMD (e.g. test ...) exits 0; DESC names it
#	check_eq DESC WANT GOT     two strings are equal
#	expect_grep PATTERN FILE   FILE has a line matching PATTERN (grep -E)
#	expect_no_grep PATTERN FILE
#	pass DESC / fail DESC      record an outcome decided by the test itself
#
# The expect_* helpers keep the command's stdout where the caller sends it
# and its stderr in the file "$ERR" (also shown when the assertion fails).
# Any output from a sanitizer fails the assertion. Finish with test_done,
# which prints "N passed, M failed" and exits non-zero on any failure.
#
# Also: test_bg CMD... (a background job, killed if the test ends early),
# test_when_finished CMD (cleanup that runs however the test ends),
# known_breakage DESC CMD... (a known bug, git's test_expect_failure).
#
# Knobs: TEST_KEEP=1 keeps the scratch folder; TEST_VERBOSE=1 shows the
# stderr of every command.

set -u

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(cd "$(dirname "$0")" && pwd)
TEST_SRC=${TEST_SRC:-$(cd "$TEST_DIR/../.." && pwd)}
LABTAPE=${LABTAPE:-$TEST_SRC/build/labtape}
case $LABTAPE in
/*) ;;
*) LABTAPE=$(pwd)/$LABTAPE ;;	# the tests cd to their scratch folder
esac
export LABTAPE

if ! test -x "$LABTAPE"; then
	echo "error: $LABTAPE is not an executable (build first, or set LABTAPE)" >&2
	exit 1
fi

# The lib's own messages go to the test's original stdout, whatever the
# commands under test are redirected to.
exec 7>&1

test_count=0
test_failed=0
test_known=0
test_bg_pids=
test_done_called=
TEST_SEED=${TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
export TEST_SEED

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/labtape-$TEST_NAME.XXXXXX") || {
	echo "error: cannot create a scratch folder" >&2
	exit 1
}
cd "$TRASH" || exit 1
ERR=$TRASH/.stderr
: >"$ERR"

# A clean environment: nothing from the caller's labtape setup leaks in,
# and nothing the tests do can reach the caller's real vault.
unset LABTAPE_FAULT_ENOSPC LABTAPE_FAULT_FORGET_STEP LABTAPE_NEW_PASSPHRASE COLUMNS
TEST_PASS='correct horse battery staple'
LABTAPE_VAULT=$TRASH/vault
LABTAPE_PASSPHRASE=$TEST_PASS
LABTAPE_KDF=fast
HOME=$TRASH/home
XDG_DATA_HOME=$TRASH/home/.local/share
XDG_CACHE_HOME=$TRASH/home/.cache
XDG_RUNTIME_DIR=$TRASH/home/run
LC_ALL=C
TZ=UTC
export LABTAPE_VAULT LABTAPE_PASSPHRASE LABTAPE_KDF HOME XDG_DATA_HOME \
	XDG_CACHE_HOME XDG_RUNTIME_DIR LC_ALL TZ
mkdir -p "$HOME"

# Sanitizer builds: report with a distinctive exit status so that a
# sanitizer error is never mistaken for an ordinary "exit 1".
TEST_SAN_CODE=86
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=$TEST_SAN_CODE:detect_leaks=1:abort_on_error=0"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=$TEST_SAN_CODE"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=$TEST_SAN_CODE"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

say() {
	printf '%s\n' "$*" >&7
}

say "# $TEST_NAME: scratch $TRASH, seed $TEST_SEED"

pass() {
	test_count=$((test_count + 1))
	say "ok $test_count - $*"
}

fail() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	say "not ok $test_count - $*"
}

# Stops the test now (after a failure that makes the rest meaningless).
fatal() {
	fail "$*"
	test_done
}

# Shows a file indented, for failure reports.
test_show() {
	if test -s "$1"; then
		sed -n '1,40s/^/#   /p' "$1" | cut -c1-300 >&7
	fi
}

# Runs "$@" with stderr in $ERR; sets test_status. Never exits.
test_run() {
	test_status=0
	"$@" 2>"$ERR" || test_status=$?
	if test -n "${TEST_VERBOSE:-}"; then
		test_show "$ERR"
	fi
}

test_sanitizer_clean() {
	if test "$test_status" = "$TEST_SAN_CODE" ||
	   grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$ERR"; then
		return 1
	fi
	return 0
}

expect_success() {
	test_run "$@"
	if test "$test_status" = 0 && test_sanitizer_clean; then
		pass "$*"
	else
		fail "$* (exit $test_status, want 0)"
		test_show "$ERR"
	fi
}

expect_failure() {
	test_run "$@"
	if ! test_sanitizer_clean; then
		fail "$* (sanitizer error, exit $test_status)"
		test_show "$ERR"
	elif test "$test_status" -ge 1 && test "$test_status" -le 125; then
		pass "$* (fails with $test_status)"
	else
		fail "$* (exit $test_status, want a failure 1..125)"
		test_show "$ERR"
	fi
}

expect_code() {
	want=$1
	shift
	test_run "$@"
	if test "$test_status" = "$want" && test_sanitizer_clean; then
		pass "$* (exit $want)"
	else
		fail "$* (exit $test_status, want $want)"
		test_show "$ERR"
	fi
}

test_cmp() {
	if cmp -s "$1" "$2"; then
		pass "$2 matches $1"
	else
		fail "$2 differs from $1"
		diff -u "$1" "$2" 2>&1 | sed -n '1,20s/^/#   /p' | cut -c1-200 >&7
	fi
}

check() {
	desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
	fi
}

check_eq() {
	if test "$2" = "$3"; then
		case $3 in
		*"
"*)	pass "$1" ;;
		*)	pass "$1: $3" ;;
		esac
	else
		fail "$1: got '$3', want '$2'"
	fi
}

expect_grep() {
	if grep -Eq -- "$1" "$2"; then
		pass "'$1' in $(basename "$2")"
	else
		fail "no '$1' in $(basename "$2")"
		test_show "$2"
	fi
}

expect_no_grep() {
	if grep -Eq -- "$1" "$2"; then
		fail "'$1' should not be in $(basename "$2")"
		grep -E -- "$1" "$2" | sed -n '1,10s/^/#   /p' >&7
	else
		pass "no '$1' in $(basename "$2")"
	fi
}

# git's test_expect_failure: a known bug, described in DESC, that CMD
# shows by failing. Not counted as a failure; says so loudly when fixed.
known_breakage() {
	desc=$1
	shift
	if "$@"; then
		say "# FIXED: $desc (turn this into an ordinary assertion)"
	else
		test_known=$((test_known + 1))
		say "# known breakage: $desc"
	fi
}

# Runs "$@" in the background, remembering it so that it is killed if the
# test ends early. Its pid is in $!.
test_bg() {
	"$@" &
	test_bg_pids="$test_bg_pids $!"
}

test_kill_bg() {
	for p in $test_bg_pids; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $test_bg_pids; do
		wait "$p" 2>/dev/null
	done
	test_bg_pids=
}

# Commands for the end of the test, whatever happens (e.g. umount), run
# last-registered first.
test_at_exit=
test_when_finished() {
	test_at_exit="$*
$test_at_exit"
}

test_cleanup() {
	st=$?
	test_kill_bg
	eval "$test_at_exit"
	if test -z "$test_done_called"; then
		say "# $TEST_NAME ended early (exit $st), after $test_count assertions"
		test_failed=$((test_failed + 1))
	fi
	cd /
	if test "$test_failed" = 0 && test -z "${TEST_KEEP:-}"; then
		rm -rf "$TRASH"
	else
		say "# scratch folder kept: $TRASH"
	fi
}
trap test_cleanup EXIT
trap 'exit 130' INT TERM

test_done() {
	test_done_called=1
	if test "$test_count" = 0; then
		say "# no assertions ran"
		test_failed=$((test_failed + 1))
	fi
	if test "$test_known" != 0; then
		say "# $test_known known breakage(s)"
	fi
	say "$((test_count - test_failed)) passed, $test_failed failed"
	if test "$test_failed" = 0; then
		exit 0
	fi
	exit 1
}

# ---- labtape helpers ----------------------------------------------------

lt() {
	"$LABTAPE" "$@"
}

# Creates the vault at $LABTAPE_VAULT (or --vault DIR given as arguments).
lt_init() {
	expect_success "$LABTAPE" init "$@"
}

# A file's permission bits in octal, e.g. 600.
file_mode() {
	stat -c %a "$1"
}

# sha256 of every regular file under DIR, by path relative to DIR.
tree_sums() {
	(cd "$1" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
}

# The number of lines of FILE matching the fixed string S (0 if none).
count_fixed() {
	n=$(grep -cF -- "$1" "$2") || n=0
	echo "$n"
}

# Sleeps for a fraction of a second given in milliseconds.
sleep_ms() {
	sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

# Starts 'labtape record ARGS...' in the background (stderr appended to
# record.log, its pid in $REC) and returns once it answers 'status'.
lt_record_start() {
	test_bg "$LABTAPE" record "$@" 2>>record.log
	REC=$!
	i=0
	while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
	sleep_ms 300
}

# 'labtape stop' (an assertion), then waits for $REC to end.
lt_record_stop() {
	expect_success lt stop
	i=0
	while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
}
