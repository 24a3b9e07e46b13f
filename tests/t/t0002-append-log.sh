#!/bin/sh
# labtape append and log: canonical JSON byte for byte, time order across
# streams and days, the filters, default times, all-or-nothing appends that
# name the bad line, and the passphrase check on reading.
. "$(dirname "$0")/test-lib.sh"

lt_init

# ---- canonical JSON ----------------------------------------------------------

# Given out of order, with an offset, escapes, nesting and unsorted keys.
cat >a.jsonl <<'EOF'
{"t":"2024-01-02T03:04:05.5+02:00","kind":"note","data":{"text":"h\u00e9llo \"q\" / \\ \n\ttab \u0001 \ud83d\ude00","zeta":null,"alpha":[1,-2,3.25,true,false,{"b":1,"a":2}],"big":12345678901234}}
{"t":"2024-01-01T23:59:59.999999999Z","kind":"edit.op","data":{"seq":0,"op":"insert","doc":"d1","pos":0,"ins":"abc","native":{"x":[{"z":1,"y":2}]}}}
{"t":"2024-01-02T00:00:00Z","stream":"notes","kind":"marker","data":{"text":"m","session":"4f2a"}}
{ "data" : { "text" : "spaces" } , "kind" : "note" , "t" : "2024-01-02t00:00:01.000000001z" }
EOF
expect_success lt append --stream notes <a.jsonl
cat >a.expect <<'EOF'
{"t":"2024-01-01T23:59:59.999999999Z","stream":"notes","kind":"edit.op","data":{"doc":"d1","ins":"abc","native":{"x":[{"y":2,"z":1}]},"op":"insert","pos":0,"seq":0}}
{"t":"2024-01-02T00:00:00.000000000Z","stream":"notes","kind":"marker","data":{"session":"4f2a","text":"m"}}
{"t":"2024-01-02T00:00:01.000000001Z","stream":"notes","kind":"note","data":{"text":"spaces"}}
{"t":"2024-01-02T01:04:05.500000000Z","stream":"notes","kind":"note","data":{"alpha":[1,-2,3.25,true,false,{"a":2,"b":1}],"big":12345678901234,"text":"héllo \"q\" / \\ \n\ttab \u0001 😀","zeta":null}}
EOF
expect_success lt log --json >a.out
test_cmp a.expect a.out

# The human form: one line per event, same order, time stream kind text.
expect_success lt log >a.human
check_eq "human log lines" 4 "$(wc -l <a.human)"
expect_grep '^2024-01-01 23:59:59\.999 +notes +edit\.op' a.human
check_eq "human order" "edit.op marker note note" \
	"$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $4 }' a.human)"
sed -n 2p a.human >line2
expect_grep '^2024-01-02 00:00:00\.000 +notes +marker +m$' line2

# Reading it again gives the same bytes.
expect_success lt log --json >a.out2
test_cmp a.out a.out2

# ---- several streams, interleaved in time, over several days ------------------

# s_i gets events at minutes i, i+3, i+6, ... so that the merge interleaves;
# "days" spans three UTC days in one append (several segments).
python3 - <<'EOF'
import json
for s in range(3):
    with open("s%d.jsonl" % s, "w") as f:
        for k in range(40):
            m = s + 3 * k
            t = "2024-02-10T%02d:%02d:00.%09dZ" % (10 + m // 60, m % 60, s)
            ev = {"t": t, "kind": "note", "data": {"text": "s%d k%d" % (s, k)}}
            f.write(json.dumps(ev) + "\n")
with open("days.jsonl", "w") as f:
    for d in (13, 11, 12):
        for h in (23, 0, 12):
            t = "2024-02-%02dT%02d:30:00Z" % (d, h)
            ev = {"t": t, "kind": "marker", "data": {"text": "d%d h%d" % (d, h)}}
            f.write(json.dumps(ev) + "\n")
EOF
for s in 0 1 2; do
	expect_success lt append --stream "term:$s" <s$s.jsonl
done
expect_success lt append --stream 'days of a week' <days.jsonl
check_eq "days made segments in three day folders" \
	"2024-01-01 2024-01-02 2024-02-10 2024-02-11 2024-02-12 2024-02-13" \
	"$(ls "$LABTAPE_VAULT/segments" | tr '\n' ' ' | sed 's/ $//')"

expect_success lt log --json >all.out
check_eq "all events" 133 "$(wc -l <all.out)"
python3 - all.out >order.out <<'EOF'
import json, sys
prev = ""
bad = 0
for line in open(sys.argv[1]):
    t = json.loads(line)["t"]
    if t < prev:
        bad += 1
    prev = t
print(bad)
EOF
check_eq "log is in time order" 0 "$(cat order.out)"
# Interleaving: the term streams alternate 0 1 2 0 1 2 ...
check_eq "streams interleave" "term:0 term:1 term:2 term:0 term:1 term:2" \
	"$(grep '"term:' all.out | head -6 | sed 's/.*"stream":"\([^"]*\)".*/\1/' |
	   tr '\n' ' ' | sed 's/ $//')"

# --stream: exactly one stream's events, in order.
expect_success lt log --json --stream term:1 >s1.out
check_eq "--stream term:1 count" 40 "$(wc -l <s1.out)"
check_eq "--stream term:1 only" 40 "$(count_fixed '"stream":"term:1"' s1.out)"
python3 - s1.jsonl >s1.expect <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e["t"]
    print('{"t":"%s","stream":"term:1","kind":"note","data":{"text":"%s"}}'
          % (t, e["data"]["text"]))
EOF
test_cmp s1.expect s1.out
expect_success lt log --json --stream 'days of a week' >days.out
check_eq "stream name with spaces" 9 "$(wc -l <days.out)"
check_eq "days in order" "d11 h0,d11 h12,d11 h23,d12 h0,d12 h12,d12 h23,d13 h0,d13 h12,d13 h23" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' days.out | paste -sd, -)"
expect_success lt log --json --stream no-such-stream >none.out
check "unknown stream: no events" test ! -s none.out

# --kind
expect_success lt log --json --kind marker >marker.out
check_eq "--kind marker" 10 "$(wc -l <marker.out)"
check_eq "--kind marker only" 10 "$(count_fixed '"kind":"marker"' marker.out)"
expect_success lt log --json --kind edit.op >edit.out
head -1 a.expect >edit.expect
test_cmp edit.expect edit.out
expect_success lt log --json --kind marker --stream notes >mn.out
sed -n 2p a.expect >mn.expect
test_cmp mn.expect mn.out
expect_success lt log --json --kind no.such.kind >nk.out
check "unknown kind: no events" test ! -s nk.out

# --since is inclusive, --until exclusive, to the nanosecond.
expect_success lt log --json --since 2024-02-10T10:03:00.000000000Z \
	--until 2024-02-10T10:06:00.000000000Z >win.out
check_eq "window" "s0 k1,s1 k1,s2 k1" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' win.out | paste -sd, -)"
expect_success lt log --json --since 2024-02-10T10:03:00.000000001Z \
	--until 2024-02-10T10:06:00.000000001Z >win2.out
check_eq "window to the ns" "s1 k1,s2 k1,s0 k2" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' win2.out | paste -sd, -)"
expect_success lt log --json --since 2024-02-11 --until 2024-02-12 >day.out
check_eq "a day" "d11 h0,d11 h12,d11 h23" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' day.out | paste -sd, -)"
expect_success lt log --json --until 2024-01-02 >early.out
head -1 a.expect >early.expect
test_cmp early.expect early.out
expect_success lt log --json --since 2024-02-13T12:30:00+00:00 >late.out
check_eq "since with an offset" "d13 h12,d13 h23" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' late.out | paste -sd, -)"
expect_success lt log --json --since 2024-02-13T12:30:00Z --until 2024-02-13T12:30:00Z >empty.out
check "empty window" test ! -s empty.out
expect_success lt log --json --stream term:2 --kind note \
	--since 2024-02-10T11:50:00Z >f3.out
check_eq "three filters" "s2 k36,s2 k37,s2 k38,s2 k39" \
	"$(sed 's/.*"text":"\([^"]*\)".*/\1/' f3.out | paste -sd, -)"

# ---- t defaults to now ---------------------------------------------------------

cat >now.jsonl <<'EOF'
{"kind":"note","data":{"text":"now-1"}}
{"kind":"note","data":{"text":"now-2"}}
EOF
before=$(date +%s%N)
expect_success lt append --stream now <now.jsonl
after=$(date +%s%N)
expect_success lt log --json --stream now >now.out
python3 - now.out "$before" "$after" >now.check <<'EOF'
import json, sys, datetime
lo, hi = int(sys.argv[2]), int(sys.argv[3])
ok = []
for line in open(sys.argv[1]):
    t = json.loads(line)["t"]
    base, frac = t[:-1].split(".")
    secs = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    ns = int(secs) * 10**9 + int(frac)
    ok.append(lo <= ns <= hi)
print(len(ok), all(ok))
EOF
check_eq "default t is the time of the append" "2 True" "$(cat now.check)"
expect_success lt log --json --since 1h >recent.out
check_eq "--since 1h finds them" 2 "$(count_fixed '"stream":"now"' recent.out)"

# ---- a big event, and empty input ------------------------------------------------

python3 -c '
import json
print(json.dumps({"t": "2024-03-01T00:00:00Z", "kind": "note",
                  "data": {"text": "x" * 300000 + "END"}}))' >big.jsonl
expect_success lt append --stream big <big.jsonl
expect_success lt log --json --stream big >big.out
check_eq "a 300 KB event survives" 300003 \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]["text"]))' big.out)"
expect_success lt append --stream nothing </dev/null
expect_success lt log --json --stream nothing >nothing.out
check "empty input appends nothing" test ! -s nothing.out

# ---- malformed input: the bad line is named, nothing of the call is kept --------

expect_success lt log --json >good.out
vault_files() {
	(cd "$LABTAPE_VAULT" && find segments keys -type f | sort)
}
vault_files >files.before
good='{"t":"2024-04-01T00:00:00Z","kind":"note","data":{"text":"should vanish"}}'
i=0
while IFS= read -r bad; do
	i=$((i + 1))
	{ echo "$good"; echo "$good"; printf '%s\n' "$bad"; echo "$good"; } >bad$i.jsonl
	expect_failure lt append --stream notes <bad$i.jsonl
	expect_grep '^labtape: stdin line 3: .*nothing was appended' "$ERR"
done <<'EOF'
{"kind":"note","data":{"text":"unterminated"
{"kind":"no.such.kind","data":{"text":"x"}}
{"kind":"note"}
{"t":"yesterday","kind":"note","data":{"text":"x"}}
{"t":"2024-13-45T00:00:00Z","kind":"note","data":{"text":"x"}}
{"t":1700000000,"kind":"note","data":{"text":"x"}}
{"kind":"note","data":{"text":5}}
{"kind":"note","data":{}}
{"kind":"note","data":"text"}

[1,2,3]
{"kind":"note","data":{"text":"x"},"extra":1}
{"kind":"note","kind":"note","data":{"text":"x"}}
{"stream":"other","kind":"note","data":{"text":"x"}}
{"kind":"edit.op","data":{"doc":"d","seq":"one","op":"insert"}}
EOF
check_eq "malformed inputs tried" 15 "$i"
# The messages say what is wrong, for a few of them.
expect_failure lt append --stream notes <bad2.jsonl
expect_grep "unknown kind 'no.such.kind'" "$ERR"
expect_failure lt append --stream notes <bad3.jsonl
expect_grep 'missing "data"' "$ERR"
expect_failure lt append --stream notes <bad7.jsonl
expect_grep "data.text: must be a string.*see 'labtape kinds note'" "$ERR"
# ... and what it points at works.
expect_success lt kinds note >kinds.out
expect_grep '^    \*text +string' kinds.out
expect_failure lt append --stream notes <bad4.jsonl
expect_grep "bad timestamp 'yesterday'" "$ERR"
# Nothing of any of those calls is in the vault, and no files are left over.
expect_success lt log --json >after-bad.out
test_cmp good.out after-bad.out
expect_no_grep 'should vanish' after-bad.out
vault_files >files.after
test_cmp files.before files.after
expect_success lt verify >verify.out
expect_grep ": ok$" verify.out

# A bad line deep in a long input (after several blocks were written).
python3 - >long-bad.jsonl <<'EOF'
import json
for i in range(3000):
    print(json.dumps({"t": "2024-04-02T00:00:00Z", "kind": "note",
                      "data": {"text": "long %d %s" % (i, "y" * 100)}}))
print('{"kind":"note","data":{"text":"bad"}')
EOF
expect_failure lt append --stream notes <long-bad.jsonl
expect_grep '^labtape: stdin line 3001: ' "$ERR"
expect_success lt log --json >after-long.out
test_cmp good.out after-long.out
vault_files >files.after2
test_cmp files.before files.after2

# Bad stream names are usage errors.
expect_code 2 lt append --stream "$(printf 'a\tb')" <a.jsonl
expect_grep 'bad stream name' "$ERR"
expect_code 2 lt append --stream '' <a.jsonl

# ---- one append over many days -------------------------------------------------

# 1,500 days are 1,500 segments in one transaction: more than a low limit
# on open files allows, which append raises to the hard limit.
awk 'BEGIN { for (i = 0; i < 1500; i++) {
	t = 1420070400 + i * 86400
	printf "{\"t\":\"%s\",\"kind\":\"note\",\"data\":{\"text\":\"day %d\"}}\n",
		strftime("%Y-%m-%dT12:00:00Z", t, 1), i } }' >days.jsonl
check_eq "1500 days of input" 1500 "$(wc -l <days.jsonl)"
expect_success sh -c "ulimit -Sn 256 && \"\$0\" append --stream days" "$LABTAPE" <days.jsonl
expect_success lt log --stream days --json >days.out
check_eq "all 1500 days appended" 1500 "$(wc -l <days.out)"
check_eq "one segment a day" 1500 \
	"$(find "$LABTAPE_VAULT/segments" -name '*.seg' -newer days.jsonl | wc -l)"

# ---- reading needs the right passphrase ----------------------------------------

for c in log stats verify; do
	expect_failure env LABTAPE_PASSPHRASE='wrong horse' "$LABTAPE" "$c"
	expect_grep "^labtape: wrong passphrase for vault '$LABTAPE_VAULT'" "$ERR"
done
expect_failure env LABTAPE_PASSPHRASE='wrong horse' "$LABTAPE" log --json
env LABTAPE_PASSPHRASE='wrong horse' "$LABTAPE" log --json >wrong.out 2>/dev/null
check "no events printed with a wrong passphrase" test ! -s wrong.out
expect_success lt verify >verify.out
expect_grep ": ok$" verify.out

test_done
