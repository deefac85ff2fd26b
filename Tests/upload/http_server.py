#!/usr/bin/env python3
# http_server.py - a loopback HTTP server for the upload tests
# (Tests/upload/test_upload.c). It listens on 127.0.0.1 on a free port,
# prints "PORT <n>" on stdout, and answers each POST as OUTDIR/mode says
# at that moment (re-read on every request, so a test changes it between
# runs without restarting the server):
#   ok          200 {"id": "..."}
#   error       500
#   429:SECONDS 429 with "Retry-After: SECONDS"
#   hang        reads the request, never answers (until the client gives up)
#   drop        reads the request, then resets the connection
# Every request that was read is recorded (with "complete": false when
# the client went away before sending the whole body) as OUTDIR/req-<n>.json (n from 1,
# written to a temporary name and renamed): method, path, query, headers,
# and the body decoded by kind:
#   multipart/form-data      parsed with Python's email package (a real
#                            MIME parser): "fields" {name: text} and
#                            "files" {name: {"filename", "type", "size",
#                            "saved"}} with each file saved beside it
#   application/x-sentry-envelope   "envelope": the header and the item
#                            headers, each payload saved (event as JSON)
#   anything else            "body_saved": the raw body's file
# Only loopback is used; the server exits when its stdin closes or after
# LIFETIME seconds (default 300), whichever is first.
#
# With CERT and KEY (PEM files) it speaks HTTPS instead.
#
#   http_server.py OUTDIR [LIFETIME [CERT KEY]]
import email.parser
import email.policy
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

OUTDIR = sys.argv[1]
LIFETIME = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
LOCK = threading.Lock()
COUNT = [0]


def mode():
    try:
        with open(os.path.join(OUTDIR, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


def save(name, data):
    path = os.path.join(OUTDIR, name)
    with open(path, "wb") as f:
        f.write(data)
    return name


def parse_multipart(ctype, body, n, rec):
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    rec["multipart_ok"] = msg.is_multipart()
    rec["fields"], rec["files"], rec["field_order"] = {}, {}, []
    for i, part in enumerate(msg.iter_parts() if msg.is_multipart() else []):
        name = part.get_param("name", header="content-disposition")
        fname = part.get_filename()
        data = part.get_payload(decode=True) or b""
        rec["field_order"].append(name)
        if fname is not None:
            rec["files"][name] = {
                "filename": fname,
                "type": part.get_content_type(),
                "size": len(data),
                "saved": save("req-%d-file-%d.bin" % (n, i), data),
            }
        else:
            rec["fields"][name] = data.decode("utf-8", "replace")


def parse_envelope(body, n, rec):
    env = {"items": []}
    nl = body.index(b"\n")
    env["header"] = json.loads(body[:nl])
    pos = nl + 1
    while pos < len(body):
        nl = body.index(b"\n", pos)
        hdr = json.loads(body[pos:nl])
        length = hdr["length"]
        payload = body[nl + 1:nl + 1 + length]
        item = {"header": hdr,
                "saved": save("req-%d-item-%d.bin" % (n, len(env["items"])),
                              payload)}
        if hdr.get("type") == "event":
            item["event"] = json.loads(payload)
        env["items"].append(item)
        pos = nl + 1 + length
        if pos < len(body) and body[pos:pos + 1] == b"\n":
            pos += 1
    rec["envelope"] = env


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(n - len(body))
            if not chunk:
                break
            body += chunk
        return body, len(body) == n

    def do_POST(self):
        body, complete = self.read_body()
        m = mode()
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        url = urllib.parse.urlsplit(self.path)
        rec = {"n": n, "method": "POST", "path": url.path,
               "query": urllib.parse.parse_qs(url.query),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body_size": len(body), "complete": complete, "mode": m}
        ctype = self.headers.get("Content-Type", "")
        try:
            if ctype.startswith("multipart/form-data"):
                parse_multipart(ctype, body, n, rec)
            elif ctype.startswith("application/x-sentry-envelope"):
                parse_envelope(body, n, rec)
            else:
                rec["body_saved"] = save("req-%d-body.bin" % n, body)
        except Exception as e:  # recorded for the test to see
            rec["parse_error"] = repr(e)
        tmp = os.path.join(OUTDIR, ".req-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(OUTDIR, "req-%d.json" % n))
        self.answer(m)

    def answer(self, m):
        if m == "hang":
            time.sleep(LIFETIME)
            return
        if m == "drop":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        headers = []
        if m == "ok":
            code, msg = 200, b'{"id":"stored"}'
        elif m.startswith("429:"):
            code, msg = 429, b"slow down"
            headers.append(("Retry-After", m[4:]))
        else:
            code, msg = 500, b"server error"
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def watchdog():
    # Ends the server when the test closes our stdin (or dies), or when
    # the lifetime is over.
    def stdin_closed():
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=stdin_closed, daemon=True).start()
    time.sleep(LIFETIME)
    os._exit(0)


srv = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("PORT %d" % srv.server_address[1], flush=True)
threading.Thread(target=watchdog, daemon=True).start()
srv.serve_forever()
