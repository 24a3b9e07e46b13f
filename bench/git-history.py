#!/usr/bin/env python3
"""A synthetic git history for bench/import-git.sh, as a `git fast-import`
stream on stdout.

    git-history.py --commits N --files F --days D --seed S | git fast-import

F text files (Markdown, Python, C, LaTeX-like prose and code, a few
hundred lines each, some non-ASCII) are added by the first commit; each
later commit changes one to three files with the small edits people make
(a line changed, a few lines inserted or deleted, a word fixed), and now
and then adds, renames or deletes a file. Commit times spread evenly over
D days. Deterministic for a given seed.
"""
import argparse
import random
import sys

WORDS = ("the model loss gradient step batch layer attention token data "
         "result figure table experiment baseline learning rate schedule "
         "warmup ablation we show that this improves over prior work on "
         "evaluation held out split seed variance error bar métrique "
         "données 数据 模型 résumé naïve").split()


def line(rng, kind):
    n = rng.randint(3, 12)
    words = " ".join(rng.choice(WORDS) for _ in range(n))
    if kind == "py":
        return "    %s = %s(%d)  # %s" % (rng.choice(WORDS), rng.choice(WORDS),
                                         rng.randint(0, 999), words)
    if kind == "c":
        return "\t%s_%s(%d); /* %s */" % (rng.choice(WORDS), rng.choice(WORDS),
                                         rng.randint(0, 99), words)
    return words.capitalize() + "."


def new_file(rng, kind):
    return [line(rng, kind) for _ in range(rng.randint(40, 250))]


def edit(rng, lines, kind):
    """One small, realistic change."""
    what = rng.random()
    i = rng.randrange(len(lines)) if lines else 0
    if what < 0.45 and lines:
        # A word or two changed in one line.
        ws = lines[i].split(" ")
        ws[rng.randrange(len(ws))] = rng.choice(WORDS)
        lines[i] = " ".join(ws)
    elif what < 0.75:
        for _ in range(rng.randint(1, 4)):
            lines.insert(i, line(rng, kind))
    elif what < 0.9 and len(lines) > 10:
        del lines[i:i + rng.randint(1, 3)]
    else:
        lines[i:i] = [line(rng, kind) for _ in range(rng.randint(5, 15))]


def data(text):
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10000)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout.buffer
    kinds = ["md", "py", "c", "tex"]
    files = {}
    for k in range(a.files):
        kind = kinds[k % len(kinds)]
        files["src/part%d/file%03d.%s" % (k % 12, k, kind)] = new_file(rng, kind)
    t0 = 1700000000
    step = a.days * 86400 // max(a.commits, 1)
    next_id = a.files
    for c in range(a.commits):
        t = t0 + c * step
        changes = []
        if c == 0:
            changes = [("M", p) for p in sorted(files)]
        else:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                p = rng.choice(sorted(files)) if rng.random() < 0.2 else \
                    sorted(files)[rng.randrange(min(len(files), 40)) * 7 % len(files)]
                edit(rng, files[p], p.rsplit(".", 1)[1])
                changes.append(("M", p))
            r = rng.random()
            if r < 0.01:
                kind = rng.choice(kinds)
                p = "src/new/file%05d.%s" % (next_id, kind)
                next_id += 1
                files[p] = new_file(rng, kind)
                changes.append(("M", p))
            elif r < 0.015 and len(files) > 10:
                old = rng.choice(sorted(files))
                new = old.rsplit("/", 1)[0] + "/moved%05d_" % next_id + \
                    old.rsplit("/", 1)[1]
                next_id += 1
                files[new] = files.pop(old)
                changes = [x for x in changes if x[1] != old]
                changes.append(("R", old, new))
                changes.append(("M", new))
            elif r < 0.02 and len(files) > 10:
                old = rng.choice(sorted(files))
                files.pop(old)
                changes = [x for x in changes if x[1] != old]
                changes.append(("D", old))
        out.write(b"commit refs/heads/main\n")
        who = rng.choice(["Ada Lovelace <ada@example.org>",
                          "Grace Hopper <grace@example.org>",
                          "Émile Borel <emile@example.org>"])
        out.write(("author %s %d +0000\n" % (who, t)).encode())
        out.write(("committer %s %d +0000\n" % (who, t)).encode())
        out.write(data("commit %d" % c))
        for ch in changes:
            if ch[0] == "M" and ch[1] in files:
                out.write(("M 100644 inline %s\n" % ch[1]).encode())
                out.write(data("\n".join(files[ch[1]]) + "\n"))
            elif ch[0] == "R":
                out.write(("R %s %s\n" % (ch[1], ch[2])).encode())
            elif ch[0] == "D":
                out.write(("D %s\n" % ch[1]).encode())
        out.write(b"\n")


if __name__ == "__main__":
    main()
