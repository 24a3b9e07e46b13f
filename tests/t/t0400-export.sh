#!/bin/sh
# labtape export edits/events/cast -o DIR: datasets. A vault with several
# documents edited over time (personal data in them), exported; python
# checks every line, the fields against the card, next_ops against the
# true states, determinism, splits, shards, redaction and --no-redact,
# and that an interrupted export leaves nothing.
. "$(dirname "$0")/test-lib.sh"

lt_init

cat >gen.py <<'EOF'
import json, os, random
rnd = random.Random(int(os.environ["TEST_SEED"]))
WORDS = ["alpha", "beta", "gamma", "délta", "日本語", "x = 1;", "return",
         "// note", "emoji 🎉", "tab\there", "quote \"q\""]
PII = ["write to alice.smith@example.com", "call +1 415-555-0132 now"]
states = {}
out = open("edits.jsonl", "w")
# Edits never cut into personal data or touch its edges: a random edit
# could otherwise make "+1 415-555-0132" into "415-5x55-0132", which is no
# longer a phone number for anyone, and the check below would be wrong.
SECRETS = ["alice.smith@example.com", "+1 415-555-0132"]
def touches_pii(text, pos, ln):
    for sec in SECRETS:
        i = text.find(sec)
        while i >= 0:
            if pos <= i + len(sec) and pos + ln >= i:
                return True
            i = text.find(sec, i + 1)
    return False
clock = [0]
def t(sec):
    return "2026-03-01T%02d:%02d:%02d.%09dZ" % (10 + sec // 3600, sec // 60 % 60, sec % 60, 0)
for d in range(10):
    doc = "file:%016x" % (0xabc000 + d)
    path = "dir/doc%d.txt" % d
    text = "".join("%s %s\n" % (rnd.choice(WORDS), rnd.choice(WORDS)) for _ in range(30))
    if d < 3:
        text = text.replace("\n", "\n%s\n" % PII[d % 2], 1)
    seq = 0
    sec = d * 7
    hist = [text]
    def emit(data, sec):
        global seq
        data.update(doc=doc, seq=seq, path=path, part=path, actor="tester",
                    group="g")
        out.write(json.dumps({"t": t(sec), "kind": "edit.op", "data": data},
                             ensure_ascii=False) + "\n")
        seq += 1
    emit({"op": "snapshot", "text": text}, sec)
    for g in range(25):
        sec += rnd.choice([5, 30, 90])
        for k in range(rnd.randint(1, 3)):
            n = len(text)
            pos = rnd.randint(0, n)
            if touches_pii(text, pos, 12):
                continue
            kind = rnd.choice(["insert", "delete", "replace"]) if n else "insert"
            if kind == "insert":
                ins = rnd.choice(WORDS + ["\n", PII[0] + "\n"])
                emit({"op": "insert", "pos": pos, "ins": ins}, sec)
                text = text[:pos] + ins + text[pos:]
            else:
                ln = rnd.randint(1, min(12, n - pos)) if pos < n else 0
                if ln == 0:
                    continue
                dl = text[pos:pos + ln]
                if kind == "delete":
                    emit({"op": "delete", "pos": pos, "len": ln, "del": dl}, sec)
                    text = text[:pos] + text[pos + ln:]
                else:
                    ins = rnd.choice(WORDS)
                    emit({"op": "replace", "pos": pos, "len": ln, "del": dl, "ins": ins}, sec)
                    text = text[:pos] + ins + text[pos + ln:]
            while len(hist) < seq:
                hist.append(text)
    states[doc] = hist
json.dump(states, open("states.json", "w"), ensure_ascii=False)
EOF
expect_success python3 gen.py
expect_success lt append --stream "fs:$TRASH/w" <edits.jsonl

cat >check.py <<'EOF'
import json, os, re, sys
d, mode = sys.argv[1], sys.argv[2]
states = json.load(open("states.json"))
card = open(os.path.join(d, "README.md")).read()
M = ["<|editable_region_start|>", "<|user_cursor_is_here|>", "<|editable_region_end|>"]
def strip(s, part):
    head = "```" + part + "\n"
    assert s.startswith(head) and s.endswith("\n```"), s[:80]
    s = s[len(head):-4]
    for m in M:
        s = s.replace(m, "", 1)
    return s
def apply(s, ops):
    for o in ops:
        p, n = o["pos"], o["len"]
        assert s[p:p + n] == o["del"], (o, s[p:p + n])
        s = s[:p] + o["ins"] + s[p + n:]
    return s
fields = re.findall(r"^\| `(\w+)` \| ", card.split("## Schema")[1], re.M)
docs = {}
n = 0
for split in ("train", "validation", "test"):
    f = os.path.join(d, "edits.%s.jsonl" % split)
    lines = open(f, encoding="utf-8").read().split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        ex = json.loads(line)
        n += 1
        assert list(ex) == fields, (list(ex), fields)
        docs.setdefault(ex["doc"], set()).add(split)
        a = strip(ex["input"], ex["part"])
        b = strip(ex["output"], ex["part"])
        assert apply(a, ex["next_ops"]) == b
        assert ex["input"].count(M[1]) == 1 and M[1] not in ex["output"]
        assert ex["events"].count("User edited") <= 16
        if mode == "raw":
            before = states[ex["doc"]][ex["cut_seq"]]
            after = states[ex["doc"]][ex["next_seq"][1]]
            s, e = ex["excerpt_range"]
            assert before[s:e] == a, (before[s:e], a)
            assert before[:s] + b + before[e:] == after
            assert s <= ex["editable_range"][0] <= ex["cursor"] <= ex["editable_range"][1] <= e
        else:
            assert "alice.smith@example.com" not in line
            assert "555-0132" not in line
    m = re.search(r"`edits\.%s\.jsonl` \| (\d+) \|" % split, card)
    assert m and int(m.group(1)) == len(lines) - 1, split
assert n > 50, n
assert all(len(s) == 1 for s in docs.values()), docs
print(n)
EOF

# ---- edits, redacted (the default) --------------------------------------
expect_success lt export edits -o out1
expect_success python3 check.py out1 redacted
check 'placeholders in the examples' grep -q '<EMAIL_1>' out1/edits.train.jsonl out1/edits.validation.jsonl out1/edits.test.jsonl
check 'the card counts emails' grep -Eq '^\| EMAIL \| [1-9][0-9]* \|' out1/README.md
check 'the card counts phones' grep -Eq '^\| PHONE \| [1-9][0-9]* \|' out1/README.md
check 'the card says redact: true' grep -q 'redact: true' out1/README.md
expect_no_grep 'alice.smith@example.com' out1/edits.train.jsonl

# Same vault, same options: the same bytes.
expect_success lt export edits -o out2
check 'two exports are byte-identical' test "$(tree_sums out1 | sed 's/ .*//')" = "$(tree_sums out2 | sed 's/ .*//')"

# An existing folder is refused without --force.
expect_code 1 lt export edits -o out1
expect_grep "exists; give another folder, or --force" "$ERR"
expect_success lt export edits -o out1 --force

# ---- --no-redact: the raw text, and the consistency with the states ---------
expect_success lt export edits -o raw --no-redact --split 60,20,20 --shards 2
expect_success python3 check.py raw raw
check 'raw text kept' grep -q 'alice.smith@example.com' raw/edits.train.jsonl raw/edits.validation.jsonl raw/edits.test.jsonl
check 'the card says redact: false' grep -q 'redact: false' raw/README.md
lt audit >audit.out 2>&1
check 'the audit log has the export without redaction' grep -q 'redact.*false' audit.out

cat >shards.py <<'EOF'
import glob, json, tarfile
n = 0
lines = sum(len(open("raw/edits.%s.jsonl" % s).read().splitlines()) for s in ("train", "validation", "test"))
for p in sorted(glob.glob("raw/shards/edits-*.tar")):
    with tarfile.open(p) as t:
        for m in t.getmembers():
            assert m.name.endswith(".json") and m.mtime == 0 and m.uid == 0
            json.loads(t.extractfile(m).read())
            n += 1
assert n == lines, (n, lines)
print(n)
EOF
expect_success python3 shards.py

# ---- events and cast -------------------------------------------------------
printf '{"kind":"term.start","t":"2026-03-01T09:00:00Z","data":{"session":"s1","cols":80,"rows":24}}\n{"kind":"term.out","t":"2026-03-01T09:00:01Z","data":{"session":"s1","data":"%s"}}\n{"kind":"marker","t":"2026-03-01T09:00:01.5Z","data":{"session":"s1","text":"call carol.white@example.net"}}\n{"kind":"term.end","t":"2026-03-01T09:00:02Z","data":{"session":"s1"}}\n' \
	"$(printf 'mail bob.jones@example.org\r\n' | base64 -w0)" >term.jsonl
expect_success lt append --stream term:s1 <term.jsonl
expect_success lt export events -o ev
cat >events.py <<'EOF'
import json
n = 0
for s in ("train", "validation", "test"):
    for line in open("ev/events.%s.jsonl" % s, encoding="utf-8"):
        e = json.loads(line)
        assert list(e) == ["t", "stream", "kind", "data"]
        assert "alice.smith@example.com" not in line
        n += 1
assert n > 100
print(n)
EOF
expect_success python3 events.py
expect_success lt export cast -o casts
check 'one session as a cast' test "$(find casts/cast -name 's1.cast' | wc -l)" = 1
expect_no_grep 'bob.jones@example.org' "$(find casts/cast -name 's1.cast')"
check 'the cast output is redacted' grep -q '<EMAIL_1>' "$(find casts/cast -name 's1.cast')"
# A marker's text (labtape mark inside the session) is redacted too.
expect_no_grep 'carol.white@example.net' "$(find casts/cast -name 's1.cast')"
expect_grep '"m", "call <EMAIL_2>"' "$(find casts/cast -name 's1.cast')"
# The one-session form still works as before.
expect_success lt export cast --session s1 -o one.cast
check 'single cast has the raw output' grep -q 'bob.jones@example.org' one.cast
expect_grep '"m", "call carol.white@example.net"' one.cast

# ---- interrupted: nothing is left -----------------------------------------
LABTAPE_TEST_EXPORT_DELAY_US=20000 "$LABTAPE" export events -o slow 2>slow.err &
pid=$!
sleep 1
kill -INT $pid
wait $pid
code=$?
check 'the interrupted export failed' test "$code" != 0
check 'no output folder' test ! -e slow
check 'no temporary folder' test -z "$(ls -d slow.tmp-* 2>/dev/null)"

test_done
