#!/bin/sh
# labtape forget: a time range (whole and partly covered segments), a
# stream, a kind, everything. Forgotten events are in no command's output
# and no file of the vault, their keys are gone so that an old copy of a
# segment cannot be read even with the passphrase, kept events are byte
# for byte what they were, verify passes and reindex agrees. A kill -9 at
# every step of a forget leaves each segment as it was before or after.
. "$(dirname "$0")/test-lib.sh"

lt_init

# Five days, three streams; every event carries a unique marker
# U-<stream>-<day>-<hour>-<kind>. Kind control.pause occurs only on
# 2024-07-03, to show that the index forgets kind names too.
python3 - <<'EOF'
for s in ("notes", "term:1", "lab"):
    with open("in-%s.jsonl" % s.replace(":", "_"), "w") as f:
        for d in range(1, 6):
            for h in (3, 9, 15, 21):
                for k, m in (("note", 0), ("marker", 20)):
                    t = "2024-07-%02dT%02d:%02d:00Z" % (d, h, m + (len(s) % 7))
                    u = "U-%s-%d-%d-%s" % (s.replace(":", "_"), d, h, k)
                    f.write('{"t":"%s","kind":"%s","data":{"text":"%s"}}\n'
                            % (t, k, u))
                if d == 3 and s == "lab":
                    f.write('{"t":"2024-07-03T%02d:40:00Z","kind":"control.pause",'
                            '"data":{"reason":"U-pause-%d"}}\n' % (h, h))
EOF
for s in notes term:1 lab; do
	expect_success lt append --stream "$s" <"in-$(echo $s | tr : _).jsonl"
done
expect_success lt log --json >before.json
check_eq "events appended" 124 "$(wc -l <before.json)"
check "the index knows kind control.pause" \
	grep -q -a -r control.pause "$LABTAPE_VAULT"

# keep(FROM UNTIL [STREAM [KIND]]) prints before.json without the events
# the selection matches (canonical times compare as strings).
keep() {
	python3 - "$@" <<'EOF'
import json, sys
a = sys.argv[1:] + [None, None]
lo, hi, stream, kind = a[0], a[1], a[2] or None, a[3] or None
for line in open("before.json"):
    e = json.loads(line)
    sel = lo <= e["t"] < hi and (not stream or e["stream"] == stream) \
        and (not kind or e["kind"] == kind)
    if not sel:
        sys.stdout.write(line)
EOF
}
FROM=2024-07-02T12:00:00.000000000Z
UNTIL=2024-07-04T12:00:00.000000000Z
keep $FROM $UNTIL >expect1.json
grep -v -F -x -f expect1.json before.json | sed -n 's/.*"\(U-[^"]*\)".*/\1/p' \
	>forgotten1
check "the range selects events" test "$(wc -l <forgotten1)" -gt 30

# The segment of 2024-07-03 (whole) and of 2024-07-02 (partly) of "lab",
# copied before: afterwards they must not be readable, passphrase or not.
mkdir old
cp -r "$LABTAPE_VAULT/segments/2024-07-03" old/
key_of() {	# segment file: its key file (key id at bytes 32..47)
	k=$(od -An -tx1 -j32 -N16 "$1" | tr -d ' \n')
	d=$(basename "$(dirname "$1")")
	echo "$LABTAPE_VAULT/keys/$d/$k.key"
}
oldkeys=
for f in old/2024-07-03/*.seg "$LABTAPE_VAULT"/segments/2024-07-02/*.seg; do
	oldkeys="$oldkeys $(key_of "$f")"
done
for k in $oldkeys; do
	check "key $(basename "$k") exists before" test -f "$k"
done

# ---- dry run and confirmation change nothing ------------------------------

tree_sums "$LABTAPE_VAULT" | grep -v -e index.db -e ' ./lock$' >sums.before
expect_success lt forget --from $FROM --until $UNTIL --dry-run >plan.out
expect_grep '^  whole +2024-07-03 +lab +' plan.out
expect_grep '^  partly +2024-07-02 +notes +' plan.out
expect_grep '^  partly +2024-07-04 +term:1 +' plan.out
expect_grep "^events: $(wc -l <forgotten1) to forget" plan.out
expect_grep '^days: 2024-07-02, 2024-07-03, 2024-07-04$' plan.out
# No terminal (setsid), no --yes: refused.
expect_failure setsid -w "$LABTAPE" forget --from $FROM --until $UNTIL </dev/null >noterm.out
expect_grep 'no terminal' "$ERR"
expect_code 2 lt forget --from $FROM
expect_code 2 lt forget --all --until $UNTIL
tree_sums "$LABTAPE_VAULT" | grep -v -e index.db -e ' ./lock$' >sums.after
test_cmp sums.before sums.after

# ---- a range in the middle -------------------------------------------------

expect_success lt forget --yes --from $FROM --until $UNTIL >forget1.out
expect_grep 'forgot [0-9]+ events: 3 segments shredded, 6 rewritten' "$ERR"
expect_success lt log --json >after1.json
test_cmp expect1.json after1.json
hits=0
while read -r u; do
	grep -q -F -- "$u" after1.json && hits=$((hits + 1))
	grep -q -a -r -F -- "$u" "$LABTAPE_VAULT" && hits=$((hits + 1))
done <forgotten1
check_eq "forgotten markers in the log or any vault file" 0 "$hits"
check "kind control.pause is in no vault file (index, WAL)" \
	sh -c "! grep -q -a -r control.pause '$LABTAPE_VAULT'"
for k in $oldkeys; do
	check "key $(basename "$k") is destroyed" test ! -e "$k"
done
check_eq "no day folder left for 2024-07-03" "" \
	"$(ls -d "$LABTAPE_VAULT"/segments/2024-07-03 "$LABTAPE_VAULT"/keys/2024-07-03 2>/dev/null)"
check_eq "no journal, no temporary files" "" \
	"$(find "$LABTAPE_VAULT" -name '*.tmp*' -o -name 'forget.journal*')"
check "the WAL is empty" sh -c "! test -s '$LABTAPE_VAULT/index.db-wal'"
expect_success lt verify >verify.out
expect_grep ': ok$' verify.out
expect_success lt reindex
expect_success lt log --json >after1r.json
test_cmp expect1.json after1r.json
expect_success lt verify >verify.out
expect_grep ': ok$' verify.out

# An old copy of the forgotten segments, put back: the passphrase does not
# open them, and the log shows nothing of them.
cp -a "$LABTAPE_VAULT" attack
mkdir -p attack/segments/2024-07-03
cp old/2024-07-03/*.seg attack/segments/2024-07-03/
expect_success lt reindex --vault attack
expect_failure lt log --json --vault attack >attack.json
expect_grep 'key file .* is gone' "$ERR"
test_cmp expect1.json attack.json
hits=0
while read -r u; do
	grep -q -F -- "$u" attack.json && hits=$((hits + 1))
done <forgotten1
check_eq "forgotten markers readable from the old copy" 0 "$hits"
# forget --all removes such unreadable segments too.
expect_success lt forget --vault attack --all --kind no.such.kind --yes >attack1.out
expect_success lt forget --vault attack --from 2024-07-03 --until 2024-07-04 --yes >attack2.out
expect_grep "^  unreadable +2024-07-03 " attack2.out
expect_success lt verify --vault attack >verify.out
expect_grep ': ok$' verify.out

# ---- by stream, by kind ----------------------------------------------------

python3 - >expect2.json <<'EOF'
import json
for line in open("expect1.json"):
    if json.loads(line)["stream"] != "lab":
        print(line, end="")
EOF
expect_success lt forget --yes --stream lab --all >forget2.out
expect_success lt log --json >after2.json
test_cmp expect2.json after2.json
check_eq "nothing of stream lab in the log" 0 "$(count_fixed '"stream":"lab"' after2.json)"

python3 - >expect3.json <<'EOF'
import json
for line in open("expect2.json"):
    e = json.loads(line)
    if not (e["kind"] == "marker" and "2024-07-01" <= e["t"] < "2024-07-05T09"):
        print(line, end="")
EOF
expect_success lt forget --yes --kind marker --from 2024-07-01 --until 2024-07-05T09:00:00Z >forget3.out
expect_success lt log --json >after3.json
test_cmp expect3.json after3.json
check "markers of 2024-07-05 after 09:00 are kept" grep -q '"t":"2024-07-05T15.*marker' after3.json
expect_success lt verify >verify.out
expect_grep ': ok$' verify.out

# Nothing selected: says so, changes nothing.
expect_success lt forget --yes --kind no.such.kind --all >none.out
expect_grep '^nothing to forget' none.out

# ---- a kill -9 after every step --------------------------------------------

# Back to the first state: a fresh vault with the same events.
rm -rf "$LABTAPE_VAULT"
lt_init
for s in notes term:1 lab; do
	expect_success lt append --stream "$s" <"in-$(echo $s | tr : _).jsonl"
done
cp -a "$LABTAPE_VAULT" pristine
# A range with whole and partial segments, and a few steps for each.
CF=2024-07-02T18:00:00Z
CU=2024-07-04T00:00:00Z
keep 2024-07-02T18:00:00.000000000Z 2024-07-04T00:00:00.000000000Z >expect-crash.json

# Each (stream, day) is one segment: after a crash each must show its
# events before or after the forget, never anything else.
cat >groups.py <<'EOF'
import json, sys
def groups(path):
    g = {}
    for line in open(path):
        e = json.loads(line)
        g.setdefault((e["stream"], e["t"][:10]), []).append(line)
    return g
b, a, c = (groups(p) for p in sys.argv[1:4])
bad = [k for k in set(b) | set(a) | set(c) if c.get(k) not in (b.get(k), a.get(k))]
after = sum(1 for k in c if c.get(k) == a.get(k) and a.get(k) != b.get(k))
print("bad" if bad else "after=%d" % after, sorted(bad)[:3])
EOF
step=1
states=
while test $step -lt 100; do
	rm -rf "$LABTAPE_VAULT"
	cp -a pristine "$LABTAPE_VAULT"
	st=0
	LABTAPE_FAULT_FORGET_STEP=$step "$LABTAPE" forget --yes \
		--from $CF --until $CU >/dev/null 2>crash.err || st=$?
	if test $st = 0; then
		break
	fi
	check_eq "forget killed at step $step" 137 "$st"
	expect_success lt verify >verify.out
	expect_success lt log --json >crash.json
	res=$(python3 groups.py before.json expect-crash.json crash.json)
	case $res in
	bad*)	fail "step $step: a segment is neither before nor after: $res" ;;
	*)	pass "step $step: every segment before or after ($res)"
		states="$states ${res%% *}" ;;
	esac
	check_eq "step $step: no journal left" "" \
		"$(find "$LABTAPE_VAULT" -name 'forget.journal*')"
	step=$((step + 1))
done
say "# states after each crash:$states"
check "forget has several steps" test "$step" -gt 8
expect_success lt log --json >crash-done.json
test_cmp expect-crash.json crash-done.json

# ---- everything ------------------------------------------------------------

expect_success lt forget --yes --all >forget4.out
expect_success lt log --json >all.json
check_eq "nothing left" 0 "$(wc -l <all.json)"
check_eq "no segment or key file left" "" \
	"$(find "$LABTAPE_VAULT/segments" "$LABTAPE_VAULT/keys" -type f)"
expect_success lt verify >verify.out
expect_grep '^0 segments, 0 blocks, 0 events: ok$' verify.out

# ---- the audit log ---------------------------------------------------------

# Every forget is an entry: the selection and the counts (this vault is
# the one of the crash runs, then of forget --all).
expect_success lt audit --json >audit.json
check "forgets are in the audit log" python3 -c "
import json
e = [json.loads(l)['detail'] for l in open('audit.json') if json.loads(l)['action'] == 'forget']
last = e[-1]
assert len(e) >= 2 and all(x['complete'] for x in e), e
assert last == dict(last, stream=None, kind=None, **{'from': None, 'until': None}), last
assert last['complete'] and last['events'] > 0, last"
expect_success lt audit --verify

test_done
