#!/bin/sh
# labtape import git, labtape docs, labtape history git:NAME:PATH --rev.
# A repository made here with the real git (multi-byte text, renames,
# deletes, binary files, a file that is not UTF-8, a symbolic link, a
# merge whose side branch first-parent history leaves out): for EVERY
# imported commit and every path, 'labtape history --rev C' equals 'git
# show C:PATH' byte for byte, or fails when git has no such file. Then
# importing again adds nothing, ranges (imported in any order), failed
# imports that leave the vault as it was, and, in a git checkout, a
# sample of labtape's own history.
. "$(dirname "$0")/test-lib.sh"

lt_init

GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='Ada Lovelace'
GIT_AUTHOR_EMAIL=ada@example.org
GIT_COMMITTER_NAME='Ada Lovelace'
GIT_COMMITTER_EMAIL=ada@example.org
export GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL

# commit DAY MESSAGE: commits everything, on 2024-03-DAY (one segment a
# day, so an import spans several).
commit() {
	GIT_AUTHOR_DATE="2024-03-$1T10:00:00Z" \
	GIT_COMMITTER_DATE="2024-03-$1T10:00:00Z" \
		git -C repo commit -q -a -m "$2" || fatal "git commit $2"
	git -C repo rev-parse HEAD
}

git init -q -b main repo || fatal "git init"
cd repo
printf 'héllo wörld\n中文 line\nemoji 😀 here\n' >a.txt
printf 'bin\000\001\002\377data' >b.bin
printf 'caf\351 latin-1\n' >lat1.txt
mkdir dir
printf '# Notes\n\nfirst\n' >dir/x.md
ln -s a.txt link
: >empty.txt
git add -A
cd ..
C1=$(commit 01 "one")

cd repo
printf 'héllo wörld!\n中文 line, 更多\nemoji 😀😃 here\n𝄞 clef\n' >a.txt
git mv dir/x.md dir/y.md
printf '# Notes\n\nfirst\nsecond\n' >dir/y.md
printf 'bin\000\001\002\377DATA more' >b.bin
cd ..
C2=$(commit 02 "two: edits, a rename with a change")

cd repo
git rm -q lat1.txt
printf 'zed\n' >z.txt
git add z.txt
cd ..
C3=$(commit 03 "three: a delete, an add")

# A side branch, merged with --no-ff: first-parent history sees only the
# merge, as one diff against main.
git -C repo checkout -q -b side
printf 'side file\n' >repo/side.txt
git -C repo add side.txt
S1=$(commit 04 "side one")
printf 'side file, again\n' >repo/side.txt
S2=$(commit 05 "side two")
git -C repo checkout -q main
printf 'héllo wörld!\n中文 line, 更多\nemoji 😀😃 here\n𝄞 clef\nmain line\n' >repo/a.txt
C4=$(commit 06 "four: main goes on")
GIT_AUTHOR_DATE=2024-03-07T10:00:00Z GIT_COMMITTER_DATE=2024-03-07T10:00:00Z \
	git -C repo merge -q --no-ff -m "merge side" side || fatal "git merge"
C5=$(git -C repo rev-parse HEAD)

# A rename away, then a new file at the old path (a new document).
git -C repo mv a.txt b2.txt
C6=$(commit 08 "six: a.txt becomes b2.txt")
printf 'a new a.txt\n' >repo/a.txt
git -C repo add a.txt
C7=$(commit 09 "seven: a new a.txt")

# Binary to text, text to not UTF-8, a delete, a file back at a path
# deleted before, CRLF and no final newline, a link retargeted.
printf 'now text\n' >repo/b.bin
printf 'zed \377\n' >repo/z.txt
git -C repo rm -q dir/y.md
printf 'back, in UTF-8: café\n' >repo/lat1.txt
printf 'crlf\r\nline\tand no end' >repo/crlf.txt
git -C repo add lat1.txt crlf.txt
rm repo/link && ln -s b2.txt repo/link
C8=$(commit 10 "eight: many kinds of change")

# Many small edits (snapshots come every 2 edits below).
cd repo
for i in 1 2 3 4 5; do
	printf 'line %s é\n' $i >>b2.txt
done
sed -i 's/héllo/HÉLLO/; s/clef/CLEF/' b2.txt
cd ..
C9=$(commit 11 "nine: many edits")

ALL="$C1 $C2 $C3 $C4 $C5 $C6 $C7 $C8 $C9"
check_eq "first-parent history is what the test means" \
	"$(echo $ALL | tr ' ' '\n')" "$(git -C repo rev-list --first-parent --reverse HEAD)"
PATHS=$(for c in $ALL $S1 $S2; do git -C repo ls-tree -r --name-only "$c"; done | sort -u)

# check_commits DESC COMMITS...: every path at every commit, against git.
check_commits() {
	desc=$1
	shift
	bad=0
	n=0
	for c in "$@"; do
		for p in $PATHS; do
			n=$((n + 1))
			if git -C repo cat-file -e "$c:$p" 2>/dev/null; then
				git -C repo show "$c:$p" >want
				if ! "$LABTAPE" history "git:repo:$p" --rev "$c" \
					>got 2>"$ERR" || ! cmp -s want got; then
					say "# $p at $c differs"
					test_show
					bad=$((bad + 1))
				fi
			elif "$LABTAPE" history "git:repo:$p" --rev "$c" \
				>got 2>"$ERR"; then
				say "# $p at $c: labtape has it, git has not"
				bad=$((bad + 1))
			fi
		done
	done
	check_eq "$desc: $n (commit, path) pairs as git shows them" 0 "$bad"
}

# ---- The whole history ---------------------------------------------------

expect_success "$LABTAPE" import git repo --snapshot-every 2
expect_grep 'imported 9 of 9 commits .* into git:repo' "$ERR"
check_commits "whole history" $ALL

"$LABTAPE" history git:repo:b2.txt --rev "$C9" --ops >ops.json
expect_grep '"op":"snapshot"' ops.json
"$LABTAPE" log --json --stream git:repo --kind edit.op >edits.json
check "side-branch commits are not groups of their own" \
	sh -c "! grep -q -e $S1 -e $S2 edits.json"
expect_grep '"group":"'"$C5"'".*"path":"side.txt"' edits.json
expect_grep '"detail":\{"action":"rename","from":"a.txt","to":"b2.txt"\}' edits.json
expect_grep '"detail":\{"action":"delete"\}.*"path":"lat1.txt"' edits.json
expect_grep '"actor":"Ada Lovelace <ada@example.org>"' edits.json
expect_grep '"doc":"git:repo:a.txt@'"$(echo "$C7" | cut -c1-12)"'"' edits.json
"$LABTAPE" log --json --stream git:repo --kind import.unit >units.json
expect_grep '"after":"'"$C4"'".*"message":"merge side\\n","parents":\["'"$C4"'","'"$S2"'"\]' units.json
"$LABTAPE" log --json --stream git:repo --kind fs.blob >blobs.json
expect_grep '"path":"z.txt"' blobs.json

# The history of one document across its rename, by its path at a commit.
expect_success "$LABTAPE" history git:repo:b2.txt --rev "$C9" --list >list
check_eq "b2.txt (once a.txt) has a version per commit that changed it" \
	"$C1 $C2 $C4 $C6 $C9" \
	"$(for c in $ALL; do grep -q "commit $(echo "$c" | cut -c1-12)" list && printf '%s ' "$c"; done | sed 's/ $//')"
expect_grep 'renamed from a.txt' list
short=$(echo "$C3" | cut -c1-7)
expect_success "$LABTAPE" history git:repo:a.txt --rev "$short" >/dev/null
git -C repo show "$C3:a.txt" >want
"$LABTAPE" history git:repo:a.txt --rev "$short" >got
test_cmp want got

# Errors: a file that is not there at that commit, a commit that was not
# imported, a repository that was not.
expect_failure "$LABTAPE" history git:repo:lat1.txt --rev "$C5"
expect_grep "'lat1.txt' did not exist at commit .*: it was deleted in commit $(echo "$C3" | cut -c1-12)" "$ERR"
expect_failure "$LABTAPE" history git:repo:side.txt --rev "$C4"
expect_failure "$LABTAPE" history git:repo:a.txt --rev "$S1"
expect_grep 'was not imported' "$ERR"
expect_failure "$LABTAPE" history git:repo:a.txt --rev 'zz;rm -rf /'
expect_failure "$LABTAPE" history git:nope:a.txt --rev "$C1"
expect_grep "no git repository imported has the document" "$ERR"
expect_code 2 "$LABTAPE" history a.txt --rev "$C1"

# labtape docs
expect_success "$LABTAPE" docs
"$LABTAPE" docs >docs.txt
expect_grep '^git:repo:a.txt +git:repo +5 +b2.txt$' docs.txt
expect_grep '^git:repo:dir/x.md +git:repo +3 +dir/y.md \(deleted\)$' docs.txt
"$LABTAPE" docs --json >docs.json
expect_grep '^\{"deleted":false,"doc":"git:repo:b.bin","path":"b.bin","stream":"git:repo","versions":3\}$' docs.json
check_eq "one document per file that ever was" 10 "$(grep -c . docs.json)"

# ---- Again: nothing new --------------------------------------------------

"$LABTAPE" log --json >before.json
expect_success "$LABTAPE" import git repo
expect_grep 'imported 0 of 9 commits .* \(9 there already, 0 events\)' "$ERR"
"$LABTAPE" log --json >after.json
test_cmp before.json after.json

# ---- Failures leave the vault as it was ----------------------------------

expect_failure "$LABTAPE" import git no-such-repo
expect_grep 'labtape: no-such-repo: .*; nothing was imported' "$ERR"
mkdir plain
expect_failure "$LABTAPE" import git plain
expect_grep 'not a git repository' "$ERR"
expect_failure "$LABTAPE" import git repo --rev 'nosuchrev..HEAD'
expect_grep 'nothing was imported' "$ERR"
expect_failure "$LABTAPE" import git repo --rev "$C1...$C3"
expect_grep 'A...B is not a first-parent range' "$ERR"
expect_code 2 "$LABTAPE" import git repo --rev '--all'
# A missing object in the middle of the history: an error part way
# through, after events of earlier commits were appended.
cp -r repo brokenrepo
obj=$(git -C brokenrepo rev-parse "$C8:crlf.txt")
rm -f "brokenrepo/.git/objects/$(echo "$obj" | cut -c1-2)/$(echo "$obj" | cut -c3-)"
"$LABTAPE" init --vault brokenvault >/dev/null 2>&1
"$LABTAPE" log --vault brokenvault --json >b-before.json
expect_failure "$LABTAPE" import git brokenrepo --vault brokenvault
expect_grep "labtape: brokenrepo: commit $C8: .*; nothing was imported" "$ERR"
"$LABTAPE" log --vault brokenvault --json >b-after.json
test_cmp b-before.json b-after.json
check "the broken import left no events" test ! -s b-after.json
"$LABTAPE" log --json >after.json
test_cmp before.json after.json

# ---- Ranges, in any order -------------------------------------------------

# A range first: its first commit starts from a snapshot of the files as
# C3 left them; then the rest, older and newer, goes around it.
LABTAPE_VAULT=$TRASH/vault2
export LABTAPE_VAULT
"$LABTAPE" init >/dev/null 2>&1
expect_success "$LABTAPE" import git repo --rev "$C3..$C6"
expect_grep 'imported 3 of 3 commits' "$ERR"
check_commits "range C3..C6" $C4 $C5 $C6
expect_failure "$LABTAPE" history git:repo:a.txt --rev "$C3"
expect_success "$LABTAPE" import git repo
expect_grep 'imported 6 of 9 commits .* \(3 there already' "$ERR"
check_commits "range, then the whole" $ALL
"$LABTAPE" docs >docs2.txt
expect_grep '^git:repo:a.txt +git:repo +[0-9]+ +b2.txt$' docs2.txt
check "the renamed file kept its id across imports" \
	sh -c "! grep -q '^git:repo:b2.txt ' docs2.txt"

# One commit (its history up to it), then the rest goes on from it.
LABTAPE_VAULT=$TRASH/vault3
"$LABTAPE" init >/dev/null 2>&1
expect_success "$LABTAPE" import git repo --rev "$C2"
expect_grep 'imported 2 of 2 commits' "$ERR"
expect_success "$LABTAPE" import git repo --rev "main~2"
expect_success "$LABTAPE" import git repo
check_commits "step by step" $ALL
"$LABTAPE" log --json --kind import.unit >units3.json
check_eq "one unit per commit" 9 "$(grep -c . units3.json)"
check_eq "every commit after the first goes on from its parent" 8 \
	"$(grep -c '"after"' units3.json)"

# ---- Ctrl-C ----------------------------------------------------------------

# An import interrupted half-way keeps nothing and leaves no segment or key
# file of the days it had begun (a long history, so that the signal comes
# while it runs; if this machine imports it first, there is nothing to see).
mkdir long && git -C long init -q -b main &&
	python3 "$TEST_SRC/bench/git-history.py" --commits 4000 --files 60 \
		--days 400 --seed 7 | git -C long fast-import --quiet
LABTAPE_VAULT=$TRASH/vault5
"$LABTAPE" init >/dev/null 2>&1
"$LABTAPE" import git long 2>int.err &
pid=$!
# The signal once the import has begun making segments.
i=0
while test $i -lt 500 && kill -0 $pid 2>/dev/null &&
	test -z "$(find "$LABTAPE_VAULT/segments" -name '*.seg' 2>/dev/null | head -n 1)"; do
	sleep_ms 10
	i=$((i + 1))
done
kill -INT $pid 2>/dev/null
st=0
wait $pid || st=$?
if test "$st" = 0; then
	say "# the import finished before the signal"
else
	check_eq "an interrupted import fails" 1 "$st"
	expect_grep 'interrupted by signal 2; nothing was imported' int.err
	check_eq "no segment or key file left" 0 \
		"$(find "$LABTAPE_VAULT/segments" "$LABTAPE_VAULT/keys" -type f | wc -l)"
	expect_success "$LABTAPE" log --json >int.log
	check "nothing in the log" test ! -s int.log
fi

# ---- names that are controls ----------------------------------------------

# A repository's name and file names are anyone's: listed by labtape
# docs and labtape stats, an escape sequence or a newline in one neither
# reaches the terminal nor breaks the one item a line.
LABTAPE_VAULT=$TRASH/vault-evil
"$LABTAPE" init >/dev/null 2>&1
EVIL=$(printf 'ev\033[2Jil')
git init -q -b main "$EVIL" || fatal "git init evil"
printf 'x\n' >"$EVIL/$(printf 'clear\033[2Jname\nline2')"
git -C "$EVIL" add -A
GIT_AUTHOR_DATE=2024-03-01T10:00:00Z GIT_COMMITTER_DATE=2024-03-01T10:00:00Z \
	git -C "$EVIL" commit -q -m evil || fatal "git commit evil"
expect_success "$LABTAPE" import git "$EVIL"
"$LABTAPE" docs >docs-evil.txt
"$LABTAPE" stats >stats-evil.txt
for f in docs-evil.txt stats-evil.txt; do
	check "no escape character in $f" \
		sh -c "! grep -q \"\$(printf '\\033')\" $f"
done
check_eq "a header and one document" 2 "$(wc -l <docs-evil.txt)"
expect_grep 'clear.*\[2Jname.*line2$' docs-evil.txt
expect_grep '^git:ev.*\[2Jil ' stats-evil.txt

# ---- labtape's own history ------------------------------------------------

if git -C "$TEST_SRC" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	LABTAPE_VAULT=$TRASH/vault4
	"$LABTAPE" init >/dev/null 2>&1
	name=$(basename "$(git -C "$TEST_SRC" rev-parse --show-toplevel)")
	expect_success "$LABTAPE" import git "$(git -C "$TEST_SRC" rev-parse --show-toplevel)"
	git -C "$TEST_SRC" rev-list --first-parent HEAD >own-commits
	# 20 (commit, file) pairs, chosen with the test's seed.
	awk -v seed="$TEST_SEED" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' \
		own-commits | sort | head -n 20 | cut -f2 >own-sample
	bad=0
	while read -r c; do
		git -C "$TEST_SRC" ls-tree -r --name-only "$c" >files
		p=$(awk -v seed="$TEST_SEED$c" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' files |
			sort | head -n 1 | cut -f2)
		git -C "$TEST_SRC" show "$c:$p" >want
		if ! "$LABTAPE" history "git:$name:$p" --rev "$c" >got 2>"$ERR" ||
			! cmp -s want got; then
			say "# $p at $c differs"
			bad=$((bad + 1))
		fi
	done <own-sample
	check_eq "20 sampled files of labtape's own history as git shows them" 0 "$bad"
else
	say "# skipped: $TEST_SRC is not a git checkout"
fi

test_done
