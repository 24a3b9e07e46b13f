# Helpers for the labtape shell tests (t02NN-shell*.sh), sourced after
# test-lib.sh.

# term_dump FILE: from `labtape log --json` output in FILE, one line per
# event: "KIND SESSION" and then, for term.out/term.in, the decoded bytes
# as a Python repr; for the rest, the data as JSON.
term_dump() {
	python3 - "$1" <<'PY'
import base64, json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    d = e["data"]
    if e["kind"] in ("term.out", "term.in"):
        print(e["kind"], d["session"], repr(base64.b64decode(d["data"])))
    else:
        print(e["kind"], d.get("session", "-"), json.dumps(d, sort_keys=True))
PY
}

# term_bytes FILE KIND [SESSION] >OUT: the concatenated decoded bytes of
# every KIND event (of SESSION if given) in `labtape log --json` output.
term_bytes() {
	python3 - "$@" <<'PY'
import base64, json, sys
path, kind = sys.argv[1], sys.argv[2]
session = sys.argv[3] if len(sys.argv) > 3 else None
out = sys.stdout.buffer
for line in open(path, encoding="utf-8"):
    e = json.loads(line)
    if e["kind"] == kind and (session is None or e["data"]["session"] == session):
        out.write(base64.b64decode(e["data"]["data"]))
PY
}

# The session id of the last term.start in a `labtape log --json` file.
term_last_session() {
	python3 - "$1" <<'PY'
import json, sys
sid = ""
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e["kind"] == "term.start":
        sid = e["data"]["session"]
print(sid)
PY
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds;
# fails (returns 1) after SECONDS.
wait_until() {
	wu_limit=$(($1 * 10))
	shift
	wu_i=0
	until "$@"; do
		wu_i=$((wu_i + 1))
		test $wu_i -ge $wu_limit && return 1
		sleep_ms 100
	done
	return 0
}

# tmux on a private server in the scratch folder, with no status line
# and no user configuration.
printf 'set -g status off\nset -g escape-time 0\n' >"$TRASH/tmux.conf"
tm() {
	tmux -S "$TRASH/tmux.sock" -f "$TRASH/tmux.conf" "$@"
}
tm_stop() {
	tmux -S "$TRASH/tmux.sock" kill-server 2>/dev/null
	return 0
}

# The visible text of a tmux pane, trailing blank lines removed.
tm_screen() {
	tm capture-pane -p -t "$1" 2>/dev/null | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# tm_wait_text PANE TEXT [SECONDS]: waits until PANE shows TEXT.
tm_has_text() {
	tm_screen "$1" | grep -qF -- "$2"
}
tm_wait_text() {
	wait_until "${3:-20}" tm_has_text "$1" "$2"
}

# tm_wait_gone SESSION [SECONDS]: waits until the tmux session has ended.
tm_gone() {
	! tm has-session -t "$1" 2>/dev/null
}
tm_wait_gone() {
	wait_until "${2:-20}" tm_gone "$1"
}

# cast_cat CAST OUT: what the real `asciinema cat` prints of CAST. It
# needs a terminal (it opens /dev/tty): script gives it one, and its
# stdout is a file so that nothing translates the bytes. asciinema is
# Python: it needs a UTF-8 locale to print UTF-8.
cast_cat() {
	LC_ALL=C.UTF-8 script -qec "asciinema cat '$1' >'$2'" /dev/null \
		</dev/null >/dev/null 2>&1
}
