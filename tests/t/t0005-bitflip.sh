#!/bin/sh
# One flipped byte costs one block: verify finds it and names the file,
# and log prints everything else (exit 1, with a warning naming the
# segment). Also a flipped byte in a key file and in a segment header,
# each in its own copy of the vault.
. "$(dirname "$0")/test-lib.sh"

lt_init

# Stream "big" gets many 64 KiB blocks (random text compresses little);
# "small" one block per day over two days; "other" a few events.
python3 - <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
def t(day, i):
    return "2024-08-%02dT%02d:%02d:%02d.%09dZ" % (day, i // 3600 % 24, i // 60 % 60,
                                              i % 60, rnd.randrange(10**9))
with open("big.jsonl", "w") as f:
    for i in range(4000):
        text = "%x" % rnd.getrandbits(1200)
        f.write(json.dumps({"t": t(1, i * 7), "kind": "note",
                            "data": {"text": text, "i": i}}) + "\n")
with open("small.jsonl", "w") as f:
    for i in range(300):
        f.write(json.dumps({"t": t(1 + i % 2, i * 11), "kind": "marker",
                            "data": {"text": "small %d" % i}}) + "\n")
with open("other.jsonl", "w") as f:
    for i in range(50):
        f.write(json.dumps({"t": t(2, i * 13), "kind": "note",
                            "data": {"text": "other %d" % i}}) + "\n")
EOF
expect_success lt append --stream big <big.jsonl
expect_success lt append --stream small <small.jsonl
expect_success lt append --stream other <other.jsonl
TOTAL=4350

expect_success lt log --json >ref.json
check_eq "all events before the damage" $TOTAL "$(wc -l <ref.json)"
expect_success lt verify >verify.out
expect_grep ': ok$' verify.out
sort ref.json >ref.sorted

q() {
	sqlite3 "$1/index.db" "$2"
}
nblocks=$(q "$LABTAPE_VAULT" "SELECT count(*) FROM blocks")
check "the vault has many blocks ($nblocks)" test "$nblocks" -ge 10
check_eq "segments" 4 "$(q "$LABTAPE_VAULT" "SELECT count(*) FROM segments")"

# The segment of "big": the largest file.
seg=$(cd "$LABTAPE_VAULT" && find segments -name '*.seg' -printf '%s %p\n' |
	sort -n | tail -1 | cut -d' ' -f2)
seg_hex=$(basename "$seg" .seg)
seg_size=$(stat -c %s "$LABTAPE_VAULT/$seg")
say "# big segment: $seg ($seg_size bytes)"

# Flips the byte at OFFSET of FILE.
flip() {
	python3 - "$1" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x20]))
EOF
}

# Events of DAMAGED (log output) compared with the reference: prints
# "missing added" line counts.
diff_counts() {
	sort "$1" >"$1.sorted"
	echo "$(comm -23 ref.sorted "$1.sorted" | wc -l) $(comm -13 ref.sorted "$1.sorted" | wc -l)"
}

# ---- a byte in the middle of a segment -------------------------------------

cp -a "$LABTAPE_VAULT" v1
off=$((seg_size / 2))
flip "v1/$seg" $off
# The block that holds the offset, by the index.
blk=$(q v1 "SELECT b.frame || ' ' || b.records FROM blocks b JOIN segments s
	ON s.id = b.segment WHERE hex(s.seg_id) = upper('$seg_hex')
	AND b.offset <= $off AND $off < b.offset + b.length")
frame=${blk% *}
lost=${blk#* }
check "the flipped byte is inside a block (frame $frame, $lost events)" \
	test -n "$blk" -a "$lost" -gt 0

expect_code 1 lt verify --vault "$TRASH/v1" >v1.verify
expect_grep "^problem: .*segment $TRASH/v1/$seg" v1.verify
expect_grep "PROBLEMS FOUND" v1.verify
expect_grep "verify found [0-9]+ problems in $TRASH/v1" "$ERR"
check_eq "verify counts the other blocks" "$((nblocks - 1))" \
	"$(sed -n 's/.* segments, \([0-9]*\) blocks, .*/\1/p' v1.verify)"
check_eq "verify counts the other events" "$((TOTAL - lost))" \
	"$(sed -n 's/.* blocks, \([0-9]*\) events: .*/\1/p' v1.verify)"

expect_code 1 lt log --json --vault "$TRASH/v1" >v1.json
expect_grep "^labtape: warning: segment $TRASH/v1/$seg frame $frame at offset [0-9]+: " "$ERR"
check_eq "one warning" 1 "$(grep -c warning "$ERR")"
check_eq "log prints all but the damaged block" "$((TOTAL - lost))" "$(wc -l <v1.json)"
check_eq "missing / added events" "$lost 0" "$(diff_counts v1.json)"
check_eq "only events of 'big' are missing" "$lost" \
	"$(comm -23 ref.sorted v1.json.sorted | count_fixed '"stream":"big"' -)"
# The other streams, read alone, are whole and exit 0.
for s in small other; do
	expect_success lt log --json --vault "$TRASH/v1" --stream $s >v1.$s
	grep -F "\"stream\":\"$s\"" ref.json >ref.$s
	test_cmp ref.$s v1.$s
done
# The human form keeps going too.
expect_code 1 lt log --vault "$TRASH/v1" >v1.human
check_eq "human log lines" "$((TOTAL - lost))" "$(wc -l <v1.human)"
# Damage is not "repaired" by opening: the same again.
expect_code 1 lt log --json --vault "$TRASH/v1" >v1b.json
test_cmp v1.json v1b.json

# ---- a byte at the start and at the end of the same segment ------------------

cp -a "$LABTAPE_VAULT" v1e
first=$(q v1e "SELECT b.offset || ' ' || b.records FROM blocks b JOIN segments s
	ON s.id = b.segment WHERE hex(s.seg_id) = upper('$seg_hex') ORDER BY b.frame LIMIT 1")
flip "v1e/$seg" $((${first% *} + 2))	# the first frame's magic
flip "v1e/$seg" $((seg_size - 3))	# the closing commit frame
expect_code 1 lt verify --vault "$TRASH/v1e" >v1e.verify
expect_grep "^problem: .*$TRASH/v1e/$seg" v1e.verify
expect_code 1 lt log --json --vault "$TRASH/v1e" >v1e.json
expect_grep "warning: segment $TRASH/v1e/$seg frame 0 " "$ERR"
check_eq "log loses the first block only" "${first#* } 0" "$(diff_counts v1e.json)"

# ---- a byte in a key file ----------------------------------------------------

# The key of "small" on its first day.
cp -a "$LABTAPE_VAULT" v2
kseg=$(q v2 "SELECT hex(s.key_id) || ' ' || s.day || ' ' || lower(hex(s.seg_id))
	FROM segments s JOIN blocks b ON b.segment = s.id GROUP BY s.id
	HAVING sum(b.records) = 150 ORDER BY s.day LIMIT 1")
set -- $kseg
key_file=$(find v2/keys -iname "$1.key")
kday_seg=$(find v2/segments -name "$3.seg")
check "found the key file" test -f "$key_file"
klost=$(q v2 "SELECT sum(records) FROM blocks WHERE segment =
	(SELECT id FROM segments WHERE hex(key_id) = '$1')")
flip "$key_file" 100
expect_code 1 lt verify --vault "$TRASH/v2" >v2.verify
expect_grep "^problem: segment $TRASH/$kday_seg: key file '$TRASH/$key_file' is damaged" v2.verify
expect_code 1 lt log --json --vault "$TRASH/v2" >v2.json
expect_grep "^labtape: warning: segment $TRASH/$kday_seg frame 0 at offset 64: key file '$TRASH/$key_file' is damaged" "$ERR"
check_eq "log loses that key's events only" "$klost 0" "$(diff_counts v2.json)"
check_eq "the lost events are of 'small'" "$klost" \
	"$(comm -23 ref.sorted v2.json.sorted | count_fixed '"stream":"small"' -)"
# Even asked for another stream, log warns: without the key it cannot tell
# which stream the unreadable block belongs to (names are encrypted).
expect_code 1 lt log --json --vault "$TRASH/v2" --stream big >v2.big
expect_grep "warning: .*key file '$TRASH/$key_file' is damaged" "$ERR"
grep -F '"stream":"big"' ref.json >ref.big
test_cmp ref.big v2.big
# stats cannot name the stream of a damaged key; it still counts it.
expect_success lt stats --vault "$TRASH/v2" >v2.stats
expect_grep '\(unreadable\)' v2.stats

# A key file that is gone (crypto-shredded): the same, with its own words.
cp -a "$LABTAPE_VAULT" v2g
rm "v2g/${key_file#v2/}"
expect_code 1 lt verify --vault "$TRASH/v2g" >v2g.verify
expect_grep "key file '.*' is gone" v2g.verify
expect_code 1 lt log --json --vault "$TRASH/v2g" >v2g.json
expect_grep "is gone: its data can no longer be read" "$ERR"
check_eq "log loses that key's events only" "$klost 0" "$(diff_counts v2g.json)"

# ---- a byte in a segment header ------------------------------------------------

cp -a "$LABTAPE_VAULT" v3
oseg=$(q v3 "SELECT lower(hex(s.seg_id)) FROM segments s JOIN blocks b
	ON b.segment = s.id GROUP BY s.id HAVING sum(b.records) = 50")
oseg_file=$(cd v3 && find segments -name "$oseg.seg")
check "found the segment of 'other'" test -n "$oseg_file"
flip "v3/$oseg_file" 20		# inside the segment id
expect_code 1 lt verify --vault "$TRASH/v3" >v3.verify
expect_grep "^problem: segment $TRASH/v3/$oseg_file: header: .*checksum" v3.verify
# log does not need the header (blocks carry what they need): it prints
# every other segment's events at least.
lt log --json --vault "$TRASH/v3" >v3.json 2>v3.err
set -- $(diff_counts v3.json)
check_eq "no event invented" 0 "$2"
check "at most the 50 events of that segment are missing" test "$1" -le 50
check_eq "every event of the other streams is there" 0 \
	"$(comm -23 ref.sorted v3.json.sorted | grep -vcF '"stream":"other"')"
say "# with a damaged segment header, log printed $(wc -l <v3.json) of $TOTAL events"
# reindex leaves the damaged segment out of the index and says so; the
# rest stays readable.
expect_success lt reindex --vault "$TRASH/v3"
expect_grep "segment $TRASH/v3/$oseg_file: .*left out of the index" "$ERR"
expect_success lt log --json --vault "$TRASH/v3" >v3r.json
check_eq "after reindex: all but that segment" "50 0" "$(diff_counts v3r.json)"
expect_code 1 lt verify --vault "$TRASH/v3" >v3r.verify
expect_grep "^problem: segment $TRASH/v3/$oseg_file is not in the index" v3r.verify

# The original is untouched by all this.
expect_success lt verify >verify2.out
expect_grep ': ok$' verify2.out

test_done
