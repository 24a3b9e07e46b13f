#!/bin/sh
# labtape history on what the real recorder wrote: a file saved in many
# ways (plain writes, sed -i, an atomic rename, Python, appends, multi-byte
# text), renamed and saved again; a notebook saved by nbformat (when
# Debian's python3-nbformat is there); a binary file. Every save is a
# version, and every version comes back byte for byte.
. "$(dirname "$0")/test-lib.sh"

lt_init
mkdir -p w/sub exp

# The baseline: what the recorder finds when it starts.
printf 'Résumé of the λ run ☃\nline two\n' >w/doc.txt
# Big enough for several chunks (FastCDC: 16 KiB to 256 KiB).
python3 -c '
import os, random
r = random.Random(int(os.environ["TEST_SEED"]))
open("w/data.bin", "wb").write(b"\0\1\2binary\377" +
                               bytes(r.getrandbits(8) for _ in range(600000)))'
cp w/doc.txt exp/doc.1
cp w/data.bin exp/bin.1

nbpy=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import nbformat' 2>/dev/null; then
		nbpy=$py
		break
	fi
done
cat >nbsave.py <<'EOF'
import nbformat, sys
n, path = int(sys.argv[1]), sys.argv[2]
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
cells = [nbformat.v4.new_markdown_cell("# Notes ✓\nstep %d" % n, id="m1"),
         nbformat.v4.new_code_cell("x = %d\nprint(x * 0.1)" % n, id="c1")]
cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="%r\n" % (n * 0.1))]
cells[1].execution_count = n
if n >= 2:
    cells.insert(1, nbformat.v4.new_code_cell("import math", id="c0"))
if n >= 3:
    cells.reverse()
nb.cells = cells
nbformat.write(nb, path)
EOF
if test -n "$nbpy"; then
	"$nbpy" nbsave.py 1 w/nb.ipynb 2>/dev/null
	cp w/nb.ipynb exp/nb.1
fi

test_bg lt record w 2>record.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt status >/dev/null
if test "$test_status" != 0; then
	test_show record.log
	fatal "the recorder did not start"
fi
sleep_ms 1000	# the baseline scan

# save N: the file's content after the change just made is version N.
v=1
saved() {
	v=$((v + 1))
	cp "$1" "exp/doc.$v"
	sleep_ms 400	# longer than the source's debounce: one save each
}
printf 'Résumé of the big λ run ☃\nline two\n' >w/doc.txt
saved w/doc.txt
sed -i 's/big/small/; s/two/2 😀/' w/doc.txt
saved w/doc.txt
python3 - <<'EOF'
import os, tempfile
# An editor's save: a temporary file renamed over the original.
fd, tmp = tempfile.mkstemp(dir="w")
with os.fdopen(fd, "w", encoding="utf-8") as f:
    f.write("Résumé of the small λ run ☃\nline 2 😀\nnew line 三\n")
os.replace(tmp, "w/doc.txt")
EOF
saved w/doc.txt
python3 -c 'open("w/doc.txt", "w", encoding="utf-8").write("short\n")'
saved w/doc.txt
printf 'appended é\n' >>w/doc.txt
saved w/doc.txt
mv w/doc.txt w/sub/renamed.txt
saved w/sub/renamed.txt
printf 'after the rename\n' >>w/sub/renamed.txt
saved w/sub/renamed.txt
printf 'a' >w/sub/renamed.txt
saved w/sub/renamed.txt

# A change in the middle: most chunks are the same as before.
python3 -c '
data = bytearray(open("w/data.bin", "rb").read())
data[300000:300010] = b"\xff" * 10
open("w/data.bin", "wb").write(data)'
cp w/data.bin exp/bin.2
if test -n "$nbpy"; then
	for n in 2 3; do
		"$nbpy" nbsave.py "$n" w/nb.ipynb 2>/dev/null
		cp w/nb.ipynb "exp/nb.$n"
		sleep_ms 400
	done
fi
sleep_ms 400

expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
check "the recorder exited" sh -c "! kill -0 $REC 2>/dev/null"

# ---- the text file ----------------------------------------------------------

expect_success lt history w/sub/renamed.txt >doc.list
check_eq "every save is a version" "$v" "$(wc -l <doc.list)"
expect_grep '^   1  .*  snapshot$' doc.list
expect_grep '^   7  .*  renamed from doc.txt$' doc.list
bad=0
i=1
while test "$i" -le "$v"; do
	lt history --version "$i" w/sub/renamed.txt >got 2>"$ERR" &&
		cmp -s "exp/doc.$i" got ||
		{ bad=$((bad + 1)); say "# version $i differs"; }
	i=$((i + 1))
done
check_eq "versions that differ from what was saved" 0 "$bad"
expect_success lt history w/doc.txt >old.list
check_eq "the old path has the versions before the rename, and the rename" \
	7 "$(wc -l <old.list)"
expect_success lt history --version 6 w/doc.txt >got
test_cmp exp/doc.6 got
expect_success lt history --ops --version 3 w/sub/renamed.txt >ops3
expect_grep '"kind":"edit.op".*"group":"save:3"' ops3

# ---- the notebook -------------------------------------------------------------

if test -n "$nbpy"; then
	expect_success lt history w/nb.ipynb >nb.list
	check_eq "every notebook save is a version" 3 "$(wc -l <nb.list)"
	for i in 1 2 3; do
		expect_success lt history --version "$i" w/nb.ipynb >got
		test_cmp "exp/nb.$i" got
	done
else
	say "# no nbformat (python3-nbformat): the notebook part is skipped"
fi

# ---- the binary file ------------------------------------------------------------

# Until files-blob.c records them, a binary file has no history at all.
if lt history w/data.bin >bin.list 2>"$ERR" ||
   ! grep -q "no recorded history" "$ERR"; then
	check_eq "every binary save is a version" 2 "$(wc -l <bin.list)"
	expect_grep '  binary$' bin.list
	for i in 1 2; do
		expect_success lt history --version "$i" w/data.bin >got
		test_cmp "exp/bin.$i" got
	done
else
	known_breakage "binary files are recorded (files-blob.c)" false
fi

expect_success lt verify >/dev/null
test_done
