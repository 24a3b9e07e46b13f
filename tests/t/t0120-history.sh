#!/bin/sh
# labtape history: documents recorded as doc/files-source.md says (appended
# here as JSONL, so this test does not depend on the recorder), then every
# version rebuilt byte for byte, the list, --at, --ops, renames, nested
# roots, deleted and recreated files, notebooks, binary files, and the
# errors.
. "$(dirname "$0")/test-lib.sh"

lt_init
W=$TRASH/w
mkdir -p "$W/sub" "$W/inner"
export W

# An empty vault has no history of anything.
expect_code 1 lt history "$W/a.txt"
expect_grep "no recorded history for .* \(it is not inside a watched folder" "$ERR"

# ---- the record -------------------------------------------------------------

# gen.py writes outer.jsonl and inner.jsonl (the two streams), and for each
# document checked below: exp/<name>.<N> (version N's bytes), <name>.list
# (what --list must print) and <name>.times (version N's time, a line each).
cat >gen.py <<'EOF'
import base64, json, os, random

W = os.environ["W"]
rnd = random.Random(int(os.environ["TEST_SEED"]))
os.makedirs("exp", exist_ok=True)
clock = [0]

def stamp():
    # Every save one minute after the last one, over several hours.
    clock[0] += 1
    m = clock[0]
    return "2026-03-01T%02d:%02d:%02d.%09dZ" % (10 + m // 60, m % 60, 7, m)

def jl(f, t, kind, data):
    f.write(json.dumps({"t": t, "kind": kind, "data": data},
                       ensure_ascii=False) + "\n")

class Doc:
    """One document: its events, and its versions as the test expects."""
    def __init__(self, f, name, doc, path):
        self.f, self.name, self.doc, self.path = f, name, doc, path
        self.seq, self.saves, self.versions = 0, 0, []
    def save(self, ops, content, notes=(), kind="edit.op"):
        """ops: list of (kind, data) for one save; content: the version."""
        self.saves += 1
        t = stamp()
        for k, d in ops:
            d = dict(d, doc=self.doc, seq=self.seq,
                     group="save:%d" % self.saves, actor="tester")
            d.setdefault("path", self.path)
            if k == "edit.op" and d["op"] not in ("structural",) and \
               "part" not in d:
                d["part"] = d["path"]
            self.seq += 1
            jl(self.f, t, k, d)
        size = "-" if content is None else str(len(content))
        self.versions.append((t, size, len(ops), notes, content))
    def write(self, name=None, upto=None):
        name = name or self.name
        vs = self.versions[:upto]
        with open(name + ".list", "w") as out, open(name + ".times", "w") as tf:
            for i, (t, size, nops, notes, content) in enumerate(vs, 1):
                line = "%4d  %s  %9s  %4d" % (i, t, size, nops)
                for n in notes:
                    line += "  " + n
                out.write(line + "\n")
                tf.write(t + "\n")
                if content is not None:
                    with open("exp/%s.%d" % (name, i), "wb") as e:
                        e.write(content)

outer = open("outer.jsonl", "w")
inner = open("inner.jsonl", "w")

# -- A text file with random edits, snapshots in the middle, and a rename --
glyphs = list("abcdefgh  \n") + ["é", "λ", "☃", "😀", "中", "\u00a0"]
def text(n):
    return "".join(rnd.choice(glyphs) for _ in range(n))

a = Doc(outer, "a", "file:00000000000000a1", "notes.txt")
cur = "Résumé of the λ experiment ☃ 😀\nline two\n"
a.save([("edit.op", {"op": "snapshot", "text": cur})], cur.encode(),
       ["snapshot"])
since = 0
for s in range(30):
    if s == 18:
        a.save([("edit.op", {"op": "structural", "path": "sub/renamed.txt",
                             "detail": {"action": "rename", "from": "notes.txt",
                                        "to": "sub/renamed.txt"}})],
               cur.encode(), ["renamed from notes.txt"])
        a.path = "sub/renamed.txt"
        renamed_at = len(a.versions)
        continue
    ops = []
    for _ in range(rnd.randint(1, 5)):
        kind = rnd.choice(["insert", "delete", "replace"]) if cur else "insert"
        pos = rnd.randint(0, len(cur) - (kind != "insert"))
        if kind == "insert":
            ins = text(rnd.randint(1, 12))
            ops.append(("edit.op", {"op": "insert", "pos": pos, "ins": ins}))
            cur = cur[:pos] + ins + cur[pos:]
        else:
            n = rnd.randint(1, min(6, len(cur) - pos))
            d = {"op": kind, "pos": pos, "len": n, "del": cur[pos:pos + n]}
            ins = ""
            if kind == "replace":
                ins = text(rnd.randint(1, 8))
                d["ins"] = ins
            ops.append(("edit.op", d))
            cur = cur[:pos] + ins + cur[pos + n:]
        since += 1
    notes = []
    if since >= 8:
        ops.append(("edit.op", {"op": "snapshot", "text": cur}))
        notes = ["snapshot"]
        since = 0
    a.save(ops, cur.encode(), notes)
a.write()
a.write("a-old", renamed_at)

# -- Noise: another file in the same stream ---------------------------------
b = Doc(outer, "b", "file:00000000000000b2", "other.txt")
b.save([("edit.op", {"op": "snapshot", "text": "other\n"})], b"other\n",
       ["snapshot"])

# -- A file deleted, and a new file made later at the same path -------------
c = Doc(outer, "c", "file:00000000000000c3", "gone.txt")
c.save([("edit.op", {"op": "snapshot", "text": "first life\n"})],
       b"first life\n", ["snapshot"])
c.save([("edit.op", {"op": "insert", "pos": 0, "ins": "my "})],
       b"my first life\n")
c.save([("edit.op", {"op": "structural", "detail": {"action": "delete"}})],
       None, ["deleted"])
c.write()
d = Doc(outer, "d", "file:00000000000000d4", "gone.txt")
d.save([("edit.op", {"op": "snapshot", "text": "second life\n"})],
       b"second life\n", ["snapshot"])
d.write()

# -- Nested roots: w/inner was recorded on its own, and inside w before ----
e = Doc(outer, "e-outer", "file:00000000000000e5", "inner/x.txt")
e.save([("edit.op", {"op": "snapshot", "text": "seen from w\n"})],
       b"seen from w\n", ["snapshot"])
f = Doc(inner, "x", "file:00000000000000f6", "x.txt")
f.save([("edit.op", {"op": "snapshot", "text": "seen from w/inner\n"})],
       b"seen from w/inner\n", ["snapshot"])
f.write()

# -- A notebook, as files-nb.c records it ------------------------------------
def compact(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)

def nbformat_bytes(cells, metadata):
    # What nbformat.write() writes: see src/cli/nbjson.h.
    nb = {"cells": [], "metadata": metadata, "nbformat": 4,
          "nbformat_minor": 5}
    for c in cells:
        o = dict(c["meta"], id=c["id"], source=c["src"].splitlines(True))
        if "outputs" in c:
            o["outputs"] = c["outputs"]
        nb["cells"].append(o)
    return (json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "),
                       ensure_ascii=False) + "\n").encode()

g = Doc(outer, "nb", "file:00000000000000a7", "nb.ipynb")
meta = {"kernelspec": {"display_name": "Python 3", "name": "python3"},
        "x": 0.1, "y": 1e-07, "z": 1e16, "w": 123.5, "big": 12345678901,
        "reals": [1e-05, 0.0001, 1.5e300, -0.0, 1.2345678901234567e19,
                  100.0, 1e15, -2.5e-310, 5e-324, 0.30000000000000004],
        "ctl": "a\u0001b\"\\/\t", "zz": [], "zo": {}, "ü": True}
out1 = [{"name": "stdout", "output_type": "stream", "text": ["1\n", "2\n"]}]
cells = [
    {"id": "c1", "src": "import math\nx = 1\r\ny = 2", "outputs": out1,
     "meta": {"cell_type": "code", "execution_count": 3,
              "metadata": {"tags": ["a"]}}},
    {"id": "c2", "src": "# Title ✓\n\nSome *text*\u2028more\x0cform\x1dsep\u0085nl\x0bv",
     "meta": {"cell_type": "markdown", "metadata": {}}},
]
ops = []
for i, c in enumerate(cells):
    ops.append(("edit.op", {"op": "structural", "part": c["id"],
                            "detail": {"action": "add", "index": i,
                                       "cell_type": c["meta"]["cell_type"]}}))
    ops.append(("edit.op", {"op": "snapshot", "part": c["id"],
                            "text": c["src"]}))
    if c.get("outputs"):
        ops.append(("edit.op", {"op": "snapshot", "part": c["id"] + "/outputs",
                                "text": compact(c["outputs"])}))
    ops.append(("edit.op", {"op": "snapshot", "part": c["id"] + "/meta",
                            "text": compact(c["meta"])}))
ops.append(("edit.op", {"op": "snapshot", "part": "metadata",
                        "text": compact(meta)}))
g.save(ops, nbformat_bytes(cells, meta), ["notebook"])
states = [cells]
# Save 2: a cell added at 1, the markdown cell moved to the top, an edit of
# c1's source, new outputs for c1.
c3 = {"id": "c3", "src": "", "outputs": [],
      "meta": {"cell_type": "code", "execution_count": None, "metadata": {}}}
cells = [cells[0], c3, cells[1]]
ops = [("edit.op", {"op": "structural", "part": "c3",
                    "detail": {"action": "add", "index": 1,
                               "cell_type": "code"}}),
       ("edit.op", {"op": "snapshot", "part": "c3", "text": ""}),
       ("edit.op", {"op": "snapshot", "part": "c3/meta",
                    "text": compact(c3["meta"])}),
       ("edit.op", {"op": "structural", "part": "c2",
                    "detail": {"action": "move", "from": 2, "to": 0}})]
cells = [cells[2], cells[0], cells[1]]
c1 = dict(cells[1])
c1["src"] = "import math, os\nx = 1\r\ny = 2"
c1["outputs"] = [{"data": {"text/plain": ["42"]}, "execution_count": 4,
                  "metadata": {}, "output_type": "execute_result"}]
cells[1] = c1
ops += [("edit.op", {"op": "insert", "part": "c1", "pos": 11, "ins": ", os"}),
        ("edit.op", {"op": "snapshot", "part": "c1/outputs",
                     "text": compact(c1["outputs"])})]
g.save(ops, nbformat_bytes(cells, meta), ["notebook"])
states.append(cells)
# Save 3: c3 deleted, a replace in the markdown cell.
c2 = dict(cells[0])
c2["src"] = "# Title ✔\n\nSome *text*\u2028more\x0cform\x1dsep\u0085nl\x0bv"
cells = [c2, cells[1]]
ops = [("edit.op", {"op": "structural", "part": "c3",
                    "detail": {"action": "delete", "index": 2}}),
       ("edit.op", {"op": "replace", "part": "c2", "pos": 8, "len": 1,
                    "del": "✓", "ins": "✔"})]
g.save(ops, nbformat_bytes(cells, meta), ["notebook"])
states.append(cells)
g.write()
with open("nb-states.json", "w") as out:
    json.dump({"meta": meta, "states": states}, out)

# -- A binary file as chunks ------------------------------------------------
def chunk(data):
    h = "%064x" % rnd.getrandbits(256)
    return h, {"hash": h, "data": base64.b64encode(data).decode()}
p1 = bytes(rnd.getrandbits(8) for _ in range(3000)) + b"\0\xff\xfe"
p2 = bytes(rnd.getrandbits(8) for _ in range(1000))
p3 = b"\x89PNG\r\n\x1a\n" * 5
h1, ch1 = chunk(p1)
h2, ch2 = chunk(p2)
h3, ch3 = chunk(p3)
bl = Doc(outer, "bin", "file:00000000000000b8", "data.bin")
t0 = stamp()
jl(outer, t0, "fs.chunk", ch1)
jl(outer, t0, "fs.chunk", ch2)
bl.save([("fs.blob", {"size": len(p1 + p2), "chunks": [h1, h2]})], p1 + p2,
        ["binary"])
jl(outer, stamp(), "fs.chunk", ch3)
bl.save([("fs.blob", {"size": len(p3 + p1 + p3), "chunks": [h3, h1, h3]})],
        p3 + p1 + p3, ["binary"])
bl.write()
EOF
python3 gen.py || fatal "gen.py failed"
expect_success lt append --stream "fs:$W" <outer.jsonl
expect_success lt append --stream "fs:$W/inner" <inner.jsonl

# ---- every version, byte for byte -------------------------------------------

# check_versions NAME PATH: --list and every --version N of PATH.
check_versions() {
	expect_success lt history "$2" >"$1.list.out"
	test_cmp "$1.list" "$1.list.out"
	n=$(wc -l <"$1.list")
	i=1
	bad=0
	while test "$i" -le "$n"; do
		if test -f "exp/$1.$i"; then
			lt history --version "$i" "$2" >"$1.$i.out" 2>"$ERR" &&
				cmp -s "exp/$1.$i" "$1.$i.out" ||
				{ bad=$((bad + 1)); say "# $1 version $i differs"; }
		fi
		i=$((i + 1))
	done
	check_eq "$1: versions that differ from what was saved" 0 "$bad"
}

check_versions a "$W/sub/renamed.txt"
check_eq "a has its 31 versions" 31 "$(wc -l <a.list)"
expect_grep '  snapshot$' a.list
expect_grep 'renamed from notes.txt$' a.list

# The current path from elsewhere: relative, with . and .., from a subfolder.
cd "$W/sub" || fatal "cd"
expect_success lt history renamed.txt >../../a.rel.out
expect_success lt history --version 31 ./../sub/renamed.txt >../../a.31.rel
cd "$TRASH" || fatal "cd"
test_cmp a.list a.rel.out
test_cmp exp/a.31 a.31.rel
expect_success lt history w/sub//renamed.txt >a.rel2.out
test_cmp a.list a.rel2.out
# Through a symbolic link to the watched folder.
ln -s w link
expect_success lt history link/sub/renamed.txt >a.link.out
test_cmp a.list a.link.out

# The old path: the versions saved under it, numbered as in the whole history.
check_versions a-old "$W/notes.txt"
expect_code 1 lt history --version 25 "$W/notes.txt"
expect_grep "version 25 of this file was not saved as .*notes.txt.*sub/renamed.txt" "$ERR"

# --at: a version's own time, a time between two saves, before the first.
t5=$(sed -n 5p a.times)
expect_success lt history --at "$t5" "$W/sub/renamed.txt" >at5.out
test_cmp exp/a.5 at5.out
t12=$(sed -n 12p a.times)
later=$(echo "$t12" | sed 's/:07\./:37./')
expect_success lt history --at "$later" "$W/sub/renamed.txt" >at12.out
test_cmp exp/a.12 at12.out
expect_code 1 lt history --at 2026-03-01 "$W/sub/renamed.txt"
expect_grep "no version of .* at that time: the first is from 2026-03-01T10:01:07" "$ERR"
expect_success lt history --at 2100-01-01T00:00:00Z "$W/sub/renamed.txt" >now.out
test_cmp exp/a.31 now.out

# ---- --ops --------------------------------------------------------------------

# Every operation of the document, as 'labtape log --json' has them.
expect_success lt log --json --stream "fs:$W" >log.json
python3 - log.json >a.ops <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if json.loads(line)["data"].get("doc") == "file:00000000000000a1":
        sys.stdout.write(line)
EOF
expect_success lt history --ops "$W/sub/renamed.txt" >a.ops.out
test_cmp a.ops a.ops.out
expect_success lt history --ops --version 7 "$W/sub/renamed.txt" >a.ops7.out
check_eq "--ops --version 7 has that version's operations" \
	"$(sed -n 7p a.list | awk '{ print $4 }')" "$(wc -l <a.ops7.out)"
check_eq "they are version 7's" "save:7" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["data"]["group"] for l in sys.stdin})))' <a.ops7.out)"
expect_success lt history --ops --at "$t5" "$W/sub/renamed.txt" >a.ops5.out
check_eq "--ops --at" "$(sed -n 5p a.list | awk '{ print $4 }')" \
	"$(wc -l <a.ops5.out)"

# ---- deleted, recreated, nested roots ---------------------------------------

# The file at gone.txt now is the second one; the first one is named.
expect_success lt history "$W/gone.txt" >/dev/null
expect_grep "note: file:00000000000000c3 had this path too" "$ERR"
check_versions d "$W/gone.txt"
expect_success lt history --doc file:00000000000000c3 "$W/gone.txt" >c.list.out
test_cmp c.list c.list.out
expect_success lt history --doc file:00000000000000c3 --version 2 "$W/gone.txt" >c.2.out
test_cmp exp/c.2 c.2.out
expect_code 1 lt history --doc file:00000000000000c3 --version 3 "$W/gone.txt"
expect_grep "version 3 of 'gone.txt' is its deletion" "$ERR"
expect_code 1 lt history --doc file:00000000000000b2 "$W/gone.txt"
expect_grep "no document file:00000000000000b2 has had the path" "$ERR"

# The innermost root wins.
check_versions x "$W/inner/x.txt"

# ---- notebooks and binary files ---------------------------------------------

check_versions nb "$W/nb.ipynb"
# The expectation is json.dumps as nbformat calls it; if nbformat itself is
# installed (Debian's python3-nbformat), it must write the same bytes.
nbpy=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import nbformat' 2>/dev/null; then
		nbpy=$py
		break
	fi
done
if test -n "$nbpy"; then
	"$nbpy" - 2>/dev/null <<'EOF'
import json, nbformat
s = json.load(open("nb-states.json"))
for n, cells in enumerate(s["states"], 1):
    nb = nbformat.v4.new_notebook(metadata=s["meta"])
    for c in cells:
        cell = dict(c["meta"], id=c["id"], source=c["src"])
        if "outputs" in c:
            cell["outputs"] = c["outputs"]
        nb.cells.append(nbformat.from_dict(cell))
    nbformat.write(nb, "exp/nb-nbformat.%d" % n)
EOF
	for i in 1 2 3; do
		test_cmp "exp/nb-nbformat.$i" "exp/nb.$i"
	done
else
	say "# no nbformat: the notebook is checked against json.dumps only"
fi
check_versions bin "$W/data.bin"

# ---- errors -----------------------------------------------------------------------

expect_code 1 lt history "$W/nope.txt"
expect_grep "no recorded history for '.*nope.txt' \(no file by that name" "$ERR"
expect_code 1 lt history "$TRASH/elsewhere.txt"
expect_grep "no recorded history for .* \(it is not inside a watched folder; see 'labtape status'\)" "$ERR"
expect_code 1 lt history --version 32 "$W/sub/renamed.txt"
expect_grep "has no version 32: its versions are 1 to 31" "$ERR"
expect_code 2 lt history --version 99999999999999999999 "$W/sub/renamed.txt"
expect_code 2 lt history --version 0 "$W/sub/renamed.txt"
expect_grep "version number from 1" "$ERR"
expect_code 2 lt history --version x "$W/sub/renamed.txt"
expect_code 2 lt history --version 1 --at 1h "$W/sub/renamed.txt"
expect_code 2 lt history --list --version 1 "$W/sub/renamed.txt"
expect_code 2 lt history --at "not a time" "$W/sub/renamed.txt"
expect_code 2 lt history
expect_code 2 lt history a b
expect_success lt history --help >help.out
expect_grep "^usage: labtape history PATH" help.out
echo wrong >wrong.pass
expect_code 1 env -u LABTAPE_PASSPHRASE "$LABTAPE" history \
	--passphrase-file wrong.pass "$W/sub/renamed.txt"
expect_code 1 lt history --vault "$TRASH/novault" "$W/sub/renamed.txt"

test_done
