#!/bin/sh
# labtape import posts: published posts and their comments, from JSONL.
# The hand-checked fixtures (tests/data/import/posts/README): each post's
# text rebuilt from the vault is its text in the file; comments nested
# three deep keep their parents; importing twice adds nothing; a changed
# post adds a version, a changed comment an edit, a new comment itself;
# a malformed line is refused with its number, leaving the vault as it was.
. "$(dirname "$0")/test-lib.sh"

DATA=$TEST_SRC/tests/data/import/posts
REPLAY="python3 $TEST_DIR/edit-replay.py"

lt_init

expect_success lt import posts --help >help.out
expect_grep 'date_published' help.out
expect_code 2 lt import posts

cp "$DATA/posts.jsonl" posts.jsonl
expect_success lt import posts posts.jsonl
expect_grep "into posts:posts.jsonl: 3 posts read, 3 new versions \(0 of posts imported before\), 6 new comments" "$ERR"

# Each post's last version is its text in the file.
cat >texts.py <<'PY'
import json, os, sys
# Writes OUT/<n>: the text of the n-th post of a JSONL file, and
# OUT/index: "<doc> <n>" lines.
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
idx, n = [], 0
for line in open(src, encoding='utf-8'):
    if not line.strip():
        continue
    n += 1
    r = json.loads(line)
    key = r.get('id', r.get('url'))
    open(os.path.join(out, str(n)), 'w', encoding='utf-8').write(r['text'])
    idx.append('post:%s %d\n' % (key, n))
open(os.path.join(out, 'index'), 'w').write(''.join(idx))
PY
# The last version of doc $1 in replay folder $2.
last_of() {
	d="$2/$1"
	echo "$d/$(ls "$d" | sort -n | tail -1)"
}
same_texts() {
	python3 texts.py "$1" want
	expect_success lt log --json --kind edit.op >ops.json
	expect_success $REPLAY ops.json got
	while read -r doc n; do
		test_cmp "want/$n" "$(last_of "$doc" got)"
	done <want/index
}
same_texts posts.jsonl

expect_success lt log --json --kind doc.comment >comments.json
cat >comments.py <<'PY'
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    d = e['data']
    print(e['t'][:19], d['doc'], d['action'], d['id'], d.get('parent', '-'),
          d.get('actor', '-'), json.dumps(d['text'], ensure_ascii=False))
PY
python3 comments.py comments.json >comments.txt
cat >comments.expect <<'EOF2'
2023-05-02T08:00:00 post:5f1d7e2a9c0b4e8f add c1 - Grace "Lovely 🎉"
2023-05-02T08:30:00 post:5f1d7e2a9c0b4e8f reply c2 c1 Ada Lovelace "Thank you, Grace."
2023-05-03T00:00:00 post:5f1d7e2a9c0b4e8f reply c3 c2 Bé 中 "Agreed — 很好"
2023-05-04T10:00:00 post:5f1d7e2a9c0b4e8f add c4 - Linus "A second thread."
2024-03-01T00:00:00 post:https://blog.example.org/2024/leap add cce93c9cfe793a6bd - Anon "First!"
2024-03-01T01:00:00 post:https://blog.example.org/2024/leap reply ca74eaf204d0a79ba cce93c9cfe793a6bd Solo "Welcome."
EOF2
test_cmp comments.expect comments.txt

expect_success lt log --json --kind msg.message >msgs.json
expect_grep '"channel":"lesswrong","format":"markdown","from":"Ada Lovelace, Bé 中","id":"https://www.lesswrong.com/posts/abc/on-elan",.*"karma":42' msgs.json
expect_grep '"channel":"blog.example.org","format":"html","from":"Solo"' msgs.json
expect_grep '"format":"plain","from":"Zoë","id":"7"' msgs.json
expect_grep '"subject":"On élan and 中文 😀"' msgs.json

# ---- twice: nothing more ----------------------------------------------------

expect_success lt log --json >before.json
expect_success lt import posts posts.jsonl
expect_grep "0 new versions .* 0 new comments, 9 already there \(0 events\)" "$ERR"
expect_success lt log --json >after.json
test_cmp before.json after.json

# ---- a changed file: a new version, an edit, a new reply four deep --------

expect_success lt import posts --stream posts:posts.jsonl "$DATA/posts-v2.jsonl"
expect_grep "1 new versions \(1 of posts imported before\), 2 new comments" "$ERR"
expect_success lt log --json --kind doc.comment >comments.json
python3 comments.py comments.json >comments.txt
expect_grep '^2023-05-02T08:00:00 post:5f1d7e2a9c0b4e8f edit c1 - Grace "Lovely 🎉 \(edited\)"$' comments.txt
expect_grep '^2023-06-02T00:00:00 post:5f1d7e2a9c0b4e8f reply c5 c3 Grace "Four deep."$' comments.txt
check_eq "comment events" 8 "$(wc -l <comments.txt)"
same_texts "$DATA/posts-v2.jsonl"
expect_grep '"seq":1,"text":"# Élan.*three 🧪' ops.json
expect_success lt log --json --kind msg.message >msgs.json
expect_grep '"edited":"2023-06-01T00:00:00' msgs.json
expect_success lt log --json >before.json
expect_success lt import posts --stream posts:posts.jsonl "$DATA/posts-v2.jsonl"
expect_success lt log --json >after.json
test_cmp before.json after.json

# ---- malformed lines: refused, nothing kept --------------------------------

refused() {
	expect_failure lt import posts "$1"
	expect_grep "$2" "$ERR"
	expect_grep "nothing was imported" "$ERR"
	expect_success lt log --json >after.json
	test_cmp before.json after.json
}
# A good post first, then a bad one: the good one is not kept either.
{ sed -n 1p "$DATA/posts.jsonl" | sed 's/5f1d7e2a9c0b4e8f/new-post/'; echo '{"id": "x", "text": "y", "date": "yesterday"}'; } >bad1.jsonl
refused bad1.jsonl "bad1.jsonl: line 2: date_published: 'yesterday' is not an RFC 3339 time"
{ echo '{"id": "x", "text": "y"}'; echo; echo '{"id": "z", "text": '; } >bad2.jsonl
refused bad2.jsonl "bad2.jsonl: line 3: column [0-9]+: "
echo '{"id": "x", "text": "y", "comments": [{"text": "a", "replies": [{"author": "b"}]}]}' >bad3.jsonl
refused bad3.jsonl "bad3.jsonl: line 1: comments\[0\].replies\[0\]: no text"
echo '{"title": "no key", "text": "y"}' >bad4.jsonl
refused bad4.jsonl "bad4.jsonl: line 1: no id or url"

test_done
