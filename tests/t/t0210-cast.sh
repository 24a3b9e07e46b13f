#!/bin/sh
# asciicast v2: labtape export cast, labtape import cast, labtape sessions.
# Exact JSON line by line, UTF-8 split across chunks and binary output as
# valid JSON, the real asciinema playing what we write and what we read,
# round trips, and malformed casts refused with their line number, with
# nothing kept.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIR/shell-lib.sh"

lt_init

# base64 of the bytes printf makes of $1 (octal escapes).
b64() {
	printf "$1" | base64 | tr -d '\n'
}

# One term.* event of session $S at time "2024-01-02T03:04:0$1Z".
S=abcd1234
ev() {
	printf '{"t":"2024-01-02T03:04:%sZ","kind":"%s","data":{"session":"%s"%s}}\n' \
		"$1" "$2" "$S" "$3"
}
io() {
	ev "$1" "$2" ",\"data\":\"$(b64 "$3")\""
}

# Checks a cast with Python's json module: strict UTF-8, one JSON value a
# line, no blank lines, a final newline, a v2 header, [time, code, data]
# events with non-decreasing times and string data, no empty output.
cat >check-cast.py <<'EOF'
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert raw.endswith(b'\n'), 'no final newline'
lines = raw.decode('utf-8', errors='strict').split('\n')[:-1]
h = json.loads(lines[0])
assert h['version'] == 2 and isinstance(h['width'], int) and isinstance(h['height'], int)
assert set(h.get('env', {})) <= {'SHELL', 'TERM'}
prev = 0
for n, l in enumerate(lines[1:], 2):
    assert l, 'blank line %d' % n
    t, code, data = json.loads(l)
    assert isinstance(t, float) and t >= prev, 'time on line %d' % n
    assert code in 'oirm' and isinstance(data, str)
    assert code not in 'oi' or data, 'empty data on line %d' % n
    prev = t
EOF

# ---- export: the exact cast -------------------------------------------------

{
	ev 05 term.start ',"cols":80,"rows":24,"command":["make","train"],"title":"demo","env":{"SHELL":"/bin/bash","TERM":"xterm-256color"}'
	io 05.25 term.out 'hello \303'			# é split ...
	io 05.500000400 term.out '\251t \342\202'	# ... and € split
	io 05.6 term.in 'l\303'				# input has its own carry
	io 05.7 term.in '\266s\r'
	io 05.75 term.out '\254\r\n'
	ev 06 term.resize ',"cols":100,"rows":50'
	io 06.5 term.out '\377\376bin\000\033[0m\360\237'	# binary, then 😀 split
	ev 07 marker ',"text":"here"'
	io 07.25 term.out '\230\200 done\r\n'
	io 07.5 term.out 'end\342'			# cut off for good
	ev 08 term.end ',"status":0'
} >s1.jsonl
expect_success lt append --stream term:$S <s1.jsonl
# A marker made from elsewhere (labtape mark) that names the session, and
# one for another session.
printf '%s\n' \
	'{"t":"2024-01-02T03:04:06.7Z","kind":"marker","data":{"text":"from the recorder","session":"abcd1234"}}' \
	'{"t":"2024-01-02T03:04:06.8Z","kind":"marker","data":{"text":"not ours","session":"ffff0000"}}' |
	expect_success lt append --stream recorder

cat >s1.expect <<'EOF'
{"version": 2, "width": 80, "height": 24, "timestamp": 1704164645, "command": "make train", "title": "demo", "env": {"SHELL": "/bin/bash", "TERM": "xterm-256color"}}
[0.250000, "o", "hello "]
[0.500000, "o", "ét "]
[0.600000, "i", "l"]
[0.700000, "i", "ös\r"]
[0.750000, "o", "€\r\n"]
[1.000000, "r", "100x50"]
[1.500000, "o", "��bin\u0000\u001b[0m"]
[1.700000, "m", "from the recorder"]
[2.000000, "m", "here"]
[2.250000, "o", "😀 done\r\n"]
[2.500000, "o", "end"]
[2.500000, "o", "�"]
EOF
expect_success lt export cast --session $S -o s1.cast
test_cmp s1.expect s1.cast
expect_success lt export cast --session term:$S >s1.stdout
test_cmp s1.expect s1.stdout
expect_success python3 check-cast.py s1.cast

# asciinema plays it: cat gives the output text (input is not shown).
printf 'hello \303\251t \342\202\254\r\n\357\277\275\357\277\275bin\000\033[0m\360\237\230\200 done\r\nend\357\277\275' >s1.text
if command -v asciinema >/dev/null && command -v script >/dev/null; then
	expect_success cast_cat s1.cast s1.cat
	test_cmp s1.text s1.cat
else
	fail "asciinema is not installed (scripts/install-deps installs it)"
fi

# Valid UTF-8 output split anywhere: asciinema cat gives back the bytes.
S=0badcafe
{
	ev 10 term.start ',"cols":132,"rows":43'
	io 10.1 term.out 'h\303'
	io 10.2 term.out '\251llo\r\n\342'
	io 10.3 term.out '\202'
	io 10.4 term.out '\254 \360\237\230'
	io 10.5 term.out '\200\n\033[1mbold\033[0m\n'
	ev 11 term.end ',"signal":9'
} >s2.jsonl
expect_success lt append --stream term:$S <s2.jsonl
printf 'h\303\251llo\r\n\342\202\254 \360\237\230\200\n\033[1mbold\033[0m\n' >s2.bytes
expect_success lt export cast --session $S -o s2.cast
expect_success python3 check-cast.py s2.cast
check_eq "header without title or env" \
	'{"version": 2, "width": 132, "height": 43, "timestamp": 1704164650}' \
	"$(head -n 1 s2.cast)"
check_eq "chunks that end mid-character wait for the rest" \
	'[0.400000, "o", "€ "]' "$(sed -n 4p s2.cast)"
expect_no_grep '^\[0\.300000' s2.cast
if command -v asciinema >/dev/null; then
	expect_success cast_cat s2.cast s2.cat
	test_cmp s2.bytes s2.cat
fi

# ---- sessions ---------------------------------------------------------------

expect_success lt sessions >sessions.out
check_eq "one line per session" 2 "$(wc -l <sessions.out)"
expect_grep '^abcd1234  2024-01-02 03:04:05 +3\.0s +40 B +exit 0 +demo$' sessions.out
expect_grep '^0badcafe  2024-01-02 03:04:10 +1\.0s +30 B +signal 9 *$' sessions.out
check_eq "newest last" "abcd1234 0badcafe" "$(cut -d' ' -f1 sessions.out | tr '\n' ' ' | sed 's/ $//')"

# ---- export: usage ----------------------------------------------------------

expect_code 2 lt export cast
expect_grep 'which session' "$ERR"
expect_grep '^abcd1234 ' "$ERR"
expect_code 2 lt export nosuch
expect_grep "unknown kind 'nosuch'; the kinds are: cast, edits, events" "$ERR"
expect_code 2 lt export
expect_failure lt export cast --session 12345678 -o none.cast
expect_grep "no terminal session '12345678'.*labtape sessions" "$ERR"
check "no file left behind" test ! -e none.cast
expect_success lt export cast --help >help.out
expect_grep 'errors="replace"' help.out
expect_success lt export --help >help.out
expect_grep '^  cast ' help.out

# ---- import -----------------------------------------------------------------

# Round trip: export, import, export gives the same cast.
expect_success lt import cast s1.cast >id.out
ID=$(cat id.out)
check "import prints the new id" expr "$ID" : '[0-9a-f]\{8\}$' >/dev/null
expect_success lt export cast --session "$ID" -o s1.again
test_cmp s1.cast s1.again
expect_success lt log --stream "term:$ID" --kind term.start --json >start.json
expect_grep '"command":\["sh","-c","make train"\]' start.json
expect_grep '"env":\{"SHELL":"/bin/bash","TERM":"xterm-256color"\}' start.json

# A cast made by the real asciinema rec (in a terminal made by script),
# with SHELL unset as on a CI machine: asciinema then writes "SHELL": null,
# which means the same as no SHELL at all.
rec_ok=
if command -v asciinema >/dev/null && command -v script >/dev/null; then
	env -u SHELL LC_ALL=C.UTF-8 script -qec "stty cols 77 rows 21; asciinema rec -q -c 'printf hello; sleep 0.2; printf \"w\\303\\266rld\\n\"' --overwrite rec.cast" /dev/null </dev/null >/dev/null 2>&1 &&
		test -s rec.cast && rec_ok=1
fi
if test -z "$rec_ok"; then
	# Where asciinema cannot record headless: what it writes, by hand.
	say "# asciinema rec did not run; using a cast written like its own"
	printf '%s\n' '{"version": 2, "width": 77, "height": 21, "timestamp": 1700000000, "env": {"SHELL": null, "TERM": "xterm"}}' \
		'[0.003654, "o", "hello"]' '[0.205736, "o", "wörld\r\n"]' >rec.cast
fi
expect_success lt import cast rec.cast >id.out
RID=$(cat id.out)
expect_success lt export cast --session "$RID" -o rec.again
expect_success python3 check-cast.py rec.again
cat >same-cast.py <<'EOF'
import json, sys
a, b = (open(f, encoding='utf-8').read().splitlines() for f in sys.argv[1:3])
ha, hb = json.loads(a[0]), json.loads(b[0])
for h in (ha, hb):   # a null variable is an unset one
    h['env'] = {k: v for k, v in h.get('env', {}).items() if v is not None}
for k in ('version', 'width', 'height', 'timestamp', 'env', 'title', 'command'):
    assert ha.get(k) == hb.get(k), (k, ha.get(k), hb.get(k))
ea = [json.loads(l) for l in a[1:]]
eb = [json.loads(l) for l in b[1:]]
assert len(ea) == len(eb), (len(ea), len(eb))
for x, y in zip(ea, eb):
    assert abs(x[0] - y[0]) < 1e-6 and x[1:] == y[1:], (x, y)
EOF
expect_success python3 same-cast.py rec.cast rec.again
check_eq "recorded sessions" 4 "$(lt sessions | wc -l)"

# Unknown codes are skipped with a warning; equal times are fine; the last
# line needs no newline.
printf '%s\n%s\n%s\n%s' '{"version": 2, "width": 10, "height": 5, "timestamp": 1600000000}' \
	'[1.5, "o", "a"]' '[1.5, "x", {"future": true}]' '[1.5, "m", ""]' >unknown.cast
expect_success lt import cast unknown.cast >id.out
expect_grep 'skipped 1 events .*line 3' "$ERR"
expect_success lt export cast --session "$(cat id.out)" -o unknown.again
printf '%s\n' '{"version": 2, "width": 10, "height": 5, "timestamp": 1600000000}' \
	'[1.500000, "o", "a"]' '[1.500000, "m", ""]' >unknown.expect
test_cmp unknown.expect unknown.again

# asciicast v3 (asciinema 3): intervals, the size in "term", comments,
# the exit status. It becomes the same session as the v2 file saying the
# same, and exports as v2 with times since the start.
printf '%s\n' \
	'{"version": 3, "term": {"cols": 90, "rows": 30, "type": "xterm-256color"}, "timestamp": 1700000000, "title": "three", "env": {"SHELL": "/bin/zsh"}}' \
	'# recorded by asciinema 3' \
	'[0.25, "o", "hello from v3\r\n"]' \
	'[1.5, "r", "100x40"]' \
	'[0.5, "m", "mid"]' \
	'[0.125, "i", "q"]' \
	'[0.625, "x", "3"]' >v3.cast
expect_success lt import cast v3.cast >id.out
V3=$(cat id.out)
expect_success lt sessions >sessions3.out
expect_grep "^$V3 .* exit 3 +three\$" sessions3.out
expect_success lt export cast --session "$V3" -o v3.again
cat >v3.expect <<'EOF'
{"version": 2, "width": 90, "height": 30, "timestamp": 1700000000, "title": "three", "env": {"SHELL": "/bin/zsh", "TERM": "xterm-256color"}}
[0.250000, "o", "hello from v3\r\n"]
[1.750000, "r", "100x40"]
[2.250000, "m", "mid"]
[2.375000, "i", "q"]
EOF
test_cmp v3.expect v3.again

# A cast's title is anyone's text: listed, it can neither move the
# terminal's cursor nor start a line of its own.
printf '%s\n' '{"version": 2, "width": 10, "height": 5, "title": "evil\u001b[2J\nsecond line"}' \
	'[0.5, "o", "x"]' >evil.cast
expect_success lt import cast evil.cast >id.out
expect_success lt sessions >sessions-evil.out
check "no escape character in the listing" \
	sh -c "! grep -q \"\$(printf '\\033')\" sessions-evil.out"
expect_grep "^$(cat id.out) .*evil.*second line\$" sessions-evil.out
expect_success lt log --json >all-evil.json
check_eq "one line a session" "$(grep -c '"kind":"term.start"' all-evil.json)" \
	"$(wc -l <sessions-evil.out)"

# A byte order mark (some editors write one) is not part of the header.
printf '\357\273\277%s\n%s\n' '{"version": 2, "width": 10, "height": 5}' \
	'[0.5, "o", "after a BOM"]' >bom.cast
expect_success lt import cast bom.cast >id.out
expect_success lt export cast --session "$(cat id.out)" -o bom.again
expect_grep '^\[0\.500000, "o", "after a BOM"\]$' bom.again

# ---- import: malformed casts refused, nothing kept --------------------------

expect_success lt log --json >before.log
H='{"version": 2, "width": 80, "height": 24, "timestamp": 1600000000}'
n=0
bad_cast() {	# LINE MESSAGE CONTENT (printf format)
	n=$((n + 1))
	printf "$3" >bad$n.cast
	expect_failure lt import cast bad$n.cast
	expect_grep "^labtape: bad$n\\.cast: line $1: $2.*nothing was imported" "$ERR"
}
bad_cast 1 'the file is empty' ''
bad_cast 1 'the file is empty' '\357\273\277'
bad_cast 1 'column .*expected the asciicast header' '{"version": 2,\n'
bad_cast 1 'asciicast version 1 is not supported' '{"version": 1, "width": 80, "height": 24, "stdout": []}\n'
bad_cast 1 'the header has no "term" object' '{"version": 3, "width": 80, "height": 24}\n'
bad_cast 4 'the data of an "x" event must be the exit status' '{"version": 3, "term": {"cols": 80, "rows": 24}}\n# note\n[0.1, "o", "x"]\n[0.1, "x", "ok"]\n'
bad_cast 1 'the header has no "height"' '{"version": 2, "width": 80}\n'
bad_cast 1 'expected the header object' '[0.1, "o", "x"]\n'
bad_cast 3 'expected \[time, code, data\] \(see the asciicast v2 format\)' "$H\n[0.1, \"o\", \"x\"]\n{\"a\": 1}\n"
bad_cast 4 'time 0\.500000 is before the previous event.s 1\.000000' "$H\n[0.1, \"o\", \"x\"]\n[1.0, \"o\", \"y\"]\n[0.5, \"o\", \"z\"]\n"
bad_cast 3 'blank line' "$H\n[0.1, \"o\", \"x\"]\n\n[0.2, \"o\", \"y\"]\n"
bad_cast 3 'blank line' "$H\n[0.1, \"o\", \"x\"]\n\n"
bad_cast 2 'the data of a "o" event must be a string' "$H\n[0.1, \"o\", 42]\n"
bad_cast 2 'the data of an "r" event must be "COLSxROWS"' "$H\n[0.1, \"r\", \"80by24\"]\n"
bad_cast 5 'column' "$H\n[0.1, \"o\", \"x\"]\n[0.2, \"o\", \"y\"]\n[0.3, \"o\", \"z\"]\n[0.4, \"o\", \"unterminated]\n"
bad_cast 2 'the time must be a number' "$H\n[-1, \"o\", \"x\"]\n"
bad_cast 2 'the code must be a string' "$H\n[1, 111, \"x\"]\n"
bad_cast 2 'column' "$H\n[1, \"o\", \"\377\"]\n"
expect_failure lt import cast no-such.cast
expect_grep "no-such\.cast" "$ERR"
expect_success lt log --json >after.log
test_cmp before.log after.log
check_eq "still 8 sessions" 8 "$(lt sessions | wc -l)"
expect_code 2 lt import cast
expect_code 2 lt import notebook x
expect_success lt verify >verify.out

# ---- a session recorded by labtape shell ------------------------------------

if lt shell --help >/dev/null 2>&1; then
	script -qec "stty cols 90 rows 30; '$LABTAPE' shell --title 'from shell' -- sh -c 'printf \"h\\303\\251llo\\n\"; exit 3'" /dev/null </dev/null >shell.out 2>&1
	check_eq "labtape shell's exit status" 3 "$?"
	lt sessions >sessions.out
	SID=$(awk '/from shell$/ { print $1 }' sessions.out)
	expect_grep ' exit 3 +from shell$' sessions.out
	expect_success lt export cast --session "$SID" -o shell.cast
	expect_success python3 check-cast.py shell.cast
	expect_grep '^\{"version": 2, "width": 90, "height": 30, "timestamp": [0-9]+, "command": "printf \\"h\\\\303\\\\251llo\\\\n\\"; exit 3", "title": "from shell"' shell.cast
	if command -v asciinema >/dev/null; then
		expect_success cast_cat shell.cast shell.cat
		expect_grep 'héllo' shell.cat
	fi
else
	say "# labtape shell is not built; skipping the recorded-session test"
fi

test_done
