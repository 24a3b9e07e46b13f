#!/bin/sh
# labtape gdocs-bot against a local stand-in for Google's servers
# (tests/gdocs-server.py: the real service is out of reach here). A
# service account's JWT, signed by the bot and checked by openssl in the
# server; files.list, revisions.list and comments.list page by page; a
# 429 with Retry-After and a 500 retried; a second round that imports
# nothing; a new revision on the server picked up; a token file; a
# rejected token reported.
. "$(dirname "$0")/test-lib.sh"

D=$TEST_SRC/tests/data/import/gdocs
CHECK=$TEST_SRC/tests/t/gdocs-check.py

lt_init

# ---- the server's data: two documents, one with comments ---------------------

mkdir data
cp "$D/1dOcFiXtUrE-abc_1.json" data/docA.json
cp "$D/comments.json" data/docA.comments.json
printf ")]}'\n%s\n" '{"chunkedSnapshot":[],"changelog":[[{"ty":"is","ibi":1,"s":"Zweites Dokument 😀\n"},1700000100000,"u3",1,"s9",0],[{"ty":"ds","si":9,"ei":17},1700000101000,"u3",2,"s9",1]]}' >data/docB.json
printf 'Zweites 😀\n' >docB.expect
echo '[{"id": "docA", "name": "Notes é"}, {"id": "docB", "name": "Zwei"}]' >data/files.json
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa-key.pem 2>/dev/null
openssl pkey -in sa-key.pem -pubout -out data/sa-pub.pem
python3 -c '
import json, sys
key = open("sa-key.pem").read()
json.dump({"type": "service_account", "project_id": "p", "private_key_id": "k1",
           "private_key": key, "client_email": "bot@p.iam.gserviceaccount.com",
           "token_uri": "https://oauth2.googleapis.com/token"}, open("sa.json", "w"))
'
cp sa.json data/sa.json

test_bg python3 "$TEST_SRC/tests/gdocs-server.py" data port server.log
for i in $(seq 100); do test -s port && break; sleep 0.1; done
check "the server is up" test -s port
API=http://127.0.0.1:$(cat port)

# ---- the first round --------------------------------------------------------------

expect_success lt gdocs-bot --service-account sa.json --once --api "$API"
expect_grep "^labtape: gdocs:docA 'Notes é': 28 new units" "$ERR"
expect_grep "^labtape: gdocs:docB 'Zwei': 2 new units" "$ERR"
lt log --json >log1.jsonl
python3 "$CHECK" vault log1.jsonl gdocs:docA >a.txt
test_cmp "$D/1dOcFiXtUrE-abc_1.expect" a.txt
python3 "$CHECK" vault log1.jsonl gdocs:docB >b.txt
test_cmp docB.expect b.txt
check "seven comment events" test "$(grep -c '"kind":"doc.comment"' log1.jsonl)" -eq 7
expect_grep '"kind":"edit.op".*"path":"Notes é"' log1.jsonl

# What the server saw: a token got with the signed JWT, both pages of
# files.list, paged revisions, the 429 retried after its Retry-After,
# the 500 retried, and the bot's User-Agent on every request.
expect_grep '^[0-9.]+ POST /token 200 labtape-gdocs-bot/' server.log
expect_grep 'GET /drive/v3/files\?.*pageToken=1.* 200' server.log
expect_grep 'GET /drive/v3/files/docA/revisions\?.*pageToken=2.* 200' server.log
expect_grep 'GET /document/d/docA/revisions/load\?id=docA&start=1&end=16 200' server.log
expect_grep 'GET /document/d/docB/revisions/load\?id=docB&start=1&end=2 200' server.log
check "every request names the bot" \
	test "$(grep -vc ' labtape-gdocs-bot/' server.log)" -eq 0
python3 - server.log >retry.txt <<'X'
import sys
rows = [l.split() for l in open(sys.argv[1])]
def after(status, path):
    i = next(k for k, r in enumerate(rows) if r[3] == status and path in r[2])
    nxt = next(r for r in rows[i + 1:] if path in r[2])
    print(status, nxt[3], "%.1f" % (float(nxt[0]) - float(rows[i][0])))
after("429", "/revisions/load")
after("500", "/comments")
X
check "the 429 was retried after its Retry-After (1 s)" \
	awk '$1 == 429 && $2 == 200 && $3 >= 1.0 { ok = 1 } END { exit !ok }' retry.txt
check "the 500 was retried" awk '$1 == 500 && $2 == 200 { ok = 1 } END { exit !ok }' retry.txt

# ---- a second round imports nothing -------------------------------------------------

expect_success lt gdocs-bot --service-account sa.json --once --api "$API"
expect_grep "gdocs:docA 'Notes é': 0 new units \(0 events\)" "$ERR"
expect_grep "gdocs:docB 'Zwei': 0 new units \(0 events\)" "$ERR"
lt log --json >log2.jsonl
test_cmp log1.jsonl log2.jsonl

# ---- a new revision on the server is picked up, with a token file ----------------------

cp "$D/longer.json" data/docA.json
echo static-token >token
expect_success lt gdocs-bot --token-file token --once --api "$API"
expect_grep "gdocs:docA 'Notes é': 1 new units \(3 events\)" "$ERR"
lt log --json >log3.jsonl
python3 "$CHECK" vault log3.jsonl gdocs:docA >a2.txt
test_cmp "$D/longer.expect" a2.txt

# ---- a rejected token: reported, exit 1, nothing imported ---------------------------------

echo wrong >token
expect_failure lt gdocs-bot --token-file token --once --api "$API"
expect_grep "HTTP 401" "$ERR"
lt log --json >log4.jsonl
test_cmp log3.jsonl log4.jsonl

expect_code 2 lt gdocs-bot --once
expect_success lt gdocs-bot --help >help.txt
expect_grep "service-account" help.txt

test_done
