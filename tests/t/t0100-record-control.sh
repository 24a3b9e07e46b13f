#!/bin/sh
# The recorder's control socket: status, pause (recorded, and dropping
# everything while it lasts), resume, mark, note, unlock/lock as an agent
# for reading commands, one recorder per socket, a private socket, stop.
. "$(dirname "$0")/test-lib.sh"

lt_init
mkdir watched
SOCK=$XDG_RUNTIME_DIR/labtape/control

# No recorder yet: the control commands say how to start one.
expect_failure lt status
expect_grep "labtape record" "$ERR"

test_bg lt record watched 2>record.log
REC=$!
# Wait until it answers.
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt status >status.out
expect_grep '^state +recording' status.out
check "socket is mode 600" test "$(file_mode "$SOCK")" = 600
check "socket folder is mode 700" \
	test "$(file_mode "$(dirname "$SOCK")")" = 700
expect_success lt status --json >status.json
check "status JSON names the vault" \
	python3 -c "import json,sys; d=json.load(open('status.json')); \
sys.exit(0 if d['vault']=='$LABTAPE_VAULT' and d['paused'] is False else 1)"

# A second recorder on the same socket is refused, the first unharmed.
expect_failure lt record watched
expect_grep "already running" "$ERR"
expect_success lt status

# Marks and notes land in the vault (stream "notes").
expect_success lt mark run 7 starts
expect_success lt note the loss spikes at step 2000
LABTAPE_SESSION=4f2a expect_success lt mark in a session

# Pause: recorded, then everything is refused or dropped until resume.
expect_success lt pause
expect_success lt status >status.out
expect_grep '^state +paused' status.out
expect_failure lt mark while paused
expect_grep "paused" "$ERR"
expect_success lt resume
expect_success lt pause --for 1h
expect_success lt status --json >paused.json
check "a timed pause says until when" \
	python3 -c "import json,sys; d=json.load(open('paused.json')); \
sys.exit(0 if d['paused'] and d['paused_until'] else 1)"
expect_failure lt pause --for soon
expect_success lt resume

# unlock: reading commands use the recorder instead of a passphrase.
expect_success lt unlock --for 10m
sleep_ms 1300	# one flush interval, and some
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" log --json </dev/null >log.json
check_eq "mark recorded" 1 "$(count_fixed '"text":"run 7 starts"' log.json)"
check_eq "note recorded" 1 "$(count_fixed '"kind":"note"' log.json)"
check_eq "session joins the marker" 1 \
	"$(count_fixed '"session":"4f2a","text":"in a session"' log.json)"
check_eq "pauses recorded" 2 "$(count_fixed '"kind":"control.pause"' log.json)"
check_eq "resumes recorded" 2 "$(count_fixed '"kind":"control.resume"' log.json)"
check_eq "nothing from the pause" 0 "$(count_fixed 'while paused' log.json)"
# A wrong passphrase does not unlock.
expect_success lt lock
LABTAPE_PASSPHRASE=wrong expect_failure lt unlock
expect_grep "wrong passphrase" "$ERR"
expect_failure env -u LABTAPE_PASSPHRASE "$LABTAPE" log </dev/null
expect_grep "passphrase" "$ERR"

# Bad requests get an answer, not a crash.
python3 - "$SOCK" >proto.out <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in [b'not json', b'{"cmd":"dance"}', b'{}', b'[1]',
             b'{"cmd":"event","stream":"x","kind":"nope","data":{}}',
             b'{"cmd":"event","stream":"x","kind":"note","data":{"text":"hi"}}',
             b'{"cmd":"unseal","key_id":"00","day":1}']:
    f.write(line + b"\n"); f.flush()
    print(f.readline().decode().strip())
PY
check_eq "seven answers" 7 "$(wc -l <proto.out)"
check_eq "six refusals" 6 "$(count_fixed '"ok":false' proto.out)"
expect_grep 'unknown command' proto.out
expect_grep 'unknown kind' proto.out
expect_success lt status

# stop commits and exits; the vault verifies.
expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 100; do
	sleep_ms 50
	i=$((i + 1))
done
check "the recorder exited" sh -c "! kill -0 $REC 2>/dev/null"
check "the socket is gone" test ! -e "$SOCK"
expect_success lt log --json >after.json
check_eq "event from a plugin recorded" 1 "$(count_fixed '"stream":"x"' after.json)"
expect_success lt verify
expect_grep "stopped" record.log

test_done
