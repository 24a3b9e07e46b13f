#!/bin/sh
# The audit log and the consent registry, end to end: pauses and resumes
# through a running recorder (also the automatic resume after --for),
# consent add/revoke/list, export cast, all in 'labtape audit'; reading
# through the recorder's agent; edits, insertions, removals, swaps and a
# cut-off end found by 'labtape audit --verify' and 'labtape verify';
# appends from several processes at once keep one valid chain.
. "$(dirname "$0")/test-lib.sh"

lt_init
mkdir watched

# ---- the recorder: pause, resume, a timed pause --------------------------

test_bg lt record watched 2>record.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt pause
expect_success lt resume
expect_success lt pause --for 1s
sleep_ms 1800	# the timer resumes by itself
expect_success lt status --json >status.json
check "the timed pause ended by itself" \
	python3 -c "import json,sys; d=json.load(open('status.json')); \
sys.exit(0 if d['paused'] is False and d['error'] is None else 1)"

# The audit log is encrypted: reading it needs the key. With the recorder
# holding it, no passphrase is asked.
expect_failure env -u LABTAPE_PASSPHRASE "$LABTAPE" audit </dev/null
expect_success lt unlock --for 5m
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" audit </dev/null >agent.out
check_eq "five entries read through the agent" 5 "$(wc -l <agent.out)"
expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done

# ---- consent ---------------------------------------------------------------

# Adding needs no passphrase; bad input is refused before anything is kept.
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" consent add Ada Lovelace \
	--for meetings --note "weekly sync" </dev/null >add.out
expect_grep '^consent [0-9a-f]{16}: Ada Lovelace, for meetings$' add.out
ADA=$(sed -n 's/^consent \([0-9a-f]*\):.*/\1/p' add.out)
expect_code 2 lt consent add Charles Babbage --for all --until 2999-12-31
expect_grep "times end in 2262" "$ERR"
expect_success lt consent add Charles Babbage --for all --until 2200-12-31 >/dev/null
expect_code 2 lt consent add Eve --for video
expect_grep "unknown consent scope 'video'" "$ERR"
expect_code 2 lt consent add Eve --for screen --until 2001-01-01
expect_code 2 lt consent add Eve --for screen --until tomorrow
expect_code 2 lt consent add --for screen
expect_success lt consent revoke ada lovelace >revoke.out
expect_grep '^revoked 1 consent of ada lovelace$' revoke.out
expect_failure lt consent revoke Nobody
expect_grep "no consent of 'Nobody'" "$ERR"
expect_success lt consent list >list.out
expect_grep "^$ADA  revoked  meetings .* Ada Lovelace  \(revoked .*Z\)  -- weekly sync$" list.out
expect_grep "^[0-9a-f]{16}  active   all .*until 2201-01-01T00:00:00Z  Charles Babbage$" list.out
expect_success lt consent list --json >list.json
check "consent list --json" python3 -c "
import json
c = [json.loads(l) for l in open('list.json')]
assert [x['name'] for x in c] == ['Ada Lovelace', 'Charles Babbage']
assert c[0]['status'] == 'revoked' and c[0]['revoked'] and c[0]['note'] == 'weekly sync'
assert c[1]['status'] == 'active' and c[1]['scope'] == 'all'"
# Names are personal data: not in clear anywhere in the vault.
check "no name in clear in the vault" sh -c "! grep -rqa -e Lovelace -e Babbage '$LABTAPE_VAULT'"

# The recorder answers consent checks only while it holds the key.
test_bg lt record watched 2>record2.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
SOCK=$XDG_RUNTIME_DIR/labtape/control
ask() {
	python3 - "$SOCK" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for name, scope in zip(sys.argv[2::2], sys.argv[3::2]):
    f.write(json.dumps({"cmd": "consent", "name": name, "for": scope}).encode() + b"\n")
    f.flush()
    print(f.readline().decode().strip())
PY
}
ask "Charles Babbage" screen >ask.out
expect_grep '"consent": ?false.*does not hold the vault key' ask.out
expect_success lt unlock --for 5m
ask "charles  babbage" screen "Ada Lovelace" meetings Nobody all >ask.out
expect_grep '^\{"ok": ?true, ?"consent": ?true, ?"ref": ?"[0-9a-f]{16}"\}$' ask.out
check_eq "a revoked consent and no consent say no" 2 \
	"$(count_fixed '"why":"no active consent"' ask.out)"
expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done

# ---- export cast -----------------------------------------------------------

S=abcd1234
printf '%s\n' \
	'{"t":"2024-01-02T03:04:05Z","kind":"term.start","data":{"session":"abcd1234","cols":80,"rows":24}}' \
	'{"t":"2024-01-02T03:04:06Z","kind":"term.end","data":{"session":"abcd1234","status":0}}' >s.jsonl
expect_success lt append --stream term:$S <s.jsonl
expect_success lt export cast --session $S -o s.cast

# ---- what the audit log says ---------------------------------------------

expect_success lt audit >audit.out
check_eq "nine entries" 9 "$(wc -l <audit.out)"
# The recorder's first start on this vault: the rules in force.
expect_grep '^   1  .*Z  exclusion.change .*\(labtape record, pid [0-9]+\)  config=null now=[0-9a-f]{32} rules=3 text="defaults yes\\n.*was=null$' audit.out
expect_grep '^   2  .*Z  pause +[^ ]+ \(labtape record, pid [0-9]+\)  by=labtape pause$' audit.out
expect_grep '^   3  .*  resume .*by=labtape resume$' audit.out
expect_grep '^   4  .*  pause .*by=labtape pause until=' audit.out
expect_grep '^   5  .*  resume .*by=timer$' audit.out
expect_grep "^   6  .*  consent.add .*\(labtape consent, pid [0-9]+\)  ref=$ADA scope=meetings" audit.out
expect_grep "^   8  .*  consent.revoke .*ref=$ADA scope=meetings$" audit.out
expect_grep '^   9  .*  export .*format=cast output=s.cast session=abcd1234$' audit.out
expect_no_grep 'Lovelace' audit.out
expect_success lt audit --json >audit.json
check "audit --json: canonical lines that chain" python3 -c "
import json
e = [json.loads(l) for l in open('audit.json')]
assert [x['seq'] for x in e] == list(range(1, 10))
assert all(set(x) == {'seq','t','action','actor','detail','offset','hash'} for x in e)
assert e[8]['detail'] == {'format': 'cast', 'session': 'abcd1234', 'output': 's.cast'}
for l in open('audit.json'):
    assert l.rstrip('\n') == json.dumps(json.loads(l), sort_keys=True, separators=(',', ':'))"
expect_success lt audit --since 1h >since.out
check_eq "--since 1h keeps all" 9 "$(wc -l <since.out)"
expect_success lt audit --since 2200-01-01 >since.out
check_eq "--since in the future keeps none" 0 "$(wc -l <since.out)"
expect_success lt audit --verify >verify.out
expect_grep 'audit log: 9 entries, chain intact' verify.out
expect_success lt verify >v.out
expect_grep 'consent registry: 2 consents, chain intact' v.out

# ---- concurrent appends ---------------------------------------------------

i=0
while test $i -lt 6; do
	lt consent add "Person $i" --for screen >/dev/null 2>>conc.err &
	i=$((i + 1))
done
wait
check_eq "no errors from concurrent appends" "" "$(cat conc.err)"
expect_success lt audit --verify >verify.out
expect_grep 'audit log: 15 entries, chain intact' verify.out
expect_success lt verify >v.out
expect_grep 'consent registry: 8 consents, chain intact' v.out

# ---- tampering -------------------------------------------------------------

cp -r "$LABTAPE_VAULT" pristine
# Entry boundaries from --json (offsets) and the file size.
lt audit --json | python3 -c "
import json, sys
print(' '.join(str(json.loads(l)['offset']) for l in sys.stdin))" >offsets
LOG=$LABTAPE_VAULT/audit/log
restore() {
	rm -rf "$LABTAPE_VAULT" && cp -r pristine "$LABTAPE_VAULT"
}
# python3 tamper.py LOG OP: rewrites the log with entries moved about.
cat >tamper.py <<'PY'
import sys
path, op = sys.argv[1], sys.argv[2]
offs = [int(x) for x in open('offsets').read().split()]
raw = open(path, 'rb').read()
ends = offs[1:] + [len(raw)]
head, e = raw[:offs[0]], [raw[a:b] for a, b in zip(offs, ends)]
if op == 'edit':
    b = bytearray(e[2]); b[200] ^= 1; e[2] = bytes(b)
elif op == 'insert':
    e.insert(5, e[1])
elif op == 'delete':
    del e[3]
elif op == 'swap':
    e[4], e[5] = e[5], e[4]
elif op == 'truncate':
    e = e[:-1]
open(path, 'wb').write(head + b''.join(e))
PY
tampered() {
	restore
	python3 tamper.py "$LOG" "$1"
	expect_failure lt audit --verify >tamper.out
	expect_grep "$2" tamper.out
}
tampered edit 'entry 3 \(by its header\) at offset [0-9]+: edited or damaged'
tampered insert 'entry 2 at offset [0-9]+: inserted'
tampered delete 'entry 5 at offset [0-9]+: missing: entry 4 before it was removed'
tampered swap 'entry 6 at offset [0-9]+: reordered: it comes before entry 5'
tampered truncate 'truncated: the head in .*audit/head names entry 15, but the log ends after entry 14'
# labtape verify sees it too, and an append refuses to paper over it.
expect_failure lt verify >v.out
expect_grep 'truncated' v.out
expect_failure lt consent add Mallory --for all
expect_grep 'truncated or edited' "$ERR"
# Cutting the head file as well still leaves the index's head.
restore
python3 tamper.py "$LOG" truncate
rm "$LABTAPE_VAULT/audit/head"
expect_failure lt audit --verify >tamper.out
expect_grep 'the head in the index names entry 15' tamper.out

# A torn last entry (a crash in the middle of an append) is cut, with a
# note, and is not a problem.
restore
head -c 100 "$LOG" >>"$LOG"
expect_success lt audit --verify >torn.out
expect_grep 'cut a torn entry at offset [0-9]+ \(100 bytes\)' torn.out
expect_grep 'audit log: 15 entries, chain intact' torn.out

# reindex keeps the head; a deleted index gets it back from audit/head.
restore
expect_success lt reindex
rm "$LABTAPE_VAULT/index.db"
expect_success lt audit --verify >reindex.out
expect_grep 'audit log: 15 entries, chain intact' reindex.out
python3 tamper.py "$LOG" truncate
expect_failure lt audit --verify >tamper.out
expect_grep 'the head in the index names entry 15' tamper.out

test_done
