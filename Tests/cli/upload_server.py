#!/usr/bin/env python3
# upload_server.py - a tiny HTTP server on 127.0.0.1 for the upload example
# test (Tests/cli/test_examples.c). It listens on a free port, prints
# "PORT <n>" on stdout, and answers every POST according to MODE:
#   ok     200 after reading the whole body
#   error  500 after reading the whole body
#   drop   reads the body, then resets the connection without answering
# Each request body is saved as OUTDIR/post-<n>.bin (n from 1).
#
#   upload_server.py MODE OUTDIR
import http.server
import os
import socket
import struct
import sys

MODE = sys.argv[1]
OUTDIR = sys.argv[2]
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(n - len(body))
            if not chunk:
                break
            body += chunk
        COUNT[0] += 1
        with open(os.path.join(OUTDIR, "post-%d.bin" % COUNT[0]), "wb") as f:
            f.write(body)
        if MODE == "drop":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        code = 200 if MODE == "ok" else 500
        msg = b"stored\n" if code == 200 else b"server error\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


class Server(http.server.HTTPServer):
    def handle_error(self, request, client_address):
        pass


srv = Server(("127.0.0.1", 0), Handler)
print("PORT %d" % srv.server_address[1], flush=True)
srv.serve_forever()
