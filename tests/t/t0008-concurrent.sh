#!/bin/sh
# Several appends at once, to one stream and to their own streams, while
# readers read: every append exits 0, every event is there once, verify
# passes. Knobs: LABTAPE_TEST_WRITERS (default 8), LABTAPE_TEST_EVENTS_EACH
# (default 5000), LABTAPE_TEST_ROUNDS (default 3).
. "$(dirname "$0")/test-lib.sh"

W=${LABTAPE_TEST_WRITERS:-8}
E=${LABTAPE_TEST_EVENTS_EACH:-5000}
ROUNDS=${LABTAPE_TEST_ROUNDS:-3}
export W E

lt_init

# Writer w, round r: events tagged "w<w>r<r>", over two days (so that each
# append writes two segments), half the writers to one shared stream.
python3 - "$ROUNDS" <<'EOF'
import json, os, random, sys
rnd = random.Random(int(os.environ["TEST_SEED"]))
w_n, e_n, rounds = int(os.environ["W"]), int(os.environ["E"]), int(sys.argv[1])
for r in range(rounds):
    for w in range(w_n):
        with open("in-%d-%d.jsonl" % (w, r), "w") as f:
            for i in range(e_n):
                t = "2024-11-%02dT%02d:%02d:%02d.%09dZ" % (
                    1 + i % 2, i // 3600 % 24, i // 60 % 60, i % 60, w * 1000 + r)
                f.write(json.dumps({"t": t, "kind": "note", "data": {
                    "run": "w%dr%d" % (w, r), "i": i,
                    "text": "%x" % rnd.getrandbits(rnd.choice((32, 256)))}}) + "\n")
EOF

# Readers that loop until told to stop; each run must succeed.
reader() {
	n=0
	while ! test -e stop; do
		if ! "$LABTAPE" "$1" >"reader-$2.out" 2>"reader-$2.err"; then
			{ echo "run $n failed: $(cat "reader-$2.err")"
			  grep -v '^{' "reader-$2.out" | head -5; } >>"reader-$2.fail"
		fi
		n=$((n + 1))
	done
	echo $n >"reader-$2.runs"
}
test_bg reader log 1
test_bg reader verify 2
readers=$test_bg_pids

r=0
while test $r -lt "$ROUNDS"; do
	pids=
	w=0
	while test $w -lt "$W"; do
		if test $((w % 2)) = 0; then s=shared; else s="own-$w"; fi
		"$LABTAPE" append --stream "$s" <in-$w-$r.jsonl 2>"w-$w-$r.err" &
		pids="$pids $!"
		w=$((w + 1))
	done
	w=0
	for p in $pids; do
		st=0
		wait "$p" || st=$?
		if test "$st" = 0; then
			pass "round $r writer $w exits 0"
		else
			fail "round $r writer $w exits $st"
			test_show "w-$w-$r.err"
		fi
		w=$((w + 1))
	done
	r=$((r + 1))
done
touch stop
for p in $readers; do
	wait "$p"
done
test_bg_pids=
for n in 1 2; do
	check "reader $n ran ($(cat reader-$n.runs 2>/dev/null) times)" \
		test -s reader-$n.runs
done
if test -e reader-1.fail; then
	fail "log failed $(grep -c '^run' reader-1.fail) times during the appends"
	test_show reader-1.fail
else
	pass "log never failed during the appends"
fi
# Known bug: verify checks a live writer's segment to its end, so frames
# committed (synced) but not yet indexed, or being written, are reported
# as problems while appends run.
if test -e reader-2.fail; then
	test_known=$((test_known + 1))
	say "# known breakage: verify during appends failed $(grep -c '^run' reader-2.fail) of $(cat reader-2.runs) times:"
	grep -v '^run' reader-2.fail | sed -n '1,3s/^/#   /p' >&7
else
	say "# verify during appends: no false alarm this time"
fi

expect_success lt log --json >log.json
check_eq "all events" $((W * E * ROUNDS)) "$(wc -l <log.json)"
sed -n 's/.*"run":"\([^"]*\)".*/\1/p' log.json | sort | uniq -c |
	awk '{ print $2, $1 }' >counts
check_eq "runs seen" $((W * ROUNDS)) "$(wc -l <counts)"
check_eq "every run has all its events" "" \
	"$(awk -v e="$E" '$2 != e' counts)"
check_eq "no duplicates" 0 "$(sort log.json | uniq -d | wc -l)"
expect_success lt log --json --stream shared >shared.json
check_eq "the shared stream" $(((W + 1) / 2 * E * ROUNDS)) "$(wc -l <shared.json)"
# Each writer's events, in order, are exactly its input's.
python3 - log.json "$W" "$ROUNDS" >order.out <<'EOF'
import json, sys
last = {}
bad = 0
prev = ""
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] < prev:
        bad += 1
    prev = e["t"]
print("out of order:", bad)
EOF
check_eq "time order" "out of order: 0" "$(cat order.out)"
expect_success lt verify >verify.out
expect_grep ": ok$" verify.out
expect_success lt stats >stats.out
check_eq "stats total" $((W * E * ROUNDS)) "$(awk '$1 == "total" { print $2 }' stats.out)"

test_done
