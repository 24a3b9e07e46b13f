#!/bin/sh
# labtape import gdocs: a Google Docs revision changelog and its comments.
# The fixture's final text was derived by hand (tests/data/import/gdocs)
# and is checked three ways: against a reference replay in UTF-16 code
# units that shares nothing with labtape, against the document rebuilt
# from the vault's edit.op events, and against labtape's own replay.
# Then idempotency, a longer changelog, comments, edits of comments, and
# malformed input refused with the entry and its byte offset, the vault
# unchanged.
. "$(dirname "$0")/test-lib.sh"

D=$TEST_SRC/tests/data/import/gdocs
CHECK=$TEST_SRC/tests/t/gdocs-check.py
DOC=gdocs:1dOcFiXtUrE-abc_1

lt_init

# ---- the hand-derived text is the changelog's own --------------------------

python3 "$CHECK" ref "$D/1dOcFiXtUrE-abc_1.json" >ref.txt
test_cmp "$D/1dOcFiXtUrE-abc_1.expect" ref.txt
python3 "$CHECK" ref "$D/longer.json" >ref2.txt
test_cmp "$D/longer.expect" ref2.txt

# ---- import: the id comes from the file name --------------------------------

expect_success lt import gdocs "$D/1dOcFiXtUrE-abc_1.json" --title "Notes é" >out
check_eq "prints the document id" "$DOC" "$(cat out)"
expect_grep "16 new units" "$ERR"
lt log --json >log1.jsonl
python3 "$CHECK" vault log1.jsonl "$DOC" >got.txt
test_cmp "$D/1dOcFiXtUrE-abc_1.expect" got.txt

# The edits, one by one, as derived by hand (pos in code points).
lt log --json --kind edit.op | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)["data"]
    print(d["seq"], d["group"], d.get("actor"), d["op"], d.get("pos"), d.get("len"),
          json.dumps(d.get("ins", d.get("del", d.get("text"))), ensure_ascii=False),
          json.dumps(d.get("detail"), sort_keys=True), d.get("path"))
' >ops.txt
cat >ops.expect <<'X'
0 1 u1 insert 0 None "Hello wörld\n" null Notes é
1 2 u1 insert 11 None " 😀 中文" null Notes é
2 3 u2 delete 0 6 "Hello " null Notes é
3 3 u2 insert 0 None "Bonjour " null Notes é
4 4 u1 style 0 7 null {"style": "text", "type": "as"} Notes é
5 5 u1 insert 15 None "é" null Notes é
6 6 u2 insert 19 None " très" {"suggestion": "suggest.abc"} Notes é
7 7 u2 insert 8 None "le " {"suggestion": "suggest.def"} Notes é
8 8 u1 style 20 2 null {"suggestion": "suggest.ghi", "type": "msfd"} Notes é
9 9 u1 delete 8 3 "le " {"suggestion": "suggest.def"} Notes é
10 10 u1 delete 17 2 "中文" null Notes é
11 11 u2 style 0 8 null {"suggestion": "suggest.jkl", "type": "msfd"} Notes é
12 12 u1 style 0 8 null {"suggestion": "suggest.jkl", "type": "usfd"} Notes é
13 13 u1 delete 11 6 "ld 😀é " null Notes é
14 14 u1 structural None None null {"type": "ae"} Notes é
15 15 u2 snapshot None None "Résumé 📝\n" null Notes é
16 16 u1 insert 7 None "v2 " null Notes é
17 16 u1 delete 10 1 "📝" null Notes é
18 16 u1 insert 10 None "✓" null Notes é
X
test_cmp ops.expect ops.txt

# The native op is kept verbatim, the time is the entry's.
expect_grep '"t":"2023-11-14T22:13:23.000000000Z".*"native":\{"ei":6,"si":1,"ty":"ds"\}' log1.jsonl

# ---- idempotent ---------------------------------------------------------------

expect_success lt import gdocs "$D/1dOcFiXtUrE-abc_1.json"
expect_grep "0 new units \(0 events\), 16 already there" "$ERR"
lt log --json >log2.jsonl
test_cmp log1.jsonl log2.jsonl

# ---- a longer changelog adds its new revision only ----------------------------

expect_success lt import gdocs "$D/longer.json" --doc 1dOcFiXtUrE-abc_1
expect_grep "1 new units \(3 events\), 16 already there" "$ERR"
lt log --json >log3.jsonl
python3 "$CHECK" vault log3.jsonl "$DOC" >got2.txt
test_cmp "$D/longer.expect" got2.txt
check "revision 17's two entries are one unit" \
	test "$(grep -c '"unit":"rev:17"' log3.jsonl)" -eq 1

# ---- comments -------------------------------------------------------------------

expect_success lt import gdocs "$D/longer.json" --doc 1dOcFiXtUrE-abc_1 \
	--comments "$D/comments.json"
lt log --json --kind doc.comment | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l); d = e["data"]
    print(e["t"][:19], d["action"], d["id"], d.get("parent"), d.get("actor"),
          json.dumps(d.get("text"), ensure_ascii=False), d.get("quote"), d.get("anchor"))
' >comments.txt
cat >comments.expect <<'X'
2023-11-14T22:20:00 add AAAAc1 None Ana Lima "Is this right? 中文 😀" Bonjour kix.anchor1
2023-11-14T22:25:00 add AAAAc2 None Bo Chen null très kix.anchor2
2023-11-14T22:30:00 reply AAAAr1 AAAAc1 Bo Chen "Yes, fixed." None None
2023-11-14T22:40:00 resolve AAAAr2 AAAAc1 Ana Lima null None None
2023-11-14T22:45:00 delete AAAAc2 None Bo Chen null très kix.anchor2
2023-11-14T22:50:00 reopen AAAAr3 AAAAc1 Bo Chen "Reopening: one more thing" None None
2023-11-14T23:00:00 resolve AAAAr4 AAAAc1 Ana Lima "Done, très bien." None None
X
test_cmp comments.expect comments.txt
lt log --json >log4.jsonl
expect_success lt import gdocs "$D/longer.json" --doc 1dOcFiXtUrE-abc_1 \
	--comments "$D/comments.json"
expect_grep " 0 new units" "$ERR"
lt log --json >log5.jsonl
test_cmp log4.jsonl log5.jsonl

# Edited comment and reply: two edits, at their modifiedTime, nothing else.
expect_success lt import gdocs "$D/longer.json" --doc 1dOcFiXtUrE-abc_1 \
	--comments "$D/comments-edited.json"
lt log --json --kind doc.comment >c2.jsonl
check "two more comment events" test "$(wc -l <c2.jsonl)" -eq 9
expect_grep '^\{"t":"2023-11-15T08:00:00.000000000Z".*"action":"edit".*"id":"AAAAr1".*"text":"Yes, fixed in v2."' c2.jsonl
expect_grep '^\{"t":"2023-11-15T09:00:00.000000000Z".*"action":"edit".*"id":"AAAAc1".*"text":"Is this right now\? 中文 😀"' c2.jsonl

# ---- malformed input: the entry, its byte, and nothing imported -------------------

lt log --json >before.jsonl
# Entry 3 of a new document deletes past the end.
python3 - "$D/1dOcFiXtUrE-abc_1.json" <<'X'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read().split("\n", 1)[1]
d = json.loads(raw)
d["changelog"][2][0] = {"ty": "ds", "si": 5, "ei": 99}
body = json.dumps(d, ensure_ascii=False)
open("bad1.json", "w", encoding="utf-8").write(")]}'\n" + body)
# The byte offset of entry 3 in the file.
head = ")]}'\n" + body[:body.index('[{"ty": "ds", "si": 5')]
open("bad1.off", "w").write(str(len(head.encode("utf-8"))))
# Entry 2 inserts between the halves of a surrogate pair.
d = json.loads(raw)
d["changelog"][2][0] = {"ty": "is", "ibi": 14, "s": "x"}
open("bad2.json", "w", encoding="utf-8").write(json.dumps(d, ensure_ascii=False))
# Revisions out of order.
d = json.loads(raw)
d["changelog"][4][3] = 2
open("bad3.json", "w", encoding="utf-8").write(json.dumps(d, ensure_ascii=False))
X
expect_failure lt import gdocs bad1.json --doc newdoc
expect_grep "^labtape: bad1.json: changelog entry 3 \(byte $(cat bad1.off)\): ds: ei 99 is past the end \(the document has 18 UTF-16 code units\); nothing was imported$" "$ERR"
expect_failure lt import gdocs bad2.json --doc newdoc
expect_grep "^labtape: bad2.json: changelog entry 3 \(byte [0-9]+\): is: ibi 14 splits a character outside the BMP" "$ERR"
expect_failure lt import gdocs bad3.json --doc newdoc
expect_grep "changelog entry 5 \(byte [0-9]+\): revision 2 comes after revision 4" "$ERR"
printf ")]}'\n{\"changelog\": [[{\"ty\": \"is\", \"ibi\": 1, \"s\": \"x\"}, 1, \"u\", 1],]}" >bad4.json
expect_failure lt import gdocs bad4.json --doc newdoc
expect_grep "^labtape: bad4.json: byte [0-9]+ \(line 2, column [0-9]+\): not JSON" "$ERR"
echo '{"comments": [{"id": "x", "createdTime": "yesterday"}]}' >badc.json
expect_failure lt import gdocs "$D/1dOcFiXtUrE-abc_1.json" --doc newdoc --comments badc.json
expect_grep "^labtape: badc.json: comments\[0\]: \"createdTime\" is not an RFC 3339 time: 'yesterday'; nothing was imported" "$ERR"
expect_failure lt import gdocs "$D/1dOcFiXtUrE-abc_1.json" --doc "not an id"
expect_grep "is not a Google Docs document id" "$ERR"
lt log --json >after.jsonl
test_cmp before.jsonl after.jsonl

expect_code 2 lt import gdocs
expect_success lt import gdocs --help >help.txt
expect_grep "revisions/load" help.txt

test_done
