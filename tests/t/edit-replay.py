#!/usr/bin/env python3
"""Rebuilds every recorded version of every file document from edit.op
events, as doc/files-source.md says a reader must, and checks the record
on the way: seq numbers from 0 without gaps, each op's "del" is the text
it deletes, the first op of a document (and the first after a gap) is a
snapshot.

    edit-replay.py OPS.jsonl OUTDIR

OPS.jsonl is `labtape log --json --kind edit.op`. For each document it
writes OUTDIR/<doc>/<k>, the k-th version with content (k from 1), and
OUTDIR/index with one line per document: doc, its last path, the number
of versions, "deleted" or "live", tab-separated. Notebooks (.ipynb) are
left out. Exits 1, naming the event, if anything does not apply.
"""
import json
import os
import sys


def fail(msg):
    sys.stderr.write("edit-replay: %s\n" % msg)
    sys.exit(1)


def main():
    ops, outdir = sys.argv[1], sys.argv[2]
    docs = {}
    with open(ops, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            d = ev["data"]
            docs.setdefault((ev["stream"], d["doc"]), []).append((ev, d))
    os.makedirs(outdir, exist_ok=True)
    index = []
    for (stream, doc), evs in sorted(docs.items()):
        evs.sort(key=lambda x: x[1]["seq"])
        if any(d.get("path", "").endswith(".ipynb") for _, d in evs):
            continue
        text, path, deleted, expect = None, None, False, 0
        versions, group, changed = [], None, False

        def close_group():
            if group is not None and changed and text is not None:
                versions.append(text)

        for ev, d in evs:
            where = "%s %s seq %d (%s)" % (stream, doc, d["seq"], ev["t"])
            if d["seq"] != expect:
                # A gap (seq lost to a crash or a full disk): only a
                # snapshot may follow.
                if d["seq"] < expect:
                    fail("%s: seq goes back (expected %d)" % (where, expect))
                if d["op"] not in ("snapshot", "structural"):
                    fail("%s: seq gap before a non-snapshot op" % where)
                if d["op"] == "snapshot":
                    text = None
            expect = d["seq"] + 1
            if d["group"] != group:
                close_group()
                group, changed = d["group"], False
            if deleted:
                fail("%s: an event after the delete" % where)
            path = d.get("path", path)
            op = d["op"]
            if op == "snapshot":
                if d.get("part", path) != path:
                    fail("%s: snapshot of part %r" % (where, d.get("part")))
                text, changed = d["text"], True
                continue
            if op == "structural":
                det = d["detail"]
                if det["action"] == "delete":
                    deleted = True
                elif det["action"] == "rename":
                    if det["to"] != path:
                        fail("%s: rename to %r but path %r" % (where, det["to"], path))
                else:
                    fail("%s: unknown structural action" % where)
                continue
            if text is None:
                fail("%s: %s before any snapshot" % (where, op))
            pos = d["pos"]
            if pos > len(text):
                fail("%s: pos %d past the end (%d)" % (where, pos, len(text)))
            if op in ("delete", "replace"):
                n = d["len"]
                if text[pos:pos + n] != d["del"]:
                    fail("%s: del %r but the text there is %r"
                         % (where, d["del"], text[pos:pos + n]))
            else:
                n = 0
            text = text[:pos] + d.get("ins", "") + text[pos + n:]
            changed = True
        close_group()
        os.makedirs(os.path.join(outdir, doc), exist_ok=True)
        for k, v in enumerate(versions, 1):
            with open(os.path.join(outdir, doc, str(k)), "wb") as f:
                f.write(v.encode("utf-8"))
        index.append("%s\t%s\t%d\t%s" % (doc, path, len(versions),
                                          "deleted" if deleted else "live"))
    with open(os.path.join(outdir, "index"), "w") as f:
        f.write("".join(x + "\n" for x in index))


main()
