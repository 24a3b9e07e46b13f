#!/bin/sh
# Recovery: a writer that died leaves its segment unsealed in the index,
# perhaps with a commit the index never learned of, perhaps with a torn or
# uncommitted tail. The next command to open the vault (any command) cuts
# the tail, indexes what was committed, and seals the segment. Each case
# below fakes one such death on a copy of a vault, through the index
# (sqlite3) and the segment file, as the writer would have left them.
. "$(dirname "$0")/test-lib.sh"

lt_init
python3 - <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
def gen(name, n, days, tag):
    with open(name, "w") as f:
        for i in range(n):
            t = "2025-01-%02dT%02d:%02d:%02d.%09dZ" % (days[i % len(days)],
                i // 3600 % 24, i // 60 % 60, i % 60, rnd.randrange(10**9))
            f.write(json.dumps({"t": t, "kind": "note", "data": {
                "tag": tag, "i": i, "text": "%x" % rnd.getrandbits(600)}}) + "\n")
gen("a.jsonl", 1500, [1], "a")
gen("b.jsonl", 1500, [1], "b")
gen("c.jsonl", 1000, [2, 3], "c")
EOF
expect_success lt append --stream a <a.jsonl
expect_success lt log --json >a.json
expect_success lt append --stream b <b.jsonl
expect_success lt log --json >ab.json
check_eq "events of a and b" 3000 "$(wc -l <ab.json)"
cp -a "$LABTAPE_VAULT" base

q() {
	sqlite3 "$1/index.db" "$2"
}
# The segment file (relative to vault DIR) of the Nth segment indexed.
seg_no() {
	hex=$(q "$1" "SELECT lower(hex(seg_id)) FROM segments ORDER BY id
		LIMIT 1 OFFSET $(($2 - 1))")
	(cd "$1" && find segments -name "$hex.seg")
}
# Makes the index forget the blocks of segment FILE, as if its writer had
# died before its commit reached the index: committed_end back to the
# header, unsealed.
unindex() {
	hex=$(basename "$2" .seg)
	q "$1" "PRAGMA foreign_keys=OFF;
		DELETE FROM block_kinds WHERE block IN (SELECT b.id FROM blocks b
			JOIN segments s ON s.id = b.segment
			WHERE hex(s.seg_id) = upper('$hex'));
		DELETE FROM blocks WHERE segment IN (SELECT id FROM segments
			WHERE hex(seg_id) = upper('$hex'));
		UPDATE segments SET committed_end = 64, next_frame = 0, sealed = 0
			WHERE hex(seg_id) = upper('$hex');"
}
size_of() {
	stat -c %s "$1"
}
# Appends N bytes of junk (or the given text) to FILE.
junk() {
	python3 - "$@" <<'EOF'
import os, sys
with open(sys.argv[1], "ab") as f:
    f.write(sys.argv[3].encode() if len(sys.argv) > 3 else os.urandom(int(sys.argv[2])))
EOF
}
# Checks vault DIR after its first command: verify passes, log --json is
# EXPECTED, and a second opening changes nothing.
recovered() {
	expect_success lt verify --vault "$1" >"$1.verify"
	expect_grep ': ok$' "$1.verify"
	expect_no_grep 'problem' "$1.verify"
	expect_success lt log --json --vault "$1" >"$1.json"
	test_cmp "$2" "$1.json"
	check_eq "no segment is left unsealed" 0 \
		"$(q "$1" "SELECT count(*) FROM segments WHERE sealed = 0")"
	tree_sums "$1" | grep -v 'index.db\|lock' >"$1.sums"
	expect_success lt log --json --vault "$1" >"$1.json2"
	tree_sums "$1" | grep -v 'index.db\|lock' >"$1.sums2"
	test_cmp "$1.sums" "$1.sums2"
}

SEG_A=$(seg_no base 1)
SEG_B=$(seg_no base 2)
check "found the segment of a" test -f "base/$SEG_A"
check "found the segment of b" test -f "base/$SEG_B"
check "two segments" test "$SEG_A" != "$SEG_B"
B_SIZE=$(size_of "base/$SEG_B")

# 1. Died after the commit frame was synced, before the index knew: the
# commit counts. Any command recovers it, even one needing no passphrase.
cp -a base v1
unindex v1 "$SEG_B"
check_eq "the index lost b's blocks" 0 \
	"$(q v1 "SELECT count(*) FROM blocks b JOIN segments s ON s.id = b.segment
		WHERE hex(s.seg_id) = upper('$(basename "$SEG_B" .seg)')")"
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" append --vault "$TRASH/v1" \
	--stream x </dev/null
check_eq "recovery sealed the segment" 1 \
	"$(q v1 "SELECT sealed FROM segments WHERE hex(seg_id) = upper('$(basename "$SEG_B" .seg)')")"
recovered v1 ab.json
check_eq "the segment was not cut" "$B_SIZE" "$(size_of "v1/$SEG_B")"

# 2. The same, with a torn write after the commit (junk after the last
# frame): the junk is cut, the commit kept.
cp -a base v2
unindex v2 "$SEG_B"
junk "v2/$SEG_B" 3000
expect_success lt log --json --vault "$TRASH/v2" >v2.first
test_cmp ab.json v2.first
check_eq "the junk was cut" "$B_SIZE" "$(size_of "v2/$SEG_B")"
recovered v2 ab.json

# 3. Junk that looks like the start of a frame.
cp -a base v3
unindex v3 "$SEG_B"
junk "v3/$SEG_B" 0 "LTFR$(printf '\001')garbage that is not a frame header"
recovered v3 ab.json
check_eq "the fake frame was cut" "$B_SIZE" "$(size_of "v3/$SEG_B")"

# 4. Died before the commit frame was written: nothing of that append.
cp -a base v4
unindex v4 "$SEG_B"
truncate -s $((B_SIZE - 100)) "v4/$SEG_B"	# the commit frame is 100 bytes
recovered v4 a.json
check_eq "the uncommitted frames were cut" 64 "$(size_of "v4/$SEG_B")"

# 5. Died while writing the commit frame (torn a few bytes short).
cp -a base v5
unindex v5 "$SEG_B"
truncate -s $((B_SIZE - 3)) "v5/$SEG_B"
recovered v5 a.json
check_eq "the torn commit was cut" 64 "$(size_of "v5/$SEG_B")"

# 6. Died in the middle of a data frame.
cp -a base v6
unindex v6 "$SEG_B"
truncate -s $((B_SIZE / 2)) "v6/$SEG_B"
recovered v6 a.json

# 7. A sealed-and-indexed segment marked unsealed (the index's view of a
# dead writer) with junk after its last commit: only the junk goes.
cp -a base v7
q v7 "UPDATE segments SET sealed = 0"
A_SIZE=$(size_of "v7/$SEG_A")
junk "v7/$SEG_A" 777
junk "v7/$SEG_B" 5
recovered v7 ab.json
check_eq "a's junk was cut" "$A_SIZE" "$(size_of "v7/$SEG_A")"
check_eq "b's junk was cut" "$B_SIZE" "$(size_of "v7/$SEG_B")"

# 8. Died right after creating its segment (indexed, header only), and
# another writer died before its segment was renamed into place.
cp -a base v8
unindex v8 "$SEG_B"
truncate -s 64 "v8/$SEG_B"
day=$(dirname "$SEG_B")
# (A header cut short: a copy of a real one would name b's key file,
# which reindex removes along with the .seg.tmp.)
head -c 40 "v8/$SEG_B" >"v8/$day/0123456789abcdef0123456789abcdef.seg.tmp"
recovered v8 a.json
expect_success lt reindex --vault "$TRASH/v8"
check "reindex removed the .seg.tmp" \
	test ! -e "v8/$day/0123456789abcdef0123456789abcdef.seg.tmp"
recovered v8 a.json

# 9. Recovery leaves alone a segment whose writer is alive (it holds the
# segment's lock), and takes it once the writer is gone.
cp -a base v9
unindex v9 "$SEG_B"
junk "v9/$SEG_B" 100
test_bg python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "rb")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "v9/$SEG_B" v9.locked
holder=$!
i=0
while test $i -lt 250 && ! test -e v9.locked; do
	sleep_ms 20
	i=$((i + 1))
done
check "the segment is locked" test -e v9.locked
expect_success lt log --json --vault "$TRASH/v9" >v9.live
test_cmp a.json v9.live
check_eq "the live segment was not cut" $((B_SIZE + 100)) "$(size_of "v9/$SEG_B")"
kill $holder
wait $holder 2>/dev/null
test_bg_pids=
recovered v9 ab.json
check_eq "cut once its writer was gone" "$B_SIZE" "$(size_of "v9/$SEG_B")"

# 10. An append that spans several segments (several days) and dies
# between committing one segment and the next must still be all or
# nothing ("All or nothing" in 'labtape append --help').
expect_success lt append --stream c <c.jsonl
cp -a "$LABTAPE_VAULT" v10
set -- $(q v10 "SELECT lower(hex(s.seg_id)) FROM segments s JOIN blocks b
	ON b.segment = s.id GROUP BY s.id HAVING sum(b.records) = 500 ORDER BY s.day")
check_eq "c has two segments" 2 "$#"
C1=$(cd v10 && find segments -name "$1.seg")
C2=$(cd v10 && find segments -name "$2.seg")
unindex v10 "$C1"
unindex v10 "$C2"
# Both commit frames made it to disk, the index transaction did not:
# recovery finds both parts of the transaction and keeps them.
cp -a v10 v10b
expect_success lt verify --vault "$TRASH/v10b" >v10b.verify
expect_success lt log --json --vault "$TRASH/v10b" >v10b.json
check_eq "both parts on disk: the whole append is kept" 1000 \
	"$(count_fixed '"tag":"c"' v10b.json)"
# C1's commit frame made it to disk; C2's did not.
truncate -s $(($(size_of "v10/$C2") - 100)) "v10/$C2"
expect_success lt verify --vault "$TRASH/v10" >v10.verify
expect_success lt log --json --vault "$TRASH/v10" >v10.json
n=$(count_fixed '"tag":"c"' v10.json)
say "# a two-segment append cut between its commits: $n of 1000 events kept"
check_eq "one part of two on disk: nothing of the append is kept" 0 "$n"
check "the part that was on disk was cut" \
	test "$(size_of "v10/$C1")" -lt "$(size_of "v10b/$C1")"

test_done
