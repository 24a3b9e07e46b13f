#!/bin/sh
# A full disk: an append that cannot write fails with a clear error, keeps
# nothing, and leaves the vault verifying and readable as before. First
# with injected faults (LABTAPE_FAULT_ENOSPC=N: every write after the
# first N bytes fails), at budgets that fail in every phase of an append;
# then, where mounting is allowed, on a real 2 MiB tmpfs.
. "$(dirname "$0")/test-lib.sh"

lt_init

python3 - <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
def gen(name, n, day, tag, bits=800):
    with open(name, "w") as f:
        for i in range(n):
            t = "2024-09-%02dT%02d:%02d:%02d.%09dZ" % (day, i // 3600 % 24,
                i // 60 % 60, i % 60, rnd.randrange(10**9))
            f.write(json.dumps({"t": t, "kind": "note", "data": {
                "tag": tag, "i": i, "text": "%x" % rnd.getrandbits(bits)}}) + "\n")
gen("before.jsonl", 500, 1, "before")
gen("big.jsonl", 3000, 2, "big")          # about 300 KB on disk
for k in range(12):
    gen("chunk%d.jsonl" % k, 3000, 3, "chunk%d" % k)
gen("small.jsonl", 20, 4, "small", 64)
EOF

expect_success lt append --stream notes <before.jsonl
expect_success lt log --json >before.json
check_eq "events before" 500 "$(wc -l <before.json)"

vault_files() {
	(cd "$1" && find segments keys -type f | sort)
}
vault_files "$LABTAPE_VAULT" >files.before

# What a whole append of big.jsonl writes: its key file and its segment
# (header, data frames, commit frame); measured on a copy.
cp -a "$LABTAPE_VAULT" probe
expect_success lt append --vault "$TRASH/probe" --stream notes <big.jsonl
vault_files probe >files.probe
new=$(comm -13 files.before files.probe)
check_eq "one append makes one key file and one segment" 2 \
	"$(echo "$new" | wc -l)"
TOTAL=0
for f in $new; do
	TOTAL=$((TOTAL + $(stat -c %s "probe/$f")))
done
say "# an append of big.jsonl writes $TOTAL bytes"
check "it writes more than 100000 bytes" test "$TOTAL" -gt 100000

# Budgets: before the key file is written, inside it, inside the segment
# header, in the data frames, in the last data frame, in the commit frame.
for budget in 0 100 200 5000 100000 $((TOTAL - 101)) $((TOTAL - 100)) \
	$((TOTAL - 1)); do
	expect_failure env LABTAPE_FAULT_ENOSPC=$budget "$LABTAPE" append \
		--stream notes <big.jsonl
	expect_grep '^labtape: .*(No space left on device|disk full).*nothing was appended' "$ERR"
	expect_success lt verify >verify.out
	expect_grep ': ok$' verify.out
	expect_success lt log --json >after.json
	test_cmp before.json after.json
	vault_files "$LABTAPE_VAULT" >files.after
	test_cmp files.before files.after
done
# With exactly enough, it works, and the vault has both.
expect_success env LABTAPE_FAULT_ENOSPC=$TOTAL "$LABTAPE" append \
	--stream notes <big.jsonl
expect_success lt log --json >both.json
check_eq "events after a full append" 3500 "$(wc -l <both.json)"
expect_success lt log --json --vault "$TRASH/probe" >probe.json
test_cmp probe.json both.json
cp both.json before.json
vault_files "$LABTAPE_VAULT" >files.before

# Reading and verifying write nothing of their own through these paths.
expect_success env LABTAPE_FAULT_ENOSPC=0 "$LABTAPE" verify >verify.out
expect_success env LABTAPE_FAULT_ENOSPC=0 "$LABTAPE" log --json >ro.json
test_cmp before.json ro.json

# ---- a real full disk ----------------------------------------------------------

mkdir mnt
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$TRASH/mnt" 2>mount.err; then
	say "# skipped: cannot mount a tmpfs here ($(head -1 mount.err)); the injected faults above still ran"
	test_done
fi
test_when_finished 'umount "$TRASH/mnt"'
V=$TRASH/mnt/vault
expect_success lt init --vault "$V"

# Fill it chunk by chunk until an append fails.
: >good.json
failed=
for k in 0 1 2 3 4 5 6 7 8 9 10 11; do
	test_run "$LABTAPE" append --vault "$V" --stream "disk" <chunk$k.jsonl
	if test "$test_status" = 0; then
		continue
	fi
	failed=chunk$k
	break
done
check "an append failed once the disk was full (at $failed)" test -n "$failed"
expect_grep '^labtape: .*(No space left on device|disk full).*nothing was appended' "$ERR"
expect_success lt verify --vault "$V" >verify.out
expect_grep ': ok$' verify.out
expect_success lt log --json --vault "$V" >disk.json
n_ok=${failed#chunk}
check_eq "log shows exactly the appends that succeeded" "$((n_ok * 3000))" \
	"$(wc -l <disk.json)"
check_eq "none of the failed append" 0 "$(count_fixed "\"tag\":\"$failed\"" disk.json)"
check_eq "all of the last good one" 3000 \
	"$(count_fixed "\"tag\":\"chunk$((n_ok - 1))\"" disk.json)"
check_eq "no debris from the failed append" 0 \
	"$(find "$V" -name '*.tmp*' | wc -l)"

# Now the index's turn: leave only a few 4 KiB pages free and append a
# little, so that the key file, the segment or SQLite runs out. Every
# attempt must succeed or fail cleanly, and then (with some room again)
# the vault must verify and hold exactly what succeeded.
fill() {
	dd if=/dev/zero bs=4096 2>/dev/null >>"$TRASH/mnt/filler"
}
ok_small=0
for pages in 1 2 3 4 5 6 8 10 12 16 20 24 32; do
	fill
	size=$(stat -c %s "$TRASH/mnt/filler")
	truncate -s $((size - pages * 4096)) "$TRASH/mnt/filler"
	test_run "$LABTAPE" append --vault "$V" --stream small <small.jsonl
	case $test_status in
	0)	ok_small=$((ok_small + 1))
		pass "append with $pages pages free: succeeded" ;;
	1)	if grep -Eq '(No space left on device|disk full)' "$ERR"; then
			pass "append with $pages pages free: failed with '$(head -c 100 "$ERR")'"
		else
			fail "append with $pages pages free: unexpected error"
			test_show "$ERR"
		fi ;;
	*)	fail "append with $pages pages free: exit $test_status"
		test_show "$ERR" ;;
	esac
	# Reading on a full disk: works, or says the disk is full.
	test_run "$LABTAPE" log --json --vault "$V" --stream small >/dev/null
	if test "$test_status" = 0 ||
	   grep -q 'disk full (free some space' "$ERR"; then
		pass "log with $pages pages free: ok or 'disk full'"
	else
		fail "log with $pages pages free: exit $test_status"
		test_show "$ERR"
	fi
	rm "$TRASH/mnt/filler"
	expect_success lt verify --vault "$V" >verify.out
	expect_grep ': ok$' verify.out
	expect_success lt log --json --vault "$V" --stream small >small.json
	check_eq "small events = 20 x appends that succeeded" \
		"$((ok_small * 20))" "$(wc -l <small.json)"
done
expect_success lt log --json --vault "$V" --stream disk >disk2.json
test_cmp disk.json disk2.json
check_eq "no temporary files left" 0 "$(find "$V" -name '*.tmp*' | wc -l)"
expect_success lt verify --vault "$V" >verify.out
expect_no_grep 'problem' verify.out

test_done
