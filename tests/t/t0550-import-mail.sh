#!/bin/sh
# labtape import mail PATH: the hand-checked mbox and Maildir of
# tests/data/import/mail (made by make-fixtures.py there): a thread of
# three in each, RFC 2047 subjects and names, a quoted-printable
# ISO-8859-1 body, a ">From " line, an HTML-only mail without Message-ID,
# a Maildir message without Date, and an attachment whose bytes come
# back from the vault's chunks identical. Twice adds nothing; malformed
# mail is refused with its line or file, the vault unchanged.
. "$(dirname "$0")/test-lib.sh"

DATA=$TEST_SRC/tests/data/import/mail
lt_init

# field FILE ID KEY: a field of the msg.message with that id.
field() {
	python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(l)["data"]
    if d["id"] == sys.argv[2]:
        v = d
        for k in sys.argv[3].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(v if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False))
' "$@"
}

# ---- mbox --------------------------------------------------------------

expect_success lt import mail "$DATA/inbox.mbox"
expect_grep "into mail:inbox.mbox: 4 messages new, 0 already there" "$ERR"
lt log --json >log1.json
lt log --json --kind msg.message --stream mail:inbox.mbox >m.json
check_eq "4 messages" 4 "$(wc -l <m.json | tr -d ' ')"

R=root.1@example.org
check_eq "RFC 2047 subject (UTF-8, base64)" "Résultats de l'ablation 中文 🚀" \
	"$(field m.json $R subject)"
check_eq "the body as written, >From unquoted" "Salut Bob,

les résultats sont là: 0.91 🎉
From the notes: the café run was the best." "$(field m.json $R text)"
check_eq "RFC 2047 name in Cc" '["陈伟 <chen@example.org>"]' "$(field m.json $R cc)"
check_eq "the root is its own thread" $R "$(field m.json $R thread)"
check_eq "time from Date" 2024-01-04T10:00:00.000000000Z \
	"$(grep "\"id\":\"$R\"" m.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["t"])')"

check_eq "quoted-printable ISO-8859-1 decoded, soft break joined" \
	"Merci Alice, très bien. Le café est prêt, et la suite arrive très bientôt." \
	"$(field m.json reply.2@example.org text)"
check_eq "ISO-8859-1 encoded-word name" "Bob Lefèvre <bob@example.org>" \
	"$(field m.json reply.2@example.org from)"
check_eq "Date with an offset, in UTC" 2024-01-04T10:30:00.000000000Z \
	"$(grep '"id":"reply.2@example.org"' m.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["t"])')"
check_eq "reply 2's thread" $R "$(field m.json reply.2@example.org thread)"
check_eq "reply 3's thread: the root of References" $R \
	"$(field m.json reply.3@example.org thread)"
check_eq "reply 3 answers reply 2" reply.2@example.org \
	"$(field m.json reply.3@example.org reply_to)"
check_eq "multi-byte body beside an attachment" \
	"我也跑了 👍 the plot is attached; write to chen.wei@example.org" \
	"$(field m.json reply.3@example.org text)"
check_eq "the attachment's RFC 2231 name" "plot-données.bin" \
	"$(field m.json reply.3@example.org files.0.name)"
check_eq "its size" 3000 "$(field m.json reply.3@example.org files.0.size)"

# The attachment's bytes, from the chunks the message names.
cat >chunks.py <<'EOF'
import base64, json, sys
log, mid, out = sys.argv[1], sys.argv[2], sys.argv[3]
chunks, names = {}, None
for l in open(log, encoding='utf-8'):
    e = json.loads(l)
    if e['kind'] == 'fs.chunk':
        chunks[e['data']['hash']] = base64.b64decode(e['data']['data'])
    elif e['kind'] == 'msg.message' and e['data']['id'] == mid:
        names = e['data']['files'][0]['chunks']
        doc = e['data']['files'][0]['doc']
blobs = [json.loads(l)['data'] for l in open(log, encoding='utf-8')
         if json.loads(l)['kind'] == 'fs.blob']
assert [b['chunks'] for b in blobs if b['doc'] == doc] == [names], 'the blob'
open(out, 'wb').write(b''.join(chunks[n] for n in names))
EOF
python3 chunks.py log1.json reply.3@example.org att.out
test_cmp "$DATA/attachment.bin" att.out

N=$(python3 -c '
import json
for l in open("m.json"):
    d = json.loads(l)["data"]
    if "blake2b:" in d["id"]: print(d["id"])')
check "a mail without Message-ID is known by its hash" \
	test "$(printf %s "$N" | wc -c)" = 72
check_eq "HTML-only: the HTML" "<p>Weekly <b>news</b></p>" "$(field m.json "$N" text)"
check_eq "HTML-only: format html" html "$(field m.json "$N" format)"

# ---- twice adds nothing ------------------------------------------------

expect_success lt import mail "$DATA/inbox.mbox"
expect_grep "0 messages new, 4 already there" "$ERR"
lt log --json >log2.json
test_cmp log1.json log2.json

# ---- Maildir -------------------------------------------------------------

expect_success lt import mail "$DATA/Maildir/"
expect_grep "into mail:Maildir: 3 messages new, 0 already there" "$ERR"
lt log --json --kind msg.message --stream mail:Maildir >md.json
check_eq "3 messages" 3 "$(wc -l <md.json | tr -d ' ')"
for id in m1@lab.example m2@lab.example m3@lab.example; do
	check_eq "$id in the thread of m1" m1@lab.example "$(field md.json $id thread)"
done
check_eq "multipart/alternative: the plain text" \
	"Who presents on Friday? Salle 3, café après." \
	"$(field md.json m1@lab.example text)"
check_eq "no attachment made of the HTML alternative" "" \
	"$(field md.json m1@lab.example files 2>/dev/null)"
check_eq "ISO-8859-1 in a Maildir" "Moi! Je présente le papier." \
	"$(field md.json m2@lab.example text)"
check_eq "no Date: the time of the Maildir name" 2024-01-05T11:00:00.000000000Z \
	"$(grep '"id":"m3@lab.example"' md.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["t"])')"
check_eq "the channel is the folder" Maildir "$(field md.json m3@lab.example channel)"
expect_success lt import mail "$DATA/Maildir"
expect_grep "0 messages new, 3 already there" "$ERR"

# On a terminal, a progress bar on stderr (bytes of the mbox).
script -qec "'$LABTAPE' import mail '$DATA/inbox.mbox' --stream tty" /dev/null \
	</dev/null >tty.out 2>&1
expect_grep "importing .*inbox.mbox: \\[#+\\] $(wc -c <"$DATA/inbox.mbox" | tr -d ' ')/" tty.out

# ---- malformed mail: refused, the vault unchanged --------------------------

lt log --json >before.json
refused() {
	expect_failure lt import mail "$1" --stream bad
	expect_grep "$2" "$ERR"
	expect_grep 'nothing was imported' "$ERR"
	lt log --json >after.json
	test_cmp before.json after.json
}

printf 'Subject: no From_ line\n\nhello\n' >nofrom.mbox
refused nofrom.mbox 'nofrom.mbox: line 1: not an mbox'

: >empty.mbox
refused empty.mbox 'empty.mbox: line 1: not an mbox'

# Good messages, then one that is not mail at all: the good ones are
# not kept either.
cat "$DATA/inbox.mbox" >bad3.mbox
printf 'From x@y Fri Jan  5 08:00:01 2024\nthis is not a header\n' >>bad3.mbox
L=$(grep -n '^From x@y' bad3.mbox | cut -d: -f1)
refused bad3.mbox "bad3.mbox: line $L: not a mail message"

# No Date and no time on the From_ line.
cat "$DATA/inbox.mbox" >bad4.mbox
printf 'From x@y\nMessage-ID: <nodate@x>\nSubject: when?\n\nno date\n' >>bad4.mbox
L=$(grep -n '^From x@y' bad4.mbox | cut -d: -f1)
refused bad4.mbox "bad4.mbox: line $L: no Date header"

# A Maildir with a file that is not mail: named.
mkdir -p badmd/cur badmd/new
cp "$DATA"/Maildir/cur/* badmd/cur/
printf '\n\njunk\n' >badmd/new/1704452400.M9P9.host
refused badmd 'badmd: new/1704452400.M9P9.host: not a mail message'

mkdir -p notmd
expect_failure lt import mail notmd
expect_grep 'notmd: not a Maildir' "$ERR"

# Several inputs: each by itself, all or nothing; the worst status.
LABTAPE_VAULT=$TRASH/vault-many
"$LABTAPE" init >/dev/null 2>&1
expect_failure lt import mail "$DATA/inbox.mbox" badmd "$DATA/Maildir"
expect_grep "imported '$DATA/inbox.mbox' into mail:inbox.mbox: 4 messages new" "$ERR"
expect_grep 'badmd: new/1704452400.M9P9.host: not a mail message' "$ERR"
expect_grep "imported '$DATA/Maildir' into mail:Maildir" "$ERR"
check_eq "the first good input is in" 4 \
	"$(lt log --kind msg.message --json --stream mail:inbox.mbox | wc -l)"
check "the second good input is in, after the bad one" \
	test "$(lt log --kind msg.message --json --stream mail:Maildir | wc -l)" -gt 0
check_eq "nothing of the bad one" 0 "$(lt log --json --stream mail:badmd | wc -l)"

expect_code 2 lt import mail
lt import mail --help >help.txt
expect_grep 'usage: labtape import mail PATH' help.txt

test_done
