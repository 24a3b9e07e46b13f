#!/usr/bin/env python3
"""Helpers of bench/recorder.sh (not a benchmark by itself).

    python3 bench/recorder-lib.py COMMAND ARGS...

Commands that measure print shell assignments (NAME=value lines) on
stdout, for recorder.sh to eval; progress and notes go to stderr. Only
the Python standard library is used. Everything random is seeded, so two
runs with the same seed make the same files and the same saves.
"""
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

# ---- pseudo-English ----------------------------------------------------

SYLLABLES = ("ka ri to men sa lo ve di tra pe on us al ex ni qu or el ba st "
             "im re co de pro ter an in ly tion ment ca mi nu ge fa so").split()
ODD_WORDS = ["café", "naïve", "über", "señal", "θ-fold", "δ", "Zürich",
             "résumé", "façade", "—", "≈", "µm", "Ångström", "déjà"]


class Words:
    """A vocabulary with Zipf-like frequencies, and text made of it."""

    def __init__(self, rng, n=4000):
        seen = set(ODD_WORDS)
        words = list(ODD_WORDS)
        while len(words) < n:
            w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
            if w not in seen:
                seen.add(w)
                words.append(w)
        rng.shuffle(words)
        self.words = words
        acc, cw = 0.0, []
        for i in range(n):
            acc += 1.0 / (i + 1)
            cw.append(acc)
        self.cw = cw
        self.rng = rng

    def some(self, k):
        return self.rng.choices(self.words, cum_weights=self.cw, k=k)

    def word(self):
        return self.some(1)[0]

    def line(self, lo=6, hi=14):
        ws = self.some(self.rng.randint(lo, hi))
        ws[0] = ws[0].capitalize()
        return " ".join(ws) + self.rng.choice([".", ".", ".", ",", ";", ":"])

    def text(self, size):
        """About size bytes of lines, paragraphs split by blank lines."""
        out, n = [], 0
        while n < size:
            s = self.line()
            if self.rng.random() < 0.1:
                s += "\n"
            out.append(s)
            n += len(s.encode()) + 1
        return "\n".join(out) + "\n"


def code_pool(rng, words, n):
    """Lines that look like source code, to build files from."""
    pool = []
    for _ in range(n):
        ind = "    " * rng.choice((0, 1, 1, 2, 2, 3))
        a, b, c, d = (w.replace("-", "_") for w in words.some(4))
        k = rng.randint(0, 999)
        t = rng.randrange(10)
        if t == 0:
            s = f"{ind}def {a}_{b}({c}, {d}=None):"
        elif t == 1:
            s = f"{ind}{a} = {b}.{c}({d}, {k})"
        elif t == 2:
            s = f"{ind}if {a} > {k}:"
        elif t == 3:
            s = f"{ind}return {a} + {b} * {k}"
        elif t == 4:
            s = f"{ind}# {words.line(4, 10)}"
        elif t == 5:
            s = f"{ind}for {a} in range({k}):"
        elif t == 6:
            s = f"{ind}self.{a}_{b} = {c}[{k}]"
        elif t == 7:
            s = ""
        elif t == 8:
            s = f'{ind}log.info("{a} {b}: %s", {c})'
        else:
            s = f"{ind}{a}.{b}({c}={k}, {d}={rng.random():.4f})"
        pool.append(s)
    return pool


def code_text(rng, pool, size):
    out, n = [], 0
    while n < size:
        ls = rng.choices(pool, k=32)
        out.extend(ls)
        n += sum(len(x) for x in ls) + 32
    return "\n".join(out) + "\n"


# ---- small commands ----------------------------------------------------

def shell(name, value):
    if isinstance(value, float):
        value = f"{value:.6g}"
    print(f"{name}={value}")


def pct(xs, p):
    """Nearest-rank percentile of xs (p in 0..100)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def cmd_proc(pid, prefix):
    """CPU time, memory and context switches of process pid."""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])	# utime, stime
    hz = os.sysconf("SC_CLK_TCK")
    ns = vcs = nvcs = threads = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for ln in f:
                    if ln.startswith("voluntary_ctxt_switches:"):
                        vcs += int(ln.split()[1])
                    elif ln.startswith("nonvoluntary_ctxt_switches:"):
                        nvcs += int(ln.split()[1])
            threads += 1
        except FileNotFoundError:
            pass
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                mem[k] = int(v.split()[0])
    shell(f"{prefix}_cpu_s", ticks / hz)
    shell(f"{prefix}_sched_ns", ns)
    shell(f"{prefix}_t_ns", time.time_ns())
    shell(f"{prefix}_rss_kb", mem.get("VmRSS", 0))
    shell(f"{prefix}_hwm_kb", mem.get("VmHWM", 0))
    shell(f"{prefix}_anon_kb", mem.get("RssAnon", 0))
    shell(f"{prefix}_file_kb", mem.get("RssFile", 0))
    shell(f"{prefix}_vcs", vcs)
    shell(f"{prefix}_nvcs", nvcs)
    shell(f"{prefix}_threads", threads)


def status(lt):
    r = subprocess.run([lt, "status", "--json"], capture_output=True, text=True)
    if r.returncode:
        return None
    return json.loads(r.stdout)


def cmd_settle(lt, min_events, stable_s, timeout_s, prefix):
    """Waits until the files source runs and its event count has reached
    min_events and not moved for stable_s seconds."""
    min_events, stable, timeout = int(min_events), float(stable_s), float(timeout_s)
    t0 = time.monotonic()
    last, last_change, last_ns, shown = -1, t0, time.time_ns(), t0
    while True:
        s = status(lt)
        now = time.monotonic()
        src = None
        if s:
            src = next((x for x in s["sources"] if x["name"] == "files"), None)
        if src and src["state"] == "failed":
            print(f"recorder-lib: the files source failed: {src['error']}",
                  file=sys.stderr)
            sys.exit(1)
        ev = src["events_today"] if src else -1
        if ev != last:
            last, last_change, last_ns = ev, now, time.time_ns()
        if (src and src["state"] == "running" and ev >= min_events and
                now - last_change >= stable):
            break
        if now - t0 > timeout:
            print(f"recorder-lib: not settled after {timeout:.0f} s "
                  f"({ev} events, want {min_events})", file=sys.stderr)
            sys.exit(1)
        if now - shown >= 10:
            print(f"  ... {ev} events so far", file=sys.stderr)
            shown = now
        time.sleep(0.1)
    shell(f"{prefix}_events", last)
    shell(f"{prefix}_bytes", src["bytes_today"])
    shell(f"{prefix}_last_change_ns", last_ns)
    if src.get("warning"):
        print(f"  note: the files source warns: {src['warning']}", file=sys.stderr)


def cmd_timed(prefix, *argv):
    """Runs argv (stdout to stderr); its wall-clock and CPU time."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=sys.stderr)
    _, st, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    shell(f"{prefix}_wall", wall)
    shell(f"{prefix}_cpu", ru.ru_utime + ru.ru_stime)
    shell(f"{prefix}_maxrss_kb", ru.ru_maxrss)
    shell(f"{prefix}_rc", os.waitstatus_to_exitcode(st))


def cmd_mtime(*paths):
    """The newest mtime (ns) of the paths that exist."""
    m = 0
    for p in paths:
        try:
            m = max(m, os.stat(p).st_mtime_ns)
        except FileNotFoundError:
            pass
    print(m)


# ---- trees of files ----------------------------------------------------

def cmd_smalltree(root, nfiles, ndirs, seed):
    """nfiles small text files (100 B to 2 KB) in ndirs folders."""
    rng = random.Random(int(seed))
    words = Words(rng)
    nfiles, ndirs = int(nfiles), int(ndirs)
    total = 0
    for i in range(nfiles):
        d = os.path.join(root, f"d{i % ndirs:03d}")
        if i < ndirs:
            os.makedirs(d, exist_ok=True)
        t = words.text(rng.randint(100, 2000))
        with open(os.path.join(d, f"note{i:05d}.txt"), "w") as f:
            f.write(t)
        total += len(t.encode())
    shell("tree_bytes", total)


def cmd_doc(path, size, seed):
    rng = random.Random(int(seed))
    with open(path, "w") as f:
        f.write(Words(rng).text(int(size)))


def cmd_mixedtree(root, mb, seed):
    """About mb MB (10^6 bytes) of a researcher's mixed files: source code,
    JSON and CSV, notebooks, random binaries, compressible binaries, large
    logs (over max_text_size) and a few duplicated files."""
    rng = random.Random(int(seed))
    words = Words(rng)
    pool = code_pool(rng, words, 50000)
    total = int(float(mb) * 1e6)
    cap = max(64 << 10, min(30 << 20, total // 30))
    made = {}
    paths = []

    def put(rel, data, cat):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        b = data.encode() if isinstance(data, str) else data
        with open(p, "wb") as f:
            f.write(b)
        c = made.setdefault(cat, [0, 0])
        c[0] += 1
        c[1] += len(b)
        paths.append((rel, cat))
        return len(b)

    def logsize(lo, hi):
        hi = max(lo + 1, min(hi, cap))
        return int(lo * (hi / lo) ** rng.random())

    nproj = max(2, total // 50_000_000)
    ext = [".py", ".py", ".py", ".c", ".h", ".md", ".tex", ".sh"]

    def proj():
        return f"proj{rng.randrange(nproj):02d}"

    # compressible binary: skewed byte values (mostly zero, small values)
    skew = bytes(0 if b < 150 else (b & 0x0f) if b < 230 else b for b in range(256))
    plan = [("code", 0.30), ("data", 0.20), ("notebook", 0.05),
            ("random-bin", 0.20), ("compressible-bin", 0.20)]
    if total >= 300_000_000:
        plan.append(("large-log", 0.03))
    for cat, share in plan:
        budget, n = int(total * share), 0
        while n < budget:
            if cat == "code":
                rel = (f"{proj()}/src/{words.word()}{rng.randrange(20)}/"
                       f"{words.word()}_{rng.randrange(10**6)}{rng.choice(ext)}")
                n += put(rel, code_text(rng, pool, logsize(500, 40_000)), cat)
            elif cat == "data":
                size = logsize(20_000, 3_000_000)
                if rng.random() < 0.5:
                    rows, m = [], 0
                    while m < size:
                        r = ",".join(f"{rng.gauss(0, 1):.6f}" for _ in range(8))
                        rows.append(r)
                        m += len(r) + 1
                    data = "a,b,c,d,e,f,g,h\n" + "\n".join(rows) + "\n"
                    rel = f"{proj()}/data/{words.word()}_{rng.randrange(10**6)}.csv"
                else:
                    recs, m = [], 0
                    while m < size:
                        r = {"id": rng.randrange(10**9), "name": words.word(),
                             "score": round(rng.random(), 6),
                             "tags": words.some(rng.randint(0, 4)),
                             "note": words.line()}
                        recs.append(r)
                        m += 120
                    data = json.dumps(recs, indent=2, ensure_ascii=False) + "\n"
                    rel = f"{proj()}/data/{words.word()}_{rng.randrange(10**6)}.json"
                n += put(rel, data, cat)
            elif cat == "notebook":
                cells, m, size = [], 0, logsize(20_000, 2_000_000)
                while m < size:
                    cid = "%08x" % rng.getrandbits(32)
                    if rng.random() < 0.3:
                        src = words.text(rng.randint(100, 800))
                        cells.append({"cell_type": "markdown", "id": cid,
                                      "metadata": {}, "source": src.splitlines(True)})
                        m += len(src)
                        continue
                    src = code_text(rng, pool, rng.randint(100, 1500))
                    outs = []
                    if rng.random() < 0.6:
                        t = words.text(rng.randint(50, 2000))
                        outs.append({"name": "stdout", "output_type": "stream",
                                     "text": t.splitlines(True)})
                        m += len(t)
                    if rng.random() < 0.15:
                        import base64
                        png = base64.b64encode(rng.randbytes(rng.randint(5000, 60000))).decode()
                        outs.append({"data": {"image/png": png, "text/plain": ["<Figure>"]},
                                     "metadata": {}, "output_type": "display_data"})
                        m += len(png)
                    cells.append({"cell_type": "code", "execution_count": len(cells) + 1,
                                  "id": cid, "metadata": {}, "outputs": outs,
                                  "source": src.splitlines(True)})
                    m += len(src)
                nb = {"cells": cells, "metadata": {"kernelspec": {
                    "display_name": "Python 3", "language": "python", "name": "python3"}},
                    "nbformat": 4, "nbformat_minor": 5}
                data = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
                n += put(f"{proj()}/notebooks/{words.word()}_{rng.randrange(10**6)}.ipynb",
                         data, cat)
            elif cat == "random-bin":
                n += put(f"{proj()}/results/{words.word()}_{rng.randrange(10**6)}.bin",
                         rng.randbytes(logsize(64 << 10, 30 << 20)), cat)
            elif cat == "compressible-bin":
                n += put(f"{proj()}/results/{words.word()}_{rng.randrange(10**6)}.dat",
                         rng.randbytes(logsize(64 << 10, 30 << 20)).translate(skew), cat)
            elif cat == "large-log":
                n += put(f"{proj()}/logs/{words.word()}_{rng.randrange(10**6)}.log",
                         code_text(rng, pool, rng.randint(9 << 20, 20 << 20)), cat)
    # duplicates: about 2% of the bytes, copies of binaries elsewhere
    bins = [p for p in paths if p[1] in ("random-bin", "compressible-bin")]
    budget, n = int(total * 0.02), 0
    while bins and n < budget:
        rel, _ = rng.choice(bins)
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
        n += put(f"copies/{rng.randrange(10**6)}_{os.path.basename(rel)}", data, "duplicate")
    nfiles = sum(c[0] for c in made.values())
    nbytes = sum(c[1] for c in made.values())
    for cat, (k, b) in sorted(made.items()):
        print(f"  {cat:17s} {k:7d} files {b / 1e6:9.1f} MB", file=sys.stderr)
    shell("tree_files", nfiles)
    shell("tree_bytes", nbytes)


def cmd_recorded_paths(root):
    """Reads `labtape log --json` lines (edit.op, fs.blob) on stdin; checks
    that every regular file under root has been recorded."""
    got = set()
    key = '"path":"'
    for ln in sys.stdin:
        i = ln.find(key)	# canonical JSON: the first "path" is data.path
        if i < 0:
            continue
        j = i + len(key)
        k = j
        while True:
            k = ln.index('"', k)
            if ln[k - 1] != "\\" or ln[k - 2] == "\\":
                break
            k += 1
        got.add(json.loads(ln[j - 1:k + 1]))
    want = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            want.add(os.path.relpath(os.path.join(d, f), root))
    missing = sorted(want - got)
    for p in missing[:5]:
        print(f"  not recorded: {p}", file=sys.stderr)
    shell("paths_want", len(want))
    shell("paths_got", len(want & got))
    shell("paths_missing", len(missing))


# ---- saves -------------------------------------------------------------

def edit_words(rng, words, lines, nops):
    """A few words changed: replaced, inserted or deleted; at least one
    change that changes the text (a word replaced by itself does not, and
    a save that changes nothing is rightly not recorded)."""
    before = join_doc(lines)
    while True:
        edit_words_once(rng, words, lines, nops)
        if join_doc(lines) != before:
            return
        nops = 1


def edit_words_once(rng, words, lines, nops):
    for _ in range(nops):
        i = rng.randrange(len(lines))
        while not lines[i]:
            i = rng.randrange(len(lines))
        ln = lines[i]
        j = rng.randrange(len(ln))
        r = rng.random()
        if r < 0.6:
            ln[j] = words.word()
        elif r < 0.85 or len(ln) < 3:
            ln.insert(j, words.word())
        else:
            del ln[j]


def split_doc(text):
    return [ln.split(" ") if ln else [] for ln in text.split("\n")]


def join_doc(lines):
    return "\n".join(" ".join(ln) for ln in lines)


def cmd_latency(vault, path, n, gap_lo, gap_hi, seed, out):
    """Saves path n times, gap_lo..gap_hi seconds apart, and after each
    save polls the vault's index until a block of edit.op events from
    after the save is committed there."""
    rng = random.Random(int(seed))
    words = Words(rng)
    with open(path) as f:
        lines = split_doc(f.read())
    con = sqlite3.connect(f"file:{vault}/index.db?mode=ro", uri=True,
                          isolation_level=None, timeout=30)
    q = ("SELECT COALESCE(MAX(b.t_max), 0) FROM blocks b JOIN block_kinds bk "
         "ON bk.block = b.id JOIN kinds k ON k.id = bk.kind "
         "WHERE k.name = 'edit.op'")
    rows, polls, poll_ns = [], 0, 0
    for i in range(int(n)):
        time.sleep(rng.uniform(float(gap_lo), float(gap_hi)))
        edit_words(rng, words, lines, rng.randint(1, 3))
        with open(path, "w") as f:
            f.write(join_doc(lines))
        tw = time.time_ns()
        td = None
        while time.time_ns() - tw < 10 * 10**9:
            a = time.time_ns()
            (m,) = con.execute(q).fetchone()
            poll_ns += time.time_ns() - a
            polls += 1
            if m >= tw:
                td = time.time_ns()
                break
            time.sleep(0.001)
        rows.append((tw, td))
        shown = f"{(td - tw) / 1e6:.1f} ms" if td else "not durable after 10 s"
        print(f"  save {i + 1}: {shown}", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(rows, f)
    shell("poll_us", poll_ns / max(1, polls) / 1e3)


def parse_t(s):
    """RFC 3339 with nine fraction digits, UTC -> ns."""
    import calendar
    base = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
    return base * 10**9 + int(s[20:29])


def cmd_latency_report(rows_json, log_json, relpath):
    """Matches the saves with their recorded events (save k is the group
    save:k+1 of the document); latency figures."""
    with open(rows_json) as f:
        rows = json.load(f)
    ev = {}
    with open(log_json) as f:
        for ln in f:
            e = json.loads(ln)
            d = e["data"]
            if d.get("path") == relpath:
                ev.setdefault(d["group"], parse_t(e["t"]))
    total, seen, commit, lost = [], [], [], 0
    for k, (tw, td) in enumerate(rows):
        te = ev.get(f"save:{k + 2}")
        if td is None or te is None:
            lost += 1
            continue
        total.append((td - tw) / 1e6)
        seen.append((te - tw) / 1e6)
        commit.append((td - te) / 1e6)
    shell("lat_n", len(rows))
    shell("lat_ok", len(total))
    shell("lat_missing", lost)
    shell("lat_groups", len(ev))
    for name, xs in (("lat", total), ("seen", seen), ("commit", commit)):
        if xs:
            shell(f"{name}_med", pct(xs, 50))
            shell(f"{name}_p95", pct(xs, 95))
            shell(f"{name}_max", max(xs))
            shell(f"{name}_min", min(xs))


def cmd_throughput_tree(root, nfiles, seed):
    rng = random.Random(int(seed))
    words = Words(rng)
    for i in range(int(nfiles)):
        with open(os.path.join(root, f"w{i:04d}.txt"), "w") as f:
            f.write("save 0\n" + words.text(rng.randint(300, 1500)))


def cmd_writer(root, nfiles, rate, seconds, out):
    """rate saves per second for seconds, round-robin over nfiles files;
    each save changes the first line (a counter) of the file. A writer
    that falls behind catches up, but never saves a file sooner than 0.6
    of its nominal interval after its last save (well over the 50 ms
    debounce), so that no two saves may be taken for one."""
    nfiles, rate, seconds = int(nfiles), float(rate), float(seconds)
    paths = [os.path.join(root, f"w{i:04d}.txt") for i in range(nfiles)]
    base = []
    for p in paths:
        with open(p) as f:
            base.append(f.read().split("\n", 1)[1])
    total = int(rate * seconds)
    gap = 0.6 * nfiles / rate
    made = [0] * nfiles
    last = [-1.0] * nfiles
    lag, late, slow, held = 0.0, 0, 0.0, 0
    log = []
    t0 = time.monotonic()
    for i in range(total):
        k = i % nfiles
        due = max(t0 + i / rate, last[k] + gap)
        if due > t0 + i / rate:
            held += 1
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
            now = time.monotonic()
        if now - (t0 + i / rate) > 0.002:
            late += 1
            lag = max(lag, now - (t0 + i / rate))
        made[k] += 1
        with open(paths[k], "w") as f:
            f.write(f"save {made[k]}\n{base[k]}")
        last[k] = time.monotonic()
        log.append((k, made[k], time.time_ns()))
        slow = max(slow, last[k] - now)
    elapsed = time.monotonic() - t0
    with open(out, "w") as f:
        json.dump({"made": {os.path.basename(p): m for p, m in zip(paths, made)},
                   "log": [(os.path.basename(paths[k]), c, t) for k, c, t in log]}, f)
    shell("w_made", total)
    shell("w_rate", total / elapsed)
    shell("w_late", late)
    shell("w_held", held)
    shell("w_maxlag_ms", lag * 1e3)
    shell("w_slowest_ms", slow * 1e3)


def cmd_count_saves(made_json):
    """Reads `labtape log --json --kind edit.op` on stdin and rebuilds
    every recorded version of the writer's files. A version is a save
    when it is exactly what one save wrote ("save N" and the rest of the
    file as it was); the saves recorded per file against those made. A
    version that is no save (the file read while a writer had it open,
    e.g. just truncated) is counted apart. Says when the missing saves
    were made and how long the recorder went without recording."""
    with open(made_json) as f:
        w = json.load(f)
    made = w["made"]
    text, rest, ver, times = {}, {}, {}, []
    for ln in sys.stdin:
        e = json.loads(ln)
        d = e["data"]
        p = d.get("path")
        if p not in made:
            continue
        if d["op"] == "snapshot":
            text[p] = d["text"]
        elif p in text:
            t, pos = text[p], d["pos"]
            text[p] = t[:pos] + d.get("ins", "") + t[pos + d.get("len", 0):]
        if d["group"] == "save:1":
            rest[p] = text[p].split("\n", 1)[1]
        else:
            ver[(p, d["group"])] = (text.get(p), parse_t(e["t"]))
    seen, phantom = {}, []
    for (p, g), (t, te) in ver.items():
        times.append(te)
        head, _, tail = (t or "").partition("\n")
        if head[:5] == "save " and head[5:].isdigit() and tail == rest.get(p):
            seen.setdefault(p, set()).add(int(head[5:]))
        else:
            phantom.append((p, g, len(t or "")))
    rec = sum(len(seen.get(p, ())) for p in made)
    short = [p for p in made if len(seen.get(p, ())) < made[p]]
    shell("c_made", sum(made.values()))
    shell("c_recorded", rec)
    shell("c_files_short", len(short))
    shell("c_phantom", len(phantom))
    t0 = w["log"][0][2] if w["log"] else 0
    tw = {(p, c): t for p, c, t in w["log"]}
    lost = [t for p, c, t in w["log"] if c not in seen.get(p, ())]
    times.sort()
    gap = max((b - a for a, b in zip(times, times[1:])), default=0)
    shell("c_max_gap_ms", gap / 1e6)
    # how long after a save the recorder read it (its event's time)
    late = sorted(te - tw[(p, int(t.split("\n", 1)[0][5:]))]
                  for (p, g), (t, te) in ver.items()
                  if t and t[:5] == "save " and t.split("\n", 1)[0][5:].isdigit()
                  and (p, int(t.split("\n", 1)[0][5:])) in tw)
    if late:
        shell("c_read_med_ms", pct(late, 50) / 1e6)
        shell("c_read_p99_ms", pct(late, 99) / 1e6)
        shell("c_read_max_ms", late[-1] / 1e6)
    if lost:
        # when the lost saves were made, in 100 ms buckets
        b = {}
        for t in lost:
            b[(t - t0) // 10**8] = b.get((t - t0) // 10**8, 0) + 1
        worst = sorted(b.items(), key=lambda x: -x[1])[:5]
        print("  lost saves by when they were made (s after the first: count): " +
              ", ".join(f"{k / 10:.1f}: {v}" for k, v in sorted(worst)),
              file=sys.stderr)
        for p in short[:3]:
            print(f"  {p}: {len(seen.get(p, ()))} of {made[p]} saves recorded",
                  file=sys.stderr)
    for p, g, n in phantom[:3]:
        print(f"  {p} {g}: a version of {n} characters that no save wrote",
              file=sys.stderr)


def cmd_storage(path, n, interval_ms, seed, fi_out):
    """Saves path n times, interval_ms apart, with a few words changed
    each time, and writes a git fast-import stream with one commit per
    version (the first: the file as it was before)."""
    rng = random.Random(int(seed))
    words = Words(random.Random(int(seed) + 1))
    words.rng = rng
    with open(path) as f:
        text = f.read()
    lines = split_doc(text)
    n, dt = int(n), float(interval_ms) / 1e3
    ts = 1_700_000_000
    with open(fi_out, "wb") as fi:
        def commit(k, content):
            b = content.encode()
            msg = f"save {k}\n".encode()
            fi.write(b"commit refs/heads/main\n")
            fi.write(f"mark :{k + 1}\n".encode())
            fi.write(f"committer Bench <bench@example.org> {ts + 60 * k} +0000\n".encode())
            fi.write(b"data %d\n%s" % (len(msg), msg))
            if k:
                fi.write(f"from :{k}\n".encode())
            fi.write(b"M 100644 inline doc.txt\n")
            fi.write(b"data %d\n%s\n" % (len(b), b))
        commit(0, text)
        t0 = last = time.monotonic()
        for k in range(1, n + 1):
            # on time, but never sooner than 0.6 interval (and 70 ms)
            # after the last save: a writer that fell behind must not make
            # two saves the recorder may rightly take for one
            due = max(t0 + (k - 1) * dt, last + max(0.6 * dt, 0.07))
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            edit_words(rng, words, lines, rng.randint(1, 4))
            text = join_doc(lines)
            with open(path, "w") as f:
                f.write(text)
            last = time.monotonic()
            commit(k, text)
            if k % 200 == 0:
                print(f"  {k} saves", file=sys.stderr)
    shell("st_final_bytes", len(text.encode()))


def cmd_count_groups(relpath):
    """Reads `labtape log --json --kind edit.op`: versions of relpath, its
    ops, snapshots."""
    groups, ops, snaps = set(), 0, 0
    for ln in sys.stdin:
        d = json.loads(ln)["data"]
        if d.get("path") != relpath:
            continue
        groups.add(d["group"])
        ops += 1
        snaps += d["op"] == "snapshot"
    shell("g_versions", len(groups))
    shell("g_ops", ops)
    shell("g_snapshots", snaps)


def cmd_table(tsv):
    """The summary table: figure, labtape, peer, target, verdict."""
    rows = [ln.rstrip("\n").split("\t") for ln in open(tsv) if ln.strip()]
    head = ["figure", "labtape", "peer", "target", ""]
    rows.insert(0, head)
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            print("  ".join("-" * x for x in w).rstrip())


COMMANDS = {
    "proc": cmd_proc, "settle": cmd_settle, "timed": cmd_timed,
    "mtime": cmd_mtime, "smalltree": cmd_smalltree, "doc": cmd_doc,
    "mixedtree": cmd_mixedtree, "recorded-paths": cmd_recorded_paths,
    "latency": cmd_latency, "latency-report": cmd_latency_report,
    "throughput-tree": cmd_throughput_tree, "writer": cmd_writer,
    "count-saves": cmd_count_saves, "storage": cmd_storage,
    "count-groups": cmd_count_groups, "table": cmd_table,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: recorder-lib.py COMMAND ARGS... (" +
                 ", ".join(sorted(COMMANDS)) + ")")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
