#!/usr/bin/env python3
"""A stand-in for Google's servers, for labtape gdocs-bot's tests (t0515).

    gdocs-server.py DATA PORTFILE LOG

Serves, on 127.0.0.1 and a free port (written to PORTFILE), the answers
the bot reads, in the documented shapes:

  POST /token                             OAuth 2.0 JWT bearer grant: the
                                          assertion's RS256 signature is
                                          checked with `openssl dgst` against
                                          DATA/sa-pub.pem
  GET /drive/v3/files                     files.list (one file a page)
  GET /drive/v3/files/ID/revisions        revisions.list (two a page)
  GET /drive/v3/files/ID/comments         comments.list (DATA/ID.comments.json
                                          holds the pages)
  GET /document/d/ID/revisions/load       the changelog, ")]}'" first, with
                                          the entries up to &end=

DATA/files.json lists the documents ([{"id", "name"}]); DATA/ID.json is a
document's whole changelog, read again at each request so that a test can
add revisions. Every request needs "Authorization: Bearer T" with a token
this server issued, or "static-token". Faults, once each: the first
revisions/load answers 429 with Retry-After: 1, the first comments.list
500. Each request is logged to LOG: time, method, path, status, User-Agent.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
tokens = {"static-token"}
faults = {"429": True, "500": True}


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def changelog(doc):
    raw = load(doc + ".json")
    return json.loads(raw.split("\n", 1)[1] if raw.startswith(")]}'") else raw)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, ctype="application/json", headers=()):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        with open(LOG, "a") as f:
            f.write("%.3f %s %s %d %s\n" % (time.time(), self.command, self.path,
                                            status, self.headers.get("User-Agent")))

    def error(self, status, reason):
        self.answer(status, json.dumps({"error": {"code": status, "message": reason}}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path != "/token":
            return self.error(404, "no such thing")
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.error(400, "unsupported_grant_type")
        jwt = form.get("assertion", [""])[0]
        parts = jwt.split(".")
        if len(parts) != 3:
            return self.error(400, "invalid_grant: not a JWT")
        head, claims = json.loads(b64d(parts[0])), json.loads(b64d(parts[1]))
        port = self.server.server_address[1]
        sa = json.loads(load("sa.json"))
        now = time.time()
        if (head.get("alg") != "RS256" or claims.get("iss") != sa["client_email"]
                or claims.get("aud") != "http://127.0.0.1:%d/token" % port
                or "drive.readonly" not in claims.get("scope", "")
                or not claims["iat"] - 60 <= now <= claims["exp"]):
            return self.error(400, "invalid_grant: claims")
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "in"), "wb") as f:
                f.write((parts[0] + "." + parts[1]).encode())
            with open(os.path.join(d, "sig"), "wb") as f:
                f.write(b64d(parts[2]))
            ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify",
                                 os.path.join(DATA, "sa-pub.pem"), "-signature",
                                 os.path.join(d, "sig"), os.path.join(d, "in")],
                                capture_output=True).returncode == 0
        if not ok:
            return self.error(400, "invalid_grant: bad signature")
        tok = "tok-%d" % len(tokens)
        tokens.add(tok)
        self.answer(200, json.dumps({"access_token": tok, "expires_in": 3599,
                                     "token_type": "Bearer"}))

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in tokens:
            return self.error(401, "Request had invalid authentication credentials.")
        p = url.path.split("/")
        page = int(q.get("pageToken", "0"))
        files = json.loads(load("files.json"))
        if url.path == "/drive/v3/files":
            if q.get("q", "").find("mimeType='application/vnd.google-apps.document'") < 0:
                return self.error(400, "expected a query for Google Docs")
            ans = {"kind": "drive#fileList", "files": files[page:page + 1]}
            if page + 1 < len(files):
                ans["nextPageToken"] = str(page + 1)
            return self.answer(200, json.dumps(ans))
        if len(p) == 6 and p[1:4] == ["drive", "v3", "files"] and p[5] == "revisions":
            revs = sorted({e[3] for e in changelog(p[4])["changelog"]})
            items = [{"kind": "drive#revision", "id": str(r),
                      "modifiedTime": "2023-11-14T22:13:%02d.000Z" % (r % 60)} for r in revs]
            ans = {"kind": "drive#revisionList", "revisions": items[page:page + 2]}
            if page + 2 < len(items):
                ans["nextPageToken"] = str(page + 2)
            return self.answer(200, json.dumps(ans))
        if len(p) == 6 and p[1:4] == ["drive", "v3", "files"] and p[5] == "comments":
            if faults["500"]:
                faults["500"] = False
                return self.error(500, "Internal Error")
            if q.get("fields") != "*":
                return self.error(400, "expected fields=*")
            try:
                pages = json.loads(load(p[4] + ".comments.json"))
            except FileNotFoundError:
                pages = [{"kind": "drive#commentList", "comments": []}]
            ans = dict(pages[page])
            ans.pop("nextPageToken", None)
            if page + 1 < len(pages):
                ans["nextPageToken"] = str(page + 1)
            return self.answer(200, json.dumps(ans, ensure_ascii=False))
        if len(p) == 6 and p[1:3] == ["document", "d"] and p[4:] == ["revisions", "load"]:
            if faults["429"]:
                faults["429"] = False
                return self.answer(429, json.dumps({"error": {"code": 429}}),
                                   headers=[("Retry-After", "1")])
            log = changelog(p[3])
            last = max(e[3] for e in log["changelog"])
            if q.get("id") != p[3] or q.get("start") != "1" or int(q.get("end", 0)) != last:
                return self.error(400, "expected id=ID&start=1&end=%d" % last)
            log["changelog"] = [e for e in log["changelog"] if e[3] <= int(q["end"])]
            return self.answer(200, ")]}'\n" + json.dumps(log, ensure_ascii=False),
                               "text/plain; charset=utf-8")
        self.error(404, "no such thing")


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
