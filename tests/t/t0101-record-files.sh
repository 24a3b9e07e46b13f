#!/bin/sh
# The files source: a baseline of what is there at start, then every save
# as edit operations (plain writes, appends, sed -i, a write-and-rename, a
# Python write, non-ASCII text), renames, deletes, a new folder, a folder
# moved; replaying the recorded operations gives back every saved version
# byte for byte. A restart records only what changed while it was down.
. "$(dirname "$0")/test-lib.sh"

LABTAPE_SOCKET=$TRASH/control
LABTAPE_CACHE_DIR=$TRASH/cache
export LABTAPE_SOCKET LABTAPE_CACHE_DIR
REPLAY="python3 $TEST_DIR/edit-replay.py"

lt_init
mkdir -p w/old v
printf 'there before the recorder\n' >w/old/pre.txt
printf 'to be deleted\n' >w/gone.txt

start_recorder() {
	test_bg "$LABTAPE" record w 2>>record.log
	REC=$!
	i=0
	while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
	expect_success lt status >/dev/null
}

stop_recorder() {
	expect_success lt stop
	i=0
	while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
	check "the recorder exited" sh -c "! kill -0 $REC 2>/dev/null"
}

# Keeps a copy of each saved version of w/doc.txt, in order.
n=0
saved() {
	n=$((n + 1))
	cp w/doc.txt "v/doc.$n"
	sleep_ms 150	# more than the debounce: each save is its own
}

start_recorder

printf 'The first line.\nThe second line.\n' >w/doc.txt
saved
printf 'A third line, appended.\n' >>w/doc.txt
saved
sed -i 's/second/2nd/' w/doc.txt
saved
# An editor's save: write a temporary file, rename it over the original.
{ cat w/doc.txt; printf 'Written beside, renamed over.\n'; } >w/.doc.txt.tmp
mv w/.doc.txt.tmp w/doc.txt
saved
python3 -c '
import sys
p = "w/doc.txt"
s = open(p, encoding="utf-8").read()
s = s.replace("first", "erste — première ✓ 第一").replace("third", "𝔱𝔥𝔦𝔯𝔡")
open(p, "w", encoding="utf-8").write(s)
'
saved
printf 'Rewritten completely.\nNothing kept.\n' >w/doc.txt
saved
printf '' >w/doc.txt
saved
printf 'x' >w/doc.txt
saved
# Several writes in a row are one save.
printf 'one ' >w/doc.txt; printf 'two ' >>w/doc.txt; printf 'three\n' >>w/doc.txt
saved
# Writing the same content again records nothing.
cp w/doc.txt same && cp same w/doc.txt
sleep_ms 150

# A new folder with files (some written before its watch can exist).
mkdir -p w/new/deeper
printf 'alpha\n' >w/new/a.txt
printf 'beta\n' >w/new/deeper/b.txt
sleep_ms 200
printf 'alpha, edited\n' >w/new/a.txt
sleep_ms 200
# Renames: a file, then the folder; a delete.
mv w/doc.txt w/renamed.txt
mv w/new w/moved
rm w/gone.txt
sleep_ms 200
printf 'after the move\n' >>w/moved/deeper/b.txt
sleep_ms 500

# Durable without a clean stop: wait past the flush interval and look.
sleep_ms 1200
expect_success lt log --json --kind edit.op >live.json
check "saves are in the vault within the flush interval" \
	test "$(count_fixed '"path":"moved/deeper/b.txt"' live.json)" -ge 2

stop_recorder
expect_success lt log --json --kind edit.op >ops.json
expect_success $REPLAY ops.json out
test_show "$ERR"

doc_of() {
	awk -F'\t' -v p="$1" '$2 == p { print $1 }' out/index
}
versions_of() {
	awk -F'\t' -v p="$1" '$2 == p { print $3 }' out/index
}

d=$(doc_of renamed.txt)
check "doc.txt is one document, renamed" test -n "$d"
check_eq "every save of doc.txt is a version" "$n" "$(versions_of renamed.txt)"
k=1
while test $k -le $n; do
	test_cmp "v/doc.$k" "out/$d/$k"
	k=$((k + 1))
done
check_eq "doc.txt: one baseline snapshot" 1 \
	"$(grep -F "\"doc\":\"$d\"" ops.json | grep -c '"op":"snapshot"')"
check "doc.txt's edits are inserts, deletes and replaces" \
	grep -q '"op":"replace"' ops.json
expect_grep '"action":"rename","from":"doc.txt","to":"renamed.txt"' ops.json
expect_no_grep 'doc.txt.tmp' ops.json

# The baseline, the new folder, the moved folder.
check_eq "pre.txt has its baseline" 1 "$(versions_of old/pre.txt)"
printf 'there before the recorder\n' >want
test_cmp want "out/$(doc_of old/pre.txt)/1"
expect_grep '"action":"rename","from":"new/a.txt","to":"moved/a.txt"' ops.json
expect_grep '"action":"rename","from":"new/deeper/b.txt","to":"moved/deeper/b.txt"' ops.json
check_eq "a.txt: created, then edited" 2 "$(versions_of moved/a.txt)"
printf 'alpha, edited\n' >want
test_cmp want "out/$(doc_of moved/a.txt)/2"
printf 'beta\nafter the move\n' >want
test_cmp want "out/$(doc_of moved/deeper/b.txt)/2"
check_eq "gone.txt is deleted" deleted \
	"$(awk -F'\t' '$2 == "gone.txt" { print $4 }' out/index)"
check "groups are save:<n>" sh -c "! grep -v '\"group\":\"save:[0-9]*\"' ops.json"
check "every op names its actor" sh -c "! grep -v '\"actor\":\"' ops.json"
check "events are on the stream fs:<root>" \
	sh -c "! grep -v '\"stream\":\"fs:$TRASH/w\"' ops.json"

# The cache: private, and nothing of a deleted file.
check "the cache folder is 700" test "$(file_mode cache)" = 700
check "no shadow is readable by others" \
	test -z "$(find cache -type f ! -perm 600)"
check "the deleted file's shadow is purged" \
	test -z "$(find cache -name gone.txt)"

# A restart re-records nothing unchanged, and what changed meanwhile.
before=$(wc -l <ops.json)
printf 'changed while stopped\n' >>w/old/pre.txt
printf 'born while stopped\n' >w/offline.txt
rm w/renamed.txt
start_recorder
sleep_ms 500
stop_recorder
expect_success lt log --json --kind edit.op >ops2.json
check_eq "a restart records only the three changes" $((before + 3)) \
	"$(wc -l <ops2.json)"
expect_success $REPLAY ops2.json out2
printf 'there before the recorder\nchanged while stopped\n' >want
test_cmp want "out2/$(doc_of old/pre.txt)/2"
check_eq "renamed.txt deleted while stopped" deleted \
	"$(awk -F'\t' '$2 == "renamed.txt" { print $4 }' out2/index)"
check_eq "offline.txt recorded" 1 \
	"$(awk -F'\t' '$2 == "offline.txt" { print $3 }' out2/index)"

# A writer that stalls between truncating and writing (a busy machine, a
# slow network disk): the recorder waits for the close and never records
# the empty file in between.
start_recorder
python3 -c '
import time
for i in range(5):
    f = open("w/slow.txt", "w")
    f.flush()
    time.sleep(0.15)
    f.write("slow save %d\n" % i)
    f.close()
    time.sleep(0.4)
'
sleep_ms 300
stop_recorder
expect_success lt history w/slow.txt --list >slow.list
check_eq "five slow saves, five versions" 5 "$(wc -l <slow.list)"
expect_no_grep '^ *[0-9]+  [0-9T:.Z-]+ +0 ' slow.list
check_eq "the last is the last save" "slow save 4" "$(lt history w/slow.txt --version 5)"

expect_success lt verify
expect_no_grep 'failed' record.log
# The recorder's own stderr: no sanitizer report (leaks show at exit).
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
