#!/bin/sh
# The files source and pause: saves made while paused leave no trace in
# the vault. After resume, a document changed during the pause is
# recorded from its next save on as a snapshot (never as edits of a
# version the vault did not see); a file created during the pause waits
# for its first save; one deleted during the pause is recorded as deleted.
. "$(dirname "$0")/test-lib.sh"

LABTAPE_SOCKET=$TRASH/control
LABTAPE_CACHE_DIR=$TRASH/cache
export LABTAPE_SOCKET LABTAPE_CACHE_DIR
REPLAY="python3 $TEST_DIR/edit-replay.py"

lt_init
mkdir w
printf 'public one\n' >w/a.txt
printf 'public two\n' >w/b.txt
printf 'public three\n' >w/c.txt

test_bg "$LABTAPE" record w 2>record.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
sleep_ms 200
printf 'public one, saved\n' >w/a.txt
sleep_ms 200

expect_success lt pause
printf 'SECRET-A edited while paused\n' >w/a.txt
printf 'SECRET-NEW created while paused\n' >w/new.txt
printf 'SECRET-TMP\n' >w/tmp.txt && mv w/tmp.txt w/b.txt
rm w/c.txt
mkdir w/dir
printf 'SECRET-DIR inside a new folder\n' >w/dir/x.txt
sleep_ms 400
expect_success lt resume
sleep_ms 400
# A save after the resume, of a document changed while paused.
printf 'public one, after the pause\n' >w/a.txt
sleep_ms 300
# And a document left alone since the pause, saved now.
printf 'public two, after the pause\n' >w/b.txt
sleep_ms 300

expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt log --json >all.json
expect_no_grep 'SECRET' all.json
expect_no_grep 'new.txt' all.json
expect_no_grep 'dir/x.txt' all.json
check_eq "pause recorded" 1 "$(count_fixed '"kind":"control.pause"' all.json)"
check_eq "resume recorded" 1 "$(count_fixed '"kind":"control.resume"' all.json)"
# Nothing of the files source between the pause and the resume.
check "no files event while paused" python3 -c '
import json, sys
paused = False
for line in open("all.json"):
    e = json.loads(line)
    if e["kind"] == "control.pause": paused = True
    elif e["kind"] == "control.resume": paused = False
    elif paused and e["stream"].startswith("fs:"): sys.exit(1)
'

expect_success lt log --json --kind edit.op >ops.json
expect_success $REPLAY ops.json out
test_show "$ERR"
a=$(awk -F'\t' '$2 == "a.txt" { print $1 }' out/index)
check_eq "a.txt: baseline, save, save after the pause" 3 \
	"$(awk -F'\t' '$2 == "a.txt" { print $3 }' out/index)"
printf 'public one, after the pause\n' >want
test_cmp want "out/$a/3"
check "after the pause a.txt is a snapshot, not edits" python3 -c '
import json, sys
ops = [json.loads(l)["data"] for l in open("ops.json")]
last = [d for d in ops if d["doc"] == sys.argv[1] and d["group"] == "save:3"]
sys.exit(0 if [d["op"] for d in last] == ["snapshot"] else 1)
' "$a"
printf 'public two, after the pause\n' >want
test_cmp want "out/$(awk -F'\t' '$2 == "b.txt" { print $1 }' out/index)/2"
check_eq "c.txt deleted (recorded at resume)" deleted \
	"$(awk -F'\t' '$2 == "c.txt" { print $4 }' out/index)"

# The shadow cache keeps nothing saved during the pause either.
check "no paused content in the cache" sh -c "! grep -r SECRET cache"
expect_success lt verify
# The recorder's own stderr: no sanitizer report (leaks show at exit).
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
