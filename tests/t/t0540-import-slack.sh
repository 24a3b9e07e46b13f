#!/bin/sh
# labtape import slack EXPORT.zip: the hand-checked export in
# tests/data/import/slack/ws (multi-byte names and text, a thread of
# three, an edited reply, a file reference, a bot, a DM, a user gone from
# users.json), zipped here. Every message's text comes back as the export
# had it; the second import adds nothing; a later export adds the new
# version of the edited reply and the new message only; malformed exports
# are refused with the entry and what is wrong, the vault unchanged.
. "$(dirname "$0")/test-lib.sh"

DATA=$TEST_SRC/tests/data/import/slack
lt_init

# zip FOLDER OUT: a ZIP of the folder's files, names relative to it, in
# sorted order, as Slack's exports are laid out.
cat >mkzip.py <<'EOF'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in sorted(os.walk(src)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
EOF
mkzip() {
	python3 mkzip.py "$1" "$2"
}
mkzip "$DATA/ws" acme.zip
mkzip "$DATA/later" acme-later.zip

# ---- the import ----------------------------------------------------------

expect_success lt import slack acme.zip
expect_grep '10 messages new, 0 already there' "$ERR"
lt log --json >log1.json
lt log --json --kind msg.message --stream slack:acme >msgs1.json
check_eq "10 messages" 10 "$(wc -l <msgs1.json | tr -d ' ')"
check_eq "a ledger entry each" 10 \
	"$(lt log --kind import.unit --stream slack:acme | wc -l | tr -d ' ')"

# Each message against the export, field by field.
cat >check.py <<'EOF'
import json, os, sys
data, msgs = sys.argv[1], sys.argv[2]
got = {}
for l in open(msgs, encoding='utf-8'):
    e = json.loads(l)
    got.setdefault(e['data']['id'], []).append(e)
ids = {'general': 'C01GENERAL', 'research': 'C02RESEARCH', 'D0DM00001': 'D0DM00001'}
n = 0
for folder, cid in ids.items():
    d = os.path.join(data, folder)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        for m in json.load(open(os.path.join(d, f), encoding='utf-8')):
            mid = '%s/%s' % (cid, m['ts'])
            evs = got[mid]
            e = evs[-1]['data']
            # the rebuilt message is the export's, text and all
            assert e['text'] == m['text'], (mid, e['text'])
            assert e['native'] == m, mid
            assert e['source'] == 'slack' and e['format'] == 'markdown'
            assert e['channel'] == '#' + folder, e['channel']
            sec, frac = m['ts'].split('.')
            import datetime
            t = datetime.datetime.utcfromtimestamp(int(sec)).strftime('%Y-%m-%dT%H:%M:%S')
            assert evs[-1]['t'] == '%s.%sZ' % (t, frac.ljust(9, '0')), evs[-1]['t']
            if m.get('thread_ts') and m['thread_ts'] != m['ts']:
                root = '%s/%s' % (cid, m['thread_ts'])
                assert e['thread'] == root and e['reply_to'] == root, mid
            else:
                assert 'thread' not in e and 'reply_to' not in e, mid
            if 'edited' in m:
                et = datetime.datetime.utcfromtimestamp(int(m['edited']['ts'].split('.')[0]))
                assert e['edited'] == et.strftime('%Y-%m-%dT%H:%M:%S') + '.000000000Z', e['edited']
            else:
                assert 'edited' not in e
            n += 1
print(n)
EOF
check_eq "every message as the export has it" 10 \
	"$(python3 check.py "$DATA/ws" msgs1.json)"

# Names from users.json (display name, else real name), from the message's
# own profile for a user gone from users.json, a bot's username.
field() {
	python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(l)["data"]
    if d["id"] == sys.argv[2]:
        v = d
        for k in sys.argv[3].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(v if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False, sort_keys=True))
' "$@"
}
check_eq "display name" alice "$(field msgs1.json C01GENERAL/1704186000.000200 from)"
check_eq "real name when no display name" "Bob Lefèvre" \
	"$(field msgs1.json C01GENERAL/1704186060.000300 from)"
check_eq "CJK name" "陈伟" "$(field msgs1.json C01GENERAL/1704186120.000400 from)"
check_eq "a departed user's profile" "Dana Old" \
	"$(field msgs1.json C02RESEARCH/1704189700.000800 from)"
check_eq "a bot" "ci-bot" "$(field msgs1.json C01GENERAL/1704272460.000600 from)"
check_eq "the user id stays in native" U03CHEN \
	"$(field msgs1.json C01GENERAL/1704186120.000400 native.user)"
check_eq "a file as a reference" \
	'{"name": "loss-😀.png", "size": 48213, "type": "image/png", "url": "https://files.slack.com/files-pri/T01-F01PLOT/loss.png"}' \
	"$(field msgs1.json C01GENERAL/1704272400.000500 files.0)"
check_eq "a DM's channel" "#D0DM00001" \
	"$(field msgs1.json D0DM00001/1704190000.000900 channel)"

# ---- twice adds nothing ---------------------------------------------------

expect_success lt import slack acme.zip
expect_grep '0 messages new, 10 already there' "$ERR"
lt log --json >log2.json
test_cmp log1.json log2.json

# ---- a later export: the edited reply's new version, one new message -------

expect_success lt import slack acme-later.zip --stream acme
expect_grep '2 messages new, 5 already there' "$ERR"
lt log --json --kind msg.message --stream slack:acme >msgs2.json
check_eq "12 versions" 12 "$(wc -l <msgs2.json | tr -d ' ')"
check_eq "the later export's messages as it has them" 7 \
	"$(python3 check.py "$DATA/later" msgs2.json)"
check_eq "both versions of the edited reply" 2 \
	"$(grep -c '"id":"C01GENERAL/1704186120.000400"' msgs2.json)"
check_eq "the new version's edit time" 2024-01-02T10:06:40.000000000Z \
	"$(python3 -c '
import json, sys
v = [json.loads(l)["data"] for l in open("msgs2.json", encoding="utf-8")]
v = [d for d in v if d["id"] == "C01GENERAL/1704186120.000400"]
print(max(d["edited"] for d in v))')"

# On a terminal, a progress bar on stderr: day files done out of all.
script -qec "'$LABTAPE' import slack acme.zip --stream tty" /dev/null \
	</dev/null >tty.out 2>&1
expect_grep 'importing acme.zip: \[#+\] 4/4' tty.out

# ---- malformed exports: refused, the vault unchanged -----------------------

lt log --json >before.json
refused() {
	desc=$1
	zip=$2
	pattern=$3
	expect_failure lt import slack "$zip" --stream bad
	expect_grep "$pattern" "$ERR"
	expect_grep 'nothing was imported' "$ERR"
	lt log --json >after.json
	test_cmp before.json after.json
}

mkdir -p bad1/general
cp "$DATA/ws/channels.json" "$DATA/ws/users.json" bad1/
cp "$DATA/ws/general/2024-01-02.json" bad1/general/
printf '[{"ts": "1704186000.000200", "text": "ok"},\n {"ts": "17041x", "text": "bad"}]\n' \
	>bad1/general/2024-01-04.json
mkzip bad1 bad1.zip
refused "a bad ts" bad1.zip \
	'bad1.zip: entry general/2024-01-04.json: message 2: "ts" is missing or not a Slack timestamp'

mkdir -p bad2/general
cp "$DATA/ws/channels.json" bad2/
printf '[{"ts": "1704186000.000200",\n  "text": "cut off' >bad2/general/2024-01-04.json
mkzip bad2 bad2.zip
refused "broken JSON" bad2.zip 'bad2.zip: entry general/2024-01-04.json: line 2, column'

mkdir -p bad3/general
cp "$DATA/ws/channels.json" bad3/
printf '[{"ts": "1704186000.000200", "text": "x", "files": {"name": "a"}}]' \
	>bad3/general/2024-01-04.json
mkzip bad3 bad3.zip
refused "files not an array" bad3.zip 'message 1 \(ts 1704186000.000200\): "files" is not an array'

printf '{"not": "a list"}' >bad4-users.json
mkdir -p bad4 && cp "$DATA/ws/channels.json" bad4/ && cp bad4-users.json bad4/users.json
mkzip bad4 bad4.zip
refused "users.json not a list" bad4.zip 'bad4.zip: entry users.json: expected a JSON array'

printf 'not a zip at all' >bad5.zip
refused "not a ZIP" bad5.zip 'bad5.zip: cannot read it as a ZIP'

mkdir -p bad6 && echo '{}' >bad6/readme.json
mkzip bad6 bad6.zip
refused "not a Slack export" bad6.zip 'bad6.zip: not a Slack export'

# An interrupted import: a message that the event registry refuses after
# others were appended keeps nothing either (the tape is one transaction).
mkdir -p bad7/general
cp "$DATA/ws/channels.json" bad7/
printf '[{"ts": "1704186000.000200", "text": "fine"},\n {"ts": "1704186001.000200", "text": "x", "files": [3]}]' \
	>bad7/general/2024-01-05.json
mkzip bad7 bad7.zip
refused "a later message bad" bad7.zip 'message 2 .*not an object'

expect_code 2 lt import slack
expect_success lt import slack --help >help.txt
expect_grep 'usage: labtape import slack EXPORT.zip' help.txt

test_done
