#!/usr/bin/env python3
"""How fast `labtape import etherpad` replays a long pad history.

    bench/import-etherpad.py [--revs N] [--size CHARS] [--labtape PATH]

Writes a synthetic .etherpad export (N revisions of typing, deleting and
bolding, with é, 中 and emoji outside the BMP, growing the text to about
CHARS characters), imports it into a fresh vault in a scratch folder, and
prints the time, revisions and edits per second. The importer itself
checks that the text it rebuilds is the pad's, so a wrong replay fails.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ALPHABET = "abcdefghij klmnop\né中😀"


def units(s):
    return sum(2 if ord(c) > 0xFFFF else 1 for c in s)


def b36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def keep(s, attribs=""):
    lines = s.count("\n")
    return "%s%s=%s" % (attribs, "|%s" % b36(lines) if lines else "", b36(units(s))) if s else ""


def make(revs, size, rng):
    text = "\n"
    out = {}
    t0 = 1700000000000
    for r in range(revs):
        old = text
        body = old[:-1]  # Etherpad keeps the final newline
        pos = rng.randrange(len(body) + 1)
        roll = rng.random()
        if r == 0 or roll < 0.6 or len(body) < 50 and roll < 0.9 or len(body) < size * 0.8:
            ins = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
            lines = ins.count("\n")
            ops = keep(body[:pos]) + "*0%s+%s" % ("|%s" % b36(lines) if lines else "", b36(units(ins)))
            text = body[:pos] + ins + body[pos:] + "\n"
            bank = ins
        elif roll < 0.9:
            n = min(rng.randint(1, 30), len(body) - pos)
            gone = body[pos:pos + n]
            ops = keep(body[:pos]) + ("|%s" % b36(gone.count("\n")) if "\n" in gone else "") + "-%s" % b36(units(gone))
            text = body[:pos] + body[pos + n:] + "\n"
            bank = ""
        else:
            n = min(rng.randint(1, 30), len(body) - pos)
            ops = keep(body[:pos]) + keep(body[pos:pos + n], "*1*0")
            bank = ""
        d = units(text) - units(old)
        cs = "Z:%s%s%s%s$%s" % (b36(units(old)), ">" if d >= 0 else "<", b36(abs(d)), ops, bank)
        out["pad:bench:revs:%d" % r] = {"changeset": cs, "meta": {"author": "a.bench", "timestamp": t0 + r * 1000}}
    out["pad:bench"] = {"atext": {"text": text, "attribs": ""}, "head": revs - 1, "chatHead": -1,
                        "pool": {"numToAttrib": {"0": ["author", "a.bench"], "1": ["bold", "true"]}, "nextNum": 2}}
    out["globalAuthor:a.bench"] = {"name": "Bench", "colorId": 1}
    return out, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--revs", type=int, default=10000)
    ap.add_argument("--size", type=int, default=20000)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--labtape", default=os.path.join(here, "..", "build", "labtape"))
    a = ap.parse_args()
    rng = random.Random(7)
    pad, text = make(a.revs, a.size, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.etherpad")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(pad, f, ensure_ascii=False)
        env = dict(os.environ, LABTAPE_VAULT=os.path.join(tmp, "vault"),
                   LABTAPE_PASSPHRASE="bench", LABTAPE_KDF="fast")
        subprocess.run([a.labtape, "init"], env=env, check=True, capture_output=True)
        start = time.monotonic()
        p = subprocess.run([a.labtape, "import", "etherpad", path], env=env, capture_output=True, text=True)
        secs = time.monotonic() - start
        if p.returncode:
            sys.exit("import failed: " + p.stderr)
        events = int(p.stderr.rsplit("(", 1)[1].split()[0])
        print("pad: %d revisions, final text %d characters, export %.1f MB"
              % (a.revs, len(text), os.path.getsize(path) / 1e6))
        print("import etherpad: %.2f s, %.0f revisions/s, %d events (%.0f events/s)"
              % (secs, a.revs / secs, events, events / secs))


main()
