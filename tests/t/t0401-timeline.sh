#!/bin/sh
# labtape export timeline: windows of time aligning document edits,
# terminal output, markers and notes. A small recording over three
# windows; python checks every line (keys, order, alignment), that a
# document edited in two windows is in both with its net change, that a
# marker and a note land in their windows, that terminal output is there
# without escapes and input is withheld, redaction and --no-redact,
# --window, shards, and that a second export is byte-identical.
. "$(dirname "$0")/test-lib.sh"

lt_init

cat >gen.py <<'PY'
import json, base64
ev = []
def add(stream, kind, t, data):
    ev.append((stream, {"kind": kind, "t": "2026-03-01T" + t + "Z", "data": data}))
A = "file:00000000000000aa"; B = "file:00000000000000bb"
text = "line one\nline two\nline three\n"
add("fs:/w", "edit.op", "10:01:00", {"doc": A, "seq": 0, "path": "a.txt", "part": "a.txt", "op": "snapshot", "text": text, "group": "g0"})
add("fs:/w", "edit.op", "10:01:30", {"doc": A, "seq": 1, "path": "a.txt", "part": "a.txt", "op": "insert", "pos": 9, "ins": "mail alice.smith@example.com\n", "group": "g1"})
add("fs:/w", "edit.op", "10:02:10", {"doc": B, "seq": 0, "path": "b.txt", "part": "b.txt", "op": "snapshot", "text": "bee\n", "group": "g0"})
add("term:s1", "term.start", "10:02:30", {"session": "s1", "cols": 80, "rows": 24, "command": ["sh", "-c", "make test"]})
out = b"\x1b[31mFAIL\x1b[0m mail bob.jones@example.org\r\n\x1b]0;title\x07ok \xff done\n\x1b["
add("term:s1", "term.out", "10:02:31", {"session": "s1", "data": base64.b64encode(out).decode()})
add("term:s1", "term.in", "10:02:32", {"session": "s1", "data": base64.b64encode(b"hunter2secret\r").decode()})
add("mark:x", "marker", "10:06:00", {"text": "tests pass now"})
add("fs:/w", "edit.op", "10:07:00", {"doc": A, "seq": 2, "path": "a.txt", "part": "a.txt", "op": "delete", "pos": 0, "len": 5, "del": "line ", "group": "g2"})
# The escape cut at the end of the first chunk goes on here: "1m" is eaten.
add("term:s1", "term.out", "10:08:00", {"session": "s1", "data": base64.b64encode(b"1msecond window output\n").decode()})
add("term:s1", "term.end", "10:08:01", {"session": "s1", "status": 0})
add("mark:x", "note", "10:17:00", {"text": "remember to call +1 415-555-0132"})
for s in sorted(set(x[0] for x in ev)):
    with open("ev-%s.jsonl" % s.replace(":", "_").replace("/", "_"), "w") as f:
        for st, e in ev:
            if st == s:
                f.write(json.dumps(e) + "\n")
PY
expect_success python3 gen.py
expect_success lt append --stream fs:/w <ev-fs__w.jsonl
expect_success lt append --stream term:s1 <ev-term_s1.jsonl
expect_success lt append --stream mark:x <ev-mark_x.jsonl

cat >check.py <<'PY'
import json, os, re, sys, datetime
d, mode = sys.argv[1], sys.argv[2]
win = int(sys.argv[3]) if len(sys.argv) > 3 else 300
card = open(os.path.join(d, "README.md")).read()
fields = re.findall(r"^\| `(\w+)` \| ", card.split("## Schema")[1], re.M)
def ts(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
W = []
for split in ("train", "validation", "test"):
    raw = open(os.path.join(d, "timeline.%s.jsonl" % split), encoding="utf-8").read()
    assert raw == "" or raw.endswith("\n")
    for line in raw.splitlines():
        w = json.loads(line)
        assert list(w) == fields, (list(w), fields)
        assert w["windows"] == w["keys"] == w["screen"] == w["transcripts"] == []
        s, e = ts(w["start"]), ts(w["end"])
        assert s % win == 0 and e - s == win, (w["start"], w["end"])
        assert w["documents"] or w["terminal"] or w["markers"] or w["notes"]
        W.append((s, e, w, line))
    m = re.search(r"`timeline\.%s\.jsonl` \| (\d+) \|" % split, card)
    assert m and int(m.group(1)) == len(raw.splitlines()), split
# One day: one split, so the file order is the time order.
W.sort(key=lambda x: x[0])
for a, b in zip(W, W[1:]):
    assert a[1] <= b[0], "windows overlap or repeat"
def docs(w, doc):
    return [x for x in w["documents"] if x["doc"] == doc]
A = "file:00000000000000aa"
if win == 300:
    assert [x[2]["start"][11:16] for x in W] == ["10:00", "10:05", "10:15"], [x[2]["start"] for x in W]
    w0, w1, w2 = (x[2] for x in W)
    a0, a1 = docs(w0, A)[0], docs(w1, A)[0]
    assert a0["seq"] == [0, 1] and a0["ops"]["insert"] == 1 and a0["ops"]["snapshot"] == 1
    assert a0["saves"] == 2 and a0["chars_inserted"] == 29
    assert a1["seq"] == [2, 2] and a1["ops"]["delete"] == 1 and a1["chars_deleted"] == 5
    assert a1["diff"].startswith("@@ -1,3 +1,3 @@\n-line one\n+one\n"), a1["diff"]
    assert "\n+mail " in a0["diff"] and "\n-line two" not in a0["diff"], a0["diff"]
    assert [m["text"] for m in w1["markers"]] == ["tests pass now"]
    assert w0["markers"] == [] and w2["markers"] == [] and w1["notes"] == []
    assert len(w2["notes"]) == 1 and w2["notes"][0]["time"].startswith("2026-03-01T10:17:00")
    t0, t1 = w0["terminal"][0], w1["terminal"][0]
    assert t0["session"] == "s1" and t0["commands"] == ["make test"]
    assert t0["started"] and not t0["ended"] and t1["ended"]
    assert t0["input_withheld"] == 1 and t1["input_withheld"] == 0
    assert t0["output"].startswith("FAIL mail "), t0["output"]
    assert "\x1b" not in t0["output"] and "title" not in t0["output"]
    assert "ok \ufffd done\n" in t0["output"]
    assert t1["output"] == "second window output\n", t1["output"]
    if mode == "raw":
        assert "bob.jones@example.org" in t0["output"]
        assert "alice.smith@example.com" in a0["diff"]
        assert "555-0132" in w2["notes"][0]["text"]
    else:
        assert "<EMAIL_1>" in a0["diff"] and "<EMAIL_2>" in t0["output"], (t0, a0)
        assert "<EMAIL_1>" in a1["diff"], a1["diff"]	# numbered per window
        assert "<PHONE_1>" in w2["notes"][0]["text"]
else:
    assert len(W) == 1 and len(W[0][2]["markers"]) == 1 and len(W[0][2]["notes"]) == 1
for x in W:
    assert "hunter2" not in x[3]
    if mode != "raw":
        for pii in ("alice.smith@example.com", "bob.jones@example.org", "555-0132"):
            assert pii not in x[3]
print(len(W))
PY

expect_success lt export timeline -o tl1
expect_success python3 check.py tl1 redacted
check 'the card says redact: true' grep -q 'redact: true' tl1/README.md
check 'the card counts emails' grep -Eq '^\| EMAIL \| [1-9][0-9]* \|' tl1/README.md
check 'the card counts the windows' grep -q '^- windows: 3 ' tl1/README.md
check 'the card says how windows are split' grep -q 'UTC day of the window' tl1/README.md

# Same vault, same options: the same bytes.
expect_success lt export timeline -o tl2
check 'two exports are byte-identical' test "$(tree_sums tl1 | sed 's/ .*//')" = "$(tree_sums tl2 | sed 's/ .*//')"

expect_success lt export timeline -o raw --no-redact --shards 2
expect_success python3 check.py raw raw
check 'the card says redact: false' grep -q 'redact: false' raw/README.md
check 'shards were written' test -n "$(ls raw/shards/timeline-*.tar)"

# One window of an hour holds everything.
expect_success lt export timeline -o hour --window 1h
expect_success python3 check.py hour redacted 3600

# --since: the document's state before it still gives the diff.
expect_success lt export timeline -o late --no-redact --since 2026-03-01T10:05:00Z --until 2026-03-01T10:10:00Z
check 'only the middle window' test "$(cat late/timeline.*.jsonl | wc -l)" = 1
check 'its diff is known' grep -q '"diff":"@@ -1,3 +1,3 @@' late/timeline.train.jsonl late/timeline.validation.jsonl late/timeline.test.jsonl

expect_code 2 lt export timeline -o bad --window 0s
expect_grep 'window wants a duration' "$ERR"

test_done
