#!/bin/sh
# The files source's ignore rules (.gitignore files, the configured globs,
# the defaults: version control, build outputs, editor leftovers, secrets,
# ~/.ssh and ~/.gnupg, labtape's own vault and cache), and editors' ways
# of saving (vim's rename-aside, a temporary file renamed over, lock and
# probe files): each is one edit of one document.
. "$(dirname "$0")/test-lib.sh"

W=$TRASH/w
LABTAPE_SOCKET=$TRASH/control
# The cache and the vault inside the watched tree: never recorded.
LABTAPE_CACHE_DIR=$W/.labtape-cache
LABTAPE_VAULT=$W/vault
HOME=$W/home
export LABTAPE_SOCKET LABTAPE_CACHE_DIR LABTAPE_VAULT HOME

mkdir -p "$W" "$HOME/.ssh" "$HOME/.gnupg"
lt_init
cd "$W" || exit 1
mkdir -p .git sub/data data cache node_modules/pkg build __pycache__ \
	.ipynb_checkpoints other-vault/segments
printf '*.log\n!keep.log\n/data/\nsecret-*.txt\ncache/\nlater.txt\n' >.gitignore
printf '!secret-ok.txt\n*.tmp\n' >sub/.gitignore
for f in a.log keep.log important.log data/x.txt sub/data/y.txt \
	secret-1.txt sub/secret-ok.txt sub/z.tmp cache/c.txt .git/config \
	node_modules/pkg/m.js build/out.txt __pycache__/m.pyc \
	.ipynb_checkpoints/n-checkpoint.ipynb .env .env.local k.pem tls.key \
	id_rsa id_ed25519.pub .x.swp x~ '#x#' .#x main.o notes.bak \
	home/.ssh/config home/.gnupg/pubring.kbx home/visible.txt \
	other-vault/vault.json doc.txt paper.md; do
	printf 'content of %s\n' "$f" >"$f"
done
# A notebook is recorded cell by cell; a broken one as plain text.
printf '{"cells":[{"cell_type":"markdown","id":"m1","metadata":{},"source":["# Title\\n","text"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}\n' >nb.ipynb
printf '{"cells": [oops\n' >broken.ipynb
cd "$TRASH" || exit 1
printf '[files]\nexclude = *.bak\nexclude = !important.log\n' >config

test_bg "$LABTAPE" record --config config "$W" 2>record.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
sleep_ms 300

cd "$W" || exit 1
# vim (backupcopy=no): the original moved aside, a new file written.
mv doc.txt doc.txt~
printf 'content of doc.txt, as vim saves it\n' >doc.txt
rm doc.txt~
sleep_ms 200
# vim's probe file, and an emacs lock (a symbolic link).
printf '' >4913 && rm 4913
ln -s ada@host.1234 .#paper.md
# gedit/kate: a hidden temporary file renamed over the original.
printf 'content of paper.md, as gedit saves it\n' >.goutputstream-ABC123
mv .goutputstream-ABC123 paper.md
rm .#paper.md
# Ignored things changing, and a new ignored folder.
printf 'more\n' >>a.log
mkdir -p node_modules/new && printf 'x\n' >node_modules/new/n.js
printf 'TOKEN=1\n' >.env.production
# .gitignore edited: later.txt stops being ignored.
printf 'before\n' >later.txt
sleep_ms 200
sed -i '/^later.txt$/d' .gitignore
sleep_ms 200
printf 'after\n' >later.txt
sleep_ms 300
cd "$TRASH" || exit 1

expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt log --json --kind edit.op >ops.json
paths() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["data"]["path"])' ops.json | sort -u
}
paths >recorded
printf '%s\n' .gitignore broken.ipynb doc.txt home/visible.txt \
	important.log keep.log later.txt nb.ipynb paper.md sub/.gitignore \
	sub/data/y.txt sub/secret-ok.txt | sort >want
test_cmp want recorded

python3 "$TEST_DIR/edit-replay.py" ops.json out
doc_line() {
	awk -F'\t' -v p="$1" '$2 == p' out/index
}
check_eq "vim's save is the second version of doc.txt" "2	live" \
	"$(doc_line doc.txt | cut -f3,4)"
printf 'content of doc.txt, as vim saves it\n' >want.doc
test_cmp want.doc "out/$(doc_line doc.txt | cut -f1)/2"
check_eq "gedit's save is the second version of paper.md" "2	live" \
	"$(doc_line paper.md | cut -f3,4)"
expect_no_grep '"action":"delete"' ops.json
expect_no_grep '"action":"rename"' ops.json
# Once no rule ignores it, later.txt gets its baseline, then its saves.
check_eq "later.txt: a baseline when the rule went, then a save" 2 \
	"$(doc_line later.txt | cut -f3)"
printf 'before\n' >want.later
test_cmp want.later "out/$(doc_line later.txt | cut -f1)/1"
printf 'after\n' >want.later
test_cmp want.later "out/$(doc_line later.txt | cut -f1)/2"
expect_no_grep 'labtape-shadow' ops.json
expect_grep '"op":"structural","part":"m1","path":"nb.ipynb"' ops.json
expect_grep '"op":"snapshot","part":"broken.ipynb","path":"broken.ipynb"' ops.json
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
