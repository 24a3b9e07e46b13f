#!/usr/bin/env python3
"""Checks for the Google Docs importer's tests (t0510, t0515).

    gdocs-check.py ref CHANGELOG      prints the text the changelog's own
                                      replay gives, computed here in
                                      UTF-16 code units, apart from labtape
    gdocs-check.py vault LOG DOC      prints DOC rebuilt from the edit.op
                                      events of LOG (labtape log --json),
                                      checking seq, pos and del on the way

The reference replay knows only the ops that change text: is, iss, ds,
dss (1-based UTF-16 indices, ds inclusive), mlti and rplc.
"""
import json
import sys


def fail(msg):
    sys.stderr.write("gdocs-check: %s\n" % msg)
    sys.exit(1)


def ref(path):
    raw = open(path, encoding="utf-8").read()
    if raw.startswith(")]}'"):
        raw = raw.split("\n", 1)[1]
    data = json.loads(raw)
    doc = [""]  # the text as UTF-16-LE bytes, two per code unit

    def u16(s):
        return s.encode("utf-16-le")

    def apply(op):
        ty = op["ty"]
        t = doc[0]
        if ty in ("is", "iss"):
            i = (op["ibi"] - 1) * 2
            doc[0] = t[:i] + u16(op["s"]) + t[i:]
        elif ty in ("ds", "dss"):
            doc[0] = t[:(op["si"] - 1) * 2] + t[op["ei"] * 2:]
        elif ty == "mlti":
            for o in op["mts"]:
                apply(o)
        elif ty == "rplc":
            doc[0] = b""
            for chunk in op["snapshot"]:
                for o in (chunk if isinstance(chunk, list) else [chunk]):
                    apply(o)

    doc[0] = b""
    for chunk in data.get("chunkedSnapshot") or []:
        for o in (chunk if isinstance(chunk, list) else [chunk]):
            apply(o)
    for entry in data["changelog"]:
        apply(entry[0])
    sys.stdout.write(doc[0].decode("utf-16-le"))


def vault(path, docid):
    evs = []
    for line in open(path, encoding="utf-8"):
        ev = json.loads(line)
        if ev["kind"] == "edit.op" and ev["data"]["doc"] == docid:
            evs.append(ev["data"])
    evs.sort(key=lambda d: d["seq"])
    text = None
    for k, d in enumerate(evs):
        if d["seq"] != k:
            fail("seq %d where %d was expected" % (d["seq"], k))
        op = d["op"]
        if op == "snapshot":
            text = d["text"]
            continue
        if text is None:
            text = ""
        if op in ("style", "structural"):
            if "pos" in d and d["pos"] + d["len"] > len(text):
                fail("seq %d: %s range past the end" % (k, op))
            continue
        pos = d["pos"]
        if pos > len(text):
            fail("seq %d: pos %d past the end (%d)" % (k, pos, len(text)))
        n = 0
        if op == "delete":
            n = d["len"]
            if text[pos:pos + n] != d["del"]:
                fail("seq %d: del %r but the text is %r" % (k, d["del"], text[pos:pos + n]))
        text = text[:pos] + d.get("ins", "") + text[pos + n:]
    sys.stdout.write(text or "")


if sys.argv[1] == "ref":
    ref(sys.argv[2])
else:
    vault(sys.argv[2], sys.argv[3])
