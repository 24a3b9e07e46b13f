#!/bin/sh
# Kill the writer at random points (SIGKILL), interleaved with appends that
# complete. Afterwards the vault verifies, every append that exited 0 is
# there in full, and every killed append is there in full or not at all.
#
# Knobs: LABTAPE_TEST_KILLS (iterations, default 30), LABTAPE_TEST_KILL_EVENTS
# (events per killed append, default 10000), LABTAPE_TEST_KILL_MAX_MS (the
# longest delay before the kill; default: a little more than one whole
# append takes, as measured first, so that kills land in every phase).
#
# Odd iterations kill after a delay drawn from 0..MAX; even ones aim at the
# end of the append, where it commits: between the longest delay that still
# killed and the shortest that let the append finish (a bisection that
# keeps hunting for the moment of the commit).
. "$(dirname "$0")/test-lib.sh"

KILLS=${LABTAPE_TEST_KILLS:-30}
M=${LABTAPE_TEST_KILL_EVENTS:-10000}
export M

lt_init

# One big template (every event tagged with @RUN@) and, per iteration, a
# small input that completes. The big one spans four UTC days, so each
# append writes four segments and commits them as one transaction.
python3 - <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
m = int(os.environ["M"])
with open("big.tmpl", "w") as f:
    for i in range(m):
        t = "2024-07-%02dT%02d:%02d:%02d.%09dZ" % (1 + i * 4 // m,
                                                   i // 3600 % 24, i // 60 % 60,
                                                   i % 60, rnd.randrange(10**9))
        text = "%x" % rnd.getrandbits(rnd.choice((8, 64, 256)))
        f.write('{"t":"%s","kind":"note","data":{"run":"@RUN@","i":%d,"text":"%s"}}\n'
                % (t, i, text))
EOF
check_eq "template events" "$M" "$(wc -l <big.tmpl)"

small_input() {
	awk -v run="$1" -v n="$2" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"t\":\"2024-07-02T12:00:%02d.%09dZ\",\"kind\":\"marker\",\"data\":{\"run\":\"%s\",\"text\":\"%d\"}}\n", i % 60, i, run, i
	}'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Calibrate: one big append run to completion. It must be there in full.
sed 's/@RUN@/full/' big.tmpl >cur.jsonl
t0=$(now_ms)
expect_success lt append --stream steady <cur.jsonl
t1=$(now_ms)
full_ms=$((t1 - t0))
MAX_MS=${LABTAPE_TEST_KILL_MAX_MS:-$((full_ms * 6 / 5 + 20))}
say "# one append of $M events takes ${full_ms} ms; kills within 0..${MAX_MS} ms"

lo=0			# longest delay after which the append was killed
hi=$MAX_MS		# shortest delay after which it had finished
completed="full"	# runs that exited 0, with $M or their own count
killed=""		# runs killed (or that finished before the kill)
i=0
while test $i -lt "$KILLS"; do
	i=$((i + 1))
	# Killed appends go to a shared stream or to a stream of their own.
	if test $((i % 2)) = 0; then stream=steady; else stream="kill-$i"; fi
	sed "s/@RUN@/k$i/" big.tmpl >cur.jsonl
	if test $((i % 2)) = 1 || test "$hi" -le "$lo"; then
		from=0 to=$MAX_MS
	else
		from=$((lo - 5)) to=$((hi + 5))
	fi
	delay=$(awk -v s="$TEST_SEED" -v i="$i" -v a="$from" -v b="$to" \
		'BEGIN { srand(s + i); d = a + rand() * (b - a); printf "%d", d < 0 ? 0 : d }')
	"$LABTAPE" append --stream "$stream" <cur.jsonl 2>kill.err &
	pid=$!
	sleep_ms "$delay"
	kill -9 "$pid" 2>/dev/null
	st=0
	{ wait "$pid" || st=$?; } 2>/dev/null
	case $st in
	0)	completed="$completed k$i"
		test "$delay" -lt "$hi" && hi=$delay ;;
	137)	killed="$killed k$i"
		test "$delay" -gt "$lo" && lo=$delay ;;
	*)	fail "append k$i exited $st (not 0, not killed)"
		test_show kill.err ;;
	esac
	if grep -Eq 'Sanitizer|runtime error' kill.err; then
		fail "append k$i: sanitizer report"
		test_show kill.err
	fi

	# An append that completes, opening (and so recovering) the vault.
	small_input "c$i" $((i * 7 % 50 + 1)) >small.jsonl
	expect_success lt append --stream steady <small.jsonl
	completed="$completed c$i"

	# Now and then read and check while the debris is fresh.
	if test $((i % 10)) = 5; then
		expect_success lt verify >verify.out
	fi
done
say "# killed:$killed"
say "# completed:$completed"
check "at least one append was really killed" test -n "$killed"

expect_success lt verify >verify.out
expect_grep ': ok$' verify.out
expect_no_grep 'problem' verify.out
expect_success lt log --json >log.json

# Count each run's events with one pass over the log.
sed -n 's/.*"run":"\([^"]*\)".*/\1/p' log.json | sort | uniq -c |
	awk '{ print $2, $1 }' >counts
count_of() {
	awk -v r="$1" '$1 == r { print $2; found = 1 } END { if (!found) print 0 }' counts
}
for r in $completed; do
	case $r in
	c*)	want=$((${r#c} * 7 % 50 + 1)) ;;
	*)	want=$M ;;
	esac
	check_eq "completed append $r is all there" "$want" "$(count_of "$r")"
done
present=0
absent=0
for r in $killed; do
	n=$(count_of "$r")
	if test "$n" = "$M"; then
		present=$((present + 1))
		pass "killed append $r: all $M events (it committed)"
	elif test "$n" = 0; then
		absent=$((absent + 1))
		pass "killed append $r: nothing"
	else
		fail "killed append $r: $n of $M events (not all or nothing)"
	fi
done
say "# killed appends: $present present in full, $absent absent"

# No event was invented or doubled.
total=0
while read -r r n; do
	total=$((total + n))
done <counts
check_eq "log has exactly the counted events" "$total" "$(wc -l <log.json)"
check_eq "no duplicate events" 0 "$(sort log.json | uniq -d | wc -l)"

# The index agrees with a rebuilt one, and stats with the log.
expect_success lt stats >stats.out
check_eq "stats total" "$total" "$(awk '$1 == "total" { print $2 }' stats.out)"
expect_success lt reindex
expect_success lt log --json >log2.json
test_cmp log.json log2.json
expect_success lt verify >verify2.out
expect_grep ': ok$' verify2.out

test_done
