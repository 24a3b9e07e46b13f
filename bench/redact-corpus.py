#!/usr/bin/env python3
"""A labelled corpus for labtape redact: prose, code, logs and JSON with
planted personal data and secrets, and look-alikes that must be left alone
(Luhn-invalid cards, invalid SSNs, bad IBAN checksums, versions, dates,
UUIDs, hashes, documentation example keys, variables named like secrets).

  redact-corpus.py gen --seed N --size BYTES [--family A|B] \
      --out TEXT [--labels LABELS.jsonl] [--names NAMES.txt]
  redact-corpus.py score --labels LABELS.jsonl --explain EXPLAIN.tsv \
      [--min-recall 0.99] [--min-precision 0.95]

Family A is what the detectors were tuned on; family B has other
sentences, other formats and other mixes, for a check on text the
detectors never saw. 'score' reads `labtape redact --explain` output and
prints recall and precision per type; with --min-* it exits 1 when a
structured type (EMAIL CARD SSN IBAN and keys and tokens) falls short.
"""
import argparse
import base64
import json
import random
import string
import sys

STRUCTURED = {"EMAIL", "CARD", "SSN", "IBAN", "AWS_KEY", "GITHUB_TOKEN",
              "SLACK_TOKEN", "PRIVATE_KEY", "JWT", "SECRET",
              "URL_CREDENTIALS"}

FIRST = ["alice", "bob", "carol", "dmitri", "elena", "farid", "grace",
         "hiro", "ines", "jamal", "katarzyna", "li", "mateo", "noor",
         "olga", "priya", "quentin", "rosa", "sven", "tariq", "uma",
         "viktor", "wen", "ximena", "yusuf", "zoe"]
LAST = ["smith", "garcia", "novak", "okafor", "tanaka", "muller", "rossi",
        "kowalski", "nguyen", "haddad", "silva", "johansson", "chen",
        "dubois", "ivanova", "patel"]
DOMAINS_A = ["example.com", "uni-heidelberg.de", "mail.utoronto.ca",
             "gmail.com", "lab.ox.ac.uk", "research.org"]
DOMAINS_B = ["proton.me", "cs.stanford.edu", "inria.fr", "posteo.net",
             "students.uva.nl", "yahoo.co.jp"]
WORDS = ("the results of the second run were close to the baseline but "
         "the variance across seeds remained high so we decided to repeat "
         "the sweep with a smaller learning rate and a longer warmup while "
         "keeping the batch size fixed at the value from the paper").split()


class Gen:
    def __init__(self, seed, family):
        self.r = random.Random(seed)
        self.family = family
        self.parts = []
        self.labels = []
        self.pos = 0

    # -- output ------------------------------------------------------------
    def text(self, s):
        self.parts.append(s)
        self.pos += len(s.encode())

    def pii(self, typ, s):
        self.labels.append({"offset": self.pos, "length": len(s.encode()),
                            "type": typ})
        self.text(s)

    # -- values ------------------------------------------------------------
    def rs(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def person(self):
        return self.r.choice(FIRST), self.r.choice(LAST)

    def email(self):
        f, l = self.person()
        doms = DOMAINS_A if self.family == "A" else DOMAINS_B
        local = self.r.choice([f + "." + l, f[0] + l, f + str(self.r.randint(1, 99)),
                               f + "_" + l, l + "+lab"])
        return local + "@" + self.r.choice(doms)

    def luhn_complete(self, digits):
        for d in "0123456789":
            s = digits + d
            tot = 0
            for i, c in enumerate(reversed(s)):
                v = int(c)
                if i % 2:
                    v *= 2
                    if v > 9:
                        v -= 9
                tot += v
            if tot % 10 == 0:
                return s
        raise AssertionError

    def card_digits(self, valid=True):
        brand = self.r.choice(["visa", "mc", "amex", "disc", "mc2"])
        if brand == "visa":
            pre, n = "4", 16
        elif brand == "mc":
            pre, n = str(self.r.randint(51, 55)), 16
        elif brand == "mc2":
            pre, n = str(self.r.randint(2221, 2720)), 16
        elif brand == "amex":
            pre, n = self.r.choice(["34", "37"]), 15
        else:
            pre, n = "6011", 16
        body = pre + self.rs(string.digits, n - len(pre) - 1)
        s = self.luhn_complete(body)
        if not valid:
            last = (int(s[-1]) + self.r.randint(1, 9)) % 10
            s = s[:-1] + str(last)
        return s

    def card_fmt(self, d):
        style = self.r.choice(["plain", "space", "dash"])
        if style == "plain":
            return d
        sep = " " if style == "space" else "-"
        if len(d) == 15:
            return d[:4] + sep + d[4:10] + sep + d[10:]
        return sep.join(d[i:i + 4] for i in range(0, len(d), 4))

    def ssn(self, valid=True):
        if valid:
            area = self.r.choice([a for a in range(1, 900) if a != 666])
            return "%03d-%02d-%04d" % (area, self.r.randint(1, 99),
                                       self.r.randint(1, 9999))
        bad = self.r.choice(["000", "666", str(self.r.randint(900, 999))])
        return "%s-%02d-%04d" % (bad, self.r.randint(1, 99),
                                 self.r.randint(1, 9999))

    def iban(self, valid=True):
        cc, bban_len = self.r.choice([("DE", 18), ("GB", 18), ("FR", 23),
                                      ("NL", 14), ("ES", 20), ("IT", 23),
                                      ("CH", 17), ("BE", 12)])
        if cc in ("GB", "NL"):
            bban = self.rs(string.ascii_uppercase, 4) + \
                self.rs(string.digits, bban_len - 4)
        elif cc == "IT":
            bban = self.rs(string.ascii_uppercase, 1) + \
                self.rs(string.digits, bban_len - 1)
        else:
            bban = self.rs(string.digits, bban_len)
        num = "".join(str(int(c, 36)) for c in bban + cc + "00")
        check = 98 - int(num) % 97
        if not valid:
            check = (check + self.r.randint(1, 90)) % 97 + 2
            if check == 98 - int(num) % 97:
                check = check % 97 + 1
        s = "%s%02d%s" % (cc, check, bban)
        if self.r.random() < 0.5:
            s = " ".join(s[i:i + 4] for i in range(0, len(s), 4))
        return s

    def phone(self):
        r = self.r
        k = r.randint(0, 4)
        if k == 0:
            return "+1 (%d%02d) %d%02d-%04d" % (r.randint(2, 9), r.randint(0, 99),
                                               r.randint(2, 9), r.randint(0, 99),
                                               r.randint(0, 9999))
        if k == 1:
            return "%d%02d-%d%02d-%04d" % (r.randint(2, 9), r.randint(0, 99),
                                          r.randint(2, 9), r.randint(0, 99),
                                          r.randint(0, 9999))
        if k == 2:
            return "+44 20 %04d %04d" % (r.randint(1000, 9999), r.randint(0, 9999))
        if k == 3:
            return "+49 30 %08d" % r.randint(10000000, 99999999)
        return "06 %02d %02d %02d %02d" % tuple(r.randint(0, 99) for _ in range(4))

    def ipv4(self):
        return "%d.%d.%d.%d" % (self.r.choice([10, 172, 192, 34, 52, 81, 151]),
                                self.r.randint(0, 255), self.r.randint(0, 255),
                                self.r.randint(1, 254))

    def mac(self):
        sep = self.r.choice([":", "-"])
        return sep.join(self.rs("0123456789abcdef", 2) for _ in range(6))

    def aws(self):
        return "AKIA" + self.rs(string.ascii_uppercase + string.digits, 16)

    def aws_secret(self):
        return self.rs(string.ascii_letters + string.digits + "/+", 40)

    def github(self):
        return self.r.choice(["ghp_", "gho_", "ghs_"]) + \
            self.rs(string.ascii_letters + string.digits, 36)

    def slack(self):
        return "xoxb-%d-%d-%s" % (self.r.randint(10**11, 10**12 - 1),
                                  self.r.randint(10**12, 10**13 - 1),
                                  self.rs(string.ascii_letters + string.digits, 24))

    def b64u(self, b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    def jwt(self):
        h = self.b64u(json.dumps({"alg": self.r.choice(["HS256", "RS256"]),
                                  "typ": "JWT"}).encode())
        p = self.b64u(json.dumps({"sub": str(self.r.randint(1, 10**9)),
                                  "iat": self.r.randint(10**9, 2 * 10**9)}).encode())
        sig = self.b64u(bytes(self.r.getrandbits(8) for _ in range(32)))
        return h + "." + p + "." + sig

    def pem(self, escaped=False):
        nl = "\\n" if escaped else "\n"
        body = nl.join(self.rs(string.ascii_letters + string.digits + "+/", 64)
                       for _ in range(self.r.randint(3, 8)))
        kind = self.r.choice(["RSA ", "EC ", "", "OPENSSH "])
        return ("-----BEGIN %sPRIVATE KEY-----%s%s%s-----END %sPRIVATE KEY-----"
                % (kind, nl, body, nl, kind))

    def secret_value(self):
        return self.rs(string.ascii_letters + string.digits, self.r.randint(24, 40))

    def password(self):
        return self.rs(string.ascii_letters, 6) + self.rs(string.digits, 2) + \
            self.r.choice("!#%&*?")

    # -- look-alikes ---------------------------------------------------------
    def decoy(self):
        r = self.r
        k = r.randint(0, 21)
        if k == 0:
            return self.card_fmt(self.card_digits(valid=False))
        if k == 1:
            return self.ssn(valid=False)
        if k == 2:
            return self.iban(valid=False)
        if k == 3:
            return "v%d.%d.%d" % (r.randint(0, 9), r.randint(0, 30), r.randint(0, 99))
        if k == 4:
            return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                r.randint(0, 59), r.randint(0, 59), r.randint(0, 999))
        if k == 5:
            return "%08x-%04x-4%03x-a%03x-%012x" % (
                r.getrandbits(32), r.getrandbits(16), r.getrandbits(12),
                r.getrandbits(12), r.getrandbits(48))
        if k == 6:
            return "%040x" % r.getrandbits(160)
        if k == 7:
            return "AKIAIOSFODNN7EXAMPLE"
        if k == 8:
            return "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        if k == 9:
            return "%d" % r.randint(10**7, 10**12)
        if k == 10:
            return "%.6f" % r.uniform(-1000, 1000)
        if k == 11:
            return "order #%d" % r.randint(10**9, 10**13)
        if k == 12:
            return "10.0.%d.%d" % (r.randint(256, 999), r.randint(0, 255))
        if k == 13:
            return "icon@2x.png"
        if k == 14:
            return "@app.route('/api/v%d')" % r.randint(1, 3)
        if k == 15:
            return "std::vector<int>"
        if k == 16:
            return "%d:%02d:%02d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))
        if k == 17:
            return "1%d" % r.randint(10**15, 10**16 - 1)  # ns timestamp
        if k == 18:
            return "127.0.0.1:%d" % r.randint(1024, 65535)
        if k == 19:
            return "sha256:%064x" % r.getrandbits(256)
        if k == 20:
            return "ghp_" + "x" * 36
        return "%d.%d.%d" % (r.randint(1, 9), r.randint(0, 20), r.randint(0, 200))

    # -- documents -----------------------------------------------------------
    def words(self, n):
        return " ".join(self.r.choice(WORDS) for _ in range(n))

    def plant_any(self):
        r = self.r
        k = r.randint(0, 12)
        if k == 0:
            self.pii("EMAIL", self.email())
        elif k == 1:
            self.pii("CARD", self.card_fmt(self.card_digits()))
        elif k == 2:
            self.pii("SSN", self.ssn())
        elif k == 3:
            self.pii("IBAN", self.iban())
        elif k == 4:
            self.pii("PHONE", self.phone())
        elif k == 5:
            self.pii("IP", self.ipv4())
        elif k == 6:
            self.pii("MAC", self.mac())
        elif k == 7:
            self.pii("AWS_KEY", self.aws())
        elif k == 8:
            self.pii("GITHUB_TOKEN", self.github())
        elif k == 9:
            self.pii("SLACK_TOKEN", self.slack())
        elif k == 10:
            self.pii("JWT", self.jwt())
        elif k == 11:
            self.text(self.decoy())
        else:
            self.pii("EMAIL", self.email())

    def prose(self):
        r = self.r
        if self.family == "A":
            intros = ["Please reach ", "I talked to ", "Notes from the call with ",
                      "Forwarded to ", "See the message from "]
        else:
            intros = ["According to ", "CC: ", "Reviewer: ", "Ping ",
                      "The dataset owner is "]
        self.text(r.choice(intros))
        self.pii("EMAIL", self.email())
        self.text(" about " + self.words(r.randint(5, 15)) + ". ")
        for _ in range(r.randint(1, 3)):
            self.text(self.words(r.randint(3, 12)) + " ")
            self.plant_any()
            self.text(" " + self.words(r.randint(2, 8)) + ", ")
            self.text(self.decoy() + ". ")
        if self.family == "A":
            self.text("My card is ")
            self.pii("CARD", self.card_fmt(self.card_digits()))
            self.text(" and my SSN ")
            self.pii("SSN", self.ssn())
            self.text(".\n")
        else:
            self.text("Reimburse to ")
            self.pii("IBAN", self.iban())
            self.text(" (social security number: ")
            self.pii("SSN", self.ssn())
            self.text("); tel. ")
            self.pii("PHONE", self.phone())
            self.text("\n")
        self.text("\n")

    def code(self):
        r = self.r
        lang = r.choice(["py", "js", "env", "yaml"])
        if lang == "py":
            self.text("import os\n\nAWS_ACCESS_KEY_ID = \"")
            self.pii("AWS_KEY", self.aws())
            self.text("\"\naws_secret_access_key = \"")
            self.pii("AWS_KEY", self.aws_secret())
            self.text("\"\nexample_key = \"AKIAIOSFODNN7EXAMPLE\"\n")
            self.text("password = os.environ[\"DB_PASSWORD\"]\n")
            self.text("max_tokens = %d\n" % r.randint(100, 8192))
            self.text("api_key = \"")
            self.pii("SECRET", self.secret_value())
            self.text("\"\ndef connect():\n    return psycopg2.connect(\"postgresql://")
            f, _ = self.person()
            self.pii("URL_CREDENTIALS", f + ":" + self.password())
            self.text("@db.internal:5432/exp\")\n\n")
        elif lang == "js":
            self.text("const client = new Octokit({ auth: '")
            self.pii("GITHUB_TOKEN", self.github())
            self.text("' });\nconst cfg = { key: 'user_id', tokenCount: %d, "
                      "secret: process.env.SECRET };\n" % r.randint(1, 999))
            self.text("fetch(url, { headers: { Authorization: 'Bearer ")
            self.pii("JWT", self.jwt())
            self.text("' } });\n// build " + self.decoy() + "\n\n")
        elif lang == "env":
            self.text("SLACK_BOT_TOKEN=")
            self.pii("SLACK_TOKEN", self.slack())
            self.text("\nDB_PASSWORD=")
            self.pii("SECRET", self.password())
            self.text("\nSTRIPE_SECRET_KEY=")
            self.pii("SECRET", "sk_live_" + self.rs(string.ascii_letters + string.digits, 24))
            self.text("\nPUBLIC_URL=https://example.org/app\nWORKERS=%d\n\n" % r.randint(1, 64))
        else:
            self.text("database:\n  host: ")
            self.pii("IP", self.ipv4())
            self.text("\n  user: admin\n  password: \"")
            self.pii("SECRET", self.password())
            self.text("\"\n  token: ${{ secrets.DEPLOY_TOKEN }}\n  timeout: 30\n")
            self.text("tls_key: |\n  ")
            self.pii("PRIVATE_KEY", self.pem())
            self.text("\n\n")

    def log(self):
        r = self.r
        for _ in range(r.randint(3, 8)):
            ts = "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                r.randint(0, 59), r.randint(0, 59), r.randint(0, 999))
            k = r.randint(0, 5)
            self.text(ts + " ")
            if k == 0:
                self.text("INFO accepted connection from ")
                self.pii("IP", self.ipv4())
                self.text(":%d pid=%d\n" % (r.randint(1024, 65535), r.randint(100, 99999)))
            elif k == 1:
                self.text("WARN login failed for ")
                self.pii("EMAIL", self.email())
                self.text(" after %d attempts (req %s)\n" % (r.randint(1, 9), self.decoy()))
            elif k == 2:
                self.text("DEBUG dhcp lease %s for " % self.decoy())
                self.pii("MAC", self.mac())
                self.text(" took %dms\n" % r.randint(1, 999))
            elif k == 3:
                self.text("INFO step=%d loss=%.4f lr=%.2e grad_norm=%.3f version=%s\n"
                          % (r.randint(0, 10**6), r.uniform(0, 5), r.uniform(1e-5, 1e-3),
                             r.uniform(0, 10), self.decoy()))
            elif k == 4:
                self.text("ERROR payment declined card=")
                self.pii("CARD", self.card_digits())
                self.text(" amount=%d.%02d\n" % (r.randint(1, 999), r.randint(0, 99)))
            else:
                self.text("INFO request id=%s took %dms\n" % (self.decoy(), r.randint(1, 5000)))
        self.text("\n")

    def jsondoc(self):
        r = self.r
        f, l = self.person()
        parts = ['{"id": %d' % r.randint(1, 10**6), '"name": "%s %s"' % (f.title(), l.title())]
        out = "{"
        self.text(out)
        self.text('"id": %d, "user": "%s", "email": "' % (r.randint(1, 10**6), f))
        self.pii("EMAIL", self.email())
        self.text('", "phone": "')
        self.pii("PHONE", self.phone())
        self.text('", "iban": "')
        self.pii("IBAN", self.iban())
        self.text('", "uuid": "%s", "checksum": "%s", "token_count": %d, "api_token": "'
                  % (self.decoy(), self.decoy(), r.randint(1, 4096)))
        self.pii("SECRET", self.secret_value())
        if self.family == "B":
            self.text('", "private_key": "')
            self.pii("PRIVATE_KEY", self.pem(escaped=True))
            self.text('", "client_ip": "')
            self.pii("IP", self.ipv4())
        self.text('", "score": %.3f}\n' % r.uniform(0, 1))
        del parts

    # Ordinary text with nothing to find, for the benchmark's realistic
    # density (a planted document every --filler lines or so).
    def filler(self, n):
        r = self.r
        ids = ["model", "batch", "loss", "config", "dataset", "trainer",
               "epoch", "optimizer", "logits", "mask", "result", "path"]
        for _ in range(n):
            k = r.randint(0, 5)
            if k == 0:
                self.text(self.words(r.randint(8, 20)).capitalize() + ".\n")
            elif k == 1:
                self.text("    %s = %s(%s, %d)\n" % (r.choice(ids), r.choice(ids),
                                                     r.choice(ids), r.randint(0, 512)))
            elif k == 2:
                self.text("2024-%02d-%02d %02d:%02d:%02d,%03d INFO %s step %d took %.3fs\n"
                          % (r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                             r.randint(0, 59), r.randint(0, 59), r.randint(0, 999),
                             r.choice(ids), r.randint(0, 99999), r.uniform(0, 9)))
            elif k == 3:
                self.text('{"%s": %d, "%s": %.4f, "tags": ["%s", "%s"]}\n'
                          % (r.choice(ids), r.randint(0, 10**6), r.choice(ids),
                             r.uniform(0, 1), r.choice(ids), r.choice(WORDS)))
            elif k == 4:
                self.text("    if %s is not None and len(%s) > %d:\n        return %s[%d:]\n"
                          % (r.choice(ids), r.choice(ids), r.randint(0, 64),
                             r.choice(ids), r.randint(0, 9)))
            else:
                self.text("def %s_%s(self, %s):\n    \"\"\"%s.\"\"\"\n"
                          % (r.choice(ids), r.choice(ids), r.choice(ids),
                             self.words(r.randint(4, 9)).capitalize()))

    def generate(self, size, filler=0):
        kinds = [self.prose, self.code, self.log, self.jsondoc]
        weights = [3, 2, 3, 2] if self.family == "A" else [2, 3, 2, 3]
        while self.pos < size:
            self.r.choices(kinds, weights)[0]()
            if filler:
                self.filler(self.r.randint(filler // 2, filler * 3 // 2))
        return "".join(self.parts)


def cmd_gen(a):
    g = Gen(a.seed, a.family)
    text = g.generate(a.size, a.filler)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text)
    if a.labels:
        with open(a.labels, "w") as f:
            for lab in g.labels:
                f.write(json.dumps(lab) + "\n")


def overlaps(a0, a1, b0, b1):
    return a0 < b1 and b0 < a1


def cmd_score(a):
    labels = [json.loads(l) for l in open(a.labels)]
    found = []
    for line in open(a.explain):
        f = line.rstrip("\n").split("\t")
        if len(f) < 3 or not f[0].isdigit():
            continue
        found.append((int(f[0]), int(f[1]), f[2]))
    labels.sort(key=lambda x: x["offset"])
    found.sort()
    # Sweep both sorted lists: a label is found when a match of its type
    # overlaps it; a match is right when it overlaps a label of its type.
    types = sorted({l["type"] for l in labels} | {f[2] for f in found})
    stats = {t: [0, 0, 0, 0] for t in types}  # labels, hit, found, right
    starts = [f[0] for f in found]
    import bisect
    for lab in labels:
        s, e, t = lab["offset"], lab["offset"] + lab["length"], lab["type"]
        stats[t][0] += 1
        i = bisect.bisect_left(starts, s - 70000)
        while i < len(found) and found[i][0] < e:
            fs, fl, ft = found[i]
            if ft == t and overlaps(s, e, fs, fs + fl):
                stats[t][1] += 1
                break
            i += 1
    lstarts = [l["offset"] for l in labels]
    for fs, fl, ft in found:
        stats[ft][2] += 1
        i = bisect.bisect_left(lstarts, fs - 70000)
        while i < len(labels) and labels[i]["offset"] < fs + fl:
            lab = labels[i]
            if lab["type"] == ft and overlaps(fs, fs + fl, lab["offset"],
                                              lab["offset"] + lab["length"]):
                stats[ft][3] += 1
                break
            i += 1
    ok = True
    print("%-16s %8s %8s %8s %8s" % ("TYPE", "PLANTED", "RECALL", "FOUND", "PRECISION"))
    tot = [0, 0, 0, 0]
    for t in types:
        n, hit, nf, right = stats[t]
        rec = hit / n if n else 1.0
        prec = right / nf if nf else 1.0
        for k in range(4):
            tot[k] += stats[t][k]
        mark = ""
        if t in STRUCTURED and n and rec < a.min_recall:
            ok, mark = False, "  <- recall"
        if nf and prec < a.min_precision:
            ok, mark = False, mark + "  <- precision"
        print("%-16s %8d %7.2f%% %8d %7.2f%%%s" % (t, n, 100 * rec, nf, 100 * prec, mark))
    print("%-16s %8d %7.2f%% %8d %7.2f%%" % ("all", tot[0], 100 * tot[1] / max(tot[0], 1),
                                            tot[2], 100 * tot[3] / max(tot[2], 1)))
    if tot[2] and tot[3] / tot[2] < a.min_precision:
        ok = False
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--size", type=int, default=1 << 20)
    g.add_argument("--family", choices=["A", "B"], default="A")
    g.add_argument("--out", required=True)
    g.add_argument("--labels")
    g.add_argument("--filler", type=int, default=0,
                   help="about this many lines of ordinary text between planted documents")
    s = sub.add_parser("score")
    s.add_argument("--labels", required=True)
    s.add_argument("--explain", required=True)
    s.add_argument("--min-recall", type=float, default=0.0)
    s.add_argument("--min-precision", type=float, default=0.0)
    a = ap.parse_args()
    return cmd_gen(a) if a.cmd == "gen" else cmd_score(a)


if __name__ == "__main__":
    sys.exit(main())
