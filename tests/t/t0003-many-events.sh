#!/bin/sh
# Many events (50,000 by default; LABTAPE_TEST_EVENTS to change): every one
# comes back exactly once, in time order, and nothing readable reaches the
# disk: a unique token and the stream names appear in no file of the vault.
. "$(dirname "$0")/test-lib.sh"

N=${LABTAPE_TEST_EVENTS:-50000}
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
SECRET=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
STREAM_A="papers/secret-$SECRET-alpha"
STREAM_B="term:secret-$SECRET-beta"
export N TOKEN STREAM_A STREAM_B

lt_init

# Two inputs, each shuffled (the vault must sort), and the canonical lines
# log --json must print, in time order. Times are unique and spread over
# two days; one event of B carries the token.
python3 - <<'EOF'
import json, os, random
n = int(os.environ["N"])
rnd = random.Random(int(os.environ["TEST_SEED"]))
words = ["alpha", "beta", "gamma", "delta", "lorem", "ipsum", "dolor", "amet",
         "tensor", "gradient", "batch", "epoch", "loss", "seed", "shard"]
base = 1717200000 * 10**9 + 123      # 2024-06-01T00:00:00.000000123Z
step = 3 * 10**9 + 7                 # 50,000 events span about 1.7 days
a, b, canon = [], [], []
token_at = rnd.randrange(n)
for i in range(n):
    ns = base + i * step
    sec, frac = divmod(ns, 10**9)
    import time
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%09dZ" % frac
    text = "ev%06d %s" % (i, " ".join(rnd.choice(words) for _ in range(rnd.randrange(1, 12))))
    if i == token_at:
        text += " " + os.environ["TOKEN"]
    stream = os.environ["STREAM_B"] if i % 5 in (1, 3) or i == token_at else os.environ["STREAM_A"]
    ev = {"t": t, "kind": "note", "data": {"text": text, "n": i}}
    (b if stream == os.environ["STREAM_B"] else a).append(json.dumps(ev))
    canon.append('{"t":"%s","stream":%s,"kind":"note","data":{"n":%d,"text":%s}}'
                 % (t, json.dumps(stream, ensure_ascii=False), i,
                    json.dumps(text, ensure_ascii=False)))
rnd.shuffle(a)
rnd.shuffle(b)
open("a.jsonl", "w").write("\n".join(a) + "\n")
open("b.jsonl", "w").write("\n".join(b) + "\n")
open("expect.json", "w").write("\n".join(canon) + "\n")
EOF
check_eq "generated events" "$N" "$(cat a.jsonl b.jsonl | wc -l)"
check_eq "the token is in the input once" 1 "$(cat a.jsonl b.jsonl | count_fixed "$TOKEN" -)"

expect_success lt append --stream "$STREAM_A" <a.jsonl
expect_success lt append --stream "$STREAM_B" <b.jsonl

expect_success lt log --json >log.json
check_eq "log --json | wc -l" "$N" "$(wc -l <log.json)"
# Exactly the events given, in time order (times are unique).
test_cmp expect.json log.json
sort expect.json >expect.sorted
sort log.json >log.sorted
test_cmp expect.sorted log.sorted
check_eq "no duplicates" 0 "$(uniq -d log.sorted | wc -l)"
check_eq "the token comes back once" 1 "$(count_fixed "$TOKEN" log.json)"

expect_success lt log --json --stream "$STREAM_B" >b.json
check_eq "stream B alone" "$(wc -l <b.jsonl)" "$(wc -l <b.json)"
grep -F "\"stream\":\"$STREAM_B\"" expect.json >b.expect
test_cmp b.expect b.json

# Nothing readable on disk. Keep a writer open (it will get no input) so
# that the index's -wal and -shm files exist while we look.
mkfifo hold
test_bg sh -c 'exec "$LABTAPE" append --stream "$STREAM_A" <hold'
exec 8>hold
i=0
while test $i -lt 250 && ! test -e "$LABTAPE_VAULT/index.db-wal"; do
	sleep_ms 20
	i=$((i + 1))
done
check "index.db-wal exists while a writer runs" test -e "$LABTAPE_VAULT/index.db-wal"
check "index.db-shm exists while a writer runs" test -e "$LABTAPE_VAULT/index.db-shm"
find "$LABTAPE_VAULT" -type f | sort >files
check "the vault has key files" grep -q '\.key$' files
check "the vault has segment files" grep -q '\.seg$' files
for what in "$TOKEN" "$SECRET" "$STREAM_A" "$STREAM_B" "ev000000" "gradient"; do
	if grep -rlF -- "$what" "$LABTAPE_VAULT" >found; then
		fail "'$what' found in plaintext in: $(tr '\n' ' ' <found)"
	else
		pass "'$what' is in no file of the vault"
	fi
done
# Also not in the tables, as text (grep would miss a compressed page).
sqlite3 "file:$LABTAPE_VAULT/index.db?mode=ro" .dump >dump.sql 2>dump.err
check "sqlite3 can dump the index" test -s dump.sql
expect_no_grep "$TOKEN|$SECRET" dump.sql
exec 8>&-
wait $!
check "the held append exits 0" test $? = 0
test_bg_pids=

expect_success lt verify >verify.out
expect_grep "^[0-9]+ segments, [0-9]+ blocks, $N events: ok$" verify.out
expect_success lt stats >stats.out
check_eq "stats total" "$N" "$(awk '$1 == "total" { print $2 }' stats.out)"
check_eq "stats stream B" "$(wc -l <b.jsonl)" \
	"$(awk -v s="$STREAM_B" '$1 == s { n += $3 } END { print n }' stats.out)"
check_eq "stats rows: two streams over two days" 4 \
	"$(grep -c 'secret-' stats.out)"

test_done
