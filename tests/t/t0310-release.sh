#!/bin/sh
# Releases in the age format: labtape recipient, release and open, checked
# against the real age tool both ways. Wrong keys, flipped bytes (header,
# a middle chunk, the last chunk) and truncation are refused by both, and
# labtape leaves nothing behind; chunk edges (empty, 64 KiB, 64 KiB + 1);
# hostile archives; no overwriting.
. "$(dirname "$0")/test-lib.sh"

command -v age >/dev/null || fatal "the age tool is not installed (scripts/install-deps)"

# ---- keys ---------------------------------------------------------------

expect_success lt recipient new acme >pub
PUB=$(cat pub)
check "the public key is an age1 key" sh -c "echo '$PUB' | grep -Eqx 'age1[02-9ac-hj-np-z]{58}'"
check_eq "the key file is mode 0600" 600 "$(file_mode acme.key)"
check_eq "age-keygen -y agrees on the public key" "$PUB" "$(age-keygen -y acme.key)"
check_eq "the key file has three lines" 3 "$(wc -l <acme.key)"
check "line 1 says when" sh -c "sed -n 1p acme.key | grep -Eqx '# created: [0-9-]+T[0-9:]+Z'"
check_eq "line 2 is the public key" "# public key: $PUB" "$(sed -n 2p acme.key)"
check "line 3 is the secret key" sh -c "sed -n 3p acme.key | grep -Eqx 'AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}'"
cp acme.key acme.key.orig
expect_failure lt recipient new acme
expect_grep "already exists" "$ERR"
test_cmp acme.key.orig acme.key
expect_success lt recipient show acme.key >shown
check_eq "recipient show prints the public key" "$PUB" "$(cat shown)"
age-keygen -o other.key 2>/dev/null
expect_success lt recipient new org -o org.key >/dev/null
check "-o names the key file" test -f org.key

# ---- a release, opened by age and by labtape ----------------------------

mkdir -p export/sub
printf 'line one\nline two\n' >export/notes.txt
head -c 200000 /dev/urandom >export/sub/data.bin
: >export/sub/empty
printf 'single\n' >single.txt
expect_success lt release --to "$PUB" export single.txt --embargo 2099-12-31 \
	--consent irb-2024-17 --consent "meeting 2024-05-01" --by alice -o rel.age
check "the release is an age file" sh -c 'head -1 rel.age | grep -qx age-encryption.org/v1'

mkdir byage
expect_success sh -c 'age -d -i acme.key rel.age | tar -x -C byage -f -'
test_cmp export/notes.txt byage/export/notes.txt
test_cmp export/sub/data.bin byage/export/sub/data.bin
test_cmp single.txt byage/single.txt
check "the empty file is there" test -f byage/export/sub/empty -a ! -s byage/export/sub/empty
age -d -i acme.key rel.age | tar -t -f - >names
check_eq "MANIFEST.json comes first" MANIFEST.json "$(head -1 names)"
python3 - byage/MANIFEST.json "$PUB" <<'PY' >manifest.out 2>&1
import json, sys, hashlib, os
m = json.load(open(sys.argv[1]))
assert m["labtape_release"] == 1
assert m["recipient"] == sys.argv[2]
assert m["embargo"] == "2099-12-31"
assert m["consents"] == ["irb-2024-17", "meeting 2024-05-01"]
assert m["by"] == {"vault": None, "user": "alice"}, m["by"]
assert m["created"].endswith("Z") and len(m["created"]) == 20
paths = [f["path"] for f in m["files"]]
assert paths == ["export/notes.txt", "export/sub/data.bin", "export/sub/empty", "single.txt"], paths
for f in m["files"]:
    data = open(os.path.join(os.path.dirname(sys.argv[1]), f["path"]), "rb").read()
    assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest(), f
print("manifest ok")
PY
expect_grep "^manifest ok$" manifest.out

expect_success lt open rel.age --key acme.key >open.out
expect_grep "warning: embargoed until 2099-12-31" "$ERR"
expect_grep "^release of 4 files .* by alice$" open.out
expect_grep "^consents: irb-2024-17, meeting 2024-05-01$" open.out
expect_grep "^extracted to rel$" open.out
check_eq "labtape open extracts what age and tar do" "$(tree_sums byage)" "$(tree_sums rel)"
expect_success lt open rel.age --key acme.key --list >list.out
test_cmp byage/MANIFEST.json list.out
expect_failure lt open rel.age --key acme.key
expect_grep "already exists" "$ERR"

# A key file with comments, blank lines and several keys.
{ echo "# two keys"; echo; tail -1 other.key; tail -1 acme.key; } >both.key
expect_success lt open rel.age --key both.key -o rel2 >/dev/null
check_eq "several identities in a key file" "$(tree_sums rel)" "$(tree_sums rel2)"

# ---- what age wrote, labtape opens --------------------------------------

age -d -i acme.key rel.age >rel.tar
age -r "$PUB" -o retar.age rel.tar
expect_success lt open retar.age --key acme.key >/dev/null
check_eq "a release re-encrypted by age opens" "$(tree_sums rel)" "$(tree_sums retar)"
# A plain age file (not a tar): its plaintext, as one file.
for n in 0 1 65535 65536 65537 200000; do
	head -c $n /dev/urandom >plain$n
	age -r "$PUB" -o plain$n.bin.age plain$n
	expect_success lt open plain$n.bin.age --key acme.key
	test_cmp plain$n plain$n.bin
done
expect_grep "not a labtape release" "$ERR"
expect_failure lt open plain1.bin.age --key acme.key --list
expect_grep "not a labtape release" "$ERR"

# ---- chunk edges and an empty release -------------------------------------

mkdir nothing
for n in 65536 65537; do
	head -c $n /dev/urandom >edge$n
	expect_success lt release --to "$PUB" edge$n -o edge$n.age
	expect_success lt open edge$n.age --key acme.key -o out$n >/dev/null
	test_cmp edge$n out$n/edge$n
	check "age opens the $n-byte release" sh -c "age -d -i acme.key edge$n.age | tar -xO -f - edge$n | cmp -s - edge$n"
done
expect_success lt release --to "$PUB" nothing -o empty.age
expect_success lt open empty.age --key acme.key >empty.out
expect_grep "^release of 0 files" empty.out
check "age opens the empty release" sh -c 'age -d -i acme.key empty.age | tar -t -f - | grep -qx MANIFEST.json'

# ---- wrong keys, flipped bytes, truncation --------------------------------

expect_failure lt open rel.age --key other.key -o wrong
expect_grep "no identity matches" "$ERR"
check "nothing extracted with the wrong key" test ! -e wrong
check "age refuses the wrong key too" sh -c '! age -d -i other.key rel.age >/dev/null 2>&1'

# flip FILE OFFSET: a copy of FILE with the byte at OFFSET changed.
flip() {
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[int(sys.argv[2])] ^= 0x01
open(sys.argv[3], "wb").write(d)' "$1" "$2" "$3"
}
HDR=$(python3 -c 'import sys; d = open("rel.age", "rb").read(); print(d.index(b"\n---") + 1)')
SIZE=$(wc -c <rel.age)
# In the header's stanza, in the middle chunk (of 4), in the last chunk.
flip rel.age 40 bad-header.age
flip rel.age $((HDR + 60 + 16 + 65552 + 1000)) bad-middle.age
flip rel.age $((SIZE - 5)) bad-last.age
for f in bad-header bad-middle bad-last; do
	expect_failure lt open $f.age --key acme.key
	check "nothing is left of $f" sh -c "! ls -d $f $f.partial-* 2>/dev/null"
	check "age refuses $f too" sh -c "! age -d -i acme.key $f.age >/dev/null 2>&1"
done
expect_failure lt open bad-middle.age --key acme.key
expect_grep "bad-middle.age: chunk 1 \(bytes [0-9]+\.\.[0-9]+\): authentication failed" "$ERR"
expect_failure lt open bad-last.age --key acme.key
expect_grep "bad-last.age: chunk 3 .*authentication failed" "$ERR"
flip rel.age $((HDR + 10)) bad-mac.age
expect_failure lt open bad-mac.age --key acme.key
expect_grep "MAC" "$ERR"
head -c $((SIZE - 100)) rel.age >cut.age
expect_failure lt open cut.age --key acme.key
expect_grep "cut short" "$ERR"
check "nothing is left of cut" sh -c '! ls -d cut cut.partial-* 2>/dev/null'
head -c $((HDR + 60 + 16 + 2 * 65552)) rel.age >cut2.age
expect_failure lt open cut2.age --key acme.key
check "a cut at a chunk boundary is refused" sh -c '! ls -d cut2 2>/dev/null'
check "age refuses the cut file too" sh -c '! age -d -i acme.key cut.age >/dev/null 2>&1'

# ---- hostile archives -----------------------------------------------------

python3 - <<'PY'
import io, json, tarfile, hashlib
def release(name, entries):
    files = [{"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
             for n, d in entries if d is not None]
    m = json.dumps({"labtape_release": 1, "files": files}).encode()
    with tarfile.open(name, "w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("MANIFEST.json"); ti.size = len(m)
        t.addfile(ti, io.BytesIO(m))
        for n, d in entries:
            ti = tarfile.TarInfo(n)
            if d is None:
                ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/passwd"
                t.addfile(ti)
            else:
                ti.size = len(d); t.addfile(ti, io.BytesIO(d))
release("dotdot.tar", [("ok.txt", b"ok"), ("../evil.txt", b"evil")])
release("abs.tar", [("/tmp/evil-labtape.txt", b"evil")])
release("link.tar", [("link", None)])
release("extra.tar", [("ok.txt", b"ok")])
with tarfile.open("extra.tar", "a") as t:
    ti = tarfile.TarInfo("unlisted.txt"); ti.size = 1
    t.addfile(ti, io.BytesIO(b"x"))
PY
mkdir hostile && cd hostile
for t in dotdot abs link extra; do
	age -r "$PUB" -o $t.age ../$t.tar
	expect_failure lt open $t.age --key ../acme.key
	check "nothing is left of $t" sh -c "! ls -d $t $t.partial-* 2>/dev/null"
done
cd ..
check "no file escaped the folder" test ! -e evil.txt -a ! -e /tmp/evil-labtape.txt
# A manifest that lies about a file.
python3 - <<'PY'
import io, json, tarfile
m = json.dumps({"labtape_release": 1, "files": [{"path": "a", "size": 1, "sha256": "0" * 64}]}).encode()
with tarfile.open("lie.tar", "w", format=tarfile.USTAR_FORMAT) as t:
    for n, d in (("MANIFEST.json", m), ("a", b"x")):
        ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
PY
age -r "$PUB" -o lie.age lie.tar
expect_failure lt open lie.age --key acme.key
expect_grep "does not match its size and SHA-256" "$ERR"
check "nothing is left of lie" sh -c '! ls -d lie lie.partial-* 2>/dev/null'

# ---- bad arguments ----------------------------------------------------------

expect_code 2 lt release --to age1notakey single.txt -o x.age
expect_code 2 lt release --to "$PUB" --embargo 2024-02-30 single.txt -o x.age
expect_grep "is not a (date|real date)" "$ERR"
expect_code 2 lt release --to "$PUB" --embargo soon single.txt -o x.age
expect_code 2 lt release --to "$PUB" single.txt
expect_failure lt release --to "$PUB" single.txt -o rel.age
expect_grep "already exists" "$ERR"
ln -s ../single.txt export/link
expect_failure lt release --to "$PUB" export -o withlink.age
expect_grep "symbolic link" "$ERR"
check "no release is left after a refusal" sh -c '! ls withlink.age* 2>/dev/null'
rm export/link
expect_success lt release --to "$PUB" --embargo 2020-01-01T00:00:00Z single.txt -o past.age
expect_success lt open past.age --key acme.key >/dev/null
expect_no_grep "embargoed" "$ERR"
printf 'AGE-SECRET-KEY-1NOTAKEY\n' >bad.key
expect_failure lt open rel.age --key bad.key -o x
expect_grep "bad.key: line 1: " "$ERR"

# ---- the audit log --------------------------------------------------------

# With no vault there is no audit log to write to, which is said; with one,
# every release is an entry: what went to whom, never the content.
expect_success lt release --to "$PUB" single.txt -o unaudited.age
expect_grep "no vault at .*: this release is in no audit log" "$ERR"
expect_success lt init
expect_success lt release --to "$PUB" single.txt --consent irb-2024-17 -o audited.age
expect_success lt audit >audit.out
expect_grep "^   1  .*  release .*consents=\[\"irb-2024-17\"\] .*output=audited.age recipient=$PUB$" audit.out
expect_success lt audit --json >audit.json
check "the entry lists the file and its hash" python3 -c "
import json, hashlib
e = json.loads(open('audit.json').readline())['detail']
f = e['files']
assert [x['path'] for x in f] == ['single.txt'], f
assert f[0]['sha256'] == hashlib.sha256(open('single.txt', 'rb').read()).hexdigest()
assert e['embargo'] is None and 'by' not in e"
expect_success lt audit --verify

test_done
