#!/bin/sh
# labtape export conversations -o DIR, and the comments of export edits.
# The Slack and mail fixtures of t0540/t0550 are imported (a later Slack
# export with an edited reply too), and comments on a document with its
# edits are appended. Checked: the threads and their turns, replies by
# index, the latest version of an edited message once, speakers
# pseudonymised consistently and numbered in order of appearance, no
# address, name or user id left with redaction on, byte-identical output
# twice, and the edits' comments: the comment threads open near each
# example before it, redacted.
. "$(dirname "$0")/test-lib.sh"

SLACK=$TEST_SRC/tests/data/import/slack
MAIL=$TEST_SRC/tests/data/import/mail
lt_init

cat >mkzip.py <<'EOF'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w') as z:
    for root, dirs, files in sorted(os.walk(src)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
EOF
python3 mkzip.py "$SLACK/ws" acme.zip
python3 mkzip.py "$SLACK/later" acme-later.zip
expect_success lt import slack acme.zip
expect_success lt import slack acme-later.zip --stream acme
expect_success lt import mail "$MAIL/inbox.mbox"
expect_success lt import mail "$MAIL/Maildir"

# A document with edits and a comment thread on it (what an importer of
# Google Docs writes): a comment and a reply before the first edit
# group, a resolve with words after the second.
D=gdocs:doc1
ts() {
	printf '2024-02-01T10:%02d:%02dZ' $(($1 / 60)) $(($1 % 60))
}
{
	printf '{"t":"%s","kind":"edit.op","data":{"doc":"%s","seq":0,"op":"snapshot","text":"Hello world\\nsecond line\\n","actor":"Alice Martin"}}\n' "$(ts 0)" $D
	printf '{"t":"%s","kind":"doc.comment","data":{"doc":"%s","id":"C1","action":"add","actor":"Bob Lefèvre","text":"say who: write to bob@example.org","quote":"world"}}\n' "$(ts 5)" $D
	printf '{"t":"%s","kind":"doc.comment","data":{"doc":"%s","id":"R1","action":"reply","parent":"C1","actor":"Alice Martin","text":"done, merci Bob"}}\n' "$(ts 6)" $D
	printf '{"t":"%s","kind":"doc.comment","data":{"doc":"%s","id":"C2","action":"add","actor":"Bob Lefèvre","text":"far away","quote":"text no longer in the document"}}\n' "$(ts 7)" $D
	printf '{"t":"%s","kind":"doc.comment","data":{"doc":"%s","id":"C3","action":"add","actor":"Bob Lefèvre","text":"a remark on the whole document"}}\n' "$(ts 8)" $D
	printf '{"t":"%s","kind":"edit.op","data":{"doc":"%s","seq":1,"op":"insert","pos":11,"ins":", everyone","actor":"Alice Martin"}}\n' "$(ts 10)" $D
	printf '{"t":"%s","kind":"edit.op","data":{"doc":"%s","seq":2,"op":"insert","pos":0,"ins":"# Title\\n","actor":"Alice Martin"}}\n' "$(ts 100)" $D
	printf '{"t":"%s","kind":"doc.comment","data":{"doc":"%s","id":"R2","action":"resolve","parent":"C1","actor":"Bob Lefèvre","text":"looks good"}}\n' "$(ts 200)" $D
	printf '{"t":"%s","kind":"edit.op","data":{"doc":"%s","seq":3,"op":"insert","pos":0,"ins":"draft\\n","actor":"Alice Martin"}}\n' "$(ts 300)" $D
} >doc.jsonl
expect_success lt append --stream gdocs:doc1 <doc.jsonl

# ---- conversations ---------------------------------------------------------

expect_success lt export conversations -o out1
expect_success lt export conversations -o out2
check "the same vault gives the same bytes" diff -r out1 out2
cat out1/conversations.*.jsonl >all.jsonl
check_eq "7 conversations of 2 turns or more" 7 "$(wc -l <all.jsonl | tr -d ' ')"
expect_grep 'conversations: 7 with' out1/README.md

cat >check.py <<'EOF'
import json, re, sys
lines = [l for l in open(sys.argv[1], encoding='utf-8')]
convs = [json.loads(l) for l in lines]
for c in convs:
    assert list(c) == ['id', 'source', 'channel', 'doc', 'subject', 'turns'], list(c)
    assert re.fullmatch('[0-9a-f]{32}', c['id'])
    for i, t in enumerate(c['turns']):
        assert list(t)[:3] == ['t', 'speaker', 'text'], t
        assert re.fullmatch(r'speaker-[1-9][0-9]*', t['speaker'])
        assert 'reply_to' not in t or 0 <= t['reply_to'] < i
    assert [t['t'] for t in c['turns']] == sorted(t['t'] for t in c['turns'])

def find(pred):
    m = [c for c in convs if pred(c)]
    assert len(m) == 1, (len(m), [c['turns'][0]['text'] for c in convs])
    return m[0]

# The Slack thread: root, two replies, the later export's reply; the
# edited reply once, in its latest version.
th = find(lambda c: c['source'] == 'slack' and 'ablation' in c['turns'][0]['text'])
assert th['channel'] == '#general' and th['doc'] is None and th['subject'] is None
texts = [t['text'] for t in th['turns']]
assert texts[2] == '我也跑了，结果一样 👍', texts
assert len(texts) == 4 and texts[3] == 'thanks all', texts
assert [t.get('reply_to') for t in th['turns']] == [None, 0, 0, 0]
alice = th['turns'][0]['speaker']
assert th['turns'][3]['speaker'] == alice, 'alice is one speaker'
# The DM: loose messages, one conversation, alice the same speaker.
dm = find(lambda c: c['channel'] == '#D0DM00001')
assert [t['text'] for t in dm['turns']] == ['can you review?', 'sure, tonight']
assert dm['turns'][0]['speaker'] == alice
assert dm['turns'][1]['speaker'] == th['turns'][1]['speaker'], 'bob too'
# The join notice is no turn.
assert not any('has joined' in t['text'] for c in convs for t in c['turns'])

# The mail thread of three, replies by index, subject decoded.
m = find(lambda c: c['source'] == 'mail' and c['channel'] == 'inbox.mbox')
assert m['subject'] == "Résultats de l'ablation 中文 🚀", m['subject']
assert [t.get('reply_to') for t in m['turns']] == [None, 0, 1]
md = find(lambda c: c['source'] == 'mail' and c['channel'] == 'Maildir')
assert md['turns'][0]['speaker'] == m['turns'][0]['speaker'], 'alice by address'
assert md['turns'][0]['speaker'] != alice, 'no link across sources'

# The comment thread: the comment, its reply, the resolve with words.
ct = find(lambda c: c['doc'] == 'gdocs:doc1')
assert ct['source'] == 'gdocs' and ct['channel'] is None and ct['subject'] == 'world'
assert [t.get('reply_to') for t in ct['turns']] == [None, 0, 0], ct['turns']
assert ct['turns'][0]['speaker'] == ct['turns'][2]['speaker']

# Speakers numbered in order of first appearance (no two conversations
# start at the same time here, so the order is the first turn's).
seen = []
for c in sorted(convs, key=lambda c: c['turns'][0]['t']):
    for t in c['turns']:
        if t['speaker'] not in seen:
            seen.append(t['speaker'])
assert seen == ['speaker-%d' % i for i in range(1, len(seen) + 1)], seen
print(len(seen))
EOF
check_eq "threads, turns, replies and speakers" 10 "$(python3 check.py all.jsonl)"

# Redaction: no address, no name the speakers go by, no Slack user id.
for s in alice@example.org bob@example.org chen.wei@example.org \
	'Bob' 'Alice Martin' 'Lefèvre' '陈伟' U01ALICE U02BOB U03CHEN; do
	expect_no_grep "$s" all.jsonl
done
expect_grep '<EMAIL_1>' all.jsonl
expect_grep 'Salut <NAME_1>' all.jsonl
expect_grep 'redact: true' out1/README.md

# Without redaction the texts are as imported.
expect_success lt export conversations -o raw --no-redact
cat raw/conversations.*.jsonl >raw.jsonl
expect_grep 'write to chen.wei@example.org' raw.jsonl
expect_grep 'Salut Bob' raw.jsonl
expect_grep 'redact: false' raw/README.md

# --min-turns 1 keeps the one-mail threads (the newsletter) and the
# comment threads without replies (C2, C3).
expect_success lt export conversations -o one --min-turns 1
check_eq "with single turns" 10 "$(cat one/conversations.*.jsonl | wc -l | tr -d ' ')"
# --chat-gap 0s: loose Slack messages stay alone (and are left out).
expect_success lt export conversations -o nogap --chat-gap 0s
expect_no_grep '"channel":"#D0DM00001"' nogap/conversations.train.jsonl
expect_code 2 lt export conversations -o bad --min-turns 0

# ---- edits: the comments ---------------------------------------------------

expect_success lt export edits -o e1
expect_success lt export edits -o e2
check "edits: the same bytes" diff -r e1 e2
cat e1/edits.*.jsonl >edits.jsonl
cat >check-edits.py <<'EOF'
import json, re, sys
ex = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
ex = [e for e in ex if e['doc'] == 'gdocs:doc1']
assert len(ex) == 3, len(ex)
ids = [[c['id'] for c in e['comments']] for e in ex]
# Open threads near the region: C2 quotes text that is not there; C1 is
# resolved (R2) before the third example; C3 is on the whole document.
assert ids == [['C1', 'R1', 'C3'], ['C1', 'R1', 'C3'], ['C3']], ids
c1, r1, c3 = ex[0]['comments']
assert c3['quote'] is None and c3['parent'] is None
assert list(c1) == ['t', 'id', 'action', 'parent', 'author', 'text', 'quote']
assert c1['action'] == 'add' and c1['parent'] is None and c1['quote'] == 'world'
assert c1['text'] == 'say who: write to <EMAIL_1>', c1['text']
assert r1['action'] == 'reply' and r1['parent'] == 'C1' and r1['quote'] is None
assert r1['t'] == '2024-02-01T10:00:06.000000000Z'
assert re.fullmatch('[0-9a-f]{32}', c1['author'])
assert r1['author'] == ex[0]['meta']['author'], 'the document author wrote R1'
assert c1['author'] != r1['author']
print('ok')
EOF
check_eq "edits carry the open comments near them" ok "$(python3 check-edits.py edits.jsonl)"
expect_grep 'comment events read: 5; examples with comments: 3' e1/README.md

test_done
