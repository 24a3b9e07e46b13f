#!/bin/sh
# labtape shell on a real terminal (tmux): raw mode, window size and
# resize, job control, a full-screen editor that leaves the screen as it
# was, and input privacy: a password typed with echo off is never
# recorded, with or without --input, while --input records other typing.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIR/shell-lib.sh"

command -v tmux >/dev/null || fatal "tmux is missing (scripts/install-deps)"
test_when_finished tm_stop
lt_init
# Interactive shells with a known prompt and no user files.
export PS1='PROMPT$ ' SHELL=/bin/sh
BASH_ARGS="bash --norc --noprofile -i"

# --- Window size, resize, job control, a full-screen program ------------
expect_success tm new-session -d -s a -x 100 -y 30 \
	"$LABTAPE shell --title 'tmux test' -- $BASH_ARGS 2>shell-a.err"
check "the shell prompts" tm_wait_text a 'PROMPT$'
tm send-keys -t a 'stty size; echo "in=$LABTAPE_SESSION"' Enter
check "the pty has the window's size" tm_wait_text a '30 100'
tm send-keys -t a 'echo before-editor' Enter
check "commands run" tm_wait_text a 'before-editor'
tm_screen a >screen-before

# Ctrl-Z and Ctrl-C are bytes to the pty: the job stops, comes back to
# the foreground, and is interrupted.
tm send-keys -t a 'sleep 30' Enter
sleep_ms 300
tm send-keys -t a C-z
check "Ctrl-Z stops the job" tm_wait_text a 'Stopped'
tm send-keys -t a 'fg' Enter
sleep_ms 300
tm send-keys -t a C-c
tm send-keys -t a 'echo "back $?"' Enter
check "Ctrl-C interrupts it (status 130)" tm_wait_text a 'back 130'
tm send-keys -t a 'clear; echo before-editor' Enter
screen_cleared() {
	test "$(tm_screen a | grep -c .)" -le 2
}
wait_until 10 screen_cleared
tm_screen a >screen-before

# A full-screen editor, opened and closed: the screen is as it was.
tm send-keys -t a 'vim -u NONE -N -i NONE -n' Enter
check "vim draws its screen" tm_wait_text a '~'
tm send-keys -t a 'ihello from vim' Escape
check "vim takes input" tm_wait_text a 'hello from vim'
tm send-keys -t a ':q!' Enter
vim_gone() {
	! tm_screen a | grep -q '^~'
}
check "vim is gone" wait_until 20 vim_gone
tm_screen a >screen-after
printf 'before-editor\nPROMPT$\n' >want-before
test_cmp want-before screen-before
printf 'before-editor\nPROMPT$ vim -u NONE -N -i NONE -n\nPROMPT$\n' >want-after
test_cmp want-after screen-after
tm resize-window -t a -x 120 -y 40
tm send-keys -t a 'stty size' Enter
check "the pty follows the resize" tm_wait_text a '40 120'
# A marker from inside, with no recorder running: the session takes it.
tm send-keys -t a "'$LABTAPE' mark after the resize; echo \"mark-status \$?\"" Enter
check "labtape mark inside succeeds" tm_wait_text a 'mark-status 0'
tm send-keys -t a 'exit 5' Enter
check "the session ends" tm_wait_gone a
expect_grep "recording terminal session" shell-a.err

expect_success lt log --json >log-a.json
SA=$(term_last_session log-a.json)
term_dump log-a.json >dump-a
expect_grep "^term.start $SA .*\"cols\": 100, .*\"rows\": 30" dump-a
expect_grep "^term.start $SA .*\"title\": \"tmux test\"" dump-a
expect_grep "^term.resize $SA .*\"cols\": 120, \"rows\": 40" dump-a
expect_grep "^term.end $SA .*\"status\": 5" dump-a
term_bytes log-a.json term.out "$SA" >out-a
expect_grep "in=$SA" out-a
expect_grep "hello from vim" out-a
check "vim's alternate screen is recorded" grep -q "$(printf '\033')\\[?1049h" out-a
check_eq "no keystrokes without --input" 0 "$(grep -c '"kind":"term.in"' log-a.json)"
expect_grep "^marker $SA .*\"text\": \"after the resize\"" dump-a

# The session as asciicast: the real asciinema plays it, and the resize
# and the marker are in it.
expect_success lt export cast --session "$SA" -o a.cast
expect_grep '^\[[0-9.]+, "r", "120x40"\]$' a.cast
expect_grep '^\[[0-9.]+, "m", "after the resize"\]$' a.cast
expect_success cast_cat a.cast a.cat
expect_grep "in=$SA" a.cat
expect_grep "hello from vim" a.cat
expect_grep "mark-status 0" a.cat

# --- labtape killed: the command is hung up, the terminal restored -----
cat >killed.sh <<SH
stty -a >stty-before
"$LABTAPE" shell -q -- sh -c 'echo \$PPID >lt.pid; sleep 100'
echo "rc=\$?" >stty-after
stty -a >>stty-after
echo finished >>stty-after
SH
tm new-session -d -s k -c "$TRASH" "sh killed.sh"
check "the session runs" wait_until 20 test -s lt.pid
expect_success kill -TERM "$(cat lt.pid)"
check "the caller goes on" wait_until 20 grep -qs finished stty-after
check_eq "exit status: the command's, hung up" "rc=129" "$(head -n 1 stty-after)"
sed -e 1d -e '$d' stty-after >stty-restored
test_cmp stty-before stty-restored

# --- Passwords: never recorded ------------------------------------------
PW="hunter2-$TEST_SEED-pw"
# The prompt script: a password with echo off, then an ordinary line.
cat >prompt.sh <<'SH'
stty -echo
printf 'Password: '
read -r p
stty echo
echo
echo "password has ${#p} characters"
printf 'Name: '
read -r n
echo "hello $n"
read -r _
SH
for mode in --input --no-input; do
	tm new-session -d -s pw -x 80 -y 24 "$LABTAPE shell -q $mode -- sh prompt.sh"
	check "$mode: the password prompt is up" tm_wait_text pw 'Password:'
	tm send-keys -t pw "$PW" Enter
	check "$mode: the password was read" tm_wait_text pw "password has ${#PW} characters"
	tm send-keys -t pw "visible-name$mode" Enter
	check "$mode: the name was read" tm_wait_text pw "hello visible-name$mode"
	tm send-keys -t pw Enter
	check "$mode: the session ends" tm_wait_gone pw
done
expect_success lt log --json >log-pw.json
term_bytes log-pw.json term.in >in-pw
term_bytes log-pw.json term.out >out-pw
expect_no_grep "$PW" in-pw
expect_no_grep "$PW" out-pw
expect_no_grep "$PW" log-pw.json
check "the password is in no vault file" sh -c "! grep -rqF -- '$PW' '$LABTAPE_VAULT'"
expect_grep "visible-name--input" in-pw
expect_no_grep "visible-name--no-input" in-pw
check_eq "one withheld marker (the --input session)" 1 \
	"$(count_fixed '"text":"input withheld: echo off"' log-pw.json)"
expect_success lt verify

test_done
