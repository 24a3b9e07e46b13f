#!/bin/sh
# The files source and bad input: text that is not UTF-8, binary files, a
# file over max_text_size (20 MB against a 1 MiB cap: chunks, rebuilt
# byte for byte from the log), symbolic links (a loop, one to a file
# outside, a dangling one: none is followed or recorded), a FIFO, a name
# that is not UTF-8, an unreadable folder, files deleted right after
# being written. Each gets a clear message or nothing; the recorder and
# its files source keep running, and ordinary saves still get recorded.
. "$(dirname "$0")/test-lib.sh"

LABTAPE_SOCKET=$TRASH/control
LABTAPE_CACHE_DIR=$TRASH/cache
export LABTAPE_SOCKET LABTAPE_CACHE_DIR

lt_init
mkdir -p w/outside-target w/locked
printf '[files]\nmax_text_size = 1M\n' >config
printf 'secret outside\n' >outside.txt
ln -s . w/loop
ln -s loop2 w/loop1
ln -s loop1 w/loop2
ln -s ../outside.txt w/link-to-outside
ln -s ../outside-dir w/link-to-dir
ln -s nowhere w/dangling
mkfifo w/fifo
printf 'in a locked folder\n' >w/locked/hidden.txt
chmod 000 w/locked
# Root reads anything: then the unreadable folder cannot be tested.
if cat w/locked/hidden.txt >/dev/null 2>&1; then
	can_lock=
	say "# running as root: the unreadable folder is tried as nobody below"
else
	can_lock=1
fi
test_when_finished "chmod 755 '$TRASH/w/locked'"
printf 'named badly\n' >"w/$(printf 'bad\377name.txt')"

test_bg "$LABTAPE" record --config config w 2>record.log
REC=$!
i=0
while ! lt status >/dev/null 2>&1 && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
expect_success lt status >/dev/null

printf 'caf\351 cr\350me\n' >w/latin1.txt
printf 'PNG\000\001\002binary\000' >w/image.bin
# Written aside and moved in: a 20 MB write takes long enough on a busy
# machine for the recorder to read it half-way ("changed while it was
# read", then recorded whole at its close), which is not what this is about.
head -c 20971520 /dev/urandom >big.dat.tmp && mv big.dat.tmp w/big.dat
python3 -c 'open("w/big.txt", "w").write("all text, but long\n" * 100000)'
# Deleted between the event and the read.
i=0
while test $i -lt 20; do
	printf 'here for a moment %d\n' $i >w/flash.txt
	rm w/flash.txt
	i=$((i + 1))
done
# A symbolic link turned into a loop after the start.
ln -s loop3 w/loop3
sleep_ms 500
printf 'an ordinary save\n' >w/fine.txt
sleep_ms 300

expect_success lt status --json >status.json
check "the files source is running" python3 -c '
import json, sys
d = json.load(open("status.json"))
s = [x for x in d["sources"] if x["name"] == "files"][0]
sys.exit(0 if s["state"] == "running" and s["error"] is None else 1)'

expect_success lt stop
i=0
while kill -0 "$REC" 2>/dev/null && test $i -lt 200; do
	sleep_ms 50
	i=$((i + 1))
done
check "the recorder exited" sh -c "! kill -0 $REC 2>/dev/null"
expect_success lt log --json >all.json
# Without the chunks' data, where any word may turn up in base64.
grep -v '"kind":"fs.chunk"' all.json >events.json

expect_grep '"path":"fine.txt".*"text":"an ordinary save\\n"' events.json
expect_grep "latin1.txt' is not UTF-8 \\(invalid byte at offset 3" record.log
expect_grep "big.txt' is 1900000 bytes, over max_text_size" record.log
expect_no_grep "image.bin" record.log
expect_no_grep "big.dat" record.log
expect_no_grep 'flash.txt' events.json
expect_no_grep 'loop|link-to|dangling|fifo|outside|bad.*name' events.json
if test -n "$can_lock"; then
	expect_grep "cannot read the folder '.*/w/locked': Permission denied" record.log
	expect_no_grep 'hidden.txt' events.json
fi
expect_no_grep 'failed' record.log

# Binary and large files are chunks, and give back their bytes.
check_eq "four blobs" 4 "$(count_fixed '"kind":"fs.blob"' events.json)"
expect_grep '"kind":"fs.blob".*"path":"big.dat".*"size":20971520' events.json
expect_grep "bad\\\\xffname.txt': its name is not UTF-8" record.log
python3 - <<'EOF' >rebuilt.out
import base64, json, hashlib
chunks, blobs = {}, {}
for line in open("all.json"):
    e = json.loads(line)
    if e["kind"] == "fs.chunk":
        chunks[e["data"]["hash"]] = base64.b64decode(e["data"]["data"])
    elif e["kind"] == "fs.blob":
        blobs[e["data"]["path"]] = e["data"]["chunks"]
for path in sorted(blobs):
    data = b"".join(chunks[h] for h in blobs[path])
    open("rebuilt." + path, "wb").write(data)
    print(path)
EOF
for f in big.dat big.txt image.bin latin1.txt; do
	test_cmp "w/$f" "rebuilt.$f"
done
check "the cache holds no copy of a big file" \
	test "$(du -sk cache | cut -f1)" -lt 200
expect_success lt verify

# As root, folders cannot be made unreadable: try again as nobody.
if test -z "$can_lock" && command -v setpriv >/dev/null &&
   id nobody >/dev/null 2>&1; then
	N=$TRASH/nb
	chmod 711 "$TRASH"
	mkdir -p "$N/w/locked"
	printf 'readable\n' >"$N/w/open.txt"
	printf 'hidden\n' >"$N/w/locked/hidden.txt"
	chown -R nobody "$N"
	chmod 700 "$N"
	chmod 000 "$N/w/locked"
	test_when_finished "chmod 755 '$N/w/locked'"
	as_nobody() {
		setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
			--clear-groups env HOME="$N" LABTAPE_VAULT="$N/vault" \
			LABTAPE_SOCKET="$N/control" LABTAPE_CACHE_DIR="$N/cache" \
			XDG_RUNTIME_DIR="$N/run" "$@"
	}
	expect_success as_nobody "$LABTAPE" init
	test_bg as_nobody "$LABTAPE" record "$N/w" 2>nobody.log
	i=0
	while ! as_nobody "$LABTAPE" status >/dev/null 2>&1 && test $i -lt 200; do
		sleep_ms 50
		i=$((i + 1))
	done
	sleep_ms 300
	expect_success as_nobody "$LABTAPE" stop
	sleep_ms 300
	expect_grep "cannot read the folder '.*/nb/w/locked': Permission denied" nobody.log
	expect_success as_nobody "$LABTAPE" log --json >nobody.json
	expect_grep '"path":"open.txt"' nobody.json
	expect_no_grep 'hidden' nobody.json
	expect_no_grep 'Sanitizer|runtime error' nobody.log
else
	say "# the unreadable folder part needs root and setpriv, or a non-root user"
fi
# The recorder's own stderr: no sanitizer report (leaks show at exit).
expect_no_grep 'Sanitizer|runtime error' record.log
test_done
