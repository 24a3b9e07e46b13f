#!/bin/sh
# Exclusions before disk ([exclude] in the configuration): files under an
# excluded path, or saved in an excluded time, leave no trace in the vault
# (nor in the shadow cache) while the others are recorded; status counts
# what each rule excluded; 'labtape shell' records nothing when its source
# or the time is excluded, with the recorder running or not; bad rules
# stop the recorder and the shell with the file and line.
. "$(dirname "$0")/test-lib.sh"

W=$HOME/w
CFG=$HOME/.config/labtape/config
LABTAPE_SOCKET=$TRASH/control
export LABTAPE_SOCKET
mkdir -p "$W/personal/deep" "$W/notes" "$(dirname "$CFG")"
lt_init

# An hour that is not now (TZ=UTC in the tests): a time rule that parses
# and does not apply.
H=$(date +%H | sed 's/^0//')
LATER=$(printf '%02d:00-%02d:00' $(((H + 2) % 24)) $(((H + 3) % 24)))

cat >"$CFG" <<EOF
[files]
exclude = *.bak
[exclude]
# a whole folder, and a name anywhere
path = ~/w/personal/
path = *.private
time = $LATER
EOF

printf 'dear diary, secret-one\n' >"$W/personal/diary.txt"
printf 'secret-two\n' >"$W/personal/deep/plan.md"
printf 'secret-three\n' >"$W/notes/bank.private"
printf 'TOKEN=secret-four\n' >"$W/notes/.env"
printf 'visible one\n' >"$W/notes/ok.txt"
printf 'draft one\n' >"$W/paper.txt"

lt_record_start "$W"
printf 'dear diary, secret-five\n' >>"$W/personal/diary.txt"
printf 'secret-six\n' >"$W/personal/new.txt"
printf 'draft two\n' >"$W/paper.txt"
sleep_ms 600
expect_success lt status >status.txt
expect_success lt status --json >status.json
lt_record_stop

expect_success lt log --json >log.json
expect_grep '"path":"paper.txt"' log.json
expect_grep '"path":"notes/ok.txt"' log.json
expect_no_grep 'secret-|diary|personal/|bank\.private|\.env' log.json
expect_success lt log >log.txt
expect_no_grep 'secret-|diary|personal|bank' log.txt
cd "$W" || exit 1
expect_success lt history paper.txt >"$TRASH/hist-paper"
check_eq "paper.txt: two versions" 2 "$(wc -l <"$TRASH/hist-paper")"
check_eq "paper.txt: the second is the save" "draft two" "$("$LABTAPE" history paper.txt --version 2)"
lt history personal/diary.txt >"$TRASH/hist-diary" 2>&1
expect_no_grep 'secret|snapshot' "$TRASH/hist-diary"
cd "$TRASH" || exit 1
# Neither read nor cached: the shadow cache holds none of it.
check "the shadow cache holds no excluded content" \
	sh -c '! grep -rq "secret-" "$XDG_CACHE_HOME"'

# status: counts per rule, never the paths or the content.
expect_grep '^EXCLUDED +RULE' status.txt
expect_grep '^ +[1-9][0-9]* +path ~/w/personal/$' status.txt
expect_grep '^ +[1-9][0-9]* +path \*\.private$' status.txt
expect_no_grep 'diary|bank|secret' status.txt
expect_grep '"exclusions":\[\{"rule":"path ~/w/personal/","count":[1-9]' \
	status.json
expect_no_grep "\"rule\":\"time $LATER\"" status.json
expect_grep 'exclusion rules in force: [0-9]+ rules' record.log

# Now every hour of every day is excluded: nothing from any source.
cat >"$CFG" <<EOF
[exclude]
time = 00:00-24:00
EOF
lt_record_start "$W"
printf 'draft three, secret-seven\n' >"$W/paper.txt"
sleep_ms 600
expect_success lt status --json >status2.json
expect_grep '"rule":"time 00:00-24:00","count":[1-9]' status2.json
# Recorder running: labtape shell runs the command but records nothing.
expect_success lt shell -- sh -c 'echo shell-output-one' </dev/null \
	>shell1.out
expect_grep 'shell-output-one' shell1.out
expect_grep "not recording this session: the exclusion rule 'time 00:00-24:00'" "$ERR"
# A note is the user's own: kept.
expect_success lt note still here
lt_record_stop
expect_grep 'exclusion rules changed: 4 rules' record.log
expect_success lt log --json >log2.json
expect_no_grep 'secret-seven|three|shell-output|term\.' log2.json
expect_grep '"text":"still here"' log2.json

# No recorder: the shell reads the rules itself.
printf '[exclude]\nsource = shell\n' >"$CFG"
expect_code 7 lt shell -- sh -c 'echo shell-output-two; exit 7' </dev/null \
	>shell2.out
expect_grep 'shell-output-two' shell2.out
expect_grep "the exclusion rule 'source shell' of $CFG" "$ERR"
printf '[exclude]\ndefaults = no\n' >"$CFG"
expect_success lt shell -q -- sh -c 'echo shell-output-three' </dev/null
expect_success lt log --json >log3.json
expect_no_grep 'shell-output-two' log3.json
expect_grep 'term\.out' log3.json

# Bad rules: nothing starts, and the message says where.
printf '[exclude]\npath = ~/a\ntitle = (unclosed\n' >"$CFG"
expect_failure lt record "$W"
expect_grep "$CFG:3: title '\(unclosed'" "$ERR"
expect_failure lt shell -- true </dev/null
expect_grep "$CFG:3: title" "$ERR"

expect_no_grep 'Sanitizer|runtime error' record.log
# ---- the audit log ---------------------------------------------------------

# The rules in force at the first start, and each change of them later, are
# in the audit log; starting again with the same rules adds nothing.
expect_success lt audit --json >audit.json
check "exclusion changes are audited" python3 -c "
import json
e = [json.loads(l)['detail'] for l in open('audit.json') if json.loads(l)['action'] == 'exclusion.change']
assert len(e) >= 2, e
assert e[0]['was'] is None and all(x['was'] == y['now'] for x, y in zip(e[1:], e)), e
assert any('personal' in x['text'] for x in e), e"
expect_success lt audit --verify

test_done
