"""bench/shell.sh's measurements (see there): throughput and peak RSS of a
command that prints a file through a pty, and keystroke echo latency."""
import os, pty, random, select, subprocess, sys, tempfile, time


def make_text(path, size, seed=1):
    """A file of varied text, like a training run's log: not compressible
    to nothing. 32 MiB of unique lines, repeated with a changing prefix."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    rnd = random.Random(seed)
    words = ["loss", "lr", "step", "epoch", "grad_norm", "acc", "val",
             "tokens/s", "warning:", "checkpoint", "saved", "batch", "é",
             "→", "数据", "ok", "eval", "ppl", "mem", "GiB", "time"]
    lines = []
    n = 0
    while n < 32 << 20:
        k = rnd.randint(3, 14)
        line = " ".join(
            rnd.choice(words) if rnd.random() < 0.5 else
            f"{rnd.random() * 10 ** rnd.randint(-4, 5):.{rnd.randint(0, 6)}f}"
            for _ in range(k)) + "\n"
        lines.append(line)
        n += len(line.encode())
    unit = "".join(lines).encode()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        written, rep = 0, 0
        while written < size:
            chunk = (b"[%06d] " % rep) + unit
            chunk = chunk[:size - written]
            f.write(chunk)
            written += len(chunk)
            rep += 1
    os.rename(tmp, path)


def run(argv, stdin=subprocess.DEVNULL):
    """Runs argv with output to /dev/null; returns (seconds, peak RSS in
    KiB, exit status). The RSS is GNU time's %M: the program's own, not
    the Python image a fork starts from (which ru_maxrss would count)."""
    fd, rssfile = tempfile.mkstemp()
    os.close(fd)
    # Each run starts with nothing left to write back from the one
    # before (asciinema's cast, labtape's vault): otherwise a run pays
    # for its predecessor's disk writes when it syncs its own.
    os.sync()
    try:
        t0 = time.perf_counter()
        rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rssfile]
                             + argv, stdin=stdin, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        with open(rssfile) as f:
            rss = int(f.read().split()[-1])
    finally:
        os.unlink(rssfile)
    return dt, rss, rc


def echo_latency(argv, n, settle=0.5, pause=0.0):
    """Runs argv on a new pty (so that it sees a terminal), types n bytes
    one at a time, each after the previous one's echo came back (and
    pause seconds more), and returns the round trip times in seconds."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    # Wait for the program to be ready: read whatever it prints first.
    end = time.monotonic() + settle
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            os.read(fd, 65536)
    times = []
    alphabet = b"abcdefghijklmnopqrstuvwxyz"
    for i in range(n):
        c = alphabet[i % 26:i % 26 + 1]
        t0 = time.perf_counter()
        os.write(fd, c)
        got = b""
        while c not in got:
            r, _, _ = select.select([fd], [], [], 5)
            if not r:
                raise SystemExit("no echo from %s" % argv)
            got += os.read(fd, 4096)
        times.append(time.perf_counter() - t0)
        if pause:
            time.sleep(pause)
        if i % 64 == 63:  # keep cat's line short
            os.write(fd, b"\n")
            time.sleep(0.002)
            while select.select([fd], [], [], 0.01)[0]:
                os.read(fd, 65536)
    os.write(fd, b"\n\x04")
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return times


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def main():
    cmd = sys.argv[1]
    if cmd == "text":
        make_text(sys.argv[2], int(sys.argv[3]))
    elif cmd == "run":
        runs = int(sys.argv[2])
        best = None
        for _ in range(runs):
            dt, rss, rc = run(sys.argv[3:])
            if rc != 0:
                raise SystemExit("%s exited %d" % (sys.argv[3:], rc))
            if best is None or dt < best[0]:
                best = (dt, best[1] if best else 0)
            best = (best[0], max(best[1], rss))
        print("%.3f %d" % best)
    elif cmd == "echo":
        n = int(sys.argv[2])
        argv, pause = sys.argv[3:], 0.0
        if argv[:1] == ["--pause"]:
            pause, argv = float(argv[1]) / 1000, argv[2:]
        t = echo_latency(argv, n, settle=2.0 if pause else 0.5, pause=pause)
        print("%.1f %.1f" % (pct(t, 50) * 1e6, pct(t, 99) * 1e6))


if __name__ == "__main__":
    main()
