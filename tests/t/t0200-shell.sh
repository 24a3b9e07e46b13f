#!/bin/sh
# labtape shell without a terminal (stdin a pipe or /dev/null): exit
# status, output recorded byte for byte (UTF-8 split across reads, binary),
# input only with --input, the session's events, marks from inside the
# session, and the recorder's pause.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIR/shell-lib.sh"

lt_init

# Exit status: the command's, 128+N for a signal, 127 if it cannot run.
expect_code 3 lt shell -- sh -c 'exit 3' </dev/null
expect_code 0 lt shell -q -- true </dev/null
expect_code 143 lt shell -q -- sh -c 'kill -TERM $$' </dev/null
expect_code 127 lt shell -q -- /nonexistent/program </dev/null >notfound.out
expect_grep "cannot run '/nonexistent/program'" notfound.out
expect_success lt shell --help >help.out
expect_grep "term:ID" help.out
expect_code 2 lt shell --bogus </dev/null
# No vault, no session.
LABTAPE_VAULT=$TRASH/none expect_failure lt shell -- true </dev/null
expect_grep "labtape init" "$ERR"

# Output reaches stdout and the vault, the pty's \r\n included.
expect_success lt shell -- sh -c 'echo hello from the pty' </dev/null >out1
expect_grep "hello from the pty" out1
expect_grep "recording terminal session [0-9a-f]{8}" "$ERR"
expect_success lt log --json >log1.json
S1=$(term_last_session log1.json)
check "session id is 8 hex digits" \
	sh -c 'expr "$1" : "[0-9a-f]\{8\}\$" >/dev/null' - "$S1"
term_bytes log1.json term.out "$S1" >rec1
printf 'hello from the pty\r\n' >want1
test_cmp want1 rec1
term_dump log1.json >dump1
expect_grep "^term.start $S1 .*\"command\": \\[\"sh\", \"-c\", \"echo hello from the pty\"\\]" dump1
expect_grep "^term.start $S1 .*\"cols\": 80, .*\"input\": false, .*\"rows\": 24" dump1
expect_grep "^term.end $S1 .*\"status\": 0" dump1
expect_success lt log --kind term.out >human1
expect_grep "term:$S1  term.out  hello from the pty" human1

# $COLUMNS and $LINES size the pty when there is no terminal; the
# command sees the size and LABTAPE_SESSION.
COLUMNS=132 LINES=50 expect_success lt shell -q -- sh -c \
	'stty size; echo "session=$LABTAPE_SESSION"' </dev/null >out2
expect_grep "^50 132" out2
expect_success lt log --json >log2.json
S2=$(term_last_session log2.json)
expect_grep "^session=$S2" out2

# A multi-byte character written one byte at a time, in two reads:
# recorded intact, split where the reads split it.
expect_success lt shell -q -- sh -c \
	'printf "\342\202"; sleep 0.3; printf "\254\303"; sleep 0.3; printf "\251\n"' \
	</dev/null >out3
expect_success lt log --json >log3.json
S3=$(term_last_session log3.json)
term_bytes log3.json term.out "$S3" >rec3
printf '\342\202\254\303\251\r\n' >want3
test_cmp want3 rec3
test_cmp want3 out3
check "split across several term.out events" \
	test "$(grep -c "\"kind\":\"term.out\".*\"session\":\"$S3\"" log3.json)" -ge 2

# Binary output, every byte value, through a raw pty: exact.
python3 -c 'import os, sys; sys.stdout.buffer.write(bytes(range(256)) * 64 + os.urandom(200000))' >bin
expect_success lt shell -q -- sh -c 'stty raw -echo; cat bin' </dev/null >out4
test_cmp bin out4
expect_success lt log --json >log4.json
S4=$(term_last_session log4.json)
term_bytes log4.json term.out "$S4" >rec4
test_cmp bin rec4

# Input: recorded only with --input (the pty echoes, so output has it
# either way).
printf 'typed-line-one\n' >in5
expect_success lt shell -q -- sh -c 'read -r l; echo "got $l"' <in5 >out5
expect_grep "got typed-line-one" out5
printf 'typed-line-two\n' >in6
expect_success lt shell -q --input -- sh -c 'read -r l; echo "got $l"' <in6 >out6
expect_grep "got typed-line-two" out6
expect_success lt log --json >log6.json
term_bytes log6.json term.in >rec6
printf 'typed-line-two\n' >want6
test_cmp want6 rec6
expect_no_grep '"input":false.*typed-line-two|typed-line-one' rec6
term_dump log6.json >dump6
expect_grep '"input": true' dump6
# The configuration can turn it on; --no-input wins.
mkdir -p "$HOME/.config/labtape"
printf '[shell]\ninput = yes\n' >"$HOME/.config/labtape/config"
printf 'typed-line-three\n' >in7
expect_success lt shell -q -- cat <in7 >/dev/null
printf 'typed-line-four\n' >in8
expect_success lt shell -q --no-input -- cat <in8 >/dev/null
printf '[shell]\ninput = maybe\n' >"$HOME/.config/labtape/config"
expect_failure lt shell -q -- true </dev/null
expect_grep "input 'maybe': use yes or no" "$ERR"
rm "$HOME/.config/labtape/config"
expect_success lt log --json >log7.json
term_bytes log7.json term.in >rec7
expect_grep "typed-line-three" rec7
expect_no_grep "typed-line-four" rec7

# Without a recorder, 'labtape mark' inside lands on the session's own
# tape through its socket, which refuses what is not a marker and is
# gone when the session ends.
cat >ask-session.py <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["XDG_RUNTIME_DIR"] + "/labtape/session-" +
          os.environ["LABTAPE_SESSION"])
f = s.makefile("rwb")
for req in sys.argv[1:]:
    f.write(req.encode() + b"\n")
    f.flush()
    print(f.readline().decode().strip())
EOF
cat >inside.sh <<'EOF'
"$LABTAPE" mark no recorder here || exit 1
python3 ask-session.py '{"cmd":"status"}' '[1]' '{"cmd":"mark"}' \
	'{"cmd":"mark","text":"over the socket"}' >answers || exit 1
stat -c %a "$XDG_RUNTIME_DIR/labtape/session-$LABTAPE_SESSION" >mode
EOF
expect_success lt shell -q -- sh inside.sh </dev/null
expect_success lt log --json >log7m.json
S7=$(term_last_session log7m.json)
term_dump log7m.json >dump7m
expect_grep "^marker $S7 .*\"text\": \"no recorder here\"" dump7m
expect_grep "^marker $S7 .*\"text\": \"over the socket\"" dump7m
cat >want-answers <<'EOF'
{"ok":false,"error":"a session's socket takes \"mark\" only (the recorder's takes the rest)"}
{"ok":false,"error":"a request is one JSON object on one line"}
{"ok":false,"error":"\"text\" is missing"}
{"ok":true}
EOF
test_cmp want-answers answers
check_eq "the session's socket is the user's alone" 600 "$(cat mode)"
check "the socket is gone with the session" \
	sh -c "! test -e '$XDG_RUNTIME_DIR/labtape/session-$S7'"
# A session that has ended, and no recorder: the mark says so.
LABTAPE_SESSION=$S7 expect_failure lt mark too late
expect_grep "no recorder is running" "$ERR"

# With a recorder: 'labtape mark' inside lands in the session; while the
# recorder is paused, a session records nothing.
mkdir watched
test_bg lt record watched 2>record.log
wait_until 20 lt status >/dev/null 2>&1 || fatal "the recorder does not start"
expect_success lt shell -q -- sh -c '"$LABTAPE" mark inside the session' </dev/null
expect_success lt log --json >log8.json
S8=$(term_last_session log8.json)
has_mark() {
	lt log --json --kind marker >marks.json 2>/dev/null &&
		grep -qF "\"session\":\"$S8\",\"text\":\"inside the session\"" marks.json
}
check "the mark joins session $S8" wait_until 20 has_mark

expect_success lt pause
expect_success lt shell -- sh -c 'echo said-while-paused' </dev/null >out9
expect_grep "said-while-paused" out9
expect_grep "paused: nothing is recorded" "$ERR"
expect_code 1 lt shell -q -- sh -c '"$LABTAPE" mark while paused' </dev/null >out9m
expect_grep "the recorder is paused: nothing is recorded" out9m
expect_success lt resume
expect_success lt stop
expect_success lt log --json >log9.json
term_bytes log9.json term.out >rec9
expect_no_grep "said-while-paused" rec9
expect_no_grep "while paused" log9.json
check_eq "no session started while paused" \
	"$(grep -c '"kind":"term.start"' log8.json)" \
	"$(grep -c '"kind":"term.start"' log9.json)"
expect_success lt verify

test_done
