#!/bin/sh
# kill -9 of the recorder while files are being saved, then a restart,
# several times: it resumes, the vault verifies, nothing that was in the
# vault before a kill is lost, and the record still replays exactly (the
# shadow cache may be ahead of what the kill let the vault keep; the files
# source then records a snapshot rather than edits against a version the
# vault lost). At the end, the last version of each file is what is on
# disk.
#
# Knobs: LABTAPE_TEST_KILLS (default 5).
. "$(dirname "$0")/test-lib.sh"

LABTAPE_SOCKET=$TRASH/control
LABTAPE_CACHE_DIR=$TRASH/cache
export LABTAPE_SOCKET LABTAPE_CACHE_DIR
REPLAY="python3 $TEST_DIR/edit-replay.py"
KILLS=${LABTAPE_TEST_KILLS:-5}

lt_init
mkdir w
for f in a b c; do
	printf 'file %s\n' "$f" >"w/$f.txt"
done

start_recorder() {
	test_bg "$LABTAPE" record w 2>>record.log
	REC=$!
	i=0
	while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
}

# Saves random edits to the three files, one every 20-60 ms, until the
# file "stop-writer" appears.
cat >writer.py <<'EOF'
import os, random, sys, time
rnd = random.Random(int(sys.argv[1]))
words = ["alpha", "beta", "γάμμα", "δ", "эпсилон", "zeta\n", "eta ", "θ\n"]
while not os.path.exists("stop-writer"):
    p = "w/%s.txt" % rnd.choice("abc")
    s = open(p, encoding="utf-8").read()
    i = rnd.randrange(len(s) + 1)
    if rnd.random() < 0.3 and len(s) > 10:
        s = s[:i] + s[i + rnd.randrange(1, 5):]
    else:
        s = s[:i] + rnd.choice(words) + s[i:]
    if rnd.random() < 0.3:
        open(p + ".tmp", "w", encoding="utf-8").write(s)
        os.rename(p + ".tmp", p)
    else:
        open(p, "w", encoding="utf-8").write(s)
    time.sleep(rnd.uniform(0.02, 0.06))
EOF
test_bg python3 writer.py "$TEST_SEED"
WRITER=$!

k=0
while test $k -lt "$KILLS"; do
	k=$((k + 1))
	start_recorder
	delay=$(awk -v s="$TEST_SEED" -v k="$k" \
		'BEGIN { srand(s + k); printf "%d", 1200 + rand() * 1500 }')
	sleep_ms "$delay"
	# What the vault holds now must survive the kill.
	"$LABTAPE" log --json --kind edit.op >"before.$k" 2>/dev/null
	kill -9 "$REC"
	wait "$REC" 2>/dev/null
	pass "kill $k after ${delay} ms ($(wc -l <"before.$k") events in the vault)"
done

# The last round ends cleanly, with the writer stopped first.
start_recorder
sleep_ms 500
touch stop-writer
wait "$WRITER"
sleep_ms 500
expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done

expect_success lt verify >verify.out
expect_grep ': ok$' verify.out
expect_success lt log --json --kind edit.op >ops.json
k=0
while test $k -lt "$KILLS"; do
	k=$((k + 1))
	check "nothing in the vault before kill $k was lost" \
		sh -c "test -z \"\$(sort before.$k | comm -23 - \$(sort ops.json >ops.sorted; echo ops.sorted))\""
done
expect_success $REPLAY ops.json out
test_show "$ERR"
for f in a b c; do
	line=$(awk -F'\t' -v p="$f.txt" '$2 == p' out/index)
	doc=$(echo "$line" | cut -f1)
	nv=$(echo "$line" | cut -f3)
	check "$f.txt has many versions ($nv)" test "${nv:-0}" -gt 5
	test_cmp "w/$f.txt" "out/$doc/$nv"
done
check "the recorder restarted cleanly each time" \
	test "$(grep -c 'source files started' record.log)" = $((KILLS + 1))
# The recorder's own stderr: no sanitizer report (leaks show at exit).
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
