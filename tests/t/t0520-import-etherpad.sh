#!/bin/sh
# labtape import etherpad: a pad's history from its .etherpad export.
# The hand-checked fixture (tests/data/import/etherpad/README) rebuilt
# from the vault is the pad's text; importing twice adds nothing, a longer
# history adds only its new revisions, another pad of the same name is
# refused, and malformed exports are refused with the revision or the
# line, leaving the vault as it was.
. "$(dirname "$0")/test-lib.sh"

DATA=$TEST_SRC/tests/data/import/etherpad
REPLAY="python3 $TEST_DIR/edit-replay.py"

lt_init

# The help, and a usage error without a file.
expect_success lt import etherpad --help >help.out
expect_grep 'Export current pad as: Etherpad' help.out
expect_code 2 lt import etherpad

# ---- the fixture ----------------------------------------------------------

expect_success lt import etherpad "$DATA/notes.etherpad" >doc.out
check_eq "prints the document" "etherpad:notes" "$(cat doc.out)"
expect_grep "7 new revisions, 2 new chat messages" "$ERR"
expect_success lt log --json --kind edit.op >ops.json
expect_success $REPLAY ops.json out
last=$(ls out/etherpad:notes | sort -n | tail -1)
test_cmp "$DATA/notes.txt" "out/etherpad:notes/$last"
check_eq "one version a revision" 7 "$last"

# The edits, as worked out by hand: who, where, in code points.
cat >ops.py <<'PY'
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    d = json.loads(line)['data']
    what = d.get('ins', d.get('del', d.get('text')))
    att = ','.join('%s=%s' % tuple(a) for a in d.get('detail', {}).get('attribs', []))
    print(d['seq'], d['group'], d['op'], d.get('actor', '-'), d.get('pos', '-'),
          d.get('len', '-'), json.dumps(what, ensure_ascii=False), att,
          'native' if 'native' in d else '')
PY
python3 ops.py ops.json >ops.txt
cat >ops.expect <<'EOF2'
0 0 snapshot - - - "\n"  
1 0 insert Alice 0 - "Hello wörld\n" author=a.alice native
2 1 insert Bob 中 6 - "中文 😀 " author=a.bob native
3 2 delete Alice 3 4 "lo 中"  native
4 2 insert Alice 3 - "p 漢" author=a.alice 
5 3 style Bob 中 0 4 null bold=true,author=a.bob native
6 4 delete a.carol 7 2 " 😀"  native
7 4 insert a.carol 14 - "naïve 🎉\nlast" author=a.carol 
8 5 delete Alice 6 10 "文 wörld\nna"  native
9 5 insert Alice 6 - "ß" author=a.alice 
10 6 style Bob 中 7 8 null italic=true,author=a.bob native
EOF2
test_cmp ops.expect ops.txt
expect_success lt log --json --kind msg.message >chat.json
expect_grep '"from":"Alice".*"text":"Shall we 🎉\?"' chat.json
expect_grep '"from":"Carol C.".*"id":"etherpad:notes:chat:1"' chat.json
expect_grep '"t":"2023-11-14T22:13:20.000000000Z".*"native":"Z:1>c\*0\|1\+c\$Hello' ops.json

# ---- twice: nothing more ----------------------------------------------------

expect_success lt log --json >before.json
expect_success lt import etherpad "$DATA/notes.etherpad" >/dev/null
expect_grep "0 new revisions, 0 new chat messages, 9 already there \(0 events\)" "$ERR"
expect_success lt log --json >after.json
test_cmp before.json after.json

# ---- a longer history adds only what is new -------------------------------

# The pad as it was after revision 3, without its chat.
cat >prefix.py <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
head = int(sys.argv[2])
for k in list(d):
    if ':revs:' in k and int(k.rsplit(':', 1)[1]) > head or ':chat:' in k:
        del d[k]
d['pad:notes']['head'] = head
d['pad:notes']['chatHead'] = -1
d['pad:notes']['atext']['text'] = sys.argv[3]
json.dump(d, open(sys.argv[4], 'w', encoding='utf-8'), ensure_ascii=False)
PY
python3 prefix.py "$DATA/notes.etherpad" 3 "Help 漢文 😀 wörld

" prefix.etherpad
export LABTAPE_VAULT=$TRASH/vault2
lt_init
expect_success lt import etherpad prefix.etherpad >/dev/null
expect_grep "4 new revisions, 0 new chat messages" "$ERR"
expect_success lt import etherpad "$DATA/notes.etherpad" >/dev/null
expect_grep "3 new revisions, 2 new chat messages, 4 already there" "$ERR"
expect_success lt log --json >vault2.json
test_cmp before.json vault2.json

# ---- another pad of the same name -----------------------------------------

sed 's/Z:j<1=3-4\*0+3\$p 漢/Z:j<1=3-4*0+3$q 漢/' "$DATA/notes.etherpad" >other.etherpad
export LABTAPE_VAULT=$TRASH/vault
expect_failure lt import etherpad other.etherpad
expect_grep "other.etherpad: revision 2: the vault holds another history of etherpad:notes .*--name; nothing was imported" "$ERR"
expect_success lt log --json >after.json
test_cmp before.json after.json
# Under another name it replays, but to another text than the pad's.
expect_failure lt import etherpad --name copy other.etherpad
expect_grep "other.etherpad: revision 6 .*differs from the pad's text" "$ERR"
cp "$DATA/notes.etherpad" copy.etherpad
expect_success lt import etherpad --name copy copy.etherpad >doc.out
check_eq "--name names the document" "etherpad:copy" "$(cat doc.out)"
expect_success lt log --json --stream etherpad:copy --kind edit.op >copy.json
check_eq "the copy has every edit" 11 "$(wc -l <copy.json)"
expect_success lt log --json >before.json

# ---- malformed exports: refused, nothing kept -----------------------------

refused() {
	expect_failure lt import etherpad "$1"
	expect_grep "$2" "$ERR"
	expect_grep "nothing was imported" "$ERR"
	expect_success lt log --json >after.json
	test_cmp before.json after.json
}
head -c 300 "$DATA/notes.etherpad" >truncated.etherpad
refused truncated.etherpad "truncated.etherpad: line [0-9]+, column [0-9]+: "
sed 's/Z:d>6=6\*1+6/Z:c>6=6*1+6/' "$DATA/notes.etherpad" | sed 's/"notes"/"bad1"/g; s/pad:notes/pad:bad1/g' >bad1.etherpad
refused bad1.etherpad "bad1.etherpad: revision 1 \(key 'pad:bad1:revs:1'\): the changeset applies to a text of 12 characters but the text is 13 long"
sed 's/Z:i>0\*2\*1=4\$/Z:i>0*2*1|1=4$/' "$DATA/notes.etherpad" | sed 's/pad:notes/pad:bad2/g' >bad2.etherpad
refused bad2.etherpad "revision 3 \(key 'pad:bad2:revs:3'\): op 1 \('=4'\) says it holds 1 newlines but the text there has 0"
sed 's/"text": "Help 漢ßïve/"text": "Help 漢Xïve/' "$DATA/notes.etherpad" | sed 's/pad:notes/pad:bad3/g' >bad3.etherpad
refused bad3.etherpad "revision 6 \(key 'pad:bad3:revs:6'\): the text replayed up to it differs from the pad's text \(its atext.text\) at character 6"
sed 's/Z:s<9=6|1-a/Z:s<9=6|1-a=1!/' "$DATA/notes.etherpad" | sed 's/pad:notes/pad:bad4/g' >bad4.etherpad
refused bad4.etherpad "revision 5 \(key 'pad:bad4:revs:5'\): changeset at character 13: unexpected '!'"
printf '{"pad:x": {"atext": {"text": "\\ud83d\\ude00\\n"}, "head": 0}, "pad:x:revs:0": {"changeset": "Z:1>2+2$\\ud83d\\ude00", "meta": {"timestamp": 1}}, "pad:x:revs:1": 3}' >ok.etherpad
expect_success lt import etherpad ok.etherpad >/dev/null
printf '{"pad:y": {"atext": {"text": "\\n"}, "head": 1}, "pad:y:revs:0": {"changeset": "Z:1>2+2$\\ud83d\\ude00", "meta": {"timestamp": 1}}, "pad:y:revs:1": {"changeset": "Z:3<1-1$"}}' >split.etherpad
expect_success lt log --json >before.json
refused split.etherpad "revision 1 \(key 'pad:y:revs:1'\): op 1 \('-1'\) ends inside the character U\+1F600"

test_done
