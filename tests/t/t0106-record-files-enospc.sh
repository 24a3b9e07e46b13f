#!/bin/sh
# The files source when the vault's disk fills up (LABTAPE_FAULT_ENOSPC=N:
# every write to the vault after the first N bytes fails; the shadow
# cache still has room, the harder case): each failure is logged, the
# recorder and its files source keep running, and once there is room
# again (a restart without the fault) recording goes on. Whatever reached
# the vault replays exactly: no edit is recorded against a version the
# vault lost (failed emits, a failed final commit), and the last version
# is what is on disk.
. "$(dirname "$0")/test-lib.sh"

LABTAPE_SOCKET=$TRASH/control
LABTAPE_CACHE_DIR=$TRASH/cache
export LABTAPE_SOCKET LABTAPE_CACHE_DIR
REPLAY="python3 $TEST_DIR/edit-replay.py"

lt_init
mkdir w
printf 'start\n' >w/doc.txt
printf 'other\n' >w/other.txt

start_recorder() {
	test_bg env "$@" "$LABTAPE" record w 2>>record.log
	REC=$!
	i=0
	while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
}
stop_recorder() {
	lt stop 2>/dev/null
	i=0
	while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
	check "the recorder exited" sh -c "! kill -0 $REC 2>/dev/null"
}

save_many() {
	python3 - "$@" <<'EOF'
import random, sys, time
rnd = random.Random(int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    p = "w/%s.txt" % rnd.choice(["doc", "doc", "other"])
    s = open(p, encoding="utf-8").read()
    k = rnd.randrange(len(s) + 1)
    s = s[:k] + "save %d %x\n" % (i, rnd.getrandbits(rnd.randrange(1600))) + s[k:]
    open(p, "w", encoding="utf-8").write(s)
    time.sleep(0.06)
EOF
}

# 3500 bytes: the baseline and a few saves fit, then nothing.
start_recorder LABTAPE_FAULT_ENOSPC=3500
save_many "$TEST_SEED" 60
expect_success lt status --json >status.json
check "still running, and saying why it cannot record" python3 -c '
import json, sys
d = json.load(open("status.json"))
s = [x for x in d["sources"] if x["name"] == "files"][0]
sys.exit(0 if s["state"] == "running" and "No space left" in (d["error"] or "") else 1)'
stop_recorder
expect_grep 'No space left on device' record.log
expect_grep "files: cannot record '(doc|other).txt': .*No space left" record.log

# Room again.
start_recorder
save_many $((TEST_SEED + 1)) 10
sleep_ms 300
stop_recorder

expect_success lt verify
expect_success lt log --json --kind edit.op >ops.json
expect_success $REPLAY ops.json out
test_show "$ERR"
for f in doc other; do
	line=$(awk -F'\t' -v p="$f.txt" '$2 == p && $4 == "live"' out/index | tail -1)
	test_cmp "w/$f.txt" "out/$(echo "$line" | cut -f1)/$(echo "$line" | cut -f3)"
done
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
