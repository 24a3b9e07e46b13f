#!/bin/sh
# The index can be rebuilt from the segments at any time: after deleting
# index.db or running 'labtape reindex', log and stats say exactly the same
# and verify passes. reindex refuses while another process uses the vault.
. "$(dirname "$0")/test-lib.sh"

lt_init

python3 - <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
kinds = [("note", lambda i: {"text": "note %d %x" % (i, rnd.getrandbits(300))}),
         ("marker", lambda i: {"text": "mark %d" % i, "session": "s%d" % (i % 3)}),
         ("edit.op", lambda i: {"doc": "d%d" % (i % 4), "seq": i, "op": "insert",
                                "pos": i % 17, "ins": "x" * (i % 5)})]
for s in range(4):
    with open("in%d.jsonl" % s, "w") as f:
        for i in range(1500):
            k, data = kinds[(i + s) % 3]
            # Same times in several streams: ties must order the same way.
            t = "2024-10-%02dT%02d:%02d:%02d.%09dZ" % (1 + i % 3, i // 60 % 24,
                                                       i % 60, s, (i % 7) * 1000)
            f.write(json.dumps({"t": t, "kind": k, "data": data(i)}) + "\n")
EOF
for s in 0 1 2 3; do
	expect_success lt append --stream "stream $s" <in$s.jsonl
done
# A second append to one stream: two writers' segments for one stream/day.
expect_success lt append --stream "stream 0" <in1.jsonl

expect_success lt log --json >before.json
check_eq "events" 7500 "$(wc -l <before.json)"
expect_success lt log >before.human
expect_success lt stats >before.stats
expect_success lt log --json --kind marker --stream "stream 2" \
	--since 2024-10-02 >before.filtered
check "the filtered log is not empty" test -s before.filtered
sqlite3 "$LABTAPE_VAULT/index.db" "SELECT count(*) FROM blocks" >before.blocks
sqlite3 "$LABTAPE_VAULT/index.db" "SELECT count(*) FROM segments" >before.segments

same_as_before() {
	expect_success lt log --json >after.json
	test_cmp before.json after.json
	expect_success lt log >after.human
	test_cmp before.human after.human
	expect_success lt stats >after.stats
	test_cmp before.stats after.stats
	expect_success lt log --json --kind marker --stream "stream 2" \
		--since 2024-10-02 >after.filtered
	test_cmp before.filtered after.filtered
	sqlite3 "$LABTAPE_VAULT/index.db" "SELECT count(*) FROM blocks" >after.blocks
	test_cmp before.blocks after.blocks
	sqlite3 "$LABTAPE_VAULT/index.db" "SELECT count(*) FROM segments" >after.segments
	test_cmp before.segments after.segments
	expect_success lt verify >verify.out
	expect_grep '^[0-9]+ segments, [0-9]+ blocks, 7500 events: ok$' verify.out
}

# 1. labtape reindex.
expect_success lt reindex
expect_grep "^indexed $(cat before.blocks) blocks in $(cat before.segments) segments" "$ERR"
same_as_before

# 2. The index deleted: the next command rebuilds it (no passphrase needed
# for that: the first command here is an append of nothing).
rm -f "$LABTAPE_VAULT/index.db" "$LABTAPE_VAULT/index.db-wal" \
	"$LABTAPE_VAULT/index.db-shm"
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" append --stream x </dev/null
check "index.db is back" test -s "$LABTAPE_VAULT/index.db"
check_eq "index.db is private" 600 "$(file_mode "$LABTAPE_VAULT/index.db")"
same_as_before

# 3. Deleted again, and the first command is a reader.
rm -f "$LABTAPE_VAULT/index.db"
expect_success lt log --json >after.json
test_cmp before.json after.json
same_as_before

# 4. An index that is garbage, or belongs to another vault, is refused with
# advice; following the advice works.
cp "$LABTAPE_VAULT/index.db" index.good
lt init --vault "$TRASH/other" 2>/dev/null
cp "$TRASH/other/index.db" "$LABTAPE_VAULT/index.db"
expect_failure lt log
expect_grep "belongs to another vault \(remove index.db and run 'labtape reindex'\)" "$ERR"
rm "$LABTAPE_VAULT/index.db"
expect_success lt reindex
same_as_before
sqlite3 "$LABTAPE_VAULT/index.db" "UPDATE meta SET value = 99 WHERE key = 'version'"
expect_failure lt log
expect_grep "index of .* has version 99.*labtape reindex" "$ERR"
rm "$LABTAPE_VAULT/index.db"
expect_success lt reindex
same_as_before

# 5. Leftovers of a writer that died while creating a segment: reindex
# removes them; verify ignores them meanwhile.
day=$(ls "$LABTAPE_VAULT/segments" | head -1)
printf 'LTAPESEG' >"$LABTAPE_VAULT/segments/$day/00000000000000000000000000000000.seg.tmp"
chmod 600 "$LABTAPE_VAULT/segments/$day/00000000000000000000000000000000.seg.tmp"
expect_success lt verify >verify.out
expect_success lt reindex
expect_grep "removed '.*\.seg\.tmp', left by a writer that died" "$ERR"
check "the .seg.tmp is gone" test ! -e "$LABTAPE_VAULT/segments/$day/00000000000000000000000000000000.seg.tmp"
# A stray file is left alone, and verify complains about it.
echo hello >"$LABTAPE_VAULT/segments/$day/notes.txt"
expect_success lt reindex
expect_grep "'.*notes.txt' is not a segment; left alone" "$ERR"
check "the stray file is still there" test -f "$LABTAPE_VAULT/segments/$day/notes.txt"
expect_code 1 lt verify >verify.out
expect_grep "notes.txt' is not a segment file" verify.out
rm "$LABTAPE_VAULT/segments/$day/notes.txt"
same_as_before

# 6. reindex refuses while another process uses the vault (an append
# waiting for input on a fifo), and says so; the writer is not disturbed.
mkfifo feed
test_bg sh -c 'exec "$LABTAPE" append --stream live <feed'
writer=$!
exec 8>feed
echo '{"t":"2024-10-05T00:00:00Z","kind":"note","data":{"text":"live 1"}}' >&8
i=0
while test $i -lt 250 && ! test -e "$LABTAPE_VAULT/segments/2024-10-05"; do
	sleep_ms 20
	i=$((i + 1))
done
check "the live writer has started a segment" test -d "$LABTAPE_VAULT/segments/2024-10-05"
expect_failure lt reindex
expect_grep "vault '$LABTAPE_VAULT' is in use by another labtape process" "$ERR"
check "the writer still runs" kill -0 $writer
# Readers and other writers are fine meanwhile.
expect_success lt log --json >during.json
test_cmp before.json during.json
expect_success lt verify >verify.out
expect_grep ': ok$' verify.out
echo '{"t":"2024-10-05T00:00:01Z","kind":"note","data":{"text":"live 2"}}' >&8
exec 8>&-
st=0
wait $writer || st=$?
check_eq "the live append exits" 0 "$st"
test_bg_pids=
expect_success lt log --json --stream live >live.json
check_eq "both live events are there" 2 "$(wc -l <live.json)"
expect_success lt reindex
expect_success lt log --json --stream live >live2.json
test_cmp live.json live2.json

test_done
